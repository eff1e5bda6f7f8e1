"""Helpers for the dedup tests: load texts into core.articles of a real DuckDB file, read the seeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from bench.dedup_gen import article_row as stored_row
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
    row = stored_row(
        article_id,
        title,
        text,
        url=f"https://example.org/{article_id}",
        source=source,
        published_at=published_at,
        first_seen_at=first_seen_at or T0,
        watch="test",
    )
    # an untitled text is shown under its id; its content hash stays that of the untitled text
    return {**row, "title": title or article_id}


def load(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Insert or replace article rows (replacing keeps the test in control of revisions), and their
    membership of the watch that stored them (core.watch_articles, as the pipeline records it)."""
    insert_rows(con, "core.articles", rows, mode="INSERT OR REPLACE")
    has_watches = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'watch_articles'"
    ).fetchone()[0]
    if has_watches:  # absent when a test applies only the core and dedup schema files
        insert_rows(
            con,
            "core.watch_articles",
            [{"watch": r["watch"], "article_id": r["article_id"], "matched_at": r["first_seen_at"]} for r in rows],
            mode="INSERT OR IGNORE",
        )


def days(n: float) -> timedelta:
    return timedelta(days=n)


def seed_rows() -> list[dict]:
    """The five seeds as core.articles rows (see article_row)."""
    return [
        article_row(s["article_id"], s["text"], title=s["title"], source=s["source"], published_at=s["published_at"])
        for s in seed_articles()
    ]


# eight sentences of one court story: the original text of the copy tests
STORY = [
    "The regional water company has been fined 12 million pounds for pumping sewage into two rivers.",
    "Magistrates heard that storm overflows at three treatment works discharged on 410 dry days.",
    "The Environment Agency said the company had ignored repeated warnings from its own engineers.",
    "A spokesman for the company apologised and said 90 million pounds would be spent on upgrades.",
    "Campaigners said the fine was too small to change the behaviour of a business of that size.",
    "The company must also pay costs of 300,000 pounds and publish monthly discharge figures online.",
    "Anglers on the lower river said fish numbers had fallen sharply over the past five summers.",
    "The judge said the breaches were deliberate and had continued after the company was warned.",
]
