"""What run_digest (flows/digest_stage.py) adds around the email digest: the watch's query terms for highlighting,
and webhook/chat delivery through the channel outbox (alerts/channels.py + warehouse/digests.py).

Channel delivery has the email outbox's guarantees: the pending rows are written with the digest in one
transaction, each attempt is recorded before it starts ('sending') and after it ends, no DuckDB connection
is held while talking to the receiver, a sent row is never sent again, a transient failure stays 'pending'
and is tried again (in this run with backoff, then by the next run), a permanent one ends 'failed'.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from alerts import channels as ch
from alerts.send import BACKOFF_BASE_S
from extractors.query import compile_query
from newswatch.config import Config
from newswatch.models import Digest, utcnow
from warehouse import digests
from warehouse.db import exists as warehouse_exists
from warehouse.db import session

T = TypeVar("T")


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
