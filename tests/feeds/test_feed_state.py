"""Feed state in a real DuckDB file (warehouse/feeds.py): validators (A6), 301/410 (A7), failures and
disabling, lying validators, the adaptive schedule, and the documented `feeds` view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.feeds import body_hash, parse_feed
from newswatch.models import FetchResult
from warehouse.db import connect
from warehouse.feeds import (
    DEFAULT_INTERVAL_S,
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    FeedState,
    enable_feed,
    feeds_due,
    get_feed_states,
    is_unchanged,
    record_poll,
)

FEED = "https://news.example.co.uk/feed.xml"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
REPO = Path(__file__).parents[2]


@pytest.fixture()
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "w.duckdb")
    yield c
    c.close()


def rss(*items: tuple[str, datetime | None]) -> bytes:
    xml = "".join(
        f"<item><guid>{g}</guid><title>t{g}</title><link>https://news.example.co.uk/{g}</link>"
        + (f"<pubDate>{d.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>" if d else "")
        + "</item>"
        for g, d in items
    )
    return f'<rss version="2.0"><channel><title>News</title>{xml}</channel></rss>'.encode()


def ok(body: bytes, *, etag: str | None = '"v1"', last_modified: str | None = "Sun, 22 Nov 2026 11:00:00 GMT",
       url: str = FEED, redirect: str | None = None) -> FetchResult:
    return FetchResult(url=url, final_url=redirect or url, status="ok", http_status=200,
                       content_type="application/rss+xml", body=body, etag=etag, last_modified=last_modified,
                       permanent_redirect=redirect)


def fail(status: str, http: int | None = None, retry_after: float | None = None) -> FetchResult:
    return FetchResult(url=FEED, final_url=FEED, status=status, http_status=http, detail=f"{status} detail",
                       retry_after_s=retry_after)


def poll(con: duckdb.DuckDBPyConnection, result: FetchResult, now: datetime, new: int = 0,
         disable_after: int = 3, parse: bool = True) -> FeedState:
    parsed = parse_feed(result.body, FEED, result.content_type, now=now) if parse and result.status == "ok" else None
    return record_poll(con, feed_url=FEED, watch="demo", result=result, parsed=parsed, new_entries=new,
                       run_id=f"run-{now:%H%M%S}", disable_after=disable_after, now=now)


def test_validators_are_stored_and_returned(con: duckdb.DuckDBPyConnection) -> None:
    body = rss(("1", T0 - timedelta(hours=2)), ("2", T0 - timedelta(hours=5)))
    st = poll(con, ok(body), T0, new=2)
    assert (st.etag, st.last_modified, st.body_hash) == ('"v1"', "Sun, 22 Nov 2026 11:00:00 GMT", body_hash(body))
    stored = get_feed_states(con, [FEED, "https://unknown.example/feed"])
    assert list(stored) == [FEED]
    assert stored[FEED] == st
    assert stored[FEED].conditional_headers() == {"If-None-Match": '"v1"',
                                                  "If-Modified-Since": "Sun, 22 Nov 2026 11:00:00 GMT"}
    assert st.last_status == "ok" and st.last_ok_at == T0 and st.last_new_entry_at == T0 and st.title == "News"
    # 304: success, nothing parsed, validators kept
    st2 = poll(con, FetchResult(url=FEED, final_url=FEED, status="not_modified", http_status=304),
               T0 + timedelta(hours=1))
    assert st2.etag == '"v1"' and st2.body_hash == body_hash(body) and st2.last_status == "not_modified"
    assert st2.last_new_entry_at == T0 and st2.consecutive_failures == 0
    assert is_unchanged(st2, FetchResult(url=FEED, final_url=FEED, status="not_modified"), "")
    # a new 200 replaces the validators
    st3 = poll(con, ok(rss(("3", T0)), etag='"v2"', last_modified=None), T0 + timedelta(hours=2), new=1)
    assert (st3.etag, st3.last_modified) == ('"v2"', None)
    assert not st3.validators_unreliable


def test_hostile_validators_are_not_stored(con: duckdb.DuckDBPyConnection) -> None:
    st = poll(con, ok(rss(("1", T0)), etag='"' + "x" * 10_000 + '"', last_modified="Sun,\r\nBcc: x"), T0, new=1)
    assert st.etag is None and st.last_modified is None
    assert st.conditional_headers() == {}


def test_lying_validators_are_detected_and_remembered(con: duckdb.DuckDBPyConnection) -> None:
    body = rss(("1", T0))
    poll(con, ok(body, etag='"a"'), T0, new=1)
    st = get_feed_states(con, [FEED])[FEED]
    assert is_unchanged(st, ok(body), body_hash(body))  # the body hash says "nothing new" even on a 200
    # the server answers our If-None-Match with a 200, a new ETag and the very same body
    st = poll(con, ok(body, etag='"b"'), T0 + timedelta(hours=1))
    assert st.validators_unreliable
    assert st.validators_note is not None and "ETag changed" in st.validators_note
    # remembered: a later honest poll does not clear it
    st = poll(con, ok(rss(("2", T0)), etag='"c"'), T0 + timedelta(hours=2), new=1)
    assert st.validators_unreliable
    row = con.execute("SELECT validators_unreliable FROM feeds WHERE feed_url = ?", [FEED]).fetchone()
    assert row == (True,)
    unchanged = con.execute("SELECT unchanged FROM feed_polls ORDER BY polled_at").fetchall()
    assert unchanged == [(False,), (True,), (False,)]


def test_server_ignoring_conditional_get_is_detected(con: duckdb.DuckDBPyConnection) -> None:
    body = rss(("1", T0))
    poll(con, ok(body, etag=None, last_modified=None), T0, new=1)
    st = poll(con, ok(body, etag=None, last_modified=None), T0 + timedelta(hours=1))
    assert not st.validators_unreliable  # no validators were ever offered: nothing to lie about
    poll(con, ok(rss(("2", T0)), etag='"x"'), T0 + timedelta(hours=2), new=1)
    st = poll(con, ok(rss(("2", T0)), etag='"x"'), T0 + timedelta(hours=3))
    assert st.validators_unreliable and "unchanged body despite conditional headers" in (st.validators_note or "")


def test_permanent_redirect_is_recorded_and_temporary_is_not(con: duckdb.DuckDBPyConnection) -> None:
    new_url = "https://feeds.example.co.uk/news.xml"
    st = poll(con, ok(rss(("1", T0)), redirect=new_url), T0, new=1)
    assert st.redirected_to == new_url and st.poll_url == new_url
    assert "moved permanently" in (st.last_detail or "")
    # a 302 (final_url differs, no permanent_redirect) changes nothing
    tmp = FetchResult(url=new_url, final_url="https://cdn.example.net/x.xml", status="ok", http_status=200,
                      body=rss(("1", T0)), content_type="application/rss+xml")
    st = poll(con, tmp, T0 + timedelta(hours=1))
    assert st.redirected_to == new_url
    assert con.execute("SELECT poll_url FROM feeds").fetchone() == (new_url,)


def test_410_disables_at_once(con: duckdb.DuckDBPyConnection) -> None:
    poll(con, ok(rss(("1", T0))), T0, new=1)
    st = poll(con, fail("gone", 410), T0 + timedelta(hours=1), disable_after=10)
    assert st.disabled and "410" in (st.disabled_reason or "") and st.disabled_at == T0 + timedelta(hours=1)
    assert feeds_due(con, [FEED], T0 + timedelta(days=30)) == []
    assert con.execute("SELECT health FROM feeds").fetchone() == ("disabled",)
    assert enable_feed(con, FEED)
    assert feeds_due(con, [FEED], T0 + timedelta(hours=1)) == [FEED]
    assert not enable_feed(con, "https://unknown.example/feed")


def test_consecutive_failures_disable_after_n_and_success_resets(con: duckdb.DuckDBPyConnection) -> None:
    t = T0
    st = poll(con, fail("timeout"), t)
    assert st.consecutive_failures == 1 and not st.disabled
    st = poll(con, fail("http_error", 503, retry_after=7200), t + timedelta(minutes=20))
    assert st.consecutive_failures == 2
    assert st.next_poll_at == t + timedelta(minutes=20, seconds=7200)  # Retry-After beats the backoff
    st = poll(con, ok(rss(("1", T0))), t + timedelta(hours=3), new=1)
    assert st.consecutive_failures == 0 and st.failures_total == 2
    for k in range(1, 4):
        st = poll(con, fail("error"), t + timedelta(hours=3 + k))
    assert st.disabled and st.consecutive_failures == 3
    assert st.disabled_reason == "3 consecutive failures; last: error (error detail)"
    assert con.execute("SELECT count(*) FROM feed_polls").fetchone() == (6,)


def test_html_instead_of_a_feed_counts_as_failure(con: duckdb.DuckDBPyConnection) -> None:
    r = FetchResult(url=FEED, final_url=FEED, status="ok", http_status=200, content_type="text/html",
                    body=b"<!DOCTYPE html><html><body><p>Please log in</p></body></html>")
    st = poll(con, r, T0)
    assert st.last_status == "invalid_feed" and st.consecutive_failures == 1
    assert "HTML" in (st.last_detail or "")


def test_backoff_grows_and_is_capped(con: duckdb.DuckDBPyConnection) -> None:
    gaps = []
    t = T0
    for _ in range(12):
        st = poll(con, fail("timeout"), t, disable_after=100)
        assert st.next_poll_at is not None
        gaps.append((st.next_poll_at - t).total_seconds())
        t = st.next_poll_at
    assert gaps[0] == MIN_INTERVAL_S and gaps[1] == 2 * MIN_INTERVAL_S
    assert gaps == sorted(gaps) and max(gaps) == MAX_INTERVAL_S


def test_adaptive_interval_follows_how_often_items_appear(con: duckdb.DuckDBPyConnection) -> None:
    busy = rss(*[(str(i), T0 - timedelta(minutes=15 * i)) for i in range(20)])  # 4 items an hour
    st = poll(con, ok(busy), T0, new=20)
    assert st.poll_interval_s == MIN_INTERVAL_S
    assert st.items_per_day is not None and st.items_per_day > 80
    assert st.next_poll_at == T0 + timedelta(seconds=MIN_INTERVAL_S)

    other = "https://quiet.example.org/feed"
    quiet = rss(*[(f"q{d}", T0 - timedelta(days=d)) for d in (1, 2, 3, 4)])  # one item a day
    r = FetchResult(url=other, final_url=other, status="ok", http_status=200, body=quiet,
                    content_type="application/rss+xml")
    st = record_poll(con, feed_url=other, watch="demo", result=r, parsed=parse_feed(quiet, other, now=T0),
                     new_entries=3, run_id="r", disable_after=3, now=T0)
    assert st.items_per_day == pytest.approx(1.0)
    assert st.poll_interval_s == 43_200  # about half an item per poll

    dead = rss(("x", T0 - timedelta(days=400)), ("y", T0 - timedelta(days=500)))
    r = FetchResult(url=other, final_url=other, status="ok", http_status=200, body=dead,
                    content_type="application/rss+xml")
    st = record_poll(con, feed_url=other, watch="demo", result=r, parsed=parse_feed(dead, other, now=T0),
                     new_entries=0, run_id="r", disable_after=3, now=T0 + timedelta(days=1))
    assert st.poll_interval_s == MAX_INTERVAL_S


def test_undated_feed_uses_a_moving_average(con: duckdb.DuckDBPyConnection) -> None:
    st = poll(con, ok(rss(("1", None), ("2", None))), T0, new=2)
    assert st.poll_interval_s == DEFAULT_INTERVAL_S and st.items_per_day is None
    t = T0
    for k in range(3):  # 2 new items every hour -> ~48/day -> interval ~15 min
        t += timedelta(hours=1)
        st = poll(con, ok(rss((f"n{k}a", None), (f"n{k}b", None))), t, new=2)
    assert st.items_per_day is not None and 40 < st.items_per_day <= 48
    assert MIN_INTERVAL_S <= st.poll_interval_s < DEFAULT_INTERVAL_S
    for _ in range(10):  # then nothing for a long time: the interval grows
        t += timedelta(hours=6)
        st = poll(con, FetchResult(url=FEED, final_url=FEED, status="not_modified", http_status=304), t)
    assert st.poll_interval_s > DEFAULT_INTERVAL_S


def test_feeds_due(con: duckdb.DuckDBPyConnection) -> None:
    other = "https://other.example/feed"
    assert feeds_due(con, [FEED, other, FEED], T0) == [FEED, other]  # never polled: due; duplicates once
    st = poll(con, ok(rss(("1", T0 - timedelta(hours=1)), ("2", T0 - timedelta(hours=2)))), T0, new=2)
    assert st.next_poll_at is not None
    assert feeds_due(con, [FEED, other], T0 + timedelta(minutes=1)) == [other]
    assert feeds_due(con, [FEED, other], st.next_poll_at) == [FEED, other]
    assert feeds_due(con, [], T0) == []


def test_state_survives_reconnect_with_utc_datetimes(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    c = connect(path)
    poll(c, ok(rss(("1", T0))), T0, new=1)
    c.close()
    c = connect(path)
    st = get_feed_states(c, [FEED])[FEED]
    c.close()
    assert st.last_polled_at == T0 and st.last_polled_at.tzinfo is not None
    assert st.last_polled_at.utcoffset() == timedelta(0)


def test_feeds_view_is_documented_column_by_column(con: duckdb.DuckDBPyConnection) -> None:
    poll(con, ok(rss(("1", T0))), T0, new=1)
    for view in ("feeds", "feed_polls"):
        comment = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view]).fetchone()
        assert comment and comment[0], view
        cols = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [view]
        ).fetchall()
        assert cols
        undocumented = [c for c, text in cols if not text]
        assert undocumented == [], (view, undocumented)


def test_schema_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "i.duckdb"
    for _ in range(3):
        c = connect(path)
        c.close()


def test_example_query_runs(con: duckdb.DuckDBPyConnection) -> None:
    poll(con, ok(rss(("1", T0))), T0, new=1)
    poll(con, fail("gone", 410), T0 + timedelta(hours=1))
    text = (REPO / "warehouse" / "examples" / "feeds_health.sql").read_text(encoding="utf-8")
    assert text.startswith("-- ")
    rows = con.execute(text).fetchall()
    assert rows and rows[0][0] == FEED and rows[0][1] == "disabled"
