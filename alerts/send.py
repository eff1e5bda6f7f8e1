"""SMTP delivery of a rendered digest: one attempt, error classification, retries with backoff (the only smtplib user).

Classification (RELIABILITY.md E29), decided here where the error is raised:

    SmtpTransientError (TransientError)   connection refused/reset/timeout, server disconnected (also
                                          right after DATA), any 4xx reply (421, 450, 451, 452)
    SmtpPermanentError (TerminalError)    any 5xx reply (550, 554, 535 auth), STARTTLS asked but not
                                          offered, TLS certificate errors, every recipient refused with 5xx

Transient errors are retried up to SmtpSettings.retries times with exponential backoff; permanent ones
are not retried. The outbox bookkeeping lives with the caller (flows/digest_stage.py) through the
before_attempt/after_attempt callbacks, so this module never touches the warehouse and no database
connection is held while talking to the server.

The password (when smtp.username is set) comes from NEWSWATCH_SMTP_PASSWORD or, when that is unset, from the
Prefect Secret block named by smtp.password_block (`smtp_password`), read at each session so a rotated secret
is used by the next try.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from newswatch.config import SmtpSettings
from newswatch.errors import TerminalError, TransientError

BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 60.0


class SmtpTransientError(TransientError):
    """Worth another try: the server or the network may recover."""


class SmtpPermanentError(TerminalError):
    """Retrying will not help (5xx, configuration)."""


SmtpError = SmtpTransientError | SmtpPermanentError


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How a delivery ended: sent or failed, after how many attempts in this call, and the last error."""

    sent: bool
    attempts: int
    error: str | None = None
    refused: tuple[str, ...] = ()  # recipients refused while others accepted (not retried: no duplicates)


def _reply(code: int, msg: bytes | str) -> str:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return f"{code} {' '.join(text.split())}".strip()


def classify(exc: BaseException, host: str, port: int) -> SmtpError:
    """Turn an smtplib/socket exception into a transient or permanent error with a one-line message."""
    where = f"SMTP {host}:{port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{r}: {_reply(c, m)}" for r, (c, m) in sorted(exc.recipients.items()))
        if codes and all(400 <= c < 500 for c in codes):
            return SmtpTransientError(f"{where}: recipients deferred ({detail}); will retry")
        return SmtpPermanentError(f"{where}: recipients refused ({detail}); not retried")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpPermanentError(f"{where}: {exc}; check smtp.starttls / smtp.username in the config")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            return SmtpTransientError(f"{where}: {reply}; will retry")
        return SmtpPermanentError(f"{where}: {reply}; not retried")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpPermanentError(
            f"{where}: TLS certificate not accepted ({exc.verify_message}); not retried"
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SmtpTransientError(
            f"{where}: connection closed by the server ({exc or 'no reply'}); will retry"
        )
    if isinstance(exc, TimeoutError):
        return SmtpTransientError(f"{where}: timed out; will retry")
    if isinstance(exc, OSError):
        return SmtpTransientError(f"{where}: {exc.strerror or exc}; will retry")
    if isinstance(exc, smtplib.SMTPException):
        return SmtpTransientError(f"{where}: {exc}; will retry")
    raise TypeError(f"not an SMTP error: {exc!r}")


def smtp_password(settings: SmtpSettings) -> str | None:
    """NEWSWATCH_SMTP_PASSWORD when it is set, else the value of the Prefect Secret block smtp.password_block.

    None when neither is configured. A block that does not exist is SmtpPermanentError (a config mistake); a
    Prefect API that cannot be reached is SmtpTransientError (the digest stays in the outbox, tried again).
    """
    password = settings.password
    if password is not None:
        return password
    block = getattr(settings, "password_block", None)  # the config field; absent from older configs
    return load_secret_block(block) if block else None


def load_secret_block(name: str) -> str:
    """The value of the Prefect Secret block `name` (from the Prefect API the environment points at)."""
    try:
        from prefect.blocks.system import Secret  # only configs that name a block need Prefect here
        from prefect.exceptions import ObjectNotFound
    except ImportError as e:  # pragma: no cover - prefect is a dependency; a trimmed install may lack it
        raise SmtpPermanentError(f"smtp.password_block = {name!r} needs Prefect installed ({e})") from None
    try:
        value = Secret.load(name).get()  # type: ignore[union-attr]  # sync outside an event loop
    except (ValueError, ObjectNotFound) as e:
        # Prefect raises ValueError("Unable to find block document named ...") for a missing block
        raise SmtpPermanentError(
            f"smtp.password_block: no Prefect Secret block named {name!r} ({_one_line(e)}); "
            f"create it with `prefect block create secret` or fix the name"
        ) from None
    except Exception as e:  # noqa: BLE001 - the API is down or unreachable: the next try may reach it
        raise SmtpTransientError(
            f"smtp.password_block: cannot read Prefect Secret block {name!r}: {type(e).__name__}: {_one_line(e)}"
        ) from None
    if not isinstance(value, str):
        raise SmtpPermanentError(f"smtp.password_block: Prefect block {name!r} does not hold a text secret")
    return value


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def send_once(
    message: bytes, settings: SmtpSettings, recipients: Sequence[str]
) -> dict[str, tuple[int, bytes]]:
    """One SMTP session: connect, EHLO, STARTTLS/login as configured, MAIL/RCPT/DATA, QUIT.

    Returns the recipients refused while others were accepted (smtplib.sendmail semantics). Raises
    SmtpTransientError or SmtpPermanentError.
    """
    if not recipients:
        raise SmtpPermanentError("no recipients; add recipients to the watch in the config")
    host, port = settings.host, settings.port
    # the password before the connection: a slow Prefect API must not hold an SMTP session open
    password = smtp_password(settings) if settings.username else None
    if settings.username and password is None:
        raise SmtpPermanentError(
            f"SMTP {host}:{port}: smtp.username is set but neither NEWSWATCH_SMTP_PASSWORD nor "
            "smtp.password_block gives a password"
        )
    client: smtplib.SMTP | None = None
    try:
        if settings.ssl:
            client = smtplib.SMTP_SSL(
                host, port, timeout=settings.timeout_s, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=settings.timeout_s)
        client.ehlo()
        if settings.starttls and not settings.ssl:
            if not client.has_extn("starttls"):
                # never fall back to plaintext silently: that would send the password in clear
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if settings.username and password is not None:
            client.login(settings.username, password)
        refused = client.sendmail(settings.sender, list(recipients), message)
    except (SmtpTransientError, SmtpPermanentError):
        raise
    except (smtplib.SMTPException, OSError) as e:
        raise classify(e, host, port) from e
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    return dict(refused)


def backoff_delay(attempt: int, base_s: float = BACKOFF_BASE_S, max_s: float = BACKOFF_MAX_S) -> float:
    """Delay after the given failed attempt (1-based): base, 2*base, 4*base ... capped."""
    return min(max_s, base_s * (2 ** (attempt - 1)))


def with_retries(
    attempt: Callable[[], DeliveryResult],
    *,
    retries: int,
    permanent: type[TerminalError],
    transient: type[TransientError],
    before_attempt: Callable[[], None],
    after_attempt: Callable[[DeliveryResult | None, Exception | None, bool], None],
    sleep: Callable[[float], None],
    backoff_base_s: float,
) -> DeliveryResult:
    """The retry loop shared by mail and channels (alerts/channels.py): up to `retries` more tries after a
    `transient` error, with backoff, none after a `permanent` one.

    before_attempt() runs before each try; after_attempt(result, error, final) after it: the result when the
    receiver accepted, else the error and whether it was the last try.
    """
    n = 0
    while True:
        n += 1
        before_attempt()
        try:
            result = attempt()
        except permanent as e:
            after_attempt(None, e, True)
            return DeliveryResult(sent=False, attempts=n, error=str(e))
        except transient as e:
            final = n > retries
            after_attempt(None, e, final)
            if final:
                return DeliveryResult(sent=False, attempts=n, error=f"{e} (gave up after {n} tries)")
            sleep(backoff_delay(n, backoff_base_s))
            continue
        result = replace(result, attempts=n)
        after_attempt(result, None, True)
        return result


def deliver(
    message: bytes,
    settings: SmtpSettings,
    recipients: Sequence[str],
    *,
    before_attempt: Callable[[], None] = lambda: None,
    after_attempt: Callable[[DeliveryResult | None, SmtpError | None, bool], None] = lambda r, e, f: None,
    sleep: Callable[[float], None] = time.sleep,
    backoff_base_s: float = BACKOFF_BASE_S,
) -> DeliveryResult:
    """Send with retries: up to settings.retries more tries for transient errors, none for permanent ones.

    before_attempt() runs before each SMTP session (the caller records 'sending'); after_attempt(result,
    error, final) after it: result when the server accepted, else the error and whether it was the last try.
    """

    def attempt() -> DeliveryResult:
        refused = send_once(message, settings, recipients)
        note = None
        if refused:
            note = "accepted, but refused for " + "; ".join(
                f"{r}: {_reply(c, m)}" for r, (c, m) in sorted(refused.items())
            )
        return DeliveryResult(sent=True, attempts=0, error=note, refused=tuple(sorted(refused)))

    return with_retries(
        attempt,
        retries=settings.retries,
        permanent=SmtpPermanentError,
        transient=SmtpTransientError,
        before_attempt=before_attempt,
        after_attempt=after_attempt,  # type: ignore[arg-type]  # only Smtp errors reach it
        sleep=sleep,
        backoff_base_s=backoff_base_s,
    )
