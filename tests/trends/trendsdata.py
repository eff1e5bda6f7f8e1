"""Builds small warehouses for the trend tests by inserting rows into a real DuckDB file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from warehouse.db import connect, insert_rows, refresh_trends


@dataclass
class Warehouse:
    """Articles added with add(); write() stores them (articles, groups, watch matches, entity mentions)."""

    articles: list[dict] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)   # core.watch_articles rows
    groups: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)

    def add(self, day: date, *, watch: str = "w", source: str = "Outlet A", story: str | None = None,
            copy_of: str | None = None, entities: tuple[str, ...] = (), hour: int = 12,
            also_in: tuple[str, ...] = ()) -> str:
        """One article of `watch` (and of the watches in `also_in`, which matched it too)."""
        n = len(self.articles)
        aid = hashlib.sha1(f"{n}".encode()).hexdigest()[:16]
        at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        self.articles.append({
            "article_id": aid, "watch": watch, "url": f"https://x.test/{n}", "canonical_url": f"https://x.test/{n}",
            "source": source, "title": f"title {n}", "published_at": at, "fetched_at": at, "first_seen_at": at,
            "fetch_status": "ok", "text": f"text {n}", "raw_text": f"text {n}", "word_count": 2,
            "content_hash": aid,
        })
        for wname in (watch, *also_in):   # what the pipeline writes for every watch whose query matched
            self.matches.append({"watch": wname, "article_id": aid, "matched_at": at, "matched_terms": None})
        self.groups.append({"article_id": aid, "syndication_id": copy_of or aid, "story_id": story or aid,
                            "assigned_at": at})
        for i, e in enumerate(entities):
            self.mentions.append({"article_id": aid, "seq": i, "entity": e, "entity_type": "ORG", "surface": e,
                                  "start_char": 0, "end_char": len(e), "local_entity": e})
        return aid

    def write(self, db: Path) -> Path:
        con = connect(str(db))
        try:
            insert_rows(con, "core.articles", self.articles)
            insert_rows(con, "core.article_groups", self.groups)
            insert_rows(con, "core.watch_articles", self.matches)
            insert_rows(con, "core.entity_mentions", self.mentions)
        finally:
            con.close()
        refresh_trends(db)   # what the pipeline does after each stored batch
        return db


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]
