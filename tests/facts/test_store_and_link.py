"""Facts in a real DuckDB file: idempotent store, cross-article aliases, conflicts, quote registry, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.facts_stage import link_aliases
from newswatch.models import EntityMention, Facts, Figure, Period, Quote
from tests.support.backends import warehouse_contract
from warehouse.db import connect, insert_rows, schema_hash, transaction
from warehouse.facts import stale_articles, store_facts, write_links
from warehouse.trends import refresh_aggregates

pytestmark = warehouse_contract()  # the SQL contract: runs on the DuckDB file and both DuckLake catalogs

T0 = datetime(2018, 7, 10, 9, 0, tzinfo=UTC)
# 001 and 002 are syndicated copies of one text (as the dedup stage groups them)
SYNDICATION = {"000": "000", "001": "001", "002": "001", "003": "003", "004": "004"}


def add_articles(con: duckdb.DuckDBPyConnection, texts: dict[str, str]) -> None:
    rows = []
    for i, (aid, text) in enumerate(sorted(texts.items())):
        t = T0 + timedelta(hours=i)
        rows.append(dict(article_id=aid, watch="demo", url=f"https://example.org/{aid}", canonical_url=f"https://example.org/{aid}",
                         source=f"outlet{aid}", title=f"title {aid}", published_at=t, fetched_at=t, first_seen_at=t,
                         fetch_status="ok", text=text, raw_text=text, word_count=len(text.split()), content_hash=f"h{aid}"))
    insert_rows(con, "core.articles", rows)
    # the views read an article's watches from core.watch_articles (an article can be in several)
    insert_rows(con, "core.watch_articles", [dict(watch="demo", article_id=r["article_id"], matched_at=r["first_seen_at"])
                                             for r in rows])
    insert_rows(con, "core.article_groups", [
        dict(article_id=a, syndication_id=SYNDICATION.get(a, a), story_id="s1", assigned_at=T0) for a in texts])


@pytest.fixture
def seeded_db(tmp_path: Path, seed_facts: dict) -> duckdb.DuckDBPyConnection:
    con = connect(str(tmp_path / "facts.duckdb"))
    add_articles(con, seed_facts["_texts"])
    facts = [v for k, v in sorted(seed_facts.items()) if k != "_texts"]
    store_facts(con, facts)
    link_aliases(con)
    with transaction(con):  # figure_history and quote_registry read the fact trend tables (sql/55_fact_trends.sql)
        refresh_aggregates(con, schema_hash())
    yield con
    con.close()


def counts(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
                 ("entity_mentions", "figures", "periods", "quotes", "entity_aliases", "conflicts"))


def test_store_is_idempotent_and_replaces_per_article(seeded_db: duckdb.DuckDBPyConnection, seed_facts: dict) -> None:
    con = seeded_db
    before = counts(con)
    assert all(n > 0 for n in before)
    facts = [v for k, v in sorted(seed_facts.items()) if k != "_texts"]
    store_facts(con, facts)
    link_aliases(con)
    assert counts(con) == before
    # a re-extraction with fewer facts replaces, it does not add
    store_facts(con, [Facts(article_id="003", extractor="test")])
    assert con.execute("SELECT count(*) FROM quotes WHERE article_id = '003'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM quotes WHERE article_id = '004'").fetchone()[0] > 0


def test_cross_article_aliases(seeded_db: duckdb.DuckDBPyConnection) -> None:
    con = seeded_db
    aliases = dict(con.execute("SELECT alias, entity FROM entity_aliases WHERE article_id IS NULL").fetchall())
    assert aliases["Angela Heal"] == "Angie Heal"
    assert aliases["IOPC"] == "Independent Office for Police Conduct"
    # stored mentions were re-canonicalised; the article-local name is kept beside it
    row = con.execute("SELECT DISTINCT entity, local_entity FROM entity_mentions WHERE article_id = '004' "
                      "AND surface = 'Dr Angela Heal'").fetchall()
    assert row == [("Angie Heal", "Angela Heal")]
    # the misspelt acronym of seed 004 counts as the IOPC
    assert con.execute("SELECT entity FROM entity_mentions WHERE surface = 'IPOC'").fetchone()[0] == \
        "Independent Office for Police Conduct"


def test_conflicts_between_outlets(seeded_db: duckdb.DuckDBPyConnection) -> None:
    rows = seeded_db.execute("SELECT kind, value, list(article_id ORDER BY article_id) FROM conflicts "
                             "GROUP BY conflict_id, kind, value ORDER BY kind, value").fetchall()
    assert ("year", "2014", ["000", "001"]) in rows and ("year", "2015", ["002"]) in rows  # the Jay report
    assert ("period", "1999-2011", ["000", "001"]) in rows and ("period", "1997-2013", ["002"]) in rows
    # identical sentences in two copies never conflict with themselves
    assert all(v for _, v, _ in rows)
    kinds = {r[0] for r in rows}
    assert kinds <= {"year", "period", "figure"}


def test_quote_registry_counts_a_syndicated_quote_once(seeded_db: duckdb.DuckDBPyConnection) -> None:
    con = seeded_db
    row = con.execute("SELECT speaker, appearances, texts, first_article_id FROM quote_registry "
                      "WHERE quote LIKE 'no understanding of the scale and the scope%'").fetchall()
    assert row == [("Meredydd Hughes", 2, 1, "001")]  # 001 and 002 are copies: one text, two appearances
    # the IOPC letter: one quote in 001, two paragraphs as two quotes in 000 -> one registry entry
    row = con.execute("SELECT count(*), max(appearances) FROM quote_registry "
                      "WHERE quote LIKE 'We are extending our investigation%'").fetchone()
    assert row == (1, 2)
    n_quotes = con.execute("SELECT count(*) FROM quotes").fetchone()[0]
    n_registry = con.execute("SELECT count(*) FROM quote_registry").fetchone()[0]
    assert n_registry < n_quotes


def test_figure_history_collapses_copies(seeded_db: duckdb.DuckDBPyConnection) -> None:
    rows = seeded_db.execute("SELECT value, reports, first_source FROM figure_history WHERE noun = 'children'").fetchall()
    # 000, 001/002 (one text), 004 -> three texts say 1,400
    assert rows == [(1400.0, 3, "outlet000")]


# The fact trend views computed straight from the base tables (what sql/55_fact_trends.sql pre-aggregates), with its
# tie rules: the refreshed tables must give exactly these rows.
_FIRST = "(coalesce(a.published_at, a.first_seen_at), f.article_id, f.seq)"
STRAIGHT = {
    "figure_history": f"""
        WITH per_copy AS (
            SELECT wa.watch, lower(f.noun) AS noun, coalesce(f.currency, '') AS currency, coalesce(f.unit, '') AS unit,
                   f.value, coalesce(g.syndication_id, f.article_id) AS syndication_id,
                   min(coalesce(a.published_at, a.first_seen_at)) AS t_at, min({_FIRST}) AS first,
                   arg_min(a.source, {_FIRST}) AS source, arg_min(f.article_id, {_FIRST}) AS article_id,
                   arg_min(f.qualifier, {_FIRST}) AS qualifier, arg_min(f.surface, {_FIRST}) AS surface
            FROM core.figures f JOIN core.articles a USING (article_id) JOIN core.watch_articles wa USING (article_id)
            LEFT JOIN core.article_groups g USING (article_id)
            WHERE f.noun <> '' OR f.currency IS NOT NULL OR f.unit = 'percent'
            GROUP BY ALL
        )
        SELECT watch, noun, nullif(currency, ''), nullif(unit, ''), value, arg_min(qualifier, first),
               arg_min(surface, first), min(t_at), arg_min(source, first), arg_min(article_id, first), max(t_at), count(*),
               list(DISTINCT source ORDER BY source)
        FROM per_copy GROUP BY watch, noun, currency, unit, value""",
    "quote_registry": """
        WITH q AS (
            SELECT q.*, coalesce(c.cluster_id, q.quote_id) AS quote_key, a.source,
                   coalesce(a.published_at, a.first_seen_at) AS t_at, coalesce(g.syndication_id, q.article_id) AS synd
            FROM core.quotes q JOIN core.articles a USING (article_id)
            LEFT JOIN core.article_groups g USING (article_id) LEFT JOIN core.quote_clusters c USING (quote_id)
        ), sp AS (
            SELECT quote_key, speaker, count(*) AS n, min((t_at, article_id, seq)) AS first FROM q
            WHERE speaker IS NOT NULL GROUP BY ALL
        )
        SELECT quote_key, (SELECT arg_min(speaker, (-n, first)) FROM sp WHERE sp.quote_key = q.quote_key),
               arg_max(quote, (length(quote), quote)), arg_min(source, (t_at, article_id, seq)),
               arg_min(article_id, (t_at, article_id, seq)), min(t_at), max(t_at), count(DISTINCT article_id),
               count(DISTINCT source), count(DISTINCT synd),
               list(DISTINCT speaker ORDER BY speaker) FILTER (WHERE speaker IS NOT NULL)
        FROM q GROUP BY quote_key""",
    "period_ranges": """
        SELECT p.start_year, p.end_year, count(DISTINCT coalesce(g.syndication_id, p.article_id)),
               count(DISTINCT p.article_id), min(coalesce(a.published_at, a.first_seen_at)),
               arg_min(p.article_id, (coalesce(a.published_at, a.first_seen_at), p.article_id, p.seq)),
               arg_min(p.sentence, (coalesce(a.published_at, a.first_seen_at), p.article_id, p.seq)),
               max(coalesce(a.published_at, a.first_seen_at))
        FROM core.periods p JOIN core.articles a USING (article_id) LEFT JOIN core.article_groups g USING (article_id)
        WHERE p.kind = 'range' GROUP BY p.start_year, p.end_year""",
}
VIEW_COLUMNS = {
    "figure_history": "watch, noun, currency, unit, value, qualifier, surface, first_reported_at, first_source, "
                      "first_article_id, last_reported_at, reports, sources",
    "quote_registry": "quote_key, speaker, quote, first_source, first_article_id, first_reported_at, last_reported_at, "
                      "appearances, outlets, texts, speakers",
    "period_ranges": "*",
}
FACT_TREND_TABLES = ("trend_figure_rows", "trend_figure_values", "trend_quote_rows", "trend_quote_registry",
                     "trend_period_rows", "trend_period_ranges")


def _views(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {v: sorted(con.execute(f"SELECT {c} FROM {v}").fetchall(), key=repr) for v, c in VIEW_COLUMNS.items()}


def _straight(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {v: sorted(con.execute(sql).fetchall(), key=repr) for v, sql in STRAIGHT.items()}


def test_fact_trends_refreshed_after_changes_equal_a_rebuild_and_the_base_tables(
        seeded_db: duckdb.DuckDBPyConnection, seed_facts: dict) -> None:
    con = seeded_db
    assert all(con.execute(f"SELECT count(*) FROM {v}").fetchone()[0] for v in VIEW_COLUMNS), "seeds give no facts"
    assert _views(con) == _straight(con)
    # a later batch and a relink: 003 re-extracted with no facts, 004 found to copy 000, 001 matched by a second
    # watch, 002's outlet renamed, 000's facts extracted again (same rows), then cross-article linking again
    store_facts(con, [Facts(article_id="003", extractor="test"), seed_facts["000"]])
    con.execute("UPDATE core.article_groups SET syndication_id = '000', assigned_at = now() WHERE article_id = '004'")
    con.execute("INSERT INTO core.watch_articles VALUES ('other', '001', now(), NULL)")
    con.execute("UPDATE core.articles SET source = 'renamed' WHERE article_id = '002'")
    con.execute("UPDATE core.article_groups SET assigned_at = now() WHERE article_id = '002'")
    link_aliases(con)
    with transaction(con):
        counts = refresh_aggregates(con, schema_hash())
    assert counts["fact_articles"] == 5  # 000 and 003 (facts), 001 (watch), 002 (outlet), 004 (copy group)
    assert con.execute("SELECT count(*) FROM figure_history WHERE watch = 'other'").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM quote_registry WHERE first_article_id = '003'").fetchone()[0] == 0
    assert _views(con) == _straight(con)
    # cross-article linking alone (no article changed): a quote of 004 moves to a cluster of its own
    qid = con.execute("SELECT min(quote_id) FROM core.quotes WHERE article_id = '004'").fetchone()[0]
    con.execute("DELETE FROM core.quote_clusters WHERE quote_id = ?", [qid])
    con.execute("INSERT INTO core.quote_clusters VALUES (?, 'a-cluster-of-its-own')", [qid])
    with transaction(con):
        assert refresh_aggregates(con, schema_hash())["fact_articles"] == 1
    assert con.execute("SELECT appearances FROM quote_registry WHERE quote_key = 'a-cluster-of-its-own'").fetchall() \
        == [(1,)]
    assert _views(con) == _straight(con)
    refreshed = {t: sorted(con.execute(f"SELECT * FROM core.{t}").fetchall(), key=repr) for t in FACT_TREND_TABLES}
    con.execute("DELETE FROM core.meta WHERE key LIKE 'trends_%'")
    with transaction(con):
        assert refresh_aggregates(con, schema_hash())["fact_articles"] == -1  # whole
    assert refreshed == {t: sorted(con.execute(f"SELECT * FROM core.{t}").fetchall(), key=repr)
                         for t in FACT_TREND_TABLES}
    with transaction(con):
        assert refresh_aggregates(con, schema_hash())["fact_articles"] == 0  # nothing changed since


ENTITY_TREND_TABLES = ("trend_entity_days", "trend_entity_weeks", "trend_new_entities", "trend_spikes",
                       "trend_quote_rows", "trend_quote_registry")


def test_relinking_recomputes_only_the_articles_whose_entities_moved(seeded_db: duckdb.DuckDBPyConnection) -> None:
    con = seeded_db

    def tables() -> dict[str, list]:
        return {t: sorted(con.execute(f"SELECT * FROM core.{t}").fetchall(), key=repr) for t in ENTITY_TREND_TABLES}

    assert con.execute("SELECT count(*) FROM core.entity_aliases").fetchone()[0] > 0, "seeds give no aliases"
    # linking again with nothing new rewrites every alias (a new linked_at) but moves no entity: nothing to redo
    # (it used to rebuild every entity day of the warehouse, a minute at a million articles)
    link_aliases(con)
    with transaction(con):
        assert refresh_aggregates(con, schema_hash())["entity_days"] == 0
    # a link that merges an entity of 003 alone into a new name, and gives a speaker of 004 another name
    local = con.execute("""SELECT min(local_entity) FROM core.entity_mentions m WHERE article_id = '003'
                           AND NOT EXISTS (SELECT 1 FROM core.entity_mentions o WHERE o.article_id <> '003'
                                           AND lower(o.local_entity) = lower(m.local_entity))
                           AND lower(local_entity) NOT IN (SELECT lower(alias) FROM core.entity_aliases)""").fetchone()[0]
    speaker = con.execute("SELECT min(local_speaker) FROM core.quotes WHERE article_id = '004' "
                          "AND speaker_type IS DISTINCT FROM 'ROLE' AND local_speaker IS NOT NULL").fetchone()[0]
    assert local and speaker
    def records(sql: str, params: list | None = None) -> list[dict]:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    aliases = records("SELECT alias, entity, entity_type, origin, evidence, articles FROM core.entity_aliases "
                      "WHERE lower(alias) <> lower(?)", [speaker])
    aliases += [dict(alias=local, entity="A Merged Name", entity_type="ORG", origin="test", evidence=None, articles=1),
                dict(alias=speaker, entity="A Speaker Renamed", entity_type="PERSON", origin="test", evidence=None,
                     articles=1)]
    clusters = dict(con.execute("SELECT quote_id, cluster_id FROM core.quote_clusters").fetchall())
    conflicts = records("SELECT conflict_id, kind, claim, article_id, value, sentence, similarity "
                        "FROM core.fact_conflicts")
    before = tables()
    assert write_links(con, aliases, clusters, conflicts) > 0
    relinked = {r[0] for r in con.execute("SELECT article_id FROM core.relinked_articles").fetchall()}
    assert "003" in relinked and "004" in relinked
    with transaction(con):
        counts = refresh_aggregates(con, schema_hash())
    assert counts["entity_days"] == 1 and counts["fact_articles"] == len(relinked)   # the seeds' one day
    assert con.execute("SELECT count(*) FROM core.relinked_articles").fetchone()[0] == 0
    after = tables()
    assert after != before
    assert con.execute("SELECT count(*) FROM core.trend_entity_days WHERE entity = 'A Merged Name'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM core.trend_quote_rows WHERE speaker = 'A Speaker Renamed'").fetchone()[0]
    con.execute("DELETE FROM core.meta WHERE key LIKE 'trends_%'")
    with transaction(con):
        assert refresh_aggregates(con, schema_hash())["fact_articles"] == -1  # whole
    assert tables() == after


def test_stale_articles_follow_extractor_version(seeded_db: duckdb.DuckDBPyConnection, seed_facts: dict) -> None:
    version = seed_facts["000"].extractor
    assert stale_articles(seeded_db, version) == []
    assert stale_articles(seeded_db, version + "-next") == ["000", "001", "002", "003", "004"]


def test_two_people_sharing_a_surname_in_one_article_are_not_linked(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "p.duckdb"))
    add_articles(con, {"a": "x", "b": "y", "c": "z"})
    ctx = [("Rotherham", "GPE"), ("South Yorkshire Police", "ORG")]

    def facts(aid: str, *names: str) -> Facts:
        ents = [EntityMention(aid, n, "PERSON", n, 0, 1) for n in names]
        ents += [EntityMention(aid, n, t, n, 0, 1) for n, t in ctx]
        return Facts(article_id=aid, entities=tuple(ents), extractor="t")

    store_facts(con, [facts("a", "Angie Heal"), facts("b", "Angela Heal", "Angie Heal"), facts("c", "Andrew Heal")])
    link_aliases(con)
    assert con.execute("SELECT count(*) FROM entity_aliases WHERE article_id IS NULL").fetchone()[0] == 0
    con.close()


def test_store_writes_every_field(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "f.duckdb"))
    add_articles(con, {"a": "text"})
    fx = Facts(
        article_id="a",
        figures=(Figure("a", 6e6, "operation", None, "GBP", "£6m operation", "During the £6m operation."),),
        periods=(Period("a", 1997, 2013, "between 1997 and 2013", "S."), Period("a", 2014, 2014, "2014", "S.")),
        quotes=(Quote("a", "We are not a taxi firm.", "a police spokesman", "a police spokesman", "ROLE", "S."),),
        extractor="t",
    )
    assert store_facts(con, [fx]) == 4
    assert con.execute("SELECT value, noun, currency, noun_head FROM figures").fetchall() == [(6e6, "operation", "GBP", "operation")]
    assert con.execute("SELECT kind FROM periods ORDER BY start_year").fetchall() == [("range",), ("year",)]
    assert con.execute("SELECT speaker, speaker_type, quote_id FROM quotes").fetchall() == [
        ("a police spokesman", "ROLE", fx.quotes[0].quote_id)]
    con.close()


def test_stage_functions_on_article_records(tmp_path: Path, seed_facts: dict) -> None:
    """The flow's plain functions: Article records in, rows out; delete_facts removes one article's facts."""
    from flows.pipeline import extract_facts
    from newswatch.models import Article
    from warehouse.facts import delete_facts

    texts = seed_facts["_texts"]
    arts = [Article(article_id=aid, url=f"https://e.org/{aid}", canonical_url=f"https://e.org/{aid}", source="s",
                    title="t", text=t, raw_text=t, published_at=T0, fetched_at=T0, watch="demo")
            for aid, t in sorted(texts.items())]
    facts = extract_facts(arts, {"IOPC": "IOPC (police watchdog)"})
    assert [f.article_id for f in facts] == sorted(texts)
    con = connect(str(tmp_path / "s.duckdb"))
    add_articles(con, texts)
    written = store_facts(con, facts)
    link_aliases(con)
    assert written == con.execute(
        "SELECT (SELECT count(*) FROM core.entity_mentions) + (SELECT count(*) FROM core.figures) + "
        "(SELECT count(*) FROM core.periods) + (SELECT count(*) FROM core.quotes) + "
        "(SELECT count(*) FROM core.article_aliases)").fetchone()[0]
    assert con.execute("SELECT count(*) FROM entity_mentions WHERE entity = 'IOPC (police watchdog)'").fetchone()[0] > 5
    delete_facts(con, ["004"])
    assert con.execute("SELECT count(*) FROM entity_mentions WHERE article_id = '004'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM entity_mentions WHERE article_id = '003'").fetchone()[0] > 0
    con.close()
