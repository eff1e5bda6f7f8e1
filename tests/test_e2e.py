"""End to end: the demo watch over the fixture server into a real DuckDB file, then a rerun."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from flows.pipeline import run_monitor
from tests.nwtest import counts as _counts
from tests.nwtest import make_config, run_demo, seed_of
from tests.support.backends import backend_env, warehouse_contract
from warehouse.db import connect

# the SQL contract: every test here runs on the DuckDB file, DuckLake (local catalog) and DuckLake on PostgreSQL
# a hang guard over the demo run each backend's first test sets up (77-118 s at load 14-18)
pytestmark = [*warehouse_contract(), pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def demo_run(warehouse_backend, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo run on this module's backend (conftest's is always on the DuckDB file)."""
    tmp = tmp_path_factory.mktemp(f"e2e-{warehouse_backend.name}")
    env = warehouse_backend.env(tmp)
    with backend_env(env):
        return {**run_demo(tmp), "env": env}


def _articles(db: str) -> dict[str, dict]:
    con = connect(db, read_only=True)
    try:
        cur = con.execute("select * from articles")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {seed_of(r["url"]): r for r in rows}


def test_first_run_stores_the_five_seed_articles_and_skips_the_off_topic_page(demo_run):
    arts = _articles(demo_run["db"])
    assert sorted(arts) == ["000", "001", "002", "003", "004"]
    assert demo_run["first"].status == "succeeded"
    assert demo_run["first"].skips[("topic", "off_topic")] == 1
    assert {a["source"] for a in arts.values()} == {
        "Sky News", "The Star", "Rotherham Advertiser", "GB News", "Yorkshire Post"}
    for a in arts.values():
        assert a["word_count"] > 300
        assert a["published_at"] is not None
        assert a["fetch_status"] == "ok"
    # the feed links carried utm_* tracking parameters; canonical URLs do not
    assert all("utm_" not in a["url"] for a in arts.values())


def test_copies_share_a_syndication_id_and_nothing_else_does(demo_run):
    arts = _articles(demo_run["db"])
    synd = {k: a["syndication_id"] for k, a in arts.items()}
    assert synd["001"] == synd["002"]
    assert len({synd["000"], synd["001"], synd["003"], synd["004"]}) == 4
    # the original is the earliest published copy (001, 9 July, before 002 on 10 July)
    assert synd["001"] == arts["001"]["article_id"]


def test_stories_group_the_2018_announcement_and_the_2024_finding(demo_run):
    arts = _articles(demo_run["db"])
    story = {k: a["story_id"] for k, a in arts.items()}
    assert story["000"] == story["001"] == story["002"]
    assert story["003"] == story["004"]
    assert story["000"] != story["003"]


def test_facts_are_present_for_every_seed(demo_run):
    arts = _articles(demo_run["db"])
    con = connect(demo_run["db"], read_only=True)
    try:
        for seed, a in arts.items():
            aid = a["article_id"]
            for view in ("entity_mentions", "figures", "periods"):
                n = con.execute(f"select count(*) from {view} where article_id = ?", [aid]).fetchone()[0]
                assert n > 0, f"no {view} for seed {seed}"
        quoted = {r[0] for r in con.execute("select distinct article_id from quotes").fetchall()}
        assert quoted == {a["article_id"] for a in arts.values()}
        # specific facts named in the issue
        assert con.execute(
            "select count(*) from figures where value = 1400 and noun like '%children%' and qualifier = 'at least'"
        ).fetchone()[0] >= 1
        assert con.execute(
            "select count(*) from periods where start_year = 1997 and end_year = 2013"
        ).fetchone()[0] >= 1
        ents = {r[0] for r in con.execute("select distinct entity from entity_mentions").fetchall()}
        assert "Independent Office for Police Conduct" in ents
        assert "IOPC" not in ents  # the acronym is an alias, not a second entity
        surfaces = {r[0] for r in con.execute(
            "select distinct surface from entity_mentions where entity = 'Independent Office for Police Conduct'"
        ).fetchall()}
        assert "IOPC" in surfaces
    finally:
        con.close()


def test_digest_files_are_written_once(demo_run):
    files = demo_run["files_after_first"]
    assert len([f for f in files if f.endswith(".eml")]) == 1
    assert len([f for f in files if f.endswith(".html")]) == 1
    eml = next(Path(demo_run["out"]).glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    # one item per story: two stories, each named once
    assert text.count("Rotherham") >= 2
    assert demo_run["first"].digests[0].items == 2
    # cross-article linking ran before the digest: the seeds' disagreements are reported
    assert "2014 (Sky News, The Star) vs 2015 (Rotherham Advertiser)" in text
    assert "1999-2011 (Sky News, The Star) vs 1997-2013 (Rotherham Advertiser)" in text
    # the rerun found nothing new: no second digest
    assert sorted(p.name for p in Path(demo_run["out"]).iterdir()) == files
    assert demo_run["second"].digests[0].status == "empty"


def test_rerun_adds_no_rows_and_uses_conditional_get(demo_run):
    assert demo_run["after_first"] == demo_run["after_second"]
    assert demo_run["after_first"]["core.articles"] == 5
    second = demo_run["second"]
    assert second.status == "succeeded"
    assert second.counts["articles_new"] == 0
    assert second.counts["feeds_not_modified"] == 1
    feed_gets = [h for m, p, h in demo_run["requests"] if p.startswith("/feeds/")]
    assert len(feed_gets) == 2
    assert "If-None-Match" in feed_gets[1] or "if-none-match" in {k.lower() for k in feed_gets[1]}


def test_runs_are_recorded_with_their_counts(demo_run):
    con = connect(demo_run["db"], read_only=True)
    try:
        rows = con.execute(
            "select status, articles_new, off_topic, digest_items from runs order by started_at"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("succeeded", 5, 1, 2), ("succeeded", 0, 0, 0)]


def _partition(arts: dict[str, dict], col: str) -> list[list[str]]:
    groups: dict[str, set[str]] = {}
    for seed, a in arts.items():
        groups.setdefault(a[col], set()).add(seed)
    return sorted(sorted(g) for g in groups.values())


def test_a_fresh_run_on_the_same_input_gives_the_same_groups_and_facts(demo_run, tmp_path):
    """Same input, new database: same grouping and the same number of facts (no randomness, no order effects)."""
    from newswatch.demo import serve_fixtures

    db = str(tmp_path / "again.duckdb")
    with serve_fixtures(port=0) as server:
        run_monitor(make_config(), db, extra_feeds=[server.feed_url], digest=False)
    a, b = _articles(demo_run["db"]), _articles(db)
    for col in ("syndication_id", "story_id"):
        assert _partition(a, col) == _partition(b, col)
    fact_tables = ("core.entity_mentions", "core.figures", "core.periods", "core.quotes")
    assert {t: demo_run["after_first"][t] for t in fact_tables} == {t: _counts(db)[t] for t in fact_tables}


def test_a_homepage_url_is_resolved_to_its_feed_and_remembered(tmp_path):
    """Feed autodiscovery: the watch names an outlet's page; its <link rel=alternate> feed is polled instead."""
    from newswatch.demo import serve_fixtures

    db = str(tmp_path / "disc.duckdb")
    with serve_fixtures(port=0) as server:
        page = next(p for p in server.site.pages if seed_of(server.base + p) == "000")
        homepage = server.base + page  # every fixture page announces the feed
        report = run_monitor(make_config(), db, extra_feeds=[homepage], digest=False)
        assert report.counts["articles_new"] == 5
        again = run_monitor(make_config(), db, extra_feeds=[homepage], digest=False, force=True)
        feed_requests = [p for _, p, _ in server.site.requests if p.startswith("/feeds/")]
        page_requests = [p for _, p, _ in server.site.requests if p.split("?")[0] == page]
    assert again.counts["articles_new"] == 0
    assert len(feed_requests) == 2
    # the homepage itself: once as the configured URL, once as an article; the second run goes straight to the feed
    assert len(page_requests) == 2
    con = connect(db, read_only=True)
    try:
        row = con.execute("select feed_url, redirected_to from feeds").fetchone()
    finally:
        con.close()
    assert row == (homepage, server.feed_url)


def test_autodiscovery_asks_the_shared_sniffer_whether_a_feed_url_gave_an_html_page():
    """The feed parser calls such a body "an HTML page that announces X; use that URL" (extractors/sniff.py):
    autodiscovery follows exactly those, also without an HTML Content-Type or with a BOM or comment first."""
    from flows.pipeline import _looks_like_html
    from newswatch.models import FetchResult

    def res(body: bytes, ctype: str | None = "application/xml", status: str = "ok") -> FetchResult:
        return FetchResult(url="http://x/", final_url="http://x/", status=status, body=body, content_type=ctype)

    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/f.xml"></head></html>'
    assert _looks_like_html(res(page, "text/html"))
    assert _looks_like_html(res(b"\xef\xbb\xbf<!-- site -->\n<!DOCTYPE html>" + page, "text/plain"))
    assert not _looks_like_html(res(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>'))
    assert not _looks_like_html(res(page, "text/html", status="http_error"))
