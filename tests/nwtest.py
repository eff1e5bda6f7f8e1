"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
# Data kept beside the checkout, never inside it (real pages, evaluation sets). Any user's clone may lack it.
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")


def shared_path(rel: str) -> Path:
    """Where a path under ../shared is read from ($NEWSWATCH_CORPUS_DIR moves corpus/html, as in the code)."""
    if os.environ.get("NEWSWATCH_CORPUS_DIR") and (rel == "corpus/html" or rel.startswith("corpus/html/")):
        return Path(os.environ["NEWSWATCH_CORPUS_DIR"]) / rel[len("corpus/html") :].lstrip("/")
    return SHARED / rel


def missing_shared(*rels: str) -> str | None:
    """Why the named ../shared data cannot be used (absent, or an empty folder), None when all is there."""
    for rel in rels:
        p = shared_path(rel)
        if not p.exists() or (p.is_dir() and not any(p.iterdir())):
            return (f"needs {rel} from the shared data beside the checkout, not found at {p} "
                    "(set NEWSWATCH_SHARED_DIR or NEWSWATCH_CORPUS_DIR to run it)")
    return None


def requires_shared(*rels: str) -> pytest.MarkDecorator:
    """Mark a test or module (`pytestmark = requires_shared("corpus/html")`): it skips with the reason when the
    data is absent; conftest.py checks the mark before any fixture runs. NEWSWATCH_REQUIRE_SHARED=1 (CI, which
    has ../shared) turns the skip into a failure so that a gate cannot silently stop running."""
    return pytest.mark.requires_shared(*rels)


def skip_unless_shared(*rels: str) -> None:
    """The same check from inside a fixture or helper (for tests that need the data only through one fixture)."""
    reason = missing_shared(*rels)
    if reason:
        if os.environ.get("NEWSWATCH_REQUIRE_SHARED") == "1":
            pytest.fail(f"NEWSWATCH_REQUIRE_SHARED=1 but the test {reason}", pytrace=False)
        pytest.skip(reason)


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


def rotherham_config_file(path: Path, feed_url: str) -> Path:
    """A config file with the demo's rotherham watch on one fixture feed (loopback allowed, no delays, no
    retries), digests under path's folder: what the Prefect tests hand a flow or a worker."""
    path.write_text(textwrap.dedent(f"""
        digest_dir = "{path.parent / 'digests'}"
        [fetch]
        allow_private_networks = true
        per_host_delay_s = 0.0
        retries = 0
        [[watches]]
        name = "rotherham"
        query = '(Rotherham OR IOPC) AND (abuse OR exploit*)'
        feeds = ["{feed_url}"]
    """))
    return path


def run_demo(tmp) -> dict:
    """The demo watch run twice into tmp/newswatch.duckdb, on the backend the environment selects."""
    from flows.pipeline import run_monitor
    from newswatch.demo import serve_fixtures

    db = str(tmp / "newswatch.duckdb")
    out = tmp / "digests"
    config = make_config()
    with serve_fixtures(port=0) as server:
        first = run_monitor(config, db, extra_feeds=[server.feed_url], out_dir=str(out))
        after_first = counts(db)
        files_after_first = sorted(p.name for p in out.iterdir())
        second = run_monitor(config, db, extra_feeds=[server.feed_url], out_dir=str(out), force=True)
        requests = list(server.site.requests)
    return {
        "db": db,
        "out": out,
        "first": first,
        "second": second,
        "after_first": after_first,
        "after_second": counts(db),
        "files_after_first": files_after_first,
        "requests": requests,
    }


def cli_run(cfg: Path, db: str, *args: str) -> str:
    """`newswatch -v run --config cfg --db db --no-digest *args` in a subprocess (writer lock wait 5 s, bounded at
    10 min); asserts that it exited 0 and returns its stderr (the -v log)."""
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "-v", "run", "--config", str(cfg), "--db", db,
                        "--no-digest", *args], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "5"})
    assert p.returncode == 0, p.stderr
    return p.stderr
