"""Idempotent loads of runs, feed entries, articles (with revisions) and skips into the warehouse.

Rerunning on the same input adds no article, revision or entry rows: articles are keyed by a hash of the
canonical URL, and a new revision is stored only when the content hash changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from newswatch.models import Article, FeedEntry, Skip, WatchMatch, stable_id, utcnow
from warehouse.db import insert_rows, transaction, upsert

RUN_COUNTERS = (
    "feeds_polled",
    "feeds_not_modified",
    "feeds_failed",
    "feeds_disabled",
    "entries_seen",
    "pages_fetched",
    "pages_failed",
    "articles_new",
    "articles_revised",
    "articles_unchanged",
    "skipped",
    "off_topic",
    "copies_grouped",
    "stories",
    "facts",
    "digest_items",
)


def start_run(con: duckdb.DuckDBPyConnection, command: str, watches: Iterable[str], now: datetime | None = None) -> str:
    now = now or utcnow()
    run_id = stable_id(command, now.isoformat(), length=20)
    con.execute(
        "INSERT INTO core.runs (run_id, started_at, status, command, watches) VALUES (?, ?, 'running', ?, ?)",
        [run_id, now, command, ",".join(watches)],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    counts: Mapping[str, int],
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    sets = ", ".join(f"{c} = ?" for c in RUN_COUNTERS)
    values = [int(counts.get(c, 0)) for c in RUN_COUNTERS]
    con.execute(
        f"UPDATE core.runs SET finished_at = ?, status = ?, error = ?, {sets} WHERE run_id = ?",
        [now or utcnow(), status, error, *values, run_id],
    )


def mark_abandoned_runs(con: duckdb.DuckDBPyConnection, watches: Sequence[str] | None = None) -> int:
    """Runs still 'running' when a new run starts were killed (the run lock guarantees no overlap). With run
    locks per watch (watches given), only runs sharing one of these watches: a run of other watches may be live."""
    where = "status = 'running'"
    params: list = []
    if watches is not None:
        where += " AND list_has_any(string_split(coalesce(watches, ''), ','), ?::VARCHAR[])"
        params.append(list(watches))
    # the count of updated rows (DuckLake has no UPDATE ... RETURNING)
    return int(con.execute(
        "UPDATE core.runs SET status = 'killed', error = coalesce(error, 'process ended before the run finished') "
        f"WHERE {where}", params
    ).fetchone()[0])


def seen_entries(con: duckdb.DuckDBPyConnection, entries: Sequence[FeedEntry]) -> dict[tuple[str, str], tuple]:
    """The stored (title, published_at) of entries already seen, keyed by (feed_url, entry_key)."""
    if not entries:
        return {}
    keys = [{"feed_url": e.feed_url, "entry_key": e.entry_key} for e in entries]
    want = pa.Table.from_pylist(keys)  # noqa: F841 - used by name in SQL
    rows = con.execute(
        "SELECT f.feed_url, f.entry_key, f.title, f.published_at FROM core.feed_entries f "
        "JOIN want w ON f.feed_url = w.feed_url AND f.entry_key = w.entry_key"
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def record_entries(
    con: duckdb.DuckDBPyConnection,
    entries: Sequence[tuple[FeedEntry, str | None]],
    run_id: str,
    *,
    settled: bool = True,
) -> int:
    """Store (entry, canonical link) pairs, pending (settled=False) until their page is settled; an entry seen
    before keeps its first_seen_at."""
    now = utcnow()
    rows = [
        {
            "feed_url": e.feed_url,
            "entry_key": e.entry_key,
            "link": e.link,
            "canonical_url": canon,
            "title": e.title,
            "published_at": e.published_at,
            "first_seen_at": now,
            "run_id": run_id,
            "summary": e.summary,
            "source": e.source,
            "settled": settled,
        }
        for e, canon in entries
    ]
    if not rows:
        return 0
    keep = ("title", "published_at", "link", "canonical_url", "summary", "settled")
    upsert(con, "core.feed_entries", pa.Table.from_pylist(rows),
           update={**{c: f"s.{c}" for c in keep}, "source": "coalesce(s.source, t.source)"})
    return len(rows)


def settle_entries(con: duckdb.DuckDBPyConnection, canonical_urls: Sequence[str]) -> int:
    """Mark every pending entry pointing at these pages as settled (one page can be listed by several feeds)."""
    if not canonical_urls:
        return 0
    done = pa.table({"u": list(dict.fromkeys(canonical_urls))})  # noqa: F841
    return int(con.execute(  # the count of updated rows (DuckLake has no UPDATE ... RETURNING)
        "UPDATE core.feed_entries SET settled = true WHERE NOT settled AND canonical_url IN (SELECT u FROM done)"
    ).fetchone()[0])


def pending_entries(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str]) -> list[tuple[FeedEntry, str]]:
    """Entries of these feeds whose page is still to be fetched (a transient failure, or a killed run)."""
    if not feed_urls:
        return []
    want = pa.table({"f": list(feed_urls)})  # noqa: F841
    rows = con.execute(
        "SELECT feed_url, entry_key, link, canonical_url, title, summary, published_at, source FROM core.feed_entries "
        "WHERE NOT settled AND canonical_url IS NOT NULL AND feed_url IN (SELECT f FROM want) "
        "ORDER BY first_seen_at, feed_url, entry_key"
    ).fetchall()
    return [
        (FeedEntry(feed_url=r[0], entry_key=r[1], link=r[2], title=r[4] or "", summary=r[5] or "",
                   published_at=r[6], source=r[7]), r[3])
        for r in rows
    ]


def known_canonical_urls(con: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> set[str]:
    if not urls:
        return set()
    want = pa.table({"u": list(urls)})  # noqa: F841
    return {r[0] for r in con.execute("SELECT canonical_url FROM core.articles JOIN want ON canonical_url = u").fetchall()}


@dataclass(frozen=True, slots=True)
class LoadResult:
    new: tuple[str, ...]
    revised: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def changed(self) -> tuple[str, ...]:
        return self.new + self.revised


def _article_row(a: Article, run_id: str, revision: int, first_seen: datetime) -> dict:
    return {
        "article_id": a.article_id,
        "watch": a.watch,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "feed_url": a.feed_url,
        "source": a.source,
        "title": a.title,
        "author": a.author,
        "language": a.language,
        "published_at": a.published_at,
        "published_origin": a.published_origin,
        "published_confidence": a.published_confidence,
        "date_candidates": json.dumps(
            [
                {"value": c.value.isoformat(), "origin": c.origin, "confidence": c.confidence}
                for c in a.date_candidates
            ]
        ),
        "fetched_at": a.fetched_at,
        "first_seen_at": first_seen,
        "first_run_id": run_id,
        "fetch_status": a.fetch_status,
        "summary": a.summary,
        "text": a.text,
        "raw_text": a.raw_text,
        "word_count": a.word_count,
        "content_hash": a.content_hash,
        "revision": revision,
        "extractor": a.extractor,
    }


def upsert_articles(con: duckdb.DuckDBPyConnection, articles: Sequence[Article], run_id: str) -> LoadResult:
    """Insert new articles, store a revision for changed ones, leave identical ones alone (one transaction)."""
    # The same article twice in one batch (two feeds, two files): keep the last one.
    by_id: dict[str, Article] = {a.article_id: a for a in articles}
    if not by_id:
        return LoadResult((), (), ())
    want = pa.table({"id": list(by_id)})  # noqa: F841
    existing = {
        r[0]: (r[1], r[2], r[3])
        for r in con.execute(
            "SELECT article_id, content_hash, revision, first_seen_at FROM core.articles JOIN want ON article_id = id"
        ).fetchall()
    }
    new_rows, rev_rows, new_ids, revised_ids, unchanged_ids = [], [], [], [], []
    for aid, a in by_id.items():
        if aid not in existing:
            new_rows.append(_article_row(a, run_id, 1, a.fetched_at))
            rev_rows.append(_revision_row(a, 1, run_id))
            new_ids.append(aid)
        elif existing[aid][0] != a.content_hash:
            revision = existing[aid][1] + 1
            row = _article_row(a, run_id, revision, existing[aid][2])
            new_rows.append(row)
            rev_rows.append(_revision_row(a, revision, run_id))
            revised_ids.append(aid)
        else:
            unchanged_ids.append(aid)
    with transaction(con):
        if revised_ids:
            gone = pa.table({"id": revised_ids})  # noqa: F841
            # keep first_run_id of the first revision
            first_runs = dict(
                con.execute(
                    "SELECT article_id, first_run_id FROM core.articles JOIN gone ON article_id = id"
                ).fetchall()
            )
            for row in new_rows:
                if row["article_id"] in first_runs:
                    row["first_run_id"] = first_runs[row["article_id"]]
        insert_rows(con, "core.articles", new_rows, mode="INSERT OR REPLACE")
        insert_rows(con, "core.article_revisions", rev_rows, mode="INSERT OR IGNORE")
    return LoadResult(tuple(new_ids), tuple(revised_ids), tuple(unchanged_ids))


def _revision_row(a: Article, revision: int, run_id: str) -> dict:
    return {
        "article_id": a.article_id,
        "revision": revision,
        "content_hash": a.content_hash,
        "fetched_at": a.fetched_at,
        "run_id": run_id,
        "title": a.title,
        "text": a.text,
    }


def record_skips(con: duckdb.DuckDBPyConnection, run_id: str, skips: Sequence[Skip]) -> int:
    now = utcnow()
    return insert_rows(
        con,
        "core.skips",
        [
            {"run_id": run_id, "url": s.url, "stage": s.stage, "reason": s.reason, "detail": s.detail,
             "skipped_at": now, "watch": s.watch}
            for s in skips
        ],
    )


def record_watch_matches(
    con: duckdb.DuckDBPyConnection, matches: Sequence[WatchMatch], now: datetime | None = None
) -> list[WatchMatch]:
    """Add watch_articles rows; returns the matches that were new (a watch keeps the time it first matched an
    article). A row carried over from before per-watch matching (matched_terms NULL) gets the terms."""
    if not matches:
        return []
    now = now or utcnow()
    by_key = {(m.watch, m.article_id): m for m in matches}
    want_matches = pa.Table.from_pylist([{"watch": w, "article_id": a} for w, a in by_key])  # noqa: F841
    known = {(r[0], r[1]) for r in con.execute(
        "SELECT w.watch, w.article_id FROM core.watch_articles w JOIN want_matches USING (watch, article_id)"
    ).fetchall()}
    match_rows = pa.Table.from_pylist(
        [{"watch": m.watch, "article_id": m.article_id, "matched_at": now, "matched_terms": list(m.terms)}
         for m in by_key.values()],
        schema=pa.schema([("watch", pa.string()), ("article_id", pa.string()),
                          ("matched_at", pa.timestamp("us", tz="UTC")), ("matched_terms", pa.list_(pa.string()))]),
    )
    # a stored row keeps its matched_at; one carried over from before per-watch matching gets the terms
    upsert(con, "core.watch_articles", match_rows,
           update={"matched_terms": 'coalesce(t."matched_terms", s."matched_terms")'})
    return [m for k, m in by_key.items() if k not in known]


def unmatched_stored(
    con: duckdb.DuckDBPyConnection, watch: str, feed_urls: Sequence[str], urls: Sequence[str] | None = None
) -> list[str]:
    """Stored articles the watch could see but has not been matched against: those reached through one of its
    feeds (stored by any watch) or stored under its name, without a watch_articles row for it. urls narrows
    them to these canonical URLs (pages a feed of the watch lists that are already stored)."""
    # (Arrow tables are found by their variable name: these must not shadow a view such as `feeds`)
    watch_feeds = pa.table({"f": list(dict.fromkeys(feed_urls)) or [""]})  # noqa: F841
    only_urls = pa.table({"u": list(dict.fromkeys(urls or [])) or [""]})  # noqa: F841
    narrow = "AND a.canonical_url IN (SELECT u FROM only_urls)" if urls is not None else ""
    return [r[0] for r in con.execute(
        f"""
        SELECT a.article_id FROM core.articles a
        WHERE (a.watch = ? OR a.feed_url IN (SELECT f FROM watch_feeds)
               OR a.canonical_url IN (SELECT e.canonical_url FROM core.feed_entries e
                                      WHERE e.feed_url IN (SELECT f FROM watch_feeds)))
          {narrow}
          AND NOT EXISTS (SELECT 1 FROM core.watch_articles w WHERE w.watch = ? AND w.article_id = a.article_id)
        ORDER BY a.first_seen_at, a.article_id
        """,
        [watch, watch],
    ).fetchall()]


def stored_articles(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> list[Article]:
    """Stored articles as records, enough to judge them for a watch again (title, text, language, urls), in
    the order given; raw_text and date candidates are left out."""
    if not article_ids:
        return []
    want = pa.table({"id": list(article_ids)})  # noqa: F841
    rows = {r[0]: r for r in con.execute(
        "SELECT article_id, url, canonical_url, source, title, text, published_at, fetched_at, watch, language, "
        "feed_url, fetch_status FROM core.articles JOIN want ON article_id = id"
    ).fetchall()}
    return [
        Article(article_id=r[0], url=r[1], canonical_url=r[2], source=r[3], title=r[4], text=r[5], raw_text="",
                published_at=r[6], fetched_at=r[7], watch=r[8], language=r[9], feed_url=r[10], fetch_status=r[11])
        for i in article_ids if (r := rows.get(i)) is not None
    ]


def watch_query_key(con: duckdb.DuckDBPyConnection, watch: str) -> str | None:
    """The query key (warehouse-side watermark) last applied to every stored article the watch can see."""
    row = con.execute("SELECT value FROM core.meta WHERE key = ?", [_WATCH_KEY + watch]).fetchone()
    return row[0] if row else None


def set_watch_query_key(con: duckdb.DuckDBPyConnection, watch: str, key: str) -> None:
    upsert(con, "core.meta", [(_WATCH_KEY + watch, key)])


_WATCH_KEY = "watch_query:"


def record_run_watches(con: duckdb.DuckDBPyConnection, run_id: str, counts: Mapping[tuple[str, str], int]) -> None:
    """Per-watch counts of a run (core.run_watches): articles matched, off topic, other language."""
    by_watch: dict[str, dict[str, int]] = {}
    for (watch, name), n in counts.items():
        by_watch.setdefault(watch, {})[name] = int(n)
    rows = [{"run_id": run_id, "watch": w, **{c: v.get(c, 0) for c in WATCH_COUNTERS}} for w, v in by_watch.items()]
    con.execute("DELETE FROM core.run_watches WHERE run_id = ?", [run_id])
    insert_rows(con, "core.run_watches", rows)


WATCH_COUNTERS = ("matched", "off_topic", "language", "judged_stored")


def article_texts(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(article_id, cleaned text) for these articles, in the order given."""
    if not article_ids:
        return []
    want = pa.table({"id": list(article_ids)})  # noqa: F841
    texts = dict(con.execute("SELECT article_id, text FROM core.articles JOIN want ON article_id = id").fetchall())
    return [(i, texts[i]) for i in article_ids if i in texts]


# Cross-article linking (aliases, quote clusters, conflicts) reads every stored fact, so it runs once per run.
# A batch that changes facts or groups marks it stale in the batch's own transaction; the link step clears it.
_LINKS_STALE = "links_stale"


def mark_links_stale(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, "core.meta", [(_LINKS_STALE, "1")])


def links_stale(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM core.meta WHERE key = ?", [_LINKS_STALE]).fetchone()[0] > 0


def clear_links_stale(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM core.meta WHERE key = ?", [_LINKS_STALE])
