"""Facts in a real DuckDB file: idempotent store, cross-article aliases, conflicts, quote registry, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.facts_stage import link_aliases
from newswatch.models import EntityMention, Facts, Figure, Period, Quote
from tests.support.backends import warehouse_contract
from warehouse.db import connect, insert_rows
from warehouse.facts import stale_articles, store_facts

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
