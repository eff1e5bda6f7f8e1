"""Warehouse side of syndication and stories: fingerprints, the LSH band index, copy edges, groups, stories.

Reads and writes only through a connection it is given (warehouse.db opens it). Tables are declared in
warehouse/sql/00_core.sql (core.fingerprints, core.article_groups) and warehouse/sql/20_dedup.sql (the rest).
The candidate lookup is two index scans: exact unit simhashes (top 32 bits) in core.unit_keys and document
simhash bands in core.simhash_bands; docs/dedup.md measures it at 10k, 100k and 1M stored articles.
Key lists are inlined as SQL constants (ints, or quoted strings) so that DuckDB can use its ART indexes.
The dedup stage reads and writes a whole batch at once (postings, store_fingerprints,
store_edges, ...): a fixed number of statements per batch, not per article (issue 9 §3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.db import insert_arrow, insert_rows, upsert

BANDS = 4  # 4 bands of 16 bits: document simhashes within 3 bits always share a band
BAND_BITS = 16
# Story idf is at full strength once this many articles have a story profile (see idf_of). 100 before the
# stories of issue 10: on the real pairs' development split 20 raised recall 0.913 -> 0.957 at precision 1.0
# then (the first articles of a warehouse were profiled with nearly no idf), and the seeds keep their two
# stories; with the final profile and story threshold 20 and 100 give the same real-pair figures (docs/dedup.md).
IDF_FULL_AT = 20
# Above this many string keys a lookup joins a registered table instead of inlining an IN list (planning
# thousands of constants cost 0.1-0.4 s per batch in bench/dedup_copies.py; a primary-key probe per
# constant is only worth it for short lists).
MAX_IN_LIST = 500


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """The columns of core.articles the dedup stage needs (converted from DuckDB rows here, at the edge)."""

    article_id: str
    source: str
    title: str
    text: str
    published_at: datetime | None
    first_seen_at: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class StoryRow:
    story_id: str
    title: str
    first_at: datetime
    last_at: datetime
    members: int
    profile: dict[str, float]


def key32(simhash: int) -> int:
    """The lookup key of a unit simhash: its top 32 bits."""
    return simhash >> 32


def band_keys(simhash: int) -> list[int]:
    """The BANDS band keys of a 64-bit simhash: band number * 65536 + the band's 16-bit value."""
    mask = (1 << BAND_BITS) - 1
    return [(b << BAND_BITS) | ((simhash >> (b * BAND_BITS)) & mask) for b in range(BANDS)]


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, mode: str = "INSERT") -> None:
    """Insert an Arrow table with explicit column types (warehouse.db.insert_rows infers int64, and 64-bit
    simhashes do not fit a signed integer)."""
    insert_arrow(con, table, data, mode=mode)


def _str_list(values: Iterable[str]) -> str:
    # String literals for an IN list (only the single quote needs escaping in a standard SQL literal).
    # Constants let DuckDB use the primary-key index; a registered Arrow table would force a scan.
    return ", ".join("'" + v.replace("'", "''") + "'" for v in dict.fromkeys(values)) or "NULL"


def _int_list(values: Iterable[int]) -> str:
    # Integers are inlined as SQL literals: an IN list of constants lets DuckDB use the ART index, and
    # ints cannot carry an injection.
    return ", ".join(str(int(v)) for v in sorted(set(values))) or "NULL"


def load_articles(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> list[StoredArticle]:
    """The given articles from core.articles (missing ids are ignored), in no particular order."""
    if not article_ids:
        return []
    rows = con.execute(
        "SELECT article_id, source, title, text, published_at, first_seen_at, content_hash FROM core.articles "
        f"WHERE article_id IN ({_str_list(article_ids)})"
    ).fetchall()
    return [StoredArticle(*r) for r in rows]


def load_state(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """article_id -> (fingerprint version, content hash) of what was last computed for those articles."""
    if not article_ids:
        return {}
    rows = con.execute(
        f"""
        SELECT s.article_id, s.version, s.content_hash
        FROM core.dedup_state s JOIN core.article_groups g USING (article_id)
        WHERE s.article_id IN ({_str_list(article_ids)})
        """
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def find_candidates(
    con: duckdb.DuckDBPyConnection,
    article_id: str,
    doc_simhash: int,
    unit_simhashes: Sequence[int],
    *,
    limit: int = 50,
) -> list[tuple[str, int]]:
    """Stored articles sharing a sentence unit (same unit simhash) or a document band with this article.

    Returns (article_id, hits) with the most hits first; hits = shared units + shared document bands.
    Both halves are index lookups (docs/dedup.md measures them at 10k-1M stored articles).
    """
    # The article itself is dropped here, not in SQL: a filter on article_id is pushed into the scans and
    # turns the index scans into full scans (measured 70 ms instead of 2 ms at 1M stored articles).
    rows = con.execute(
        f"""
        SELECT article_id, sum(n) AS hits FROM (
            SELECT article_id, count(*) AS n FROM core.unit_keys
            WHERE key32 IN ({_int_list(key32(h) for h in unit_simhashes)}) GROUP BY article_id
            UNION ALL
            SELECT article_id, count(*) AS n FROM core.simhash_bands
            WHERE band_key IN ({_int_list(band_keys(doc_simhash))}) GROUP BY article_id
        )
        GROUP BY article_id
        ORDER BY hits DESC, article_id
        LIMIT {int(limit) + 1}
        """
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows if r[0] != article_id][:limit]


@dataclass(frozen=True, slots=True)
class UnitWitnesses:
    """Which other stored texts contain each of an article's unit simhashes.

    texts: unit simhash -> the copy groups (syndication ids; an article not yet grouped stands for itself)
    of the *other* stored articles containing it. Copies of one text count once: a sentence is boilerplate
    only when texts that are otherwise different share it (docs/dedup.md, "Boilerplate").
    stock: units held by more than flows.dedup_stage.MAX_UNIT_TEXTS other texts (stock sentences, boilerplate for all).
    """

    texts: dict[int, frozenset[str]]
    stock: frozenset[int]
    group_of: dict[str, str]  # witness article -> its copy group


def load_units(
    con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]
) -> dict[str, tuple[list[int], frozenset[int]]]:
    """Stored unit simhashes of some articles, in unit order, with those that were boilerplate when stored."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    out: dict[str, tuple[list[int], frozenset[int]]] = {i: ([], frozenset()) for i in ids}
    for aid, hs, bp in con.execute(
        "SELECT article_id, simhashes, boilerplate FROM core.article_units "
        f"WHERE article_id IN ({_str_list(ids)})"
    ).fetchall():
        out[aid] = (hs, frozenset(bp) if bp else frozenset())  # UBIGINT[] arrive as lists of int
    return out


def doc_simhashes(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> dict[str, int]:
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    return {
        r[0]: int(r[1])
        for r in con.execute(
            f"SELECT article_id, doc_simhash FROM core.fingerprints WHERE article_id IN ({_str_list(ids)})"
        ).fetchall()
    }


def groups_of(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """article_id -> (syndication_id, story_id) for those of the ids that are assigned."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    if len(ids) > MAX_IN_LIST:
        # a long IN list of string constants costs more to plan than a scan of the table joined with them
        name = "_dedup_group_ids"
        con.register(name, pa.table({"article_id": ids}))
        try:
            rows = con.execute(
                f"SELECT g.article_id, g.syndication_id, g.story_id FROM core.article_groups g "
                f"JOIN {name} i ON i.article_id = g.article_id"
            ).fetchall()
        finally:
            con.unregister(name)
        return {r[0]: (r[1], r[2]) for r in rows}
    return {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT article_id, syndication_id, story_id FROM core.article_groups "
            f"WHERE article_id IN ({_str_list(ids)})"
        ).fetchall()
    }


def candidate_stories(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[StoryRow]:
    """Stories whose time span [first_at, last_at] overlaps [start, end]."""
    rows = con.execute(
        "SELECT story_id, title, first_at, last_at, members, profile FROM core.stories "
        "WHERE last_at >= ? AND first_at <= ? ORDER BY story_id",
        [start, end],
    ).fetchall()
    return [StoryRow(r[0], r[1], r[2], r[3], int(r[4]), json.loads(r[5])) for r in rows]


def reset_stories_if_version_changed(con: duckdb.DuckDBPyConnection, version: str) -> bool:
    """Forget every story when they were made by another algorithm version (core.meta 'story_version').

    Stories are running centroids over their members: one made by an older profile cannot take members
    scored by the new one. The articles are all stale then (same version string as the fingerprints) and get
    new stories as they are recomputed, in publication order. Returns True when it reset.
    """
    row = con.execute("SELECT value FROM core.meta WHERE key = 'story_version'").fetchone()
    if row is not None and row[0] == version:
        return False
    for table in ("core.stories", "core.story_assignments", "core.story_terms"):
        con.execute(f"DELETE FROM {table}")
    upsert(con, "core.meta", [("story_version", version)])
    return True


def facts_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Which of the facts stage's tables exist (checked once per batch: a failed query would abort the
    caller's open transaction, so absence is checked up front rather than caught)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core' "
        "AND table_name IN ('entity_mentions', 'figures', 'periods')"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def stale_articles(con: duckdb.DuckDBPyConnection, version: str) -> list[str]:
    """Articles whose fingerprints and groups are missing or were computed by another fingerprint version or
    for an older text (they are recomputed, never mixed with current ones)."""
    rows = con.execute(
        """
        SELECT a.article_id FROM core.articles a
        LEFT JOIN core.dedup_state s USING (article_id)
        LEFT JOIN core.article_groups g USING (article_id)
        WHERE s.article_id IS NULL OR g.article_id IS NULL OR s.version <> ? OR s.content_hash <> a.content_hash
        ORDER BY coalesce(a.published_at, a.first_seen_at), a.article_id
        """,
        [version],
    ).fetchall()
    return [r[0] for r in rows]


# ---- batched reads and writes (issue 9 §3: no per-article round trips) ------------------------------------


# A posting list longer than this (one sentence held by a large copy group) is cut per copy group in SQL.
BIG_POSTING = 32


@dataclass(frozen=True, slots=True)
class Postings:
    """Stored articles per lookup key (unit key32 or band key), for a batch.

    articles: key -> stored articles holding it. For a key held by more than BIG_POSTING articles, only
    `per_group` articles of each copy group (its original first, then by id) and `labels` (key -> the copy
    groups holding it: syndication ids, or the article itself when it has no group row).
    """

    articles: dict[int, list[str]]
    labels: dict[int, set[str]]


def postings(
    con: duckdb.DuckDBPyConnection, table: str, column: str, keys: Iterable[int], exclude: set[str], per_group: int
) -> Postings:
    """The stored articles holding these keys (core.unit_keys / key32 or core.simhash_bands / band_key), without
    those in `exclude`; long lists are cut per copy group in SQL, so that 1,000 copies of one text do not
    send 1,000 rows per shared sentence to Python (the cost per copy grew with the group)."""
    ks = sorted({int(k) for k in keys})
    out = Postings({}, {})
    if not ks:
        return out
    # One statement: the keys as a registered table joined with the postings (a batch looks up thousands of keys,
    # and planning that many constants cost more than the lookup: 3,000 keys, 65-80 ms against 8-18 ms joined at
    # 60k postings, 110-200 against 53-83 ms at 3M), read once (MATERIALIZED) for both the counts and the rows.
    # The excluded articles are an anti join after that lookup, not a filter on the postings: `article_id NOT IN
    # (...)` there was pushed into the scan and compared every one of the 3M postings at 100k stored articles
    # (0.26-0.45 s per batch in bench/dedup_copies.py --stored 100000). The copy groups of the long lists come from
    # core.article_groups joined with those postings only (the probe side, its scan cut by the join's filter).
    names = {"keys": f"_dedup_keys_{column}", "excluded": f"_dedup_excluded_{column}"}
    con.register(names["keys"], pa.table({"k": pa.array(ks, pa.uint32())}))
    con.register(names["excluded"], pa.table({"article_id": pa.array(sorted(exclude), pa.string())}))
    try:
        rows = con.execute(
            f"""
            WITH p AS MATERIALIZED (
                SELECT p.{column} AS k, p.article_id FROM {table} p JOIN {names["keys"]} w ON p.{column} = w.k
            ),
            n AS (SELECT k, count(*) AS n FROM p GROUP BY k),
            q AS (
                SELECT p.k, p.article_id, n.n > {int(BIG_POSTING)} AS big FROM p JOIN n USING (k)
                WHERE p.article_id NOT IN (SELECT article_id FROM {names["excluded"]})
            )
            SELECT k, NULL::VARCHAR AS label, list(article_id), NULL FROM q WHERE NOT big GROUP BY k
            UNION ALL
            SELECT k, label, min(article_id, {int(per_group)}), bool_or(article_id = label)
            FROM (
                SELECT q.k, q.article_id, coalesce(g.syndication_id, q.article_id) AS label
                FROM q LEFT JOIN core.article_groups g ON g.article_id = q.article_id WHERE q.big
            )
            GROUP BY k, label
            """
        ).fetchall()
    finally:
        con.unregister(names["keys"])
        con.unregister(names["excluded"])
    # a long list sends `per_group` articles per copy group and the groups holding the key; a group whose members
    # are all excluded has no row. The sample is the group's original when it holds the key, then the first by id:
    # taken from the group's `per_group` first ids (min(x, n), no sort of a 1,000-member list per key and group;
    # 27-30 -> 19-20 ms CPU per batch at 1,000 copies), which hold the first per_group - 1 ids other than it.
    for k, label, arts, has_label in rows:
        if label is not None:
            if has_label:
                arts = [label, *(a for a in arts if a != label)][:per_group]
            out.labels.setdefault(int(k), set()).add(label)
        out.articles.setdefault(int(k), []).extend(arts)
    return out


def headline_labels(
    con: duckdb.DuckDBPyConnection, simhashes: Iterable[int], exclude: set[str]
) -> dict[int, set[str]]:
    """unit simhash -> the copy groups (syndication ids; the article itself when it has no group row) of the stored
    articles whose headline has a unit with that hash (core.headline_units), without the articles in `exclude`.

    One statement per batch, as `postings`: the batch's simhashes a registered table joined with the table, the
    excluded articles an anti join after the lookup (not a filter pushed into the scan), and distinct groups, not
    articles: 1,000 copies of one wire story share its headline and are one group."""
    hs = sorted({int(h) for h in simhashes})
    if not hs:
        return {}
    names = ("_dedup_headline_keys", "_dedup_headline_excluded")
    con.register(names[0], pa.table({"h": pa.array(hs, pa.uint64())}))
    con.register(names[1], pa.table({"article_id": pa.array(sorted(exclude), pa.string())}))
    try:
        rows = con.execute(
            f"""
            WITH p AS MATERIALIZED (
                SELECT p.simhash, p.article_id FROM core.headline_units p JOIN {names[0]} w ON p.simhash = w.h
            ),
            q AS (SELECT * FROM p WHERE article_id NOT IN (SELECT article_id FROM {names[1]}))
            SELECT DISTINCT q.simhash, coalesce(g.syndication_id, q.article_id)
            FROM q LEFT JOIN core.article_groups g ON g.article_id = q.article_id
            """
        ).fetchall()
    finally:
        for n in names:
            con.unregister(n)
    out: dict[int, set[str]] = {}
    for h, label in rows:
        out.setdefault(int(h), set()).add(label)
    return out


# core.meta key: set once every article fingerprinted before core.headline_units existed has its headline rows
HEADLINES_FILLED = "headline_units_filled"
# core.meta key: the last article id filled so far (the fill goes in article id order, a chunk per batch)
HEADLINES_FILL_AFTER = "headline_units_fill_after"
# Titles filled per batch: hashing one costs ~0.2 ms, so a chunk adds about 2 s to the batch that carries it,
# and a warehouse of a million articles is filled over its next hundred batches instead of in one transaction of
# minutes under the run lock (an interrupt rolls back only the current chunk).
HEADLINES_FILL_CHUNK = 10_000


def headlines_to_fill(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[tuple[str, str]] | None:
    """(article_id, title) of the next `limit` (HEADLINES_FILL_CHUNK) articles the dedup stage computed before
    core.headline_units was added to the warehouse, in article id order after the last chunk filled (None when
    the fill is done: one primary-key read per batch). The stage hashes the titles, stores them with
    store_headlines, then records the chunk with mark_headlines_filled."""
    if con.execute("SELECT 1 FROM core.meta WHERE key = ?", [HEADLINES_FILLED]).fetchone() is not None:
        return None
    row = con.execute("SELECT value FROM core.meta WHERE key = ?", [HEADLINES_FILL_AFTER]).fetchone()
    return [
        (r[0], r[1])
        for r in con.execute(
            "SELECT s.article_id, a.title FROM core.dedup_state s JOIN core.articles a USING (article_id) "
            "WHERE s.article_id > ? AND s.article_id NOT IN (SELECT article_id FROM core.headline_units) "
            "ORDER BY s.article_id LIMIT ?",
            [row[0] if row else "", limit or HEADLINES_FILL_CHUNK],
        ).fetchall()
    ]


def store_headlines(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple[int, str]]) -> None:
    """Insert (headline unit simhash, article_id) rows into core.headline_units (one statement)."""
    pairs = sorted(set(rows))
    if pairs:
        _insert(
            con,
            "core.headline_units",
            pa.table({"simhash": pa.array([h for h, _ in pairs], type=pa.uint64()), "article_id": [a for _, a in pairs]}),
        )


def mark_headlines_filled(con: duckdb.DuckDBPyConnection, after: str | None = None) -> None:
    """Record a filled chunk (after: its last article id, so the next batch goes on from there), or, with None,
    that the fill is done."""
    upsert(con, "core.meta", [(HEADLINES_FILL_AFTER, after)] if after is not None else [(HEADLINES_FILLED, "1")])


def with_dedup_rows(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> set[str]:
    """Those of the ids that have derived rows (dedup state or a fingerprint) from an earlier computation."""
    if not article_ids:
        return set()
    ids = _str_list(article_ids)
    return {
        r[0]
        for r in con.execute(
            f"SELECT article_id FROM core.dedup_state WHERE article_id IN ({ids}) "
            f"UNION SELECT article_id FROM core.fingerprints WHERE article_id IN ({ids})"
        ).fetchall()
    }


def delete_articles(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> None:
    """Forget the derived rows of articles before recomputing them (their text or the algorithm changed).

    The story assignment is kept: a revised article stays in its story. Edges where *other* articles copy
    these are kept too: they were verified when those articles arrived. One statement per table.
    """
    if not article_ids:
        return
    ids = _str_list(article_ids)
    for table in (
        "core.article_units",
        "core.unit_keys",
        "core.headline_units",
        "core.simhash_bands",
        "core.fingerprints",
        "core.dedup_state",
        "core.syndication_edges",
    ):
        con.execute(f"DELETE FROM {table} WHERE article_id IN ({ids})")


def with_story_assignment(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> set[str]:
    """Those of the ids that already have a story assignment (they do not add to the idf's article count)."""
    if not article_ids:
        return set()
    return {
        r[0]
        for r in con.execute(
            f"SELECT article_id FROM core.story_assignments WHERE article_id IN ({_str_list(article_ids)})"
        ).fetchall()
    }


def entities_for(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str], tables: frozenset[str]
) -> dict[str, list[str]]:
    """article_id -> the entity names the facts stage stored for it ({} when that table is absent)."""
    if "entity_mentions" not in tables or not article_ids:
        return {}
    out: dict[str, list[str]] = {}
    for aid, ent in con.execute(
        "SELECT article_id, entity FROM core.entity_mentions "
        f"WHERE article_id IN ({_str_list(article_ids)}) ORDER BY article_id, rowid"
    ).fetchall():
        if ent:
            out.setdefault(aid, []).append(ent)
    return out


def get_stories(con: duckdb.DuckDBPyConnection, story_ids: Iterable[str]) -> dict[str, StoryRow]:
    """Stories by id (missing ids are left out): one primary-key lookup for a batch."""
    ids = list(dict.fromkeys(story_ids))
    if not ids:
        return {}
    rows = con.execute(
        "SELECT story_id, title, first_at, last_at, members, profile FROM core.stories "
        f"WHERE story_id IN ({_str_list(ids)})"
    ).fetchall()
    return {r[0]: StoryRow(r[0], r[1], r[2], r[3], int(r[4]), json.loads(r[5])) for r in rows}


def term_counts(con: duckdb.DuckDBPyConnection, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
    """(articles with a story profile, document frequency of each of these terms) for `idf_of`; the stage
    keeps both up to date in memory while it assigns a batch, and writes them with add_term_counts."""
    ts = sorted(set(terms))
    n = con.execute("SELECT count(*) FROM core.story_assignments").fetchone()[0]
    if not ts:
        return int(n), {}
    # A join with the batch's terms, not an IN list: a batch of long texts has thousands of terms, and an IN
    # list of that many string constants cost 0.4 s per batch to plan (bench/dedup_copies.py --stored); the
    # join scans story_terms, whose size is the vocabulary, not the number of articles.
    name = "_dedup_batch_terms"
    con.register(name, pa.table({"term": ts}))
    try:
        rows = con.execute(f"SELECT s.term, s.df FROM core.story_terms s JOIN {name} b ON b.term = s.term").fetchall()
    finally:
        con.unregister(name)
    return int(n), {r[0]: int(r[1]) for r in rows}


def idf_of(terms: Iterable[str], n: int, df: dict[str, int]) -> dict[str, float]:
    """Smoothed idf of story-profile terms: 1 + s * ln((N + 1) / (df + 1)), N = articles with a profile.

    s = min(1, N / IDF_FULL_AT): document frequencies over a handful of articles say little (on the five
    seeds, full idf drops the 003/004 similarity from 0.49 to 0.24, level with different stories), so idf
    phases in as the warehouse grows.
    """
    strength = min(1.0, n / IDF_FULL_AT)
    return {t: 1.0 + strength * math.log((n + 1) / (df.get(t, 0) + 1)) for t in set(terms)}


def store_fingerprints(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> None:
    """Write the document and unit fingerprints, the lookup index rows and the dedup state of a batch: one
    insert per table. Each row has article_id, version, content_hash, doc_simhash, unit_simhashes, words,
    computed_at and boilerplate (the units that were learned boilerplate then, stored beside the units so that
    a later article compared with this one can leave them out without a query), and optionally headline (the unit
    simhashes of its headline, core.headline_units). Plain inserts: the caller has deleted the rows of revised articles first (delete_articles),
    and INSERT OR REPLACE costs a key check per row."""
    if not rows:
        return
    ts = pa.timestamp("us", tz="UTC")
    _insert(
        con,
        "core.fingerprints",
        pa.table(
            {
                "article_id": [r["article_id"] for r in rows],
                "doc_simhash": pa.array([r["doc_simhash"] for r in rows], type=pa.uint64()),
                "version": [r["version"] for r in rows],
                "computed_at": pa.array([r["computed_at"] for r in rows], type=ts),
            }
        ),
        mode="INSERT",
    )
    _insert(
        con,
        "core.article_units",
        pa.table(
            {
                "article_id": [r["article_id"] for r in rows],
                "simhashes": pa.array([list(r["unit_simhashes"]) for r in rows], type=pa.list_(pa.uint64())),
                "boilerplate": pa.array([sorted(set(r["boilerplate"])) for r in rows], type=pa.list_(pa.uint64())),
            }
        ),
        mode="INSERT",
    )
    keys = sorted({(key32(h), r["article_id"]) for r in rows for h in r["unit_simhashes"]})
    _insert(
        con,
        "core.unit_keys",
        pa.table({"key32": pa.array([k for k, _ in keys], type=pa.uint32()), "article_id": [a for _, a in keys]}),
    )
    store_headlines(con, [(h, r["article_id"]) for r in rows for h in r.get("headline", ())])
    bands = sorted({(b, r["article_id"]) for r in rows for b in band_keys(r["doc_simhash"])})
    _insert(
        con,
        "core.simhash_bands",
        pa.table({"band_key": pa.array([b for b, _ in bands], type=pa.uint32()), "article_id": [a for _, a in bands]}),
    )
    insert_rows(
        con,
        "core.dedup_state",
        [
            {
                "article_id": r["article_id"],
                "version": r["version"],
                "content_hash": r["content_hash"],
                "units": len(r["unit_simhashes"]),
                "words": r["words"],
                "computed_at": r["computed_at"],
            }
            for r in rows
        ],
        mode="INSERT",
    )


# _FRESH_NOTE: store_edges, assign_many and save_story_assignments replace stored rows with the same key (a MERGE,
# 8-10 ms per statement at 100k stored articles against 4 ms for an insert). The dedup stage passes replace=False
# for a batch of articles that have no derived rows at all (no dedup state, fingerprint, group row or story
# assignment): none of their keys can be stored then, as each of those rows is written when the article is
# processed, and an edge names at least one article of the batch, the other one stored and processed earlier.
def store_edges(con: duckdb.DuckDBPyConnection, rows: Sequence[dict], *, replace: bool = True) -> None:
    """Record verified copies: article_id is a copy of the earlier copy_of (with shared_units,
    narrative_units, units_copy, units_original, shared_ratio, distance, changes, version, detected_at).
    replace=False: a plain insert, for rows whose keys cannot be stored yet (see _FRESH_NOTE)."""
    if not rows:
        return
    cols = (
        "article_id", "copy_of", "shared_units", "narrative_units", "units_copy", "units_original",
        "shared_ratio", "distance", "changes", "version", "detected_at",
    )
    data = {c: [r[c] if c != "changes" else json.dumps(r[c], ensure_ascii=False) for r in rows] for c in cols}
    data["detected_at"] = pa.array(data["detected_at"], type=pa.timestamp("us", tz="UTC"))
    _insert(con, "core.syndication_edges", pa.table(data), mode="INSERT OR REPLACE" if replace else "INSERT")


def repoint_groups(con: duckdb.DuckDBPyConnection, moved: dict[str, str], assigned_at: datetime) -> None:
    """Copy groups that merged or got an earlier original: every stored member of group `old` now points at
    `moved[old]` (one statement per new original; only happens when groups change)."""
    by_new: dict[str, list[str]] = {}
    for old, new in moved.items():
        if old != new:
            by_new.setdefault(new, []).append(old)
    for new, olds in sorted(by_new.items()):
        con.execute(
            "UPDATE core.article_groups SET syndication_id = ?, assigned_at = ? "
            f"WHERE syndication_id IN ({_str_list(olds)})",
            [new, assigned_at],
        )


def assign_many(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, str, str, datetime]], *, replace: bool = True
) -> None:
    """Write (or overwrite) group rows (article_id, syndication_id, story_id, assigned_at) in one insert
    (replace=False: a plain insert, see _FRESH_NOTE)."""
    if not rows:
        return
    _insert(
        con,
        "core.article_groups",
        pa.table(
            {
                "article_id": [r[0] for r in rows],
                "syndication_id": [r[1] for r in rows],
                "story_id": [r[2] for r in rows],
                "assigned_at": pa.array([r[3] for r in rows], type=pa.timestamp("us", tz="UTC")),
            }
        ),
        mode="INSERT OR REPLACE" if replace else "INSERT",
    )


def save_stories(con: duckdb.DuckDBPyConnection, stories: Sequence[StoryRow], created: dict[str, datetime],
                 updated_at: datetime) -> None:
    """Insert or update several stories in one statement (created[story_id]: when a new one was made; an
    existing story keeps its created_at)."""
    if not stories:
        return
    ts = pa.timestamp("us", tz="UTC")
    data = pa.table(
        {
            "story_id": [s.story_id for s in stories],
            "title": [s.title for s in stories],
            "first_at": pa.array([s.first_at for s in stories], type=ts),
            "last_at": pa.array([s.last_at for s in stories], type=ts),
            "members": [s.members for s in stories],
            "profile": [json.dumps(s.profile, sort_keys=True) for s in stories],
            "created_at": pa.array([created.get(s.story_id, updated_at) for s in stories], type=ts),
            "updated_at": pa.array([updated_at] * len(stories), type=ts),
        }
    )
    # a stored story keeps its created_at
    upsert(con, "core.stories", data,
           update={c: f's."{c}"' for c in ("first_at", "last_at", "members", "profile", "updated_at")})


def save_story_assignments(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple], *, replace: bool = True) -> None:
    """Write story assignments (article_id, story_id, reason, similarity, profile dict, assigned_at) at once
    (replace=False: a plain insert, see _FRESH_NOTE)."""
    if not rows:
        return
    _insert(
        con,
        "core.story_assignments",
        pa.table(
            {
                "article_id": [r[0] for r in rows],
                "story_id": [r[1] for r in rows],
                "reason": [r[2] for r in rows],
                "similarity": pa.array([r[3] for r in rows], type=pa.float64()),
                "profile": [json.dumps(r[4], sort_keys=True) for r in rows],
                "assigned_at": pa.array([r[5] for r in rows], type=pa.timestamp("us", tz="UTC")),
            }
        ),
        mode="INSERT OR REPLACE" if replace else "INSERT",
    )


def add_term_counts(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> None:
    """Add to the document frequency of profile terms (counts: term -> articles added) in one statement."""
    if not counts:
        return
    ts = sorted(counts)
    upsert(con, "core.story_terms", pa.table({"term": ts, "df": pa.array([counts[t] for t in ts], type=pa.int32())}),
           update={"df": 't."df" + s."df"'})


# ---- aggregates behind the public views stories and syndication (20_dedup.sql) ----------------------------------
# The SELECTs that create the tables in 20_dedup.sql (the expressions the views used to compute at query time);
# {where} narrows them to the touched keys.
_STORY_STATS = """
    INSERT INTO core.story_stats
    SELECT g.story_id,
           min(coalesce(a.published_at, a.first_seen_at)), max(coalesce(a.published_at, a.first_seen_at)),
           count(DISTINCT g.article_id), count(DISTINCT a.source), count(DISTINCT g.syndication_id),
           min(a.first_seen_at), max(a.first_seen_at)
    FROM {groups} g JOIN {articles} a ON a.article_id = g.article_id
    {where}
    GROUP BY g.story_id
"""
_MEMBERS = """
    INSERT INTO core.syndication_members
    SELECT syndication_id, article_id,
           row_number() OVER (PARTITION BY syndication_id ORDER BY ran_at, article_id),
           count(*) OVER (PARTITION BY syndication_id),
           -- the original's own time: NULL when the original is not (or no longer) a member, as the old join gave
           ran_at - max(CASE WHEN article_id = syndication_id THEN ran_at END) OVER (PARTITION BY syndication_id)
    FROM (
        SELECT g.syndication_id, g.article_id, coalesce(a.published_at, a.first_seen_at) AS ran_at
        FROM {groups} g JOIN {articles} a ON a.article_id = g.article_id
        {where}
    )
"""
def group_members(
    con: duckdb.DuckDBPyConnection, story_ids: Iterable[str], syndication_ids: Iterable[str]
) -> set[tuple[str, str, str]]:
    """(article_id, story_id, syndication_id) of the group rows in these stories or these copy groups.

    Two lookups on the indexes of core.article_groups (20_dedup.sql), one per column: a filter that ORs the
    two columns, or a lookup without the indexes, scans the whole table (0.4-1.2 s per batch at 1M articles;
    keyed, a few ms). Each returns only the members of the given keys, whatever the table holds.
    """
    out: set[tuple[str, str, str]] = set()
    for column, keys in (("story_id", sorted(set(story_ids))), ("syndication_id", sorted(set(syndication_ids)))):
        if keys:
            out.update(
                con.execute(
                    "SELECT article_id, story_id, syndication_id FROM core.article_groups "
                    f"WHERE {column} IN ({_str_list(keys)})"
                ).fetchall()
            )
    return out


def groups_touching(
    con: duckdb.DuckDBPyConnection, article_ids: Iterable[str], syndication_ids: Iterable[str]
) -> tuple[set[str], set[str]]:
    """(story ids, syndication ids) of the group rows of these articles or in these copy groups."""
    arts, synds = list(article_ids), list(syndication_ids)
    if not arts and not synds:
        return set(), set()
    rows = group_members(con, [], synds)
    if arts:
        rows.update(
            (r[0], r[1], r[2])
            for r in con.execute(
                "SELECT article_id, story_id, syndication_id FROM core.article_groups "
                f"WHERE article_id IN ({_str_list(arts)})"
            ).fetchall()
        )
    return {r[1] for r in rows}, {r[2] for r in rows}


def group_sizes(con: duckdb.DuckDBPyConnection, syndication_ids: Iterable[str]) -> dict[str, int]:
    """syndication_id -> number of group rows in that copy group (an index lookup per key list)."""
    ids = sorted(set(syndication_ids))
    if not ids:
        return {}
    return {
        r[0]: int(r[1])
        for r in con.execute(
            "SELECT syndication_id, count(*) FROM core.article_groups "
            f"WHERE syndication_id IN ({_str_list(ids)}) GROUP BY syndication_id"
        ).fetchall()
    }


def refresh_aggregates(con: duckdb.DuckDBPyConnection, story_ids: Iterable[str],
                       syndication_ids: Iterable[str]) -> None:
    """Recompute the core.story_stats rows of these stories and the core.syndication_members rows of these copy
    groups from their current members (a story or group left without members loses its row). Distinct counts
    and ranks cannot be updated by deltas, and a touched story is small next to the table: recomputing exactly
    what changed keeps the aggregates equal to the from-scratch values."""
    stories, synds = sorted(set(story_ids)), sorted(set(syndication_ids))
    if not stories and not synds:
        return
    # Keyed: the group rows of exactly these keys through the story_id / syndication_id indexes of
    # core.article_groups (20_dedup.sql), their articles by primary key, both fetched as Arrow and aggregated
    # as the SELECTs of rebuild_aggregates do (below). Without the indexes, or with an OR of the two columns, every
    # batch scanned the whole table (0.4-1.2 s per batch at 1M articles); joined in SQL, DuckDB scanned
    # core.articles or core.article_groups whole, or, with the ids as two IN lists, spent 80 ms CPU per
    # statement on one 1,000-member copy group; Python datetimes for its rows cost as much again.
    found = sorted(group_members(con, stories, synds))
    ids = sorted({r[0] for r in found})
    groups = pa.table({c: pa.array([r[i] for r in found], type=pa.string())
                       for i, c in enumerate(("article_id", "story_id", "syndication_id"))})
    cols = "SELECT article_id, source, published_at, first_seen_at FROM core.articles"
    if len(ids) > MAX_IN_LIST:
        # planning an IN list of a 1,000-member copy group's ids cost 25-30 ms per batch; `= ANY` of one list
        # parameter 6 ms (bench/dedup_copies.py --copies 1000)
        articles = con.execute(f"{cols} WHERE article_id = ANY(?)", [ids]).to_arrow_table()
    else:
        articles = con.execute(f"{cols} WHERE article_id IN ({_str_list(ids)})").to_arrow_table()
    # The aggregates of the SELECTs of rebuild_aggregates (_STORY_STATS, _MEMBERS), computed by Arrow on the
    # joined rows: DuckDB spent 10-40 ms per statement on a few hundred rows of two registered tables (the joins
    # and distinct counts of tiny inputs, not the data); each result is one registered table inserted as is.
    # Equal to the SELECTs row for row (tests/dedup/test_dedup_aggregates.py): the inner join of the group rows
    # with their articles, counts of distinct non-null values, min/max without nulls, ranks by (ran_at, article_id)
    # (unique per group; nulls last), and the lag subtracted by DuckDB, so that its interval is the same value.
    rows = groups.join(articles, "article_id", join_type="inner")
    ran = pc.coalesce(rows["published_at"], rows["first_seen_at"])
    rows = rows.append_column("ran_at", ran)
    if stories:
        sids = _str_list(stories)
        con.execute(f"DELETE FROM core.story_stats WHERE story_id IN ({sids})")
        mine = rows.filter(pc.is_in(rows["story_id"], value_set=pa.array(stories, pa.string())))
        stats = mine.group_by("story_id", use_threads=False).aggregate(
            [("ran_at", "min"), ("ran_at", "max"), ("article_id", "count_distinct"), ("source", "count_distinct"),
             ("syndication_id", "count_distinct"), ("first_seen_at", "min"), ("first_seen_at", "max")]
        )
        stats = pa.table(
            {
                "story_id": stats["story_id"],
                "first_seen": stats["ran_at_min"],
                "last_seen": stats["ran_at_max"],
                "article_count": stats["article_id_count_distinct"],
                "outlet_count": stats["source_count_distinct"],
                "text_count": stats["syndication_id_count_distinct"],
                "first_fetched": stats["first_seen_at_min"],
                "last_fetched": stats["first_seen_at_max"],
            }
        )
        insert_arrow(con, "core.story_stats", stats)
    if synds:
        gids = _str_list(synds)
        con.execute(f"DELETE FROM core.syndication_members WHERE syndication_id IN ({gids})")
        mine = rows.filter(pc.is_in(rows["syndication_id"], value_set=pa.array(synds, pa.string())))
        if mine.num_rows:
            mine = mine.take(pc.sort_indices(
                mine, sort_keys=[("syndication_id", "ascending"), ("ran_at", "ascending"), ("article_id", "ascending")],
            ))  # nulls last by default, as in the SELECT (ran_at is never null: first_seen_at is NOT NULL)
            synd = mine["syndication_id"].to_pylist()
            arts = mine["article_id"].to_pylist()
            rank, size, origin = [], [], []
            start = 0
            for i in range(1, len(synd) + 1):
                if i == len(synd) or synd[i] != synd[start]:  # one copy group: rows start..i-1
                    n = i - start
                    rank.extend(range(1, n + 1))
                    size.extend([n] * n)
                    # the original's row, when the original is a member (NULL lag otherwise, as the SELECT gives)
                    first = next((j for j in range(start, i) if arts[j] == synd[j]), None)
                    origin.extend([first] * n)
                    start = i
            ran_at = mine["ran_at"]
            idx = pa.array(origin, pa.int64())
            members = pa.table(
                {
                    "syndication_id": mine["syndication_id"],
                    "article_id": mine["article_id"],
                    "copy_rank": pa.array(rank, pa.int64()),
                    "group_size": pa.array(size, pa.int64()),
                    "ran_at": ran_at,
                    "original_at": pc.take(ran_at, idx),
                }
            )
            name = "_dedup_refresh_members"
            con.register(name, members)
            try:
                con.execute(
                    "INSERT INTO core.syndication_members (syndication_id, article_id, copy_rank, group_size, lag) "
                    f"SELECT syndication_id, article_id, copy_rank, group_size, ran_at - original_at FROM {name}"
                )
            finally:
                con.unregister(name)


def rebuild_aggregates(con: duckdb.DuckDBPyConnection) -> None:
    """Both aggregate tables from scratch, for group rows written without the dedup stage (bench/trends_gen.py;
    a warehouse made before the tables gets them filled by 20_dedup.sql itself)."""
    con.execute("DELETE FROM core.story_stats")
    con.execute(_STORY_STATS.format(groups="core.article_groups", articles="core.articles", where=""))
    con.execute("DELETE FROM core.syndication_members")
    con.execute(_MEMBERS.format(groups="core.article_groups", articles="core.articles", where=""))
