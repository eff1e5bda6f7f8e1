"""The digest stage: select what is new (warehouse/digests.py), render (alerts/render.py), write files, send via the outbox.

A plain function the pipeline, the CLI and tests call; Prefect wraps it in flows/pipeline.py.
DuckDB writer windows are short: one session to select, render, write the files and record the digest,
then one short session per outbox state change. No connection is held while talking to the mail server,
so another process can open the database meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from alerts.files import chart_filename, digest_basename, write_digest_files
from alerts.render import RenderError, render_digest
from alerts.rules import decide
from alerts.send import BACKOFF_BASE_S, DeliveryResult, SmtpError, deliver
from flows.digest_extras import attention_chart, channel_rows, deliver_channels, query_terms, with_channels
from newswatch.config import Config, SmtpSettings
from newswatch.errors import ConfigError, OutputError, describe_os_error
from newswatch.models import utcnow
from warehouse import digests
from warehouse.db import refresh_trends, session


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What run_digest did for one watch."""

    digest_id: str  # '' when status is 'empty'
    watch: str
    items: int
    status: str  # 'empty' | 'waiting' (digest rules: not due / quiet hours) | 'written' | 'sent' | 'failed'
    eml_path: str | None
    html_path: str | None
    message_id: str | None
    detail: str  # one line for the run summary
    articles: int = 0
    attempts: int = 0  # SMTP attempts made by this call
    recovered: tuple[str, ...] = ()  # digests left pending/sending by an earlier run and delivered now


def _deliver(
    db_path: str,
    smtp: SmtpSettings,
    entry: digests.OutboxEntry,
    *,
    sleep: Callable[[float], None],
    backoff_base_s: float,
) -> DeliveryResult:
    """Send one outbox entry, recording every state change in its own short writer window."""

    def before() -> None:
        with session(db_path) as con:
            digests.mark_sending(con, entry.digest_id, utcnow())

    def after(result: DeliveryResult | None, error: SmtpError | None, final: bool) -> None:
        with session(db_path) as con:
            if result is not None:
                digests.mark_sent(con, entry.digest_id, utcnow(), note=result.error)
            else:
                digests.mark_attempt_failed(con, entry.digest_id, utcnow(), str(error), final=final)

    return deliver(
        entry.message,
        smtp,
        entry.recipients,
        before_attempt=before,
        after_attempt=after,
        sleep=sleep,
        backoff_base_s=backoff_base_s,
    )


def _outcome(
    entry: digests.OutboxEntry, result: DeliveryResult, articles: int, prefix: str = ""
) -> DigestOutcome:
    if result.sent:
        detail = f"digest {entry.digest_id} sent to {len(entry.recipients)} recipient(s)"
        if result.error:
            detail += f" ({result.error})"
    else:
        detail = f"digest {entry.digest_id} not sent: {result.error}"
    return DigestOutcome(
        digest_id=entry.digest_id,
        watch=entry.watch,
        items=entry.items,
        status="sent" if result.sent else "failed",
        eml_path=entry.eml_path,
        html_path=entry.html_path,
        message_id=entry.message_id,
        detail=prefix + detail,
        articles=articles,
        attempts=result.attempts,
    )


def run_digest(
    db_path: str,
    config: Config,
    watch: str,
    *,
    out_dir: str | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backoff_base_s: float = BACKOFF_BASE_S,
) -> DigestOutcome:
    """Build, record, write and (with config.smtp) send the next digest of a watch.

    Writes <out_dir or config.digest_dir>/<watch>-<date>-<digest_id>.eml and .html (and .png, the attention
    chart the .html shows, when the watch has one). With nothing new,
    returns status 'empty' and writes nothing. First re-delivers any digest an earlier run left
    pending or sending (same bytes, same Message-ID: the documented crash window).
    """
    wc = config.watch(watch)
    now = (now or utcnow()).astimezone(UTC)
    smtp = config.smtp
    out = out_dir or config.digest_dir

    recovered: list[DigestOutcome] = []
    leftover_channels = deliver_channels(db_path, config, watch, sleep=sleep, backoff_base_s=backoff_base_s)
    # the spikes, attention and figure_history views read tables refreshed after stored batches, throttled and
    # not after cross-article linking: bring them up to date so the digest sees the last batch (cheap when nothing
    # changed, and the end of the run's refresh then has nothing left to do; never fails the digest)
    refresh_trends(db_path)
    with ExitStack() as stack:
        con = stack.enter_context(session(db_path))
        unfinished = digests.unfinished_deliveries(con, watch)
        if smtp is None and unfinished:
            # the mail server was removed from the config: these digests exist as files, so count them as
            # written rather than leaving their articles parked in 'pending' forever
            for entry in unfinished:
                digests.mark_written(con, entry.digest_id, utcnow(), "mail server no longer configured")
            unfinished = []
        if unfinished:
            assert smtp is not None
            stack.close()  # release the file while talking to the mail server
            for entry in unfinished:
                result = _deliver(db_path, smtp, entry, sleep=sleep, backoff_base_s=backoff_base_s)
                recovered.append(_outcome(entry, result, 0, prefix="resent after an interrupted delivery: "))
            if any(r.status == "failed" for r in recovered):
                # the same articles would be selected again at once and meet the same server: next run
                last = next(r for r in recovered if r.status == "failed")
                return with_channels(replace(last, recovered=tuple(r.digest_id for r in recovered)),
                                     leftover_channels)
            con = stack.enter_context(session(db_path))

        decision = decide(wc.digest, now=now, last_at=digests.last_told_at(con, watch))
        if not decision.due:  # digest rules (alerts/rules.py): what is new waits for the next due run
            return with_channels(DigestOutcome("", watch, 0, "waiting", None, None, None, decision.reason),
                                 leftover_channels)
        plan = digests.select_new(con, watch, now=now, max_items=wc.max_items, include=wc.digest.include,
                                  people=wc.digest.people)
        if plan is None:
            if recovered:
                last = recovered[-1]
                return with_channels(replace(last, recovered=tuple(r.digest_id for r in recovered)),
                                     leftover_channels)
            since = digests.last_told_at(con, watch)
            return with_channels(DigestOutcome(
                digest_id="",
                watch=watch,
                items=0,
                status="empty",
                eml_path=None,
                html_path=None,
                message_id=None,
                detail=f"nothing new for watch {watch}"
                + (f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""),
            ), leftover_channels)
        chart = attention_chart(
            con, watch, wc.digest, today=now.date(),
            file=chart_filename(watch, plan.digest.created_at, plan.digest.digest_id),
        )
        try:
            rendered = render_digest(
                plan.digest,
                sender=smtp.sender if smtp else None,
                recipients=wc.recipients,
                description=wc.description,
                unsubscribe_url=config.unsubscribe_url,
                held_back=plan.held_back,
                copy_of=plan.copy_of,
                terms=query_terms(wc.query, plan.digest),
                spikes=plan.spike_lines,
                view_url=config.view_url,
                edit_url=config.edit_url,
                file=digest_basename(watch, plan.digest.created_at, plan.digest.digest_id) + ".html",
                chart=chart,
            )
        except RenderError as e:
            raise ConfigError(f"watch {watch}: {e}") from None
        try:
            eml_path, html_path = write_digest_files(
                out, watch, plan.digest.created_at, plan.digest.digest_id, rendered.message, rendered.html,
                chart=chart.png if chart else None,
            )
        except OSError as e:  # a read-only or impossible digest folder: nothing is recorded, the next run retries
            raise OutputError(f"watch {watch}: cannot write the digest to {out}: {describe_os_error(e)}") from None
        mail = smtp is not None and bool(rendered.recipients)
        digests.record_digest(
            con,
            plan,
            status="pending" if mail else "written",
            subject=rendered.subject,
            message_id=rendered.message_id,
            recipients=rendered.recipients,
            eml_path=eml_path,
            html_path=html_path,
            message=rendered.message if mail else None,
            channels=channel_rows(config, watch),
            chat=(rendered.chat_title, rendered.chat_body),
        )
    d = plan.digest
    recovered_ids = tuple(r.digest_id for r in recovered)
    sent_channels = leftover_channels + deliver_channels(
        db_path, config, watch, sleep=sleep, backoff_base_s=backoff_base_s, only_digest=d.digest_id
    )
    if not mail:
        why = "no mail server configured" if smtp is None else "the watch has no recipients"
        return with_channels(DigestOutcome(
            digest_id=d.digest_id,
            watch=watch,
            items=len(d.items),
            status="written",
            eml_path=eml_path,
            html_path=html_path,
            message_id=rendered.message_id,
            detail=f"digest {d.digest_id} ({len(d.items)} items) written to {eml_path} ({why})",
            articles=len(plan.carried),
            recovered=recovered_ids,
        ), sent_channels)
    assert smtp is not None
    entry = digests.OutboxEntry(
        digest_id=d.digest_id,
        watch=watch,
        message_id=rendered.message_id,
        recipients=rendered.recipients,
        state="pending",
        attempts=0,
        message=rendered.message,
        eml_path=eml_path,
        html_path=html_path,
        items=len(d.items),
    )
    result = _deliver(db_path, smtp, entry, sleep=sleep, backoff_base_s=backoff_base_s)
    outcome = _outcome(entry, result, len(plan.carried))
    return with_channels(replace(outcome, recovered=recovered_ids), sent_channels)
