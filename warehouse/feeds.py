"""Feed polling state in the warehouse: validators, health, disabling, redirects and the adaptive schedule.

Tables core.feed_state (one row per feed) and core.feed_polls (one row per poll), public views `feeds`
and `feed_polls` (warehouse/sql/15_feeds.sql). The rules, in one place:

* 200: ETag / Last-Modified / body hash stored. A 200 whose body hash equals the previous one while we
  held validators (the server ignored If-None-Match/If-Modified-Since), or whose ETag changed while the
  body did not, marks the feed `validators_unreliable`; the body hash then decides whether to re-parse
  (`is_unchanged`).
* 304: success, nothing to parse; validators kept (updated if the 304 carries new ones).
* 200 with a body that is not a feed (no format, no entries): failure `invalid_feed`.
* 301/308 (FetchResult.permanent_redirect): `redirected_to` is stored and `poll_url` returns it from then
  on; 302/307 change nothing.
* 410 Gone: disabled at once, reason recorded. Any other failure increments consecutive_failures; the
  feed is disabled when it reaches `disable_after` (config fetch.disable_feed_after_failures).
* Schedule: interval = 1 / (2 x items_per_day), clamped to [MIN_INTERVAL_S, MAX_INTERVAL_S], so a poll
  finds about half an item on average. items_per_day is measured from the entry dates of the feed
  (entries of the last 30 days over the time they span up to now) or, for undated feeds, a moving average
  of new entries per day between polls. Failures back off: 10 min x 2^(failures-1), capped at 24 h, and never
  sooner than Retry-After.
* Politeness floors (issue 12 section 3): a successful poll is never followed by the next one sooner than the
  feed asks (RSS <ttl>, sy:updatePeriod / sy:updateFrequency) or than its response stays fresh (Cache-Control
  max-age, else Expires, per RFC 9111 section 4.2.1). Each floor is honoured up to MAX_HINT_S (24 h): a feed
  that says "weekly" or a CDN's max-age of a year is still polled daily. no-cache / no-store give no floor.
  The floors only lengthen the adaptive interval, never shorten it. `interval_source` records which won.
* User actions: `disable_feed` (kept until `enable_feed`), `enable_feed`; `list_feeds` for `newswatch feeds list`.
* robots.txt kept across runs (RFC 9309 section 2.4): `load_robots` / `save_robots` on core.robots_txt, and
  `robots_store(db_path)`, the load/save callback pair extractors/robots.py's RobotsCache takes.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from newswatch.models import FetchResult, ParsedFeed
from warehouse.db import insert_rows, upsert

MIN_INTERVAL_S = 600
MAX_INTERVAL_S = 86_400
DEFAULT_INTERVAL_S = 3_600
RATE_WINDOW = timedelta(days=30)
EWMA_WEIGHT = 0.4  # weight of the newest observation for undated feeds
SUCCESS_STATUSES = ("ok", "not_modified")
# Longest wait a feed or its caching headers can ask for and get. Misconfigured servers send
# `Cache-Control: no-cache, max-age=315360000` (10 years; lemon24/reader#384) or a ttl of weeks: honouring
# them whole would stop a news watch from seeing news. A day is what MAX_INTERVAL_S allows anyway.
MAX_HINT_S = MAX_INTERVAL_S
SY_PERIODS = {"hourly": 3_600, "daily": 86_400, "weekly": 604_800, "monthly": 2_592_000, "yearly": 31_536_000}


@dataclass(frozen=True, slots=True)
class FeedState:
    """The stored state of one feed (a row of core.feed_state)."""

    feed_url: str
    watch: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: str | None = None
    last_http_status: int | None = None
    last_polled_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_new_entry_at: datetime | None = None
    consecutive_failures: int = 0
    disabled: bool = False
    disabled_reason: str | None = None
    poll_interval_s: int = DEFAULT_INTERVAL_S
    next_poll_at: datetime | None = None
    title: str | None = None
    redirected_to: str | None = None
    validators_unreliable: bool = False
    validators_note: str | None = None
    last_detail: str | None = None
    items_per_day: float | None = None
    polls_total: int = 0
    failures_total: int = 0
    disabled_at: datetime | None = None
    site_link: str | None = None
    format: str | None = None
    entries_last_poll: int | None = None
    warnings_last_poll: int | None = None
    last_warning: str | None = None
    last_run_id: str | None = None
    feed_hint_s: int | None = None
    feed_hint_note: str | None = None
    http_fresh_s: int | None = None
    http_fresh_note: str | None = None
    interval_source: str | None = None

    @property
    def poll_url(self) -> str:
        """The URL to request: the permanent-redirect target if one was seen, else the configured URL."""
        return self.redirected_to or self.feed_url

    def conditional_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for the next request (empty when there are no validators)."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


_COLUMNS = tuple(f.name for f in fields(FeedState))
_POLL_COLUMNS = ("run_id", "feed_url", "polled_url", "polled_at", "status", "http_status", "unchanged", "entries",
                 "new_entries", "warnings", "body_hash", "elapsed_s", "detail")


def _aware(value: Any) -> Any:
    # DuckDB returns TIMESTAMPTZ in the session time zone; records carry UTC.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def get_feed_states(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str]) -> dict[str, FeedState]:
    """Stored state of the given feeds, keyed by feed URL (feeds never polled are absent)."""
    if not feed_urls:
        return {}
    cols = ", ".join(_COLUMNS)
    rows = con.execute(
        f"SELECT {cols} FROM core.feed_state WHERE feed_url IN (SELECT unnest(?::VARCHAR[]))", [list(feed_urls)]
    ).fetchall()
    out: dict[str, FeedState] = {}
    for row in rows:
        data = {c: _aware(v) for c, v in zip(_COLUMNS, row, strict=True)}
        out[data["feed_url"]] = FeedState(**data)
    return out


def is_unchanged(state: FeedState | None, result: FetchResult, body_hash: str) -> bool:
    """True when a response carries nothing new: a 304, or a 200 whose body hash equals the stored one."""
    if result.status == "not_modified":
        return True
    return state is not None and result.status == "ok" and state.body_hash == body_hash


MAX_VALIDATOR_CHARS = 512


def _validator(value: str | None) -> str | None:
    """A validator worth sending back: printable ASCII, at most 512 chars (hostile servers send anything)."""
    if not value or len(value) > MAX_VALIDATOR_CHARS or not value.isascii() or not value.isprintable():
        return None
    return value


def _clamp(seconds: float) -> int:
    return int(min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, seconds)))


def _rate_from_dates(parsed: ParsedFeed | None, now: datetime) -> float | None:
    """New items per day from entry dates: entries of the last 30 days over the time from the oldest to now."""
    if parsed is None:
        return None
    dates = [e.published_at for e in parsed.entries if e.published_at is not None]
    if len(dates) < 2:
        return None
    recent = [d for d in dates if now - RATE_WINDOW <= d <= now + timedelta(days=1)]
    if not recent:
        return 0.0
    span_days = max((now - min(recent)).total_seconds(), 3600.0) / 86_400
    return len(recent) / span_days


def _interval_for(items_per_day: float | None, current: int, first_poll: bool) -> int:
    if items_per_day is None:
        return DEFAULT_INTERVAL_S if first_poll else current
    if items_per_day <= 0:
        return MAX_INTERVAL_S
    return _clamp(86_400 / (2 * items_per_day))


def _small_int(raw: str | None, low: int, high: int) -> int | None:
    """A decimal integer within [low, high] from an untrusted header or feed value, else None."""
    if raw is None:
        return None
    text = raw.strip()
    if not text or len(text) > 12 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def feed_hint(parsed: ParsedFeed | None) -> tuple[int, str] | None:
    """(seconds, note) the feed asks between polls: RSS <ttl> (minutes) or sy:updatePeriod / sy:updateFrequency
    (period / frequency; daily when only a frequency is given); the longer of the two. None without a valid one.
    Not clamped here (see MAX_HINT_S)."""
    if parsed is None:
        return None
    hints: list[tuple[int, str]] = []
    ttl = _small_int(parsed.ttl, 1, 10_000_000)
    if ttl is not None:
        hints.append((ttl * 60, f"ttl {ttl}"))
    if parsed.update_period is not None or parsed.update_frequency is not None:
        period_name = (parsed.update_period or "daily").strip().lower()
        period = SY_PERIODS.get(period_name)
        freq = 1 if parsed.update_frequency is None else _small_int(parsed.update_frequency, 1, 1_000_000)
        if period is not None and freq is not None:
            hints.append((max(1, period // freq), f"sy:updatePeriod {period_name} x {freq}"))
    return max(hints) if hints else None


def http_freshness(cache_control: str | None, expires: str | None, fetched_at: datetime) -> tuple[int, str] | None:
    """(seconds, note) a response stays fresh (RFC 9111 section 4.2.1, as a private cache): max-age, else
    Expires minus the response time. None when the response says no-store or no-cache (revalidate every time:
    no reason to wait), or carries neither header. A max-age that is not a number, an Expires that is not a
    date ("0", "-1"), or one in the past: stale, 0 seconds."""
    directives: dict[str, str | None] = {}
    for part in (cache_control or "").split(",")[:64]:
        name, eq, value = part.strip().partition("=")
        name = name.strip().lower()
        if name and name not in directives:  # the first occurrence of a directive counts
            directives[name] = value.strip().strip('"') if eq else None
    if "no-store" in directives or ("no-cache" in directives and not directives["no-cache"]):
        return None  # an unqualified no-cache; `no-cache="Set-Cookie"` only concerns those fields
    if "max-age" in directives:
        raw = directives["max-age"]
        age = _small_int(raw, 0, 10**11)
        return (age or 0), f"Cache-Control: max-age={(raw or '')[:20]}"
    if expires is not None:
        try:
            when = email.utils.parsedate_to_datetime(expires.strip()[:64])
        except (TypeError, ValueError, IndexError):
            when = None
        if when is None or when.tzinfo is None:
            return 0, f"Expires: {expires.strip()[:40]} (not a date: stale)"
        seconds = (when - _aware(fetched_at)).total_seconds()
        return max(0, int(min(seconds, 10**11))), f"Expires: {expires.strip()[:40]}"
    return None


@dataclass(frozen=True, slots=True)
class Schedule:
    """The interval chosen after a successful poll and why (see the module docstring)."""

    interval_s: int
    source: str  # 'adaptive' | 'feed_hint' | 'http_cache'
    adaptive_s: int
    feed_hint_s: int | None
    http_fresh_s: int | None


def plan_interval(adaptive_s: int, feed_hint_s: int | None, http_fresh_s: int | None) -> Schedule:
    """The adaptive interval, lengthened to the feed's hint and the response's freshness (each capped at
    MAX_HINT_S), within [MIN_INTERVAL_S, MAX_INTERVAL_S]."""
    interval, source = adaptive_s, "adaptive"
    for value, name in ((feed_hint_s, "feed_hint"), (http_fresh_s, "http_cache")):
        if value is not None and min(value, MAX_HINT_S) > interval:
            interval, source = min(value, MAX_HINT_S), name
    return Schedule(_clamp(interval), source, adaptive_s, feed_hint_s, http_fresh_s)


def preview_schedule(result: FetchResult, parsed: ParsedFeed | None, now: datetime) -> Schedule:
    """The interval a first poll with this response would get (`newswatch feeds check`; nothing is stored)."""
    rate = _rate_from_dates(parsed, _aware(now))
    hint = feed_hint(parsed)
    fresh = http_freshness(result.cache_control, result.expires, result.fetched_at)
    return plan_interval(_interval_for(rate, DEFAULT_INTERVAL_S, True), hint and hint[0], fresh and fresh[0])


def record_poll(
    con: duckdb.DuckDBPyConnection,
    *,
    feed_url: str,
    watch: str,
    result: FetchResult,
    parsed: ParsedFeed | None,
    new_entries: int,
    run_id: str,
    disable_after: int,
    now: datetime,
    prev: FeedState | None = None,
    pending: list | None = None,
) -> FeedState:
    """Record one poll (state upsert + history row) and return the new state. See the module docstring.
    prev: the feed's state read beforehand (None: read here); pending: a list to append the two rows to instead
    of writing them (write_polls writes a run's polls in two statements, not two per feed)."""
    now = _aware(now)
    prev = prev or get_feed_states(con, [feed_url]).get(feed_url) or FeedState(feed_url=feed_url)
    first_poll = prev.polls_total == 0
    digest = hashlib.sha256(result.body).hexdigest() if result.body else None
    status = result.status
    detail = result.detail or ""
    http_status = result.http_status
    unchanged = False

    # A 200 whose body is not a feed at all (an HTML login page, an error text) is a failure, not a success.
    if status == "ok" and parsed is not None and not parsed.entries and parsed.format is None:
        status = "invalid_feed"
        detail = (parsed.warnings[-1] if parsed.warnings else "not a feed")[:300]  # the last one sums up
    if http_status == 410:
        status = "gone"

    upd: dict[str, Any] = {
        "watch": watch,
        "last_status": status,
        "last_http_status": http_status,
        "last_detail": detail[:500] or None,
        "last_polled_at": now,
        "polls_total": prev.polls_total + 1,
        "last_run_id": run_id,
    }
    if result.permanent_redirect and result.permanent_redirect != prev.poll_url:
        upd["redirected_to"] = result.permanent_redirect
        upd["last_detail"] = f"moved permanently to {result.permanent_redirect}"

    if status in SUCCESS_STATUSES:
        upd["consecutive_failures"] = 0
        upd["last_ok_at"] = now
        if status == "ok":
            unchanged = digest is not None and digest == prev.body_hash
            had_validators = bool(prev.etag or prev.last_modified)
            if unchanged and had_validators and not prev.validators_unreliable:
                # We sent If-None-Match/If-Modified-Since and got the same bytes back with a 200: either the server
                # ignores validators or they change on every request. From now on the body hash decides.
                changed_etag = bool(result.etag and prev.etag and result.etag != prev.etag)
                upd["validators_unreliable"] = True
                upd["validators_note"] = (
                    f"{now:%Y-%m-%d %H:%M}: ETag changed ({prev.etag} -> {result.etag}) but the body did not"
                    if changed_etag
                    else f"{now:%Y-%m-%d %H:%M}: 200 with an unchanged body despite conditional headers"
                )
            upd["etag"] = _validator(result.etag)
            upd["last_modified"] = _validator(result.last_modified)
            upd["body_hash"] = digest
        else:
            if result.etag:
                upd["etag"] = _validator(result.etag)
            if result.last_modified:
                upd["last_modified"] = _validator(result.last_modified)
        if parsed is not None:
            upd["title"] = parsed.title or prev.title
            upd["site_link"] = parsed.link or prev.site_link
            upd["format"] = parsed.format or prev.format
            upd["entries_last_poll"] = len(parsed.entries)
            upd["warnings_last_poll"] = len(parsed.warnings)
            upd["last_warning"] = parsed.warnings[0][:300] if parsed.warnings else None
        if new_entries > 0:
            upd["last_new_entry_at"] = now

        measured = _rate_from_dates(parsed, now)
        if measured is not None:
            rate: float | None = measured
        elif prev.last_polled_at is not None and not first_poll:
            elapsed_days = max((now - prev.last_polled_at).total_seconds(), 60.0) / 86_400
            observed = new_entries / elapsed_days
            rate = observed if prev.items_per_day is None else (
                (1 - EWMA_WEIGHT) * prev.items_per_day + EWMA_WEIGHT * observed
            )
        else:
            rate = prev.items_per_day
        upd["items_per_day"] = rate
        if parsed is not None:  # a 304 or an unchanged body has nothing to parse: the last hint stands
            hint = feed_hint(parsed)
            upd["feed_hint_s"], upd["feed_hint_note"] = hint if hint else (None, None)
        fresh = http_freshness(result.cache_control, result.expires, result.fetched_at)
        if fresh is not None or status == "ok":
            # a 304 without caching headers keeps the stored freshness (RFC 9111 section 4.3.4)
            upd["http_fresh_s"], upd["http_fresh_note"] = fresh if fresh else (None, None)
        # The floors lengthen the adaptive interval of this poll only (rate is known after the first poll), so a
        # hint that goes away stops counting at the next poll.
        plan = plan_interval(
            _interval_for(rate, prev.poll_interval_s, first_poll),
            upd.get("feed_hint_s", prev.feed_hint_s),
            upd.get("http_fresh_s", prev.http_fresh_s),
        )
        upd["poll_interval_s"] = plan.interval_s
        upd["interval_source"] = plan.source
        upd["next_poll_at"] = now + timedelta(seconds=plan.interval_s)
    else:
        failures = prev.consecutive_failures + 1
        upd["consecutive_failures"] = failures
        upd["failures_total"] = prev.failures_total + 1
        if status == "gone":
            upd["disabled"] = True
            upd["disabled_reason"] = f"HTTP 410 Gone from {result.final_url or result.url}"
            upd["disabled_at"] = now
        elif failures >= disable_after and not prev.disabled:
            upd["disabled"] = True
            upd["disabled_reason"] = f"{failures} consecutive failures; last: {status}" + (
                f" ({detail[:200]})" if detail else ""
            )
            upd["disabled_at"] = now
        backoff = min(MAX_INTERVAL_S, MIN_INTERVAL_S * 2 ** min(failures - 1, 10))
        if result.retry_after_s:
            backoff = max(backoff, min(result.retry_after_s, MAX_INTERVAL_S))
        upd["next_poll_at"] = now + timedelta(seconds=backoff)

    data = {c: getattr(prev, c) for c in _COLUMNS}
    data.update(upd)
    state = FeedState(**data)
    poll = [
        run_id,
        feed_url,
        result.url,
        now,
        status,
        http_status,
        unchanged,
        len(parsed.entries) if parsed is not None else None,
        new_entries,
        len(parsed.warnings) if parsed is not None else None,
        digest,
        result.elapsed_s,
        (detail or None) and detail[:500],
    ]
    if pending is not None:
        pending.append(([getattr(state, c) for c in _COLUMNS], poll))
        return state
    write_polls(con, [([getattr(state, c) for c in _COLUMNS], poll)])
    return state


def write_polls(con: duckdb.DuckDBPyConnection, pending: Sequence[tuple[list, list]]) -> None:
    """The rows record_poll(pending=...) kept: one upsert of the feed states, one insert of the history rows."""
    if not pending:
        return
    upsert(con, "core.feed_state", [state for state, _ in pending], columns=_COLUMNS)
    insert_rows(con, "core.feed_polls", [dict(zip(_POLL_COLUMNS, poll, strict=True)) for _, poll in pending])


def feeds_due(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str], now: datetime) -> list[str]:
    """Feeds to poll now, in the given order: never polled, or not disabled and next_poll_at <= now."""
    states = get_feed_states(con, feed_urls)
    now = _aware(now)
    due: list[str] = []
    for url in dict.fromkeys(feed_urls):
        st = states.get(url)
        if st is None or (not st.disabled and (st.next_poll_at is None or st.next_poll_at <= now)):
            due.append(url)
    return due


def enable_feed(con: duckdb.DuckDBPyConnection, feed_url: str) -> bool:
    """Re-enable a disabled feed (after the user fixed it): failures reset, due at once. False if unknown."""
    row = con.execute(
        "UPDATE core.feed_state SET disabled = false, disabled_reason = NULL, disabled_at = NULL, "
        "consecutive_failures = 0, next_poll_at = NULL WHERE feed_url = ?",
        [feed_url],
    ).fetchone()
    return bool(row and row[0])  # the count of updated rows (DuckLake has no UPDATE ... RETURNING)


def disable_feed(
    con: duckdb.DuckDBPyConnection, feed_url: str, reason: str, now: datetime
) -> FeedState | None:
    """Disable a feed by hand (`newswatch feeds disable`): never due until `enable_feed`. A feed never polled
    gets a row of its own so the disable holds. Returns the state before (None if never polled)."""
    now = _aware(now)
    prev = get_feed_states(con, [feed_url]).get(feed_url)
    if prev is None:
        con.execute(
            "INSERT INTO core.feed_state (feed_url, disabled, disabled_reason, disabled_at) VALUES (?, true, ?, ?)",
            [feed_url, reason[:500], now],
        )
    else:
        con.execute(
            "UPDATE core.feed_state SET disabled = true, disabled_reason = ?, disabled_at = ? WHERE feed_url = ?",
            [reason[:500], now, feed_url],
        )
    return prev


@dataclass(frozen=True, slots=True)
class FeedListing:
    """One configured feed of one watch, with its health (a row of `newswatch feeds list`)."""

    watch: str
    feed_url: str
    health: str  # the `feeds` view's health, or 'never_polled'
    title: str | None = None
    last_poll: datetime | None = None
    next_poll: datetime | None = None
    failures: int = 0
    disabled_reason: str | None = None
    poll_interval_s: int | None = None
    interval_source: str | None = None
    last_status: str | None = None
    last_detail: str | None = None
    poll_url: str | None = None


def list_feeds(
    con: duckdb.DuckDBPyConnection | None, watch_feeds: Sequence[tuple[str, str]]
) -> list[FeedListing]:
    """The (watch, feed URL) pairs as configured, in that order, with their health from the `feeds` view
    (health is decided there, once). con None (no warehouse yet): every feed is 'never_polled'."""
    urls = list(dict.fromkeys(u for _, u in watch_feeds))
    found: dict[str, dict[str, Any]] = {}
    if con is not None and urls:
        # SELECT *: a read-only connection to a warehouse made before a column was added still lists its feeds
        cur = con.execute("SELECT * FROM feeds WHERE feed_url IN (SELECT unnest(?::VARCHAR[]))", [urls])
        cols = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = {c: _aware(v) for c, v in zip(cols, r, strict=True)}
            found[row["feed_url"]] = row
    out: list[FeedListing] = []
    for watch, url in watch_feeds:
        row = found.get(url)
        if row is None:
            out.append(FeedListing(watch=watch, feed_url=url, health="never_polled"))
            continue
        out.append(
            FeedListing(
                watch=watch,
                feed_url=url,
                health=row["health"],
                title=row.get("title"),
                last_poll=row.get("last_polled_at"),
                next_poll=row.get("next_poll_at"),
                failures=row.get("consecutive_failures") or 0,
                disabled_reason=row.get("disabled_reason"),
                poll_interval_s=row.get("poll_interval_s"),
                interval_source=row.get("interval_source"),
                last_status=row.get("last_status"),
                last_detail=row.get("last_detail"),
                poll_url=row.get("poll_url"),
            )
        )
    return out


# ---- robots.txt kept across runs (RFC 9309 section 2.4) ------------------------------------------------------

RobotsLoad = Callable[[str], "tuple[datetime, int, bytes] | None"]
RobotsSave = Callable[[str, datetime, int, bytes], None]
_ROBOTS_LOCK = threading.Lock()  # see robots_store


def load_robots(con: duckdb.DuckDBPyConnection, origin: str) -> tuple[datetime, int, bytes] | None:
    """The stored robots.txt answer of an origin: (fetched_at UTC, HTTP status, body), or None. Any age: the
    caller decides what is fresh (extractors/robots.py RobotsCache)."""
    row = con.execute(
        "SELECT fetched_at, http_status, body FROM core.robots_txt WHERE origin = ?", [origin]
    ).fetchone()
    if row is None:
        return None
    return _aware(row[0]), int(row[1]), bytes(row[2])


def save_robots(
    con: duckdb.DuckDBPyConnection, origin: str, fetched_at: datetime, http_status: int, body: bytes
) -> None:
    """Keep one origin's robots.txt answer (replaces the previous one)."""
    upsert(con, "core.robots_txt", [(origin, _aware(fetched_at), http_status, bytes(body))],
           columns=("origin", "fetched_at", "http_status", "body"))


PRELOAD_MAX_BODY = 64 * 1024  # copies up to this size are read in one query at the first load of a run


def robots_store(db_path: str) -> tuple[RobotsLoad, RobotsSave]:
    """The (load, save) callbacks for extractors/robots.py's RobotsCache on this warehouse file (one per run).

    Opening the warehouse costs about 0.1 s here (under load), so the first load reads every kept copy of up
    to 64 KiB in one session and answers from memory afterwards; larger copies are read when asked for. A save
    writes through at once (at most once per host per 24 h). No connection is held while fetching; errors
    propagate and RobotsCache treats them as a cache miss / a copy not kept. The Fetcher calls these from its
    worker threads, several hosts at once, and two threads opening the same file at the same moment make
    DuckDB 1.5.5 fail with "Unique file handle conflict" (tests/net/test_net_robots.py::
    test_callbacks_from_many_threads_at_once lost 1 to 5 of 6 copies that way), so sessions are taken one at a
    time.
    """
    from warehouse.db import session

    kept: dict[str, tuple[datetime, int, bytes]] = {}
    large: set[str] = set()
    loaded = False

    def load(origin: str) -> tuple[datetime, int, bytes] | None:
        nonlocal loaded
        with _ROBOTS_LOCK:
            if not loaded:
                with session(db_path) as con:
                    for o, at, code, body in con.execute(
                        "SELECT origin, fetched_at, http_status, body FROM core.robots_txt WHERE octet_length(body) <= ?",
                        [PRELOAD_MAX_BODY],
                    ).fetchall():
                        kept[o] = (_aware(at), int(code), bytes(body))
                    large.update(r[0] for r in con.execute(
                        "SELECT origin FROM core.robots_txt WHERE octet_length(body) > ?", [PRELOAD_MAX_BODY]
                    ).fetchall())
                loaded = True
            if origin in kept:
                return kept[origin]
            if origin not in large:
                return None
            with session(db_path) as con:
                return load_robots(con, origin)

    def save(origin: str, fetched_at: datetime, http_status: int, body: bytes) -> None:
        with _ROBOTS_LOCK, session(db_path) as con:
            save_robots(con, origin, fetched_at, http_status, body)
            if len(body) <= PRELOAD_MAX_BODY:
                kept[origin] = (_aware(fetched_at), http_status, bytes(body))
                large.discard(origin)
            else:
                kept.pop(origin, None)
                large.add(origin)

    return load, save
