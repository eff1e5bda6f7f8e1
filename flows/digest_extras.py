"""What run_digest (flows/digest_stage.py) adds around the email digest: the watch's query terms for highlighting,
the attention chart (warehouse/trends.py's series and PNG chart), and webhook/chat delivery through the channel
outbox (alerts/channels.py + warehouse/digests.py).

Channel delivery has the email outbox's guarantees: the pending rows are written with the digest in one
transaction, each attempt is recorded before it starts ('sending') and after it ends, no DuckDB connection
is held while talking to the receiver, a sent row is never sent again, a transient failure stays 'pending'
and is tried again (in this run with backoff, then by the next run), a permanent one ends 'failed'.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from alerts import channels as ch
from alerts.render import DigestChart
from alerts.send import BACKOFF_BASE_S
from extractors.query import compile_query
from newswatch.config import Config, DigestRules
from newswatch.errors import UserError
from newswatch.models import Digest, utcnow
from warehouse import digests, trends
from warehouse.db import exists as warehouse_exists
from warehouse.db import session

T = TypeVar("T")
log = logging.getLogger(__name__)
CHART_MIN_WEEKS = 2  # weeks with coverage before a chart says anything: one bar is not a trend


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """How one channel delivery of one digest ended in this run."""

    digest_id: str
    channel: str  # masked label
    state: str  # sent | pending (transient, next run tries again) | failed
    attempts: int
    detail: str


def query_terms(query: str, digest: Digest) -> tuple[str, ...]:
    """The watch query's terms found in the digest's titles and summaries (what the renderer marks)."""
    q = compile_query(query)
    if q.match_all:
        return ()
    found: dict[str, None] = {}
    for item in digest.items:
        for label in q.explain(item.title + "\n" + item.lead.title, item.summary):
            if not label.startswith(("NOT ", "(")):
                found[label] = None
    return tuple(found)


def attention_chart(
    con: duckdb.DuckDBPyConnection, watch: str, rules: DigestRules, *, today: date, file: str
) -> DigestChart | None:
    """The watch's attention chart for its digest: stories per week over the last rules.chart_weeks weeks (the
    attention view), spike weeks in red, drawn by `newswatch trends --format png`'s renderer.

    None when the chart is switched off, when fewer than CHART_MIN_WEEKS of those weeks have coverage (no trend
    yet: no chart rather than an empty one), or when it cannot be drawn (logged; the digest goes out without it).
    """
    if not rules.chart:
        return None
    monday = today - timedelta(days=today.weekday())
    since = monday - timedelta(weeks=rules.chart_weeks - 1)
    try:
        s = trends.series(con, watch, by="week", since=since, until=today, today=today)
    except (duckdb.Error, UserError) as e:  # a warehouse without the trend views: nothing to chart
        log.info("no attention chart for watch %s: %s", watch, str(e).splitlines()[0] if str(e) else e)
        return None
    covered = [p for p in s.points if p.stories]
    if len(covered) < CHART_MIN_WEEKS:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="newswatch-chart-") as tmp:
            path = Path(tmp) / "chart.png"
            trends.render_png([s], path)
            png = path.read_bytes()
    except (ImportError, OSError, ValueError, RuntimeError) as e:  # matplotlib missing or failing
        log.warning("attention chart of watch %s not drawn: %s", watch, e)
        return None
    peak = max(s.points, key=lambda p: (p.stories, p.day))
    spikes = sum(1 for p in s.points if p.is_spike)
    alt = (f"stories per week in watch {watch} from the week of {s.points[0].day:%Y-%m-%d} to the week of "
           f"{s.points[-1].day:%Y-%m-%d}: at most {peak.stories:,} (week of {peak.day:%Y-%m-%d}), "
           + (f"{spikes} week{'s' if spikes != 1 else ''} with an attention spike" if spikes
              else "no attention spike"))
    caption = (f"Attention over the last {rules.chart_weeks} weeks: stories per week (syndicated copies count "
               "once)" + ("; red: a week with an attention spike." if spikes else "."))
    return DigestChart(png=png, file=file, caption=caption, alt=alt)


def channel_rows(config: Config, watch: str) -> tuple[tuple[str, str], ...]:
    """(channel_key, masked label) of the watch's channels, for record_digest(channels=...)."""
    return tuple((ch.channel_key(c), ch.channel_label(c)) for c in config.watch(watch).channels)


def deliver_channels(
    db_path: str,
    config: Config,
    watch: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff_base_s: float = BACKOFF_BASE_S,
    retries: int = ch.RETRIES,
    only_digest: str | None = None,
) -> list[ChannelOutcome]:
    """Deliver every pending or interrupted channel notification of the watch (earlier runs' included), or
    only those of one digest (the one just recorded: leftovers were tried at the start of the run)."""
    by_key = {ch.channel_key(c): c for c in config.watch(watch).channels}
    if not warehouse_exists(db_path):
        return []
    # no schema pass: this runs at the start of every digest, and a warehouse without the table has nothing
    with session(db_path, apply_schema=False) as con:
        entries = [e for e in digests.unfinished_channel_deliveries(con, watch)
                   if only_digest is None or e.digest_id == only_digest]
        for e in entries:
            if e.channel_key not in by_key:
                # removed from the config: nothing to send it to; say so instead of keeping it pending forever
                digests.mark_channel_done(con, e.digest_id, e.channel_key, utcnow(), state="failed",
                                          error="channel no longer configured")
    outcomes: list[ChannelOutcome] = []
    for e in entries:
        entry = by_key.get(e.channel_key)
        if entry is None:
            outcomes.append(ChannelOutcome(e.digest_id, e.channel, "failed", 0, "channel no longer configured"))
            continue
        state = {"value": "pending"}

        def before(e: digests.ChannelEntry = e) -> None:
            with session(db_path) as con:
                digests.mark_channel_sending(con, e.digest_id, e.channel_key, utcnow())

        def after(
            ok: bool, error: ch.ChannelError | None, final: bool, e: digests.ChannelEntry = e, state: dict = state
        ) -> None:
            if ok:
                new = "sent"
            elif isinstance(error, ch.ChannelPermanentError):
                new = "failed"
            else:
                new = "pending"  # transient: tried again in this run, or by the next one
            state["value"] = new
            with session(db_path) as con:
                digests.mark_channel_done(con, e.digest_id, e.channel_key, utcnow(), state=new,
                                          error=str(error) if error else None)

        result = ch.deliver(entry, e.title, e.body, retries=retries, before_attempt=before, after_attempt=after,
                            sleep=sleep, backoff_base_s=backoff_base_s)
        detail = f"{e.channel}: sent" if result.sent else f"{e.channel}: {result.error}"
        outcomes.append(ChannelOutcome(e.digest_id, e.channel, state["value"], result.attempts, detail))
    return outcomes


def with_channels(outcome: T, results: list[ChannelOutcome]) -> T:
    """The digest outcome with the channel results: 'failed' (detail says which) when a channel was not reached."""
    if not results:
        return outcome
    out: Any = outcome
    failed = [r for r in results if r.state != "sent"]
    note = "; ".join(r.detail for r in results)
    if failed:
        return replace(out, status="failed", detail=f"{out.detail}; channels: {note}")
    return replace(out, detail=f"{out.detail}; channels: {note}")
