"""A whole run against a hostile web (RELIABILITY.md A-C through the pipeline): every failure is recorded in the
warehouse with its status, good articles still load, and the run completes. The stage-level cases are tested
in tests/net and tests/feeds; this checks that the pipeline keeps what they report."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from flows.pipeline import run_monitor
from tests.nwtest import SEEDS, make_config
from tests.support.httpserver import Reply, ScriptedServer, gzip_bomb
from warehouse.db import connect

GOOD_PAGE = next((SEEDS / "fixtures" / "site" / "news.sky.com").rglob("*.html"))


def _feed(base: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "\n".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><guid>{g}</guid>"
        f"<description>Rotherham abuse inquiry: {html.escape(t)} (feed summary of the story)</description></item>"
        for g, t, link in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title><link>{base}/</link>'
            f"{entries}</channel></rss>").encode()


def test_one_run_survives_every_kind_of_bad_page_and_records_why(tmp_path: Path) -> None:
    with ScriptedServer() as srv, ScriptedServer() as second:
        base = srv.base_url
        good = GOOD_PAGE.read_text(encoding="utf-8").replace("__BASE__", base).encode()
        srv.route("/good", Reply(200, body=good, headers={"Content-Type": "text/html; charset=utf-8"}))
        srv.route("/pdf", Reply(200, body=b"%PDF-1.7\n" + b"\x00\x01binary" * 200,
                                headers={"Content-Type": "application/pdf"}))
        srv.route("/bomb", Reply(200, body=gzip_bomb(20_000_000),
                                 headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}))
        srv.route("/flaky", Reply(503, headers={"Retry-After": "0"}))
        srv.route("/missing", Reply(404, body=b"gone"))
        srv.route("/slow", Reply(200, body=b"<html>" + b"x" * 100, trickle=(1, 0.5),
                                 headers={"Content-Type": "text/html"}))
        srv.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/", status=302)
        items = [
            ("g1", "Rotherham: the good article", f"{base}/good"),
            ("g2", "Rotherham abuse: a PDF", f"{base}/pdf"),
            ("g3", "Rotherham abuse: a gzip bomb", f"{base}/bomb"),
            ("g4", "Rotherham abuse: server error", f"{base}/flaky"),
            ("g5", "Rotherham abuse: not found", f"{base}/missing"),
            ("g6", "Rotherham abuse: slow trickle", f"{base}/slow"),
            ("g7", "Rotherham abuse: redirect to metadata", f"{base}/to-metadata"),
            ("g8", "Rotherham abuse: script link", "javascript:alert(1)"),
        ]
        srv.route("/feed.xml", Reply(200, body=_feed(base, items), headers={"Content-Type": "application/rss+xml"}))
        # a second feed that is broken beyond repair, on another host: it must not stop the first
        second.route("/feed.xml", Reply(200, body=b"<rss><channel><item><title>trunc", headers={
            "Content-Type": "application/rss+xml"}))
        config = make_config(max_page_bytes=2_000_000, total_deadline_s=3.0, read_timeout_s=2.0,
                             per_host_concurrency=4)
        db = str(tmp_path / "hostile.duckdb")
        report = run_monitor(config, db, extra_feeds=[srv.url("/feed.xml"), second.url("/feed.xml")], digest=False)

    # pages failed: the run is partial (the truncated feed still parsed, with warnings: not a failed feed)
    assert report.status == "partial"
    assert report.feed_failures == []
    assert report.counts["pages_failed"] == 3  # 503, 404, the trickle's timeout
    con = connect(db, read_only=True)
    try:
        arts = {r[0]: r[1] for r in con.execute("select title, fetch_status from articles").fetchall()}
        skips = con.execute("select url, stage, reason from skips").fetchall()
        run = con.execute("select status, skipped from runs").fetchone()
    finally:
        con.close()
    reasons = {(u.rsplit("/", 1)[-1], stage, reason) for u, stage, reason in skips}
    # the good article loads; pages that failed for good fall back to their feed summary
    good_title = next(t for t in arts if "investigated over Rotherham" in t)
    assert arts[good_title] == "ok"
    assert ("pdf", "fetch", "not_html") in reasons
    assert ("flaky", "fetch", "http_error") in reasons          # transient: retried next run, not an article
    assert ("slow", "fetch", "timeout") in reasons              # stopped by the total deadline
    assert not any(t.endswith("server error") or t.endswith("slow trickle") for t in arts)
    assert arts.get("Rotherham abuse: a gzip bomb") == "too_large"   # summary fallback, status kept
    assert arts.get("Rotherham abuse: not found") == "http_error"
    assert arts.get("Rotherham abuse: redirect to metadata") == "blocked"  # link-local: refused even here
    assert any(stage == "feed" and reason == "no_link" for _, stage, reason in reasons)  # javascript: link
    assert any(stage == "feed" for u, stage, _ in skips if second.base_url in u)  # the broken feed is recorded
    assert run == ("partial", len(skips))


@pytest.mark.parametrize("status", [503, 522])
def test_a_page_that_failed_transiently_is_fetched_next_run_even_when_the_feed_answers_304(
    tmp_path: Path, status: int
) -> None:
    """The feed's validators are stored at poll time; the entry stays pending until its page is settled. 522 (a
    CDN's origin timeout) is transient like 503: the pipeline used to settle it as terminal, by its own list."""
    with ScriptedServer() as srv:
        base = srv.base_url
        good = GOOD_PAGE.read_text(encoding="utf-8").replace("__BASE__", base).encode()
        feed = _feed(base, [("a1", "Rotherham: the article", f"{base}/article")])

        def feed_reply(req):
            if req.header("if-none-match") == '"v1"':
                return Reply(304, headers={"ETag": '"v1"'})
            return Reply(200, body=feed, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        srv.route("/feed.xml", feed_reply)
        srv.route("/article", Reply(status),
                  Reply(200, body=good, headers={"Content-Type": "text/html; charset=utf-8"}))
        db = str(tmp_path / "retry.duckdb")
        first = run_monitor(make_config(), db, extra_feeds=[srv.url("/feed.xml")], digest=False)
        second = run_monitor(make_config(), db, extra_feeds=[srv.url("/feed.xml")], digest=False, force=True)
        third = run_monitor(make_config(), db, extra_feeds=[srv.url("/feed.xml")], digest=False, force=True)
        article_gets = len(srv.requests_for("/article"))
    assert first.counts["articles_new"] == 0 and first.skips[("fetch", "http_error")] == 1
    assert second.counts["feeds_not_modified"] == 1 and second.counts["entries_retried"] == 1
    assert second.counts["articles_new"] == 1
    assert third.counts["entries_retried"] == 0 and third.counts["pages_fetched"] == 0  # settled now
    assert article_gets == 2
    con = connect(db, read_only=True)
    try:
        assert con.execute("select count(*) from core.feed_entries where not settled").fetchone()[0] == 0
    finally:
        con.close()


def test_an_article_listed_by_two_feeds_is_fetched_once_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    from tests.nwtest import counts

    with ScriptedServer() as srv:
        base = srv.base_url
        good = GOOD_PAGE.read_text(encoding="utf-8").replace("__BASE__", base).encode()
        srv.route("/article", Reply(200, body=good, headers={"Content-Type": "text/html; charset=utf-8"}))
        srv.route("/a.xml", Reply(200, body=_feed(base, [("x", "Rotherham one", f"{base}/article?utm_source=a")]),
                                  headers={"Content-Type": "application/rss+xml"}))
        srv.route("/b.xml", Reply(200, body=_feed(base, [("y", "Rotherham two", f"{base}/article#top")]),
                                  headers={"Content-Type": "application/rss+xml"}))
        db = str(tmp_path / "two.duckdb")
        feeds = [srv.url("/a.xml"), srv.url("/b.xml")]
        run_monitor(make_config(), db, extra_feeds=feeds, digest=False)
        before = counts(db)
        again = run_monitor(make_config(), db, extra_feeds=feeds, digest=False, force=True)
        article_gets = len(srv.requests_for("/article"))
    assert article_gets == 1
    assert before["core.articles"] == 1 and before["core.feed_entries"] == 2
    assert counts(db) == before and again.counts["pages_fetched"] == 0


def test_a_pending_entry_retried_after_a_304_keeps_its_feed_title_as_source(tmp_path: Path) -> None:
    """The page names no outlet (no og:site_name): the source is the feed's title, also when the page is only
    fetched by a later run whose feed answered 304 (it used to become the host, 127.0.0.1)."""
    page = ('<!doctype html><html><head><meta charset="utf-8"><title>Rotherham abuse inquiry</title></head><body>'
            "<article><h1>Rotherham abuse inquiry</h1>"
            + "".join(f"<p>Paragraph {i}: the Rotherham abuse inquiry heard from officers and survivors "
                      "about what South Yorkshire Police knew and when it knew it.</p>" for i in range(12))
            + "</article></body></html>").encode()
    with ScriptedServer() as srv:
        base = srv.base_url
        feed = _feed(base, [("p1", "Rotherham abuse inquiry", f"{base}/article")]).replace(
            b"<title>Hostile</title>", b"<title>The Loopback Gazette</title>")

        def feed_reply(req):
            if req.header("if-none-match") == '"v1"':
                return Reply(304, headers={"ETag": '"v1"'})
            return Reply(200, body=feed, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        srv.route("/feed.xml", feed_reply)
        # first run: the page times out (transient, the entry stays pending); then it answers
        srv.route("/article", Reply(200, body=page, headers={"Content-Type": "text/html"}, delay_s=3.0),
                  Reply(200, body=page, headers={"Content-Type": "text/html"}))
        db = str(tmp_path / "source.duckdb")
        config = make_config(read_timeout_s=0.5, total_deadline_s=1.0)
        first = run_monitor(config, db, extra_feeds=[srv.url("/feed.xml")], digest=False)
        second = run_monitor(config, db, extra_feeds=[srv.url("/feed.xml")], digest=False, force=True)
    assert first.skips[("fetch", "timeout")] == 1 and first.counts["articles_new"] == 0
    assert second.counts["feeds_not_modified"] == 1 and second.counts["entries_retried"] == 1
    con = connect(db, read_only=True)
    try:
        assert con.execute("select source from articles").fetchall() == [("The Loopback Gazette",)]
    finally:
        con.close()


def test_a_feed_whose_charset_is_only_in_the_header_is_decoded_by_that_charset(tmp_path: Path) -> None:
    """`Content-Type: text/xml; charset=iso-8859-2` and no XML declaration: the run must decode the feed as
    ISO-8859-2 (it used to pass only the MIME type to the parser, which then guessed and stored mojibake)."""
    title = "Rotherham: Łódź i Gdańsk śledzą sprawę"
    with ScriptedServer() as srv:
        base = srv.base_url
        body = (f"<rss version=\"2.0\"><channel><title>Gazeta Zażółć</title><link>{base}/</link>"
                f"<item><title>{title}</title><link>{base}/nowhere</link><guid>pl1</guid></item>"
                "</channel></rss>").encode("iso-8859-2")
        srv.route("/pl.xml", Reply(200, body=body, headers={"Content-Type": "text/xml; charset=iso-8859-2"}))
        srv.route("/nowhere", Reply(404, body=b"gone"))
        db = str(tmp_path / "charset.duckdb")
        run_monitor(make_config(), db, extra_feeds=[srv.url("/pl.xml")], digest=False)
    con = connect(db, read_only=True)
    try:
        assert con.execute("select title, source from core.feed_entries").fetchall() == [(title, "Gazeta Zażółć")]
    finally:
        con.close()


def test_a_page_answering_501_is_settled_and_not_fetched_again(tmp_path: Path) -> None:
    """501 Not Implemented will not change by the next run: the entry is settled after one try (extractors/http
    status table), so the page is not requested again."""
    with ScriptedServer() as srv:
        base = srv.base_url
        srv.route("/feed.xml", Reply(200, body=_feed(base, [("a1", "Rotherham: the article", f"{base}/article")]),
                                     headers={"Content-Type": "application/rss+xml"}))
        srv.route("/article", Reply(501))
        db = str(tmp_path / "terminal.duckdb")
        first = run_monitor(make_config(), db, extra_feeds=[srv.url("/feed.xml")], digest=False)
        second = run_monitor(make_config(), db, extra_feeds=[srv.url("/feed.xml")], digest=False, force=True)
        article_gets = len(srv.requests_for("/article"))
    assert first.skips[("fetch", "http_error")] == 1
    assert second.counts["entries_retried"] == 0 and second.counts["pages_fetched"] == 0
    assert article_gets == 1
