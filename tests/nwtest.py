"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def make_config(**fetch_overrides: object):
    """The bundled demo config, without its own server (tests pass the fixture server's feed)."""
    from newswatch.config import load_config

    cfg = load_config(None)
    fetch = cfg.fetch.model_copy(update={"per_host_delay_s": 0.0, "retries": 0, **fetch_overrides})
    return cfg.model_copy(update={"demo": cfg.demo.model_copy(update={"serve_seeds": False}), "fetch": fetch})


def seed_of(url: str) -> str | None:
    """Map a fixture URL back to its seed number ('000'...'004'), None for other pages."""
    import json

    manifest = json.loads((SEEDS / "fixtures" / "manifest.json").read_text(encoding="utf-8"))
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    info = manifest.get(path)
    return info["seed"][:3] if info and info["seed"] else None


COUNTED_TABLES = (
    "core.articles",
    "core.article_revisions",
    "core.feed_entries",
    "core.fingerprints",
    "core.article_groups",
    "core.entity_mentions",
    "core.figures",
    "core.periods",
    "core.quotes",
    "core.entity_aliases",
    "core.fact_conflicts",
)


def counts(db: str) -> dict[str, int]:
    """Rows in every table a rerun must not grow."""
    from warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in COUNTED_TABLES}
    finally:
        con.close()
