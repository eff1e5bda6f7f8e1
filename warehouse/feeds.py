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
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from newswatch.models import FetchResult, ParsedFeed

MIN_INTERVAL_S = 600
MAX_INTERVAL_S = 86_400
DEFAULT_INTERVAL_S = 3_600
RATE_WINDOW = timedelta(days=30)
EWMA_WEIGHT = 0.4  # weight of the newest observation for undated feeds
SUCCESS_STATUSES = ("ok", "not_modified")


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
) -> FeedState:
    """Record one poll (state upsert + history row) and return the new state. See the module docstring."""
    now = _aware(now)
    prev = get_feed_states(con, [feed_url]).get(feed_url) or FeedState(feed_url=feed_url)
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
        interval = _interval_for(rate, prev.poll_interval_s, first_poll)
        upd["poll_interval_s"] = interval
        upd["next_poll_at"] = now + timedelta(seconds=interval)
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
    placeholders = ", ".join("?" for _ in _COLUMNS)
    con.execute(
        f"INSERT OR REPLACE INTO core.feed_state ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
        [getattr(state, c) for c in _COLUMNS],
    )
    con.execute(
        "INSERT INTO core.feed_polls (run_id, feed_url, polled_url, polled_at, status, http_status, unchanged, "
        "entries, new_entries, warnings, body_hash, elapsed_s, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
        ],
    )
    return state


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
        "consecutive_failures = 0, next_poll_at = NULL WHERE feed_url = ? RETURNING feed_url",
        [feed_url],
    ).fetchall()
    return bool(row)
