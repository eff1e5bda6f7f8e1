"""Digest rules: is a watch's digest due now (frequency, send time, quiet hours in the watch's time zone)? Pure.

    as_it_happens   due on every run, except during quiet hours
    daily           due once the day's send_at (local time) has passed and no digest was delivered since it
    weekly          the same, on `weekday` only
    quiet_hours     "22:00-07:00" (may wrap midnight): never due inside it; a daily/weekly slot that falls in
                    it is delivered by the first run after it ends

The "last digest" is the newest delivered (sent or written) one: a failed digest does not count, so the
next run retries it whatever the frequency. Everything not sent simply waits: the selection
(warehouse/digests.py) is "what is new since the last digest", so nothing is lost by waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from newswatch.config import WEEKDAYS, DigestRules


@dataclass(frozen=True, slots=True)
class DigestDecision:
    """Whether to build a digest now, why (one line), and when the next one may go (UTC; None = next run)."""

    due: bool
    reason: str
    next_at: datetime | None = None


def _hhmm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def in_quiet_hours(rules: DigestRules, local: datetime) -> bool:
    """True when the local wall-clock time falls in the quiet hours (start inclusive, end exclusive)."""
    if not rules.quiet_hours:
        return False
    start, end = (_hhmm(p) for p in rules.quiet_hours.split("-"))
    t = local.time().replace(second=0, microsecond=0, tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # wraps midnight


def _quiet_end(rules: DigestRules, local: datetime) -> datetime:
    """The first local time at or after `local` outside the quiet hours (minute steps would be wasteful)."""
    assert rules.quiet_hours
    end = _hhmm(rules.quiet_hours.split("-")[1])
    candidate = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=local.tzinfo)
    return candidate


def last_slot(rules: DigestRules, local: datetime) -> datetime | None:
    """The most recent scheduled send time at or before `local` (None for as_it_happens)."""
    if rules.frequency == "as_it_happens":
        return None
    at = _hhmm(rules.send_at)
    day = local.date()
    if rules.frequency == "weekly":
        day -= timedelta(days=(day.weekday() - WEEKDAYS.index(rules.weekday)) % 7)
    slot = datetime.combine(day, at, tzinfo=local.tzinfo)
    if slot > local:
        slot = datetime.combine(day - timedelta(days=7 if rules.frequency == "weekly" else 1), at, tzinfo=local.tzinfo)
    return slot


def _next_slot(rules: DigestRules, slot: datetime) -> datetime:
    step = timedelta(days=7 if rules.frequency == "weekly" else 1)
    # combine again rather than add, so a DST change keeps the wall-clock send time
    return datetime.combine(slot.date() + step, slot.time(), tzinfo=slot.tzinfo)


def describe(rules: DigestRules) -> str:
    """'daily at 08:00 Europe/London, quiet 22:00-07:00' for messages and docs."""
    if rules.frequency == "as_it_happens":
        text = "as it happens"
    elif rules.frequency == "daily":
        text = f"daily at {rules.send_at} {rules.timezone}"
    else:
        text = f"weekly on {rules.weekday} at {rules.send_at} {rules.timezone}"
    if rules.quiet_hours:
        text += f", quiet {rules.quiet_hours}" + ("" if rules.frequency != "as_it_happens" else f" {rules.timezone}")
    return text


def decide(rules: DigestRules, *, now: datetime, last_at: datetime | None) -> DigestDecision:
    """Is a digest due at `now` (aware) given when the last delivered digest was created (`last_at`)?"""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(rules.timezone)
    local = now.astimezone(tz)
    if in_quiet_hours(rules, local):
        return DigestDecision(
            False,
            f"quiet hours ({describe(rules)}): waits until {_quiet_end(rules, local):%Y-%m-%d %H:%M %Z}",
            _quiet_end(rules, local).astimezone(UTC),
        )
    slot = last_slot(rules, local)
    if slot is None:
        return DigestDecision(True, "as it happens")
    if last_at is None or last_at.astimezone(tz) < slot:
        return DigestDecision(True, f"{describe(rules)}: due since {slot:%Y-%m-%d %H:%M %Z}")
    nxt = _next_slot(rules, slot)
    if in_quiet_hours(rules, nxt):
        nxt = _quiet_end(rules, nxt)
    return DigestDecision(False, f"not due ({describe(rules)}): next at {nxt:%Y-%m-%d %H:%M %Z}", nxt.astimezone(UTC))
