"""Warehouse side of syndication and stories: fingerprints, the LSH band index, copy edges, groups, stories.

Reads and writes only through a connection it is given (warehouse.db opens it). Tables are declared in
warehouse/sql/00_core.sql (core.fingerprints, core.article_groups) and warehouse/sql/20_dedup.sql (the rest).
The candidate lookup is two index scans: exact unit simhashes (top 32 bits) in core.unit_keys and document
simhash bands in core.simhash_bands; docs/dedup.md measures it at 10k, 100k and 1M stored articles.
Key lists are inlined as SQL constants (ints, or quoted strings) so that DuckDB can use its ART indexes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from warehouse.db import insert_arrow, insert_rows, upsert

BANDS = 4  # 4 bands of 16 bits: document simhashes within 3 bits always share a band
BAND_BITS = 16
# Story idf is at full strength once this many articles have a story profile (see term_idf). 100 before the
# stories of issue 10: on the real pairs' development split 20 raised recall 0.913 -> 0.957 at precision 1.0
# then (the first articles of a warehouse were profiled with nearly no idf), and the seeds keep their two
# stories; with the final profile and story threshold 20 and 100 give the same real-pair figures (docs/dedup.md).
IDF_FULL_AT = 20
# A unit simhash held by more stored articles than this is a stock sentence: template for every outlet.
MAX_UNIT_POSTINGS = 1000


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


def delete_article(con: duckdb.DuckDBPyConnection, article_id: str) -> None:
    """Forget the derived rows of one article before recomputing it (its text or the algorithm changed).

    The story assignment is kept: a revised article stays in its story. Edges where *other* articles copy
    this one are kept too: they were verified when those articles arrived.
    """
    for table in (
        "core.article_units",
        "core.unit_keys",
        "core.simhash_bands",
        "core.fingerprints",
        "core.dedup_state",
    ):
        con.execute(f"DELETE FROM {table} WHERE article_id = ?", [article_id])
    con.execute("DELETE FROM core.syndication_edges WHERE article_id = ?", [article_id])


def store_fingerprint(
    con: duckdb.DuckDBPyConnection,
    *,
    article_id: str,
    version: str,
    content_hash: str,
    doc_simhash: int,
    unit_simhashes: Sequence[int],
    words: int,
    computed_at: datetime,
    boilerplate: Sequence[int] = (),
) -> None:
    """Write the document fingerprint, the unit fingerprints, the band index rows and the dedup state.

    boilerplate: the unit simhashes that were learned boilerplate at this time (stored beside the units so
    that a later article compared with this one can leave them out without a query per candidate).
    """
    _insert(
        con,
        "core.fingerprints",
        pa.table(
            {
                "article_id": [article_id],
                "doc_simhash": pa.array([doc_simhash], type=pa.uint64()),
                "version": [version],
                "computed_at": pa.array([computed_at], type=pa.timestamp("us", tz="UTC")),
            }
        ),
        mode="INSERT OR REPLACE",
    )
    _insert(
        con,
        "core.article_units",
        pa.table(
            {
                "article_id": [article_id],
                "simhashes": pa.array([list(unit_simhashes)], type=pa.list_(pa.uint64())),
                "boilerplate": pa.array([sorted(set(boilerplate))], type=pa.list_(pa.uint64())),
            }
        ),
        mode="INSERT OR REPLACE",
    )
    keys32 = sorted({key32(h) for h in unit_simhashes})
    _insert(
        con,
        "core.unit_keys",
        pa.table({"key32": pa.array(keys32, type=pa.uint32()), "article_id": [article_id] * len(keys32)}),
    )
    keys = set(band_keys(doc_simhash))
    _insert(
        con,
        "core.simhash_bands",
        pa.table(
            {"band_key": pa.array(sorted(keys), type=pa.uint32()), "article_id": [article_id] * len(keys)}
        ),
    )
    insert_rows(
        con,
        "core.dedup_state",
        [
            {
                "article_id": article_id,
                "version": version,
                "content_hash": content_hash,
                "units": len(unit_simhashes),
                "words": words,
                "computed_at": computed_at,
            }
        ],
        mode="INSERT OR REPLACE",
    )


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
    stock: units held by more than MAX_UNIT_POSTINGS stored articles (stock sentences, boilerplate for all).
    """

    texts: dict[int, frozenset[str]]
    stock: frozenset[int]
    group_of: dict[str, str]  # witness article -> its copy group


def unit_witnesses(
    con: duckdb.DuckDBPyConnection, article_id: str, unit_simhashes: Sequence[int]
) -> UnitWitnesses:
    """For each of these unit simhashes, the distinct texts (copy groups) of other stored articles with it.

    Two index lookups: the unit keys, then the group rows of the articles found (primary key). Sources do
    not matter: one outlet (or a folder of local files) can carry several copies of a text, and its
    template is still shared by its otherwise different articles.
    """
    if not unit_simhashes:
        return UnitWitnesses({}, frozenset(), {})
    # Two index lookups instead of one join: a join would scan core.articles (measured ~0.4 s at 1M rows).
    by_key: dict[int, list[int]] = {}
    for h in set(unit_simhashes):
        by_key.setdefault(key32(h), []).append(h)
    rows = con.execute(
        f"SELECT key32, article_id FROM core.unit_keys WHERE key32 IN ({_int_list(by_key)})"
    ).fetchall()
    # key32 stands for the full simhash (a collision among our own units maps to all of them)
    hits = [(h, a) for k, a in rows for h in by_key.get(int(k), []) if a != article_id]
    postings: dict[int, int] = {}
    for h, _ in hits:
        postings[int(h)] = postings.get(int(h), 0) + 1
    # A sentence in very many articles (a stock phrase) is boilerplate for everyone.
    stock = frozenset(h for h, n in postings.items() if n > MAX_UNIT_POSTINGS)
    hits = [(h, a) for h, a in hits if int(h) not in stock]
    others = sorted({a for _, a in hits})
    group = dict.fromkeys(others, "")
    if others:
        group.update(
            con.execute(
                "SELECT article_id, syndication_id FROM core.article_groups "
                f"WHERE article_id IN ({_str_list(others)})"
            ).fetchall()
        )
    group_of = {a: g or a for a, g in group.items()}
    texts: dict[int, set[str]] = {}
    for h, a in hits:
        texts.setdefault(int(h), set()).add(group_of[a])
    return UnitWitnesses({h: frozenset(t) for h, t in texts.items()}, stock, group_of)


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
        out[aid] = ([int(h) for h in hs], frozenset(int(h) for h in bp or ()))
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


def store_edge(
    con: duckdb.DuckDBPyConnection,
    *,
    article_id: str,
    copy_of: str,
    shared_units: int,
    narrative_units: int,
    units_copy: int,
    units_original: int,
    shared_ratio: float,
    distance: int,
    changes: dict,
    version: str,
    detected_at: datetime,
) -> None:
    """Record that article_id is a verified copy of the earlier article copy_of."""
    upsert(
        con,
        "core.syndication_edges",
        [(
            article_id,
            copy_of,
            shared_units,
            narrative_units,
            units_copy,
            units_original,
            shared_ratio,
            distance,
            json.dumps(changes, ensure_ascii=False),
            version,
            detected_at,
        )],
    )


def component(con: duckdb.DuckDBPyConnection, article_id: str) -> list[tuple[str, datetime | None, datetime]]:
    """All articles linked to this one by copy edges (either direction), with (published_at, first_seen_at)."""
    rows = con.execute(
        """
        WITH RECURSIVE links(a, b) AS (
            SELECT article_id, copy_of FROM core.syndication_edges
            UNION ALL
            SELECT copy_of, article_id FROM core.syndication_edges
        ),
        comp(id) AS (
            SELECT ?::VARCHAR
            UNION
            SELECT l.b FROM comp JOIN links l ON l.a = comp.id
        )
        SELECT a.article_id, a.published_at, a.first_seen_at
        FROM comp JOIN core.articles a ON a.article_id = comp.id
        """,
        [article_id],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def groups_of(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """article_id -> (syndication_id, story_id) for those of the ids that are assigned."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    return {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT article_id, syndication_id, story_id FROM core.article_groups "
            f"WHERE article_id IN ({_str_list(ids)})"
        ).fetchall()
    }


def set_syndication(
    con: duckdb.DuckDBPyConnection, members: Iterable[str], syndication_id: str, assigned_at: datetime
) -> None:
    """Point every member of a copy group at its original (only rows that change are touched)."""
    ids = list(members)
    if not ids:
        return
    con.execute(
        f"""
        UPDATE core.article_groups SET syndication_id = ?, assigned_at = ?
        WHERE article_id IN ({_str_list(ids)}) AND syndication_id <> ?
        """,
        [syndication_id, assigned_at, syndication_id],
    )


def assign(
    con: duckdb.DuckDBPyConnection, article_id: str, syndication_id: str, story_id: str, assigned_at: datetime
) -> None:
    """Write (or overwrite) one article's group row."""
    upsert(con, "core.article_groups", [(article_id, syndication_id, story_id, assigned_at)])


def candidate_stories(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[StoryRow]:
    """Stories whose time span [first_at, last_at] overlaps [start, end]."""
    rows = con.execute(
        "SELECT story_id, title, first_at, last_at, members, profile FROM core.stories "
        "WHERE last_at >= ? AND first_at <= ? ORDER BY story_id",
        [start, end],
    ).fetchall()
    return [StoryRow(r[0], r[1], r[2], r[3], int(r[4]), json.loads(r[5])) for r in rows]


def get_story(con: duckdb.DuckDBPyConnection, story_id: str) -> StoryRow | None:
    r = con.execute(
        "SELECT story_id, title, first_at, last_at, members, profile FROM core.stories WHERE story_id = ?",
        [story_id],
    ).fetchone()
    return StoryRow(r[0], r[1], r[2], r[3], int(r[4]), json.loads(r[5])) if r else None


def save_story(
    con: duckdb.DuckDBPyConnection, story: StoryRow, created_at: datetime, updated_at: datetime
) -> None:
    """Insert a story or update its span, member count and profile (created_at is kept on update)."""
    upsert(
        con,
        "core.stories",
        update={c: f"s.{c}" for c in ("first_at", "last_at", "members", "profile", "updated_at")},
        rows=[(
            story.story_id,
            story.title,
            story.first_at,
            story.last_at,
            story.members,
            json.dumps(story.profile, sort_keys=True),
            created_at,
            updated_at,
        )],
    )


def save_story_assignment(
    con: duckdb.DuckDBPyConnection,
    article_id: str,
    story_id: str,
    reason: str,
    similarity: float | None,
    profile: dict[str, float],
    assigned_at: datetime,
) -> None:
    upsert(
        con,
        "core.story_assignments",
        [(article_id, story_id, reason, similarity, json.dumps(profile, sort_keys=True), assigned_at)],
    )


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


def term_idf(con: duckdb.DuckDBPyConnection, terms: Iterable[str]) -> dict[str, float]:
    """Smoothed idf of story-profile terms: 1 + s * ln((N + 1) / (df + 1)), N = articles with a profile.

    s = min(1, N / IDF_FULL_AT): document frequencies over a handful of articles say little (on the five
    seeds, full idf drops the 003/004 similarity from 0.49 to 0.24, level with different stories), so idf
    phases in as the warehouse grows.
    """
    ts = sorted(set(terms))
    n = con.execute("SELECT count(*) FROM core.story_assignments").fetchone()[0]
    df = {
        r[0]: int(r[1])
        for r in con.execute(
            f"SELECT term, df FROM core.story_terms WHERE term IN ({_str_list(ts)})"
        ).fetchall()
    }
    strength = min(1.0, n / IDF_FULL_AT)
    return {t: 1.0 + strength * math.log((n + 1) / (df.get(t, 0) + 1)) for t in ts}


def add_terms(con: duckdb.DuckDBPyConnection, terms: Iterable[str]) -> None:
    """Count one more article for each of these profile terms."""
    ts = sorted(set(terms))
    if not ts:
        return
    upsert(
        con,
        "core.story_terms",
        columns=("term", "df"),
        source=f"SELECT unnest([{_str_list(ts)}]) AS term, 1 AS df",
        update={"df": "t.df + 1"},
    )


def facts_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Which of the facts stage's tables exist (checked once per batch: a failed query would abort the
    caller's open transaction, so absence is checked up front rather than caught)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core' "
        "AND table_name IN ('entity_mentions', 'figures', 'periods')"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def facts_for(
    con: duckdb.DuckDBPyConnection, article_id: str, tables: frozenset[str]
) -> tuple[list[str], list[str], list[int]]:
    """Entities, figures and period years the facts stage stored for an article ([] when absent).

    The facts tables belong to another stage and may not exist (or be empty) when dedup runs alone;
    `tables` is what `facts_tables` found.
    """
    ents: list[str] = []
    figs: list[str] = []
    years: list[int] = []
    if "entity_mentions" in tables:
        ents = [
            r[0]
            for r in con.execute(
                "SELECT entity FROM core.entity_mentions WHERE article_id = ?", [article_id]
            ).fetchall()
            if r[0]
        ]
    if "figures" in tables:
        figs = [
            f"{float(r[0]):g}"
            for r in con.execute(
                "SELECT value FROM core.figures WHERE article_id = ?", [article_id]
            ).fetchall()
            if r[0] is not None
        ]
    if "periods" in tables:
        for start, end in con.execute(
            "SELECT start_year, end_year FROM core.periods WHERE article_id = ?", [article_id]
        ).fetchall():
            years.extend(int(y) for y in (start, end) if y is not None)
    return ents, figs, years


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
