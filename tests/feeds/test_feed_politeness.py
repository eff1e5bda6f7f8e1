"""Polite across runs (issue 12 section 3): RSS <ttl>, sy:updatePeriod, Cache-Control max-age and Expires in the
poll schedule (warehouse/feeds.py), in a real DuckDB file and through a real loopback server and Fetcher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.feeds import parse_feed
from extractors.http import Fetcher
from newswatch.models import FetchResult, ParsedFeed
from tests.net.netutil import fast_settings
from tests.support.httpserver import Reply, ScriptedServer
from warehouse.db import connect
from warehouse.feeds import (
    MAX_HINT_S,
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    feed_hint,
    feeds_due,
    get_feed_states,
    http_freshness,
    plan_interval,
    preview_schedule,
    record_poll,
)

FEED = "https://news.example.org/feed.xml"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SY = 'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'


@pytest.fixture()
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "w.duckdb")
    yield c
    c.close()


def rss(channel_extra: str = "", *, items: int = 48, every: timedelta = timedelta(minutes=10), now: datetime = T0) -> bytes:
    """A busy feed by default: 48 items ten minutes apart, i.e. the adaptive interval alone is the 10 min floor."""
    xml = "".join(
        f"<item><guid>g{i}</guid><title>t{i}</title><link>https://news.example.org/{i}</link>"
        f"<pubDate>{(now - every * i):%a, %d %b %Y %H:%M:%S GMT}</pubDate></item>"
        for i in range(items)
    )
    return f'<rss version="2.0" {SY}><channel><title>News</title>{channel_extra}{xml}</channel></rss>'.encode()


def ok(body: bytes, *, cache_control: str | None = None, expires: str | None = None, at: datetime = T0) -> FetchResult:
    return FetchResult(url=FEED, final_url=FEED, status="ok", http_status=200, content_type="application/rss+xml",
                       body=body, cache_control=cache_control, expires=expires, fetched_at=at)


def not_modified(*, cache_control: str | None = None, at: datetime = T0) -> FetchResult:
    return FetchResult(url=FEED, final_url=FEED, status="not_modified", http_status=304,
                       cache_control=cache_control, fetched_at=at)


def poll(con: duckdb.DuckDBPyConnection, result: FetchResult, now: datetime):
    parsed = parse_feed(result.body, FEED, result.content_type, now=now) if result.status == "ok" else None
    return record_poll(con, feed_url=FEED, watch="w", result=result, parsed=parsed, new_entries=1, run_id="r",
                       disable_after=10, now=now)


def hints(ttl=None, period=None, freq=None) -> ParsedFeed:
    return ParsedFeed(FEED, None, None, (), ttl=ttl, update_period=period, update_frequency=freq)


# ---- the publisher's hints (pure) ------------------------------------------------------------------------


def test_ttl_and_sy_update_period_are_read_from_real_feeds():
    p = parse_feed(rss("<ttl>60</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
                       "<sy:updateFrequency>2</sy:updateFrequency>"), FEED, "application/rss+xml", now=T0)
    assert (p.ttl, p.update_period, p.update_frequency) == ("60", "hourly", "2")
    assert feed_hint(p) == (3600, "ttl 60")  # the longer of ttl (1 h) and hourly x 2 (30 min)


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (hints(ttl="15"), (900, "ttl 15")),
        (hints(period="hourly", freq="2"), (1800, "sy:updatePeriod hourly x 2")),
        (hints(period=" Daily "), (86_400, "sy:updatePeriod daily x 1")),
        (hints(freq="4"), (21_600, "sy:updatePeriod daily x 4")),  # the RSS module's default period is daily
        (hints(period="weekly"), (604_800, "sy:updatePeriod weekly x 1")),  # capped later, by plan_interval
        (hints(ttl="0"), None),
        (hints(ttl="-5"), None),
        (hints(ttl="sixty"), None),
        (hints(ttl="9" * 40), None),
        (hints(period="fortnightly"), None),
        (hints(period="hourly", freq="0"), None),
        (hints(period="hourly", freq="x"), None),
        (hints(), None),
    ],
)
def test_feed_hint_validates_untrusted_values(parsed, expected):
    assert feed_hint(parsed) == expected


# ---- HTTP freshness (pure, RFC 9111 section 4.2.1) --------------------------------------------------------


@pytest.mark.parametrize(
    ("cache_control", "expires", "expected"),
    [
        ("max-age=1800", None, 1800),
        ("public, max-age=600, must-revalidate", None, 600),
        ('max-age="900"', None, 900),
        ("MAX-AGE=60", None, 60),
        ("max-age=60, max-age=7200", None, 60),  # the first occurrence counts
        ("max-age=soon", None, 0),  # invalid: stale
        ("no-cache", None, None),
        ("no-store, max-age=3600", None, None),
        ("no-cache, max-age=315360000", None, None),  # tonsky.me's header (lemon24/reader#384): revalidate
        ('no-cache="Set-Cookie", max-age=1200', None, 1200),  # a qualified no-cache concerns those fields only
        ("max-age=3600", "Sun, 22 Nov 2026 20:00:00 GMT", 3600),  # max-age wins over Expires
        (None, "Sun, 22 Nov 2026 14:00:00 GMT", 7200),
        (None, "Sun, 22 Nov 2026 11:00:00 GMT", 0),  # in the past
        (None, "0", 0),  # not a date: already expired
        (None, None, None),
        ("private", None, None),
    ],
)
def test_http_freshness(cache_control, expires, expected):
    got = http_freshness(cache_control, expires, T0)
    assert (got[0] if got else None) == expected


def test_hints_only_lengthen_and_are_capped():
    assert plan_interval(3600, 300, None).interval_s == 3600  # a short ttl never makes us poll more often
    assert plan_interval(600, 7200, 1800).source == "feed_hint"
    assert plan_interval(600, 1800, 7200).interval_s == 7200
    big = plan_interval(600, 604_800, 315_360_000)
    assert big.interval_s == MAX_HINT_S == MAX_INTERVAL_S  # "weekly" or a year's max-age: still daily
    assert plan_interval(600, None, 0).interval_s == MIN_INTERVAL_S


# ---- the schedule in the warehouse --------------------------------------------------------------------------


def test_cache_control_max_age_sets_the_next_poll(con: duckdb.DuckDBPyConnection):
    st = poll(con, ok(rss(), cache_control="max-age=7200"), T0)
    assert (st.poll_interval_s, st.interval_source, st.http_fresh_s) == (7200, "http_cache", 7200)
    assert st.http_fresh_note == "Cache-Control: max-age=7200"
    assert feeds_due(con, [FEED], T0 + timedelta(hours=1)) == []  # the busy feed alone would be due after 10 min
    assert feeds_due(con, [FEED], T0 + timedelta(hours=2)) == [FEED]


def test_without_hints_the_busy_feed_keeps_its_adaptive_interval(con: duckdb.DuckDBPyConnection):
    st = poll(con, ok(rss()), T0)
    assert (st.poll_interval_s, st.interval_source) == (MIN_INTERVAL_S, "adaptive")


def test_ttl_is_kept_through_304s_and_goes_when_the_feed_drops_it(con: duckdb.DuckDBPyConnection):
    st = poll(con, ok(rss("<ttl>90</ttl>")), T0)
    assert (st.poll_interval_s, st.interval_source, st.feed_hint_note) == (5400, "feed_hint", "ttl 90")
    t1 = T0 + timedelta(minutes=90)
    st = poll(con, not_modified(at=t1), t1)  # nothing parsed: the stored hint stands
    assert (st.poll_interval_s, st.feed_hint_s) == (5400, 5400)
    t2 = t1 + timedelta(minutes=90)
    st = poll(con, ok(rss(now=t2), at=t2), t2)
    assert (st.feed_hint_s, st.interval_source, st.poll_interval_s) == (None, "adaptive", MIN_INTERVAL_S)


def test_a_304_with_its_own_cache_control_updates_freshness(con: duckdb.DuckDBPyConnection):
    poll(con, ok(rss(), cache_control="max-age=3600"), T0)
    t1 = T0 + timedelta(hours=1)
    st = poll(con, not_modified(at=t1), t1)
    assert st.http_fresh_s == 3600  # a 304 without the header keeps what the 200 said (RFC 9111 4.3.4)
    t2 = t1 + timedelta(hours=1)
    st = poll(con, not_modified(cache_control="max-age=10800", at=t2), t2)
    assert (st.http_fresh_s, st.poll_interval_s) == (10800, 10800)
    t3 = t2 + timedelta(hours=3)
    st = poll(con, ok(rss(now=t3), cache_control="no-cache", at=t3), t3)
    assert (st.http_fresh_s, st.interval_source) == (None, "adaptive")


def test_failures_still_back_off_as_before(con: duckdb.DuckDBPyConnection):
    poll(con, ok(rss(), cache_control="max-age=7200"), T0)
    t1 = T0 + timedelta(hours=2)
    st = poll(con, FetchResult(url=FEED, final_url=FEED, status="timeout", detail="slow", fetched_at=t1), t1)
    assert st.next_poll_at == t1 + timedelta(seconds=MIN_INTERVAL_S)


def test_preview_schedule_for_feeds_check():
    body = rss("<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>6</sy:updateFrequency>")
    plan = preview_schedule(ok(body), parse_feed(body, FEED, "application/rss+xml", now=T0), T0)
    assert (plan.interval_s, plan.source) == (14_400, "feed_hint")


def test_existing_warehouses_gain_the_new_columns(tmp_path: Path):
    db = tmp_path / "old.duckdb"
    c = connect(db)
    poll(c, ok(rss()), T0)
    # make it look like a warehouse from before issue 12: no hint columns, an older schema hash
    for col in ("feed_hint_s", "feed_hint_note", "http_fresh_s", "http_fresh_note", "interval_source"):
        c.execute("DROP VIEW feeds")
        c.execute(f"ALTER TABLE core.feed_state DROP COLUMN {col}")
        c.execute("CREATE VIEW feeds AS SELECT * FROM core.feed_state")
    c.execute("DROP TABLE core.robots_txt")
    c.execute("UPDATE core.meta SET value = 'old' WHERE key = 'schema_hash'")
    c.close()
    c = connect(db)
    try:
        st = get_feed_states(c, [FEED])[FEED]
        assert st.polls_total == 1 and st.interval_source is None  # the old row is still there
        st = poll(c, ok(rss(), cache_control="max-age=1200"), T0 + timedelta(hours=1))
        assert (st.polls_total, st.interval_source) == (2, "http_cache")
        assert c.execute("SELECT count(*) FROM core.robots_txt").fetchone() == (0,)
    finally:
        c.close()


# ---- over a real loopback server and the real Fetcher -------------------------------------------------------


def test_ttl_over_http_schedules_the_next_poll(con: duckdb.DuckDBPyConnection):
    now = datetime.now(UTC)
    with ScriptedServer() as srv, Fetcher(fast_settings()) as f:
        srv.route("/feed.xml", Reply(200, body=rss("<ttl>120</ttl>", now=now),
                                     headers={"Content-Type": "application/rss+xml"}))
        r = f.fetch(srv.url("/feed.xml"), kind="feed")
    assert r.status == "ok"
    st = poll(con, r, now)
    assert (st.poll_interval_s, st.interval_source) == (7200, "feed_hint")
    assert feeds_due(con, [FEED], now + timedelta(minutes=119)) == []


def test_cache_control_over_http_schedules_the_next_poll(con: duckdb.DuckDBPyConnection):
    now = datetime.now(UTC)
    with ScriptedServer() as srv, Fetcher(fast_settings()) as f:
        srv.route("/feed.xml", Reply(200, body=rss(now=now), headers={
            "Content-Type": "application/rss+xml", "Cache-Control": "public, max-age=5400"}))
        r = f.fetch(srv.url("/feed.xml"), kind="feed")
    assert r.status == "ok"
    assert r.cache_control == "public, max-age=5400"  # the Fetcher carries the header into FetchResult
    st = poll(con, r, now)
    assert (st.poll_interval_s, st.interval_source) == (5400, "http_cache")
