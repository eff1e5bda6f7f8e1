"""Helpers for the dedup tests: load texts into core.articles of a real DuckDB file, read the seeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from bench.dedup_gen import seed_meta, seed_title_text
from newswatch.models import stable_id
from warehouse.db import insert_rows

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def seed_articles() -> list[dict]:
    """The five seeds as article rows: text after the title line (002: the date residue stripped)."""
    meta = seed_meta()
    out = []
    for f in sorted(SEEDS.glob("*.txt")):
        m = meta[f.name]
        title, text = seed_title_text(f, m)
        out.append(
            {
                "key": f.name[:3],
                "article_id": stable_id("seed", f.name),
                "source": m["site"],
                "title": title,
                "text": text.strip(),
                "published_at": datetime.fromisoformat(m["published"]).astimezone(UTC),
            }
        )
    return out


def article_row(
    article_id: str,
    text: str,
    *,
    title: str = "",
    source: str = "Test Outlet",
    published_at: datetime | None = None,
    first_seen_at: datetime | None = None,
) -> dict:
    seen = first_seen_at or T0
    return {
        "article_id": article_id,
        "watch": "test",
        "url": f"https://example.org/{article_id}",
        "canonical_url": f"https://example.org/{article_id}",
        "source": source,
        "title": title or article_id,
        "published_at": published_at,
        "fetched_at": seen,
        "first_seen_at": seen,
        "fetch_status": "ok",
        "text": text,
        "raw_text": text,
        "word_count": len(text.split()),
        "content_hash": stable_id(title, text, length=32),
        "revision": 1,
    }


def load(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Insert or replace article rows (replacing keeps the test in control of revisions)."""
    insert_rows(con, "core.articles", rows, mode="INSERT OR REPLACE")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def seed_rows() -> list[dict]:
    """The five seeds as core.articles rows (see article_row)."""
    return [
        article_row(s["article_id"], s["text"], title=s["title"], source=s["source"], published_at=s["published_at"])
        for s in seed_articles()
    ]
