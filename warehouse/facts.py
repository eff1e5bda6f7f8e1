"""Facts in the warehouse: replace one article's facts, read them back, write alias/cluster/conflict tables.

store_facts is idempotent: each article's rows are deleted and rewritten in one transaction, so a rerun or a
re-extraction never duplicates. Cross-article aliases already decided (core.entity_aliases) are applied when
storing, so a new article uses the same canonical names as the old ones without waiting for the next link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from newswatch.models import Facts
from warehouse.db import insert_rows, transaction

FACT_TABLES = ("core.entity_mentions", "core.figures", "core.periods", "core.quotes", "core.article_aliases")


def alias_map(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Cross-article aliases: casefolded alias -> canonical entity."""
    return {a.casefold(): e for a, e in con.execute("SELECT alias, entity FROM core.entity_aliases").fetchall()}


def _apply(amap: Mapping[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    seen = set()
    cur = name
    while cur.casefold() in amap and cur.casefold() not in seen:
        seen.add(cur.casefold())
        cur = amap[cur.casefold()]
    return cur


def noun_head(noun: str) -> str:
    """The counted noun's head word, lower-cased (figures.noun_head): 'police officers' -> 'officers'."""
    words = noun.split()
    return words[-1].lower() if words else ""


def store_facts(
    con: duckdb.DuckDBPyConnection,
    facts: Sequence[Facts],
    *,
    content_hashes: Mapping[str, str] | None = None,
) -> int:
    """Replace each article's facts with these (one transaction); return the number of fact rows written.

    Rows counted: entity mentions + figures + periods + quotes + per-article aliases.
    """
    if not facts:
        return 0
    amap = alias_map(con)
    now = datetime.now(UTC)
    ids = sorted({f.article_id for f in facts})
    ents: list[dict[str, Any]] = []
    figs: list[dict[str, Any]] = []
    pers: list[dict[str, Any]] = []
    quos: list[dict[str, Any]] = []
    alis: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for fx in facts:
        for i, m in enumerate(fx.entities):
            ents.append(
                dict(article_id=fx.article_id, seq=i, entity=_apply(amap, m.entity), entity_type=m.entity_type,
                     surface=m.surface, start_char=m.start, end_char=m.end, local_entity=m.entity)
            )
        for i, g in enumerate(fx.figures):
            figs.append(
                dict(article_id=fx.article_id, seq=i, value=g.value, noun=g.noun, noun_head=noun_head(g.noun),
                     qualifier=g.qualifier, currency=g.currency, unit=g.unit, surface=g.surface,
                     sentence=g.sentence)
            )
        for i, p in enumerate(fx.periods):
            pers.append(
                dict(article_id=fx.article_id, seq=i, start_year=p.start_year, end_year=p.end_year,
                     kind="year" if p.start_year == p.end_year else "range", surface=p.surface,
                     sentence=p.sentence)
            )
        for i, q in enumerate(fx.quotes):
            quos.append(
                dict(article_id=fx.article_id, seq=i, quote_id=q.quote_id, quote=q.quote,
                     speaker=_apply(amap, q.speaker) if q.speaker_type != "ROLE" else q.speaker,
                     local_speaker=q.speaker, speaker_surface=q.speaker_surface, speaker_type=q.speaker_type,
                     sentence=q.sentence)
            )
        seen_alias = set()
        for a in fx.aliases:
            key = (a.alias, a.entity)
            if key in seen_alias:
                continue
            seen_alias.add(key)
            alis.append(
                dict(article_id=fx.article_id, alias=a.alias, entity=a.entity, entity_type=a.entity_type,
                     origin=a.origin, evidence=a.evidence)
            )
        runs.append(
            dict(article_id=fx.article_id, extractor=fx.extractor,
                 content_hash=(content_hashes or {}).get(fx.article_id), extracted_at=now,
                 entities=len(fx.entities), figures=len(fx.figures), periods=len(fx.periods),
                 quotes=len(fx.quotes), language=fx.language, skipped_reason=fx.skipped)
        )
    with transaction(con):
        _delete_articles(con, ids)
        n = insert_rows(con, "core.entity_mentions", ents)
        n += insert_rows(con, "core.figures", figs)
        n += insert_rows(con, "core.periods", pers)
        n += insert_rows(con, "core.quotes", quos)
        n += insert_rows(con, "core.article_aliases", alis)
        insert_rows(con, "core.fact_runs", runs)
    return n


def _delete_articles(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> None:
    for table in (*FACT_TABLES, "core.fact_runs"):
        con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)])


def delete_facts(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> None:
    """Remove every fact row of these articles (e.g. an article that went off-topic after a revision)."""
    ids = list(article_ids)
    if ids:
        with transaction(con):
            _delete_articles(con, ids)


def stale_articles(con: duckdb.DuckDBPyConnection, extractor: str) -> list[str]:
    """Articles whose facts are missing, were made by another extractor version, or predate a text change."""
    rows = con.execute(
        """
        SELECT a.article_id FROM core.articles a
        LEFT JOIN core.fact_runs r USING (article_id)
        WHERE r.article_id IS NULL OR r.extractor <> ? OR (r.content_hash IS NOT NULL AND r.content_hash <> a.content_hash)
        ORDER BY a.article_id
        """,
        [extractor],
    ).fetchall()
    return [r[0] for r in rows]


# ---- reads and writes for the cross-article linking stage ------------------------------------


def read_link_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Everything the linking stage needs, as plain tuples."""
    return {
        "mentions": con.execute(
            """SELECT m.article_id, m.local_entity, m.entity_type, m.surface,
                      coalesce(g.syndication_id, m.article_id), coalesce(g.story_id, m.article_id)
               FROM core.entity_mentions m LEFT JOIN core.article_groups g USING (article_id)"""
        ).fetchall(),
        "aliases": con.execute(
            "SELECT article_id, alias, entity, entity_type, origin, evidence FROM core.article_aliases"
        ).fetchall(),
        "quotes": con.execute(
            "SELECT article_id, quote_id, quote, coalesce(speaker, '') FROM core.quotes"
        ).fetchall(),
        "facts": con.execute(
            """SELECT 'figure' AS kind, article_id, sentence,
                      printf('%g', value) || ' ' || noun_head || coalesce(' ' || currency, '') AS value
               FROM core.figures WHERE noun_head <> ''
               UNION ALL
               SELECT CASE WHEN kind = 'year' THEN 'year' ELSE 'period' END, article_id, sentence,
                      CASE WHEN kind = 'year' THEN start_year::VARCHAR
                           ELSE start_year::VARCHAR || '-' || end_year::VARCHAR END
               FROM core.periods"""
        ).fetchall(),
    }


def _canonical(local: str) -> str:
    """SQL: the alias target of the column `local` (lower-cased match), else the column itself."""
    return (f"coalesce((SELECT a.entity FROM core.entity_aliases a WHERE lower(a.alias) = lower({local})), "
            f"{local})")


# what cross-article linking re-canonicalises: (table, column, its local form, the rows whose column is not the
# canonical form that the current aliases give); role speakers keep their role
_RELINKED = (
    ("core.entity_mentions", "entity", "local_entity", f"entity IS DISTINCT FROM {_canonical('local_entity')}"),
    ("core.quotes", "speaker", "local_speaker",
     f"speaker_type IS DISTINCT FROM 'ROLE' AND speaker IS DISTINCT FROM {_canonical('local_speaker')}"),
)


def write_links(
    con: duckdb.DuckDBPyConnection,
    aliases: Sequence[Mapping[str, Any]],
    quote_clusters: Mapping[str, str],
    conflicts: Sequence[Mapping[str, Any]],
) -> int:
    """Replace the cross-article tables and re-canonicalise stored mentions and quotes; return rows changed."""
    now = datetime.now(UTC)
    rows = [dict(a, linked_at=now) for a in aliases]
    with transaction(con):
        con.execute("DELETE FROM core.entity_aliases")
        insert_rows(con, "core.entity_aliases", rows,
                    columns=["alias", "entity", "entity_type", "origin", "evidence", "articles", "linked_at"])
        con.execute("DELETE FROM core.quote_clusters")
        insert_rows(con, "core.quote_clusters",
                    [{"quote_id": k, "cluster_id": v} for k, v in quote_clusters.items()])
        con.execute("DELETE FROM core.fact_conflicts")
        insert_rows(con, "core.fact_conflicts", list(conflicts),
                    columns=["conflict_id", "kind", "claim", "article_id", "value", "sentence", "similarity"])
        # re-canonicalise: entity = alias target of local_entity (lower-cased match), else local_entity; the
        # articles whose rows change are noted first for the trend refresh (core.relinked_articles, read and
        # emptied by warehouse/trends.py), so that it recomputes their days only, and the update then touches
        # only those articles' rows
        n = 0
        for table, column, local, stale in _RELINKED:
            con.execute(f"CREATE OR REPLACE TEMP TABLE link_relinked AS SELECT DISTINCT article_id FROM {table} "
                        f"WHERE {stale}")
            if not con.execute("SELECT count(*) FROM link_relinked").fetchone()[0]:
                continue
            changed = con.execute(
                f"UPDATE {table} SET {column} = {_canonical(local)} "
                f"WHERE article_id IN (SELECT article_id FROM link_relinked) AND {stale}"
            ).fetchone()
            n += int(changed[0]) if changed else 0
            con.execute("INSERT INTO core.relinked_articles SELECT article_id FROM link_relinked")
        con.execute("DROP TABLE IF EXISTS link_relinked")
    return n
