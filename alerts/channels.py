"""Webhook and chat delivery through apprise (json://, form://, slack://, msteams://, matrix://...): one attempt,
error classification, retries with backoff (the only apprise user besides the config check).

apprise's notify() only answers True/False and logs why, so the reason is read from its log:

    ChannelTransientError (TransientError)   connection error or timeout, HTTP 5xx, 408, 429, any failure
                                             apprise does not explain (worth another try)
    ChannelPermanentError (TerminalError)    HTTP 4xx other than 408/429 (bad token, gone webhook), a URL
                                             apprise does not understand, an `env:NAME` variable that is unset

The outbox bookkeeping (core.channel_outbox) is the caller's, through before/after callbacks like
alerts/send.py, so this module never touches the warehouse.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable

from alerts.send import BACKOFF_BASE_S, DeliveryResult, with_retries
from newswatch.config import load_apprise, mask_channel
from newswatch.errors import TerminalError, TransientError

RETRIES = 3  # more tries after the first, within one run, for transient failures
_STATUS = re.compile(r"error=(\d{3})")


class ChannelTransientError(TransientError):
    """Worth another try: the receiver or the network may recover."""


class ChannelPermanentError(TerminalError):
    """Retrying will not help (4xx, a bad or missing URL)."""


ChannelError = ChannelTransientError | ChannelPermanentError


def channel_key(entry: str) -> str:
    """A stable id for a configured channel (its config string): stored instead of the URL, which holds tokens."""
    return hashlib.sha256(entry.encode("utf-8")).hexdigest()[:16]


def channel_label(entry: str) -> str:
    """What messages and the warehouse show for a channel: scheme and host, never the token."""
    return mask_channel(entry)


def resolve(entry: str) -> str:
    """The apprise URL of a configured channel: `env:NAME` reads it from the environment."""
    if entry.startswith("env:"):
        value = os.environ.get(entry[4:], "").strip()
        if not value:
            raise ChannelPermanentError(f"channel {entry}: the environment variable {entry[4:]} is not set")
        return value
    return entry


def classify(log_text: str, label: str) -> ChannelError:
    """Turn apprise's log of a failed notify() into a transient or permanent error with one line."""
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    detail = lines[-1] if lines else "the notification was not accepted"
    m = _STATUS.search(log_text)
    if m:
        code = int(m.group(1))
        if 400 <= code < 500 and code not in (408, 429):
            return ChannelPermanentError(f"channel {label}: HTTP {code} ({detail}); not retried")
        return ChannelTransientError(f"channel {label}: HTTP {code} ({detail}); will retry")
    return ChannelTransientError(f"channel {label}: {detail}; will retry")


def send_once(entry: str, title: str, body: str) -> None:
    """One notification to one channel. Raises ChannelTransientError or ChannelPermanentError."""
    apprise = load_apprise()
    label = channel_label(entry)
    url = resolve(entry)
    apobj = apprise.Apprise()
    if not apobj.add(url):
        raise ChannelPermanentError(f"channel {label}: not a notification URL apprise understands; not retried")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        ok = apobj.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        log_text = captured.getvalue()
    if not ok:
        raise classify(log_text, label)


def deliver(
    entry: str,
    title: str,
    body: str,
    *,
    retries: int = RETRIES,
    before_attempt: Callable[[], None] = lambda: None,
    after_attempt: Callable[[bool, ChannelError | None, bool], None] = lambda ok, e, f: None,
    sleep: Callable[[float], None] = time.sleep,
    backoff_base_s: float = BACKOFF_BASE_S,
    send: Callable[[str, str, str], None] = send_once,
) -> DeliveryResult:
    """Notify with retries (alerts/send.py's loop): up to `retries` more tries for transient errors, none for
    permanent ones. before_attempt() runs before each try (the caller records 'sending'); after_attempt(ok, error,
    final) after it.
    """

    def attempt() -> DeliveryResult:
        send(entry, title, body)
        return DeliveryResult(sent=True, attempts=0)

    return with_retries(
        attempt,
        retries=retries,
        permanent=ChannelPermanentError,
        transient=ChannelTransientError,
        before_attempt=before_attempt,
        after_attempt=lambda result, error, final: after_attempt(result is not None, error, final),  # type: ignore[arg-type]
        sleep=sleep,
        backoff_base_s=backoff_base_s,
    )
