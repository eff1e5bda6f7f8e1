"""The SMTP password from a Prefect Secret block (smtp.password_block) as well as NEWSWATCH_SMTP_PASSWORD: a real
temporary Prefect server holds the block, a real aiosmtpd server with AUTH checks the login (issue 13 §5)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.send import SmtpPermanentError, SmtpTransientError, deliver, send_once, smtp_password
from newswatch.config import SmtpSettings

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]

Settings = SmtpSettings


USER, PASSWORD = "digest", "s3cret-from-the-block"
MESSAGE = b"From: nw@example.org\r\nTo: a@example.org\r\nSubject: t\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        Secret(value=PASSWORD).save("smtp-password")
        Secret(value="not-the-password").save("stale-password")
        yield PREFECT_API_URL.value()


class _Handler:
    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.logins: list[tuple[bytes, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(envelope.original_content or envelope.content)
        return "250 2.0.0 OK queued"

    def authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
        self.logins.append((data.login if isinstance(data, LoginPassword) else b"", ok))
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_auth() -> Iterator[tuple[_Handler, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _Handler()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, authenticator=handler.authenticator,
                     auth_require_tls=False)
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()


def _settings(port: int, block: str | None) -> SmtpSettings:
    return Settings(host="127.0.0.1", port=port, starttls=False, username=USER, sender="nw@example.org",
                    timeout_s=10, retries=0, password_block=block)


def test_the_password_comes_from_the_secret_block(prefect_api: str, smtp_auth: tuple[_Handler, int],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = smtp_auth
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD", raising=False)
    settings = _settings(port, "smtp-password")
    assert smtp_password(settings) == PASSWORD
    assert send_once(MESSAGE, settings, ["a@example.org"]) == {}
    assert handler.logins == [(USER.encode(), True)]
    assert len(handler.accepted) == 1


def test_the_environment_wins_over_the_block(prefect_api: str, smtp_auth: tuple[_Handler, int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = smtp_auth
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", PASSWORD)
    result = deliver(MESSAGE, _settings(port, "stale-password"), ["a@example.org"], sleep=lambda s: None)
    assert result.sent
    assert handler.logins == [(USER.encode(), True)]


def test_a_missing_block_is_a_config_mistake_before_any_smtp_session(
    prefect_api: str, smtp_auth: tuple[_Handler, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp_auth
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD", raising=False)
    with pytest.raises(SmtpPermanentError, match="no Prefect Secret block named 'no-such-block'"):
        send_once(MESSAGE, _settings(port, "no-such-block"), ["a@example.org"])
    result = deliver(MESSAGE, _settings(port, "no-such-block"), ["a@example.org"], sleep=lambda s: None)
    assert (result.sent, result.attempts) == (False, 1)  # permanent: not retried
    assert handler.logins == [] and handler.accepted == []


def test_an_unreachable_prefect_api_is_transient(prefect_api: str, smtp_auth: tuple[_Handler, int],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    handler, port = smtp_auth
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nobody listens once the socket is closed
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{dead}/api", PREFECT_CLIENT_MAX_RETRIES: 0}):
        with pytest.raises(SmtpTransientError, match="cannot read Prefect Secret block 'smtp-password'"):
            send_once(MESSAGE, _settings(port, "smtp-password"), ["a@example.org"])
    assert handler.logins == []


def test_no_block_and_no_environment_is_the_old_error(smtp_auth: tuple[_Handler, int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, port = smtp_auth
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD", raising=False)
    with pytest.raises(SmtpPermanentError, match="neither NEWSWATCH_SMTP_PASSWORD nor smtp.password_block"):
        send_once(MESSAGE, _settings(port, None), ["a@example.org"])
