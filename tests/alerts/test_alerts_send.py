"""alerts.send against raw loopback TCP servers that misbehave before any SMTP dialogue (greeting faults, silence)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alerts.send import SmtpPermanentError, SmtpTransientError, backoff_delay, deliver, send_once
from newswatch.config import SmtpSettings

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody\r\n"


@contextmanager
def raw_server(greeting: bytes | None) -> Iterator[tuple[int, list[int]]]:
    """Accepts connections on 127.0.0.1; sends `greeting` (or nothing) and keeps the socket open briefly."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    connections: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            connections.append(1)
            with conn:
                if greeting is not None:
                    conn.sendall(greeting)
                stop.wait(1.0 if greeting is None else 0.1)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield port, connections
    finally:
        stop.set()
        t.join(timeout=5)
        srv.close()


def settings(port: int, **kw) -> SmtpSettings:
    base = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "d@newswatch.example",
        "timeout_s": 2,
    }
    return SmtpSettings(**{**base, **kw})


def test_421_greeting_is_transient_and_retried():
    delays: list[float] = []
    with raw_server(b"421 4.3.2 Too busy, try later\r\n") as (port, conns):
        result = deliver(
            MESSAGE, settings(port, retries=2), ["b@example.org"], sleep=delays.append, backoff_base_s=1
        )
    assert not result.sent and result.attempts == 3 and len(conns) == 3
    assert delays == [1, 2]
    assert "421 4.3.2 Too busy, try later; will retry" in result.error


def test_554_greeting_is_permanent():
    delays: list[float] = []
    with raw_server(b"554 5.7.1 No SMTP service here\r\n") as (port, conns):
        result = deliver(MESSAGE, settings(port, retries=3), ["b@example.org"], sleep=delays.append)
    assert not result.sent and result.attempts == 1 and len(conns) == 1 and delays == []
    assert "554 5.7.1" in result.error and "not retried" in result.error


def test_a_silent_server_times_out_as_transient():
    with raw_server(None) as (port, _):
        with pytest.raises(SmtpTransientError, match="timed out|closed"):
            send_once(MESSAGE, settings(port, timeout_s=0.3), ["b@example.org"])


def test_nothing_listening_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    with pytest.raises(SmtpTransientError, match="refused"):
        send_once(MESSAGE, settings(port), ["b@example.org"])


def test_username_without_password_is_permanent(monkeypatch, smtp_server):
    monkeypatch.delenv("NEWSWATCH_SMTP_PASSWORD", raising=False)
    srv = smtp_server()
    with pytest.raises(SmtpPermanentError, match="NEWSWATCH_SMTP_PASSWORD"):
        send_once(MESSAGE, settings(srv.port, username="digest"), ["b@example.org"])
    assert srv.handler.data_commands == 0


def test_no_recipients_is_permanent():
    with pytest.raises(SmtpPermanentError, match="no recipients"):
        send_once(MESSAGE, settings(1), [])


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(n, 2.0, 60.0) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
