"""Feeds over real loopback HTTP: the extractors.http Fetcher against the scripted server, parsed by
parse_feed and recorded by warehouse.feeds, as the pipeline does (A4, A6, A7 state parts)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.feeds import parse_fetched_feed
from extractors.http import Fetcher
from newswatch.config import FetchSettings
from tests.support.httpserver import LoggedRequest, Reply, ScriptedServer
from warehouse.db import connect
from warehouse.feeds import FeedState, feeds_due, get_feed_states, record_poll

pytestmark = pytest.mark.timeout(60)

DATA = Path(__file__).parent / "data" / "feeds"
T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)
SETTINGS = FetchSettings(allow_private_networks=True, per_host_delay_s=0.0, retries=0, total_deadline_s=10,
                         read_timeout_s=5, connect_timeout_s=2)


@pytest.fixture()
def srv() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture()
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "h.duckdb")
    yield c
    c.close()


def poll_once(con: duckdb.DuckDBPyConnection, feed_url: str, now: datetime) -> tuple[FeedState, int]:
    """One poll the way flows/pipeline.py does it: state -> conditional GET -> parse -> record."""
    state = get_feed_states(con, [feed_url]).get(feed_url)
    target = state.poll_url if state else feed_url
    with Fetcher(SETTINGS) as f:
        r = f.fetch(target, kind="feed", etag=state.etag if state else None,
                    last_modified=state.last_modified if state else None)
    parsed = parse_fetched_feed(r, feed_url) if r.status == "ok" else None
    n = len(parsed.entries) if parsed else 0
    st = record_poll(con, feed_url=feed_url, watch="demo", result=r, parsed=parsed, new_entries=n, run_id="r",
                     disable_after=3, now=now)
    return st, n


def test_conditional_get_round_trip(srv: ScriptedServer, con: duckdb.DuckDBPyConnection) -> None:
    body = (DATA / "rss20_basic.xml").read_bytes()

    def handler(req: LoggedRequest) -> Reply:
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, body=body, gzip=True, headers={
            "Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"v1"',
            "Last-Modified": "Sun, 22 Nov 2026 11:00:00 GMT"})

    srv.route("/feed.xml", handler)
    url = srv.url("/feed.xml")
    st, n = poll_once(con, url, T0)
    assert n == 3 and st.etag == '"v1"' and st.last_modified == "Sun, 22 Nov 2026 11:00:00 GMT"
    st, n = poll_once(con, url, T0 + timedelta(hours=1))
    assert st.last_status == "not_modified" and n == 0
    second = srv.requests_for("/feed.xml")[1]
    assert second.headers.get("if-none-match") == '"v1"'
    assert second.headers.get("if-modified-since") == "Sun, 22 Nov 2026 11:00:00 GMT"


def test_301_moves_the_feed_302_does_not_and_410_disables(srv: ScriptedServer,
                                                          con: duckdb.DuckDBPyConnection) -> None:
    body = (DATA / "atom10.xml").read_bytes()
    srv.route("/new.xml", Reply(200, body=body, headers={"Content-Type": "application/atom+xml"}))
    srv.redirect("/old.xml", "/new.xml", status=301)
    srv.redirect("/tmp.xml", "/new.xml", status=302)
    old, tmp = srv.url("/old.xml"), srv.url("/tmp.xml")

    st, n = poll_once(con, old, T0)
    assert n == 2 and st.redirected_to == srv.url("/new.xml")
    srv.clear_log()
    poll_once(con, old, T0 + timedelta(hours=1))
    assert [r.path for r in srv.requests if r.path != "/robots.txt"] == ["/new.xml"]  # the old URL is not asked

    st, _ = poll_once(con, tmp, T0)
    assert st.redirected_to is None

    srv.route("/new.xml", Reply(410, body=b"gone"))
    st, _ = poll_once(con, old, T0 + timedelta(hours=2))
    assert st.disabled and "410" in (st.disabled_reason or "")
    assert feeds_due(con, [old, tmp], T0 + timedelta(days=2)) == [tmp]


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        ("utf16_bom.xml", "application/rss+xml", "“Zürich” – café"),
        ("cp1252_declared_utf8.xml", "application/rss+xml; charset=utf-8", "“Zürich” – café"),
        ("jsonfeed11.json", "application/feed+json", "A story"),
        ("truncated.xml", "application/rss+xml", "First"),
    ],
)
def test_malformed_variants_over_http(srv: ScriptedServer, name: str, content_type: str, title: str) -> None:
    srv.route("/f", Reply(200, body=(DATA / name).read_bytes(), headers={"Content-Type": content_type}))
    with Fetcher(SETTINGS) as f:
        r = f.fetch(srv.url("/f"), kind="feed")
    assert r.status == "ok", r.detail
    parsed = parse_fetched_feed(r, srv.url("/f"))
    assert parsed.entries and parsed.entries[0].title == title


def test_a_charset_given_only_in_the_header_reaches_the_parser(srv: ScriptedServer) -> None:
    """The Fetcher keeps the MIME type and the charset apart; both must reach feedparser, or a feed whose
    charset is only in the Content-Type header (no encoding in its XML declaration) comes out garbled."""
    title = "Łódź: żółć"
    body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            f'<item><title>{title}</title><link>https://e.example/1</link></item></channel></rss>').encode("iso-8859-2")
    srv.route("/pl", Reply(200, body=body, headers={"Content-Type": "text/xml; charset=iso-8859-2"}))
    with Fetcher(SETTINGS) as f:
        r = f.fetch(srv.url("/pl"), kind="feed")
    assert r.status == "ok", r.detail
    assert (r.content_type, r.charset) == ("text/xml", "iso-8859-2")
    parsed = parse_fetched_feed(r, srv.url("/pl"))
    assert parsed.title == title and parsed.entries[0].title == title


def test_gzip_body_is_parsed(srv: ScriptedServer) -> None:
    raw = (DATA / "rss20_basic.xml").read_bytes()
    assert gzip.decompress(gzip.compress(raw)) == raw
    srv.route("/gz", Reply(200, body=raw, gzip=True, headers={"Content-Type": "application/rss+xml"}))
    with Fetcher(SETTINGS) as f:
        r = f.fetch(srv.url("/gz"), kind="feed")
    assert len(parse_fetched_feed(r, srv.url("/gz")).entries) == 3


def test_feed_to_pages_over_http(srv: ScriptedServer) -> None:
    """A feed whose entries point at a full article, a paywalled one, a PDF and a cp1252 page labelled
    ISO-8859-1 by the server: each ends as the right Article or Skip."""
    pages = Path(__file__).parent / "data" / "pages"
    cp1252 = ("<html lang='de'><head><title>“Zürich” – café</title></head><body><article><h1>“Zürich” – café</h1>"
              + "".join(f"<p>Absatz {i}: Die Polizei in “Zürich” – so das café am See – ermittelt gegen "
                        f"{i} Beamte wegen der Vorwürfe aus dem Jahr {1990 + i}.</p>" for i in range(12))
              + "</article></body></html>").encode("cp1252")
    srv.route("/a/full", Reply(200, body=(pages / "news_full.html").read_bytes(),
                               headers={"Content-Type": "text/html; charset=utf-8"}))
    srv.route("/a/pay", Reply(200, body=(pages / "paywalled.html").read_bytes(),
                              headers={"Content-Type": "text/html"}))
    srv.route("/a/doc.pdf", Reply(200, body=b"%PDF-1.7\n...", headers={"Content-Type": "application/pdf"}))
    srv.route("/a/cp", Reply(200, body=cp1252, headers={"Content-Type": "text/html; charset=ISO-8859-1"}))
    summary = "The police watchdog is set to announce an investigation into senior officers of South Yorkshire Police."
    items = "".join(
        f"<item><guid>{p}</guid><title>{p}</title><link>{srv.url(p)}</link><description>{summary}</description></item>"
        for p in ("/a/full", "/a/pay", "/a/doc.pdf", "/a/cp")
    )
    srv.route("/feed", Reply(200, body=f'<rss version="2.0"><channel><title>Loopback News</title>{items}</channel>'
                              "</rss>".encode(), headers={"Content-Type": "application/rss+xml"}))
    with Fetcher(SETTINGS) as f:
        feed = f.fetch(srv.url("/feed"), kind="feed")
        parsed = parse_fetched_feed(feed, srv.url("/feed"))
        results = f.fetch_many([e.link or "" for e in parsed.entries], kind="page")
    from extractors.articles import extract_article
    from newswatch.models import Article, Skip

    out = {e.title: extract_article(r, watch="demo", entry=e, feed_title=parsed.title)
           for e, r in zip(parsed.entries, results, strict=True)}
    full = out["/a/full"]
    assert isinstance(full, Article) and full.fetch_status == "ok" and full.source == "Northern Chronicle"
    pay = out["/a/pay"]
    assert isinstance(pay, Article) and pay.fetch_status == "paywalled" and pay.text == summary
    pdf = out["/a/doc.pdf"]
    assert isinstance(pdf, Skip) and pdf.reason == "not_html"
    cp = out["/a/cp"]
    assert isinstance(cp, Article) and "“Zürich” – café" in cp.title and cp.source == "Loopback News"


def test_a_feed_with_a_stray_nul_is_polled_ok_and_not_counted_as_a_failure(srv: ScriptedServer,
                                                                            con: duckdb.DuckDBPyConnection) -> None:
    # issue 8 §4: one NUL in the first KiB failed the whole feed as not_html and counted towards disabling it
    body = (DATA / "rss20_basic.xml").read_bytes().replace(b"<channel>", b"<channel>\x00", 1)
    assert body.index(b"\x00") < 1024
    srv.route("/nul.xml", Reply(200, body=body, headers={"Content-Type": "application/rss+xml; charset=utf-8"}))
    st, n = poll_once(con, srv.url("/nul.xml"), T0)
    assert st.last_status == "ok" and n == 3
    assert st.consecutive_failures == 0 and st.failures_total == 0


def test_a_feed_cut_off_mid_gzip_is_a_failed_poll_not_a_shorter_feed(srv: ScriptedServer,
                                                                     con: duckdb.DuckDBPyConnection) -> None:
    raw = (DATA / "rss20_basic.xml").read_bytes()
    packed = gzip.compress(raw)
    srv.route("/cut.xml", Reply(200, body=packed[: len(packed) // 2],
                                headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}))
    st, n = poll_once(con, srv.url("/cut.xml"), T0)
    assert (st.last_status, n) == ("error", 0)
    assert "cut off" in (st.last_detail or "")


def test_a_feed_on_a_refused_port_is_recorded_as_failed_because_the_host_is_unreachable(
        con: duckdb.DuckDBPyConnection) -> None:
    # issue 8 §3: the reason read "robots.txt: connection failed", blaming robots.txt for a host that is down
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    st, n = poll_once(con, f"http://127.0.0.1:{port}/feed.xml", T0)
    assert (st.last_status, n) == ("error", 0)
    assert st.consecutive_failures == 1
    assert (st.last_detail or "").startswith(f"host 127.0.0.1:{port} unreachable (connection refused)"), st.last_detail
    assert "robots" not in (st.last_detail or "")
