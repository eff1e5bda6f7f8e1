"""The transient/terminal table of docs/fetching.md, row by row, through the real loopback server.

For each answer: how many requests the Fetcher made in the run (retried now?), FetchResult.transient (retried
next run?), and whether warehouse.feeds counts the poll as a feed failure.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from extractors.http import Fetcher, HttpClass, http_class, is_transient
from tests.net.netutil import fast_settings
from tests.support.httpserver import Reply, ScriptedServer, unresponsive_port
from warehouse.db import connect
from warehouse.feeds import record_poll

pytestmark = pytest.mark.timeout(60)

RETRIES = 2
DOC = Path(__file__).resolve().parents[2] / "docs" / "fetching.md"

# (HTTP code, requests made in one fetch with retries=2, FetchResult.status, FetchResult.transient)
ROWS = [
    (200, 1, "ok", False),
    (204, 1, "ok", False),
    (304, 1, "not_modified", False),
    (301, 1, "http_error", False),  # no Location: nothing to follow
    (400, 1, "http_error", False),
    (403, 1, "http_error", False),
    (404, 1, "http_error", False),
    (410, 1, "gone", False),
    (451, 1, "http_error", False),
    (408, 1 + RETRIES, "http_error", True),
    (429, 1 + RETRIES, "http_error", True),
    (500, 1 + RETRIES, "http_error", True),
    (501, 1, "http_error", False),
    (502, 1 + RETRIES, "http_error", True),
    (503, 1 + RETRIES, "http_error", True),
    (504, 1 + RETRIES, "http_error", True),
    (505, 1, "http_error", False),
    (506, 1, "http_error", False),
    (507, 1 + RETRIES, "http_error", True),
    (508, 1, "http_error", False),
    (510, 1, "http_error", False),
    (511, 1 + RETRIES, "http_error", True),
    (520, 1 + RETRIES, "http_error", True),
    (521, 1 + RETRIES, "http_error", True),
    (522, 1 + RETRIES, "http_error", True),
    (523, 1 + RETRIES, "http_error", True),
    (524, 1 + RETRIES, "http_error", True),
    (599, 1 + RETRIES, "http_error", True),
]


@pytest.fixture
def srv():
    with ScriptedServer() as s:
        yield s


@pytest.mark.parametrize(("code", "requests", "status", "transient"), ROWS, ids=[str(r[0]) for r in ROWS])
def test_each_status_row(srv: ScriptedServer, code: int, requests: int, status: str, transient: bool) -> None:
    srv.route("/p", Reply(code, body=b"<html><body>x</body></html>", headers={"Content-Type": "text/html"}))
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False)) as f:
        r = f.fetch(srv.url("/p"), etag='"v1"' if code == 304 else None)
    assert (r.status, r.http_status, r.transient) == (status, code, transient)
    assert len(srv.requests_for("/p")) == requests
    assert r.attempts == requests
    assert is_transient(r.status, r.http_status) is transient


@pytest.mark.parametrize(("code", "requests", "status", "transient"), ROWS, ids=[str(r[0]) for r in ROWS])
def test_feed_failure_column(tmp_path: Path, srv: ScriptedServer, code: int, requests: int, status: str,
                             transient: bool) -> None:
    """Every answer but 2xx and 304 counts as a failed poll, transient or not (a feed down for good and a feed
    that is down every time we look are disabled alike after disable_after polls)."""
    srv.route("/feed", Reply(code, body=b"<rss version='2.0'><channel><title>t</title></channel></rss>",
                             headers={"Content-Type": "application/rss+xml"}))
    with Fetcher(fast_settings(retries=0, obey_robots=False)) as f:
        r = f.fetch(srv.url("/feed"), kind="feed", etag='"v1"' if code == 304 else None)
    con = connect(tmp_path / "w.duckdb")
    try:
        st = record_poll(con, feed_url=srv.url("/feed"), watch="w", result=r, parsed=None, new_entries=0,
                         run_id="r", disable_after=3, now=r.fetched_at)
    finally:
        con.close()
    assert st.consecutive_failures == (0 if status in ("ok", "not_modified") else 1)


def test_a_timeout_is_not_retried_now_but_next_run(srv: ScriptedServer) -> None:
    srv.route("/slow", Reply(200, body=b"x", delay_s=3))
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False, read_timeout_s=0.5)) as f:
        r = f.fetch(srv.url("/slow"))
    assert (r.status, r.transient, r.attempts) == ("timeout", True, 1)


def test_a_refused_connection_is_retried_now_and_next_run() -> None:
    listener, _, port = unresponsive_port()
    listener.close()  # nothing listens there now: connection refused
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False)) as f:
        r = f.fetch(f"http://127.0.0.1:{port}/p")
    assert (r.status, r.transient, r.attempts) == ("error", True, 1 + RETRIES)


def test_a_gzip_body_cut_off_is_retried_now_and_next_run(srv: ScriptedServer) -> None:
    whole = gzip.compress(b"<html><body>" + b"word " * 5000 + b"</body></html>")
    cut = whole[: len(whole) // 2]
    srv.route("/cut", Reply(200, body=cut, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False)) as f:
        r = f.fetch(srv.url("/cut"))
    assert (r.status, r.transient) == ("error", True)
    assert len(srv.requests_for("/cut")) == 1 + RETRIES


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (Reply(200, body=b"%PDF-1.7 ...", headers={"Content-Type": "application/octet-stream"}), "not_html"),
        (Reply(200, body=b"x" * 5000, headers={"Content-Type": "text/html"}), "too_large"),
    ],
    ids=["not_html", "too_large"],
)
def test_refused_bodies_are_terminal(srv: ScriptedServer, reply: Reply, status: str) -> None:
    srv.route("/b", reply)
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False, max_page_bytes=1000)) as f:
        r = f.fetch(srv.url("/b"))
    assert (r.status, r.transient) == (status, False)
    assert len(srv.requests_for("/b")) == 1


def test_blocked_is_terminal() -> None:
    with Fetcher(fast_settings(allow_private_networks=False)) as f:
        r = f.fetch("http://127.0.0.1:9/p")
    assert (r.status, r.transient) == ("blocked", False)


def test_a_retry_after_beyond_the_limit_is_not_waited_for_but_retried_next_run(srv: ScriptedServer) -> None:
    srv.route("/p", Reply(503, headers={"Retry-After": "7200"}))
    with Fetcher(fast_settings(retries=RETRIES, obey_robots=False, max_retry_after_s=10)) as f:
        r = f.fetch(srv.url("/p"))
    assert (r.status, r.http_status, r.transient, r.retry_after_s) == ("http_error", 503, True, 7200)
    assert len(srv.requests_for("/p")) == 1


@pytest.mark.parametrize(("code", "transient"), [(503, True), (522, True), (429, True), (501, False)])
def test_a_page_behind_an_unreachable_robots_txt_takes_its_verdict(srv: ScriptedServer, code: int,
                                                                     transient: bool) -> None:
    """robots.txt 5xx/429: the host is disallowed this run (RFC 9309); the page carries robots.txt's status,
    so it is retried next run exactly when that status is transient (a 501 robots.txt never changes)."""
    srv.route("/robots.txt", Reply(code))
    srv.route("/p", Reply(200, body=b"<html><body>x</body></html>", headers={"Content-Type": "text/html"}))
    with Fetcher(fast_settings(retries=0)) as f:
        r = f.fetch(srv.url("/p"))
    assert (r.status, r.http_status, r.transient) == ("http_error", code, transient)
    assert srv.requests_for("/p") == []


def test_robots_txt_404_allows_everything(srv: ScriptedServer) -> None:
    srv.route("/p", Reply(200, body=b"<html><body>x</body></html>", headers={"Content-Type": "text/html"}))
    with Fetcher(fast_settings(retries=0)) as f:
        r = f.fetch(srv.url("/p"))
    assert (r.status, r.transient) == ("ok", False)


def test_the_documented_table_matches_the_code() -> None:
    """docs/fetching.md's status table is the spec: every code row there agrees with http_class."""
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\d{3})(?:-(\d{3}))?`[^|]*\| ([a-z_]+) \|", text, flags=re.M)
    assert len(rows) >= 15, "the status table in docs/fetching.md is missing"
    for lo, hi, cls in rows:
        for code in range(int(lo), int(hi or lo) + 1):
            assert http_class(code) is HttpClass(cls), code
