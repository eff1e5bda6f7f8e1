"""Webhook and chat channels through apprise, against a real loopback HTTP receiver: never twice, retried when
transient, failed (one line) when permanent, tokens never stored."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.digest_stage import run_digest
from newswatch.config import parse_config

REPO = Path(__file__).resolve().parents[2]


class Receiver:
    """A stdlib HTTP server on 127.0.0.1:<random>; each POST takes the next status of the script (then 200)."""

    def __init__(self, script: list[int] | None = None, port: int = 0) -> None:
        self.script = list(script or [])
        self.posts: list[tuple[str, str, bytes]] = []  # (path, content type, body) of every request
        self.accepted: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.append((self.path, self.headers.get("Content-Type", ""), body))
                status = outer.script.pop(0) if outer.script else 200
                if status == 200:
                    outer.accepted.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    stopped = False

    def stop(self) -> None:
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[type[Receiver]]:
    started: list[Receiver] = []

    def make(script: list[int] | None = None, port: int = 0) -> Receiver:
        r = Receiver(script, port)
        started.append(r)
        return r

    yield make  # type: ignore[misc]
    for r in started:
        if not r.stopped:
            r.stop()


def _config(channel: str) -> object:
    return parse_config(f'[[watches]]\nname = "rotherham"\nchannels = ["{channel}"]\n', origin="test")


def _run(warehouse, cfg, tmp_path, now, **kw):
    return run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=lambda s: None,
                      backoff_base_s=0, **kw)


def test_a_digest_is_posted_once_to_a_json_webhook(warehouse, receiver, now, tmp_path) -> None:
    rx = receiver()
    cfg = _config(f"json://127.0.0.1:{rx.port}/hooks/desk")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, cfg, tmp_path, now)
    assert o.status == "written" and "channels: json://127.0.0.1:" in o.detail and o.detail.endswith(": sent")
    assert len(rx.posts) == 1 and rx.posts[0][0] == "/hooks/desk"
    payload = json.loads(rx.accepted[0])
    assert payload["title"].startswith("[rotherham] 1 new story: Police chiefs to be investigated")
    assert "1. Police chiefs to be investigated (Sky News, 2026-11-22)" in payload["message"]
    assert "https://skynews.example/a1" in payload["message"]
    # nothing new: nothing posted again
    again = _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert again.status == "empty" and len(rx.posts) == 1
    assert warehouse.query("select state, attempts, last_error from channel_deliveries") == [("sent", 1, None)]


def test_a_transient_failure_is_retried_and_sent_once(warehouse, receiver, now, tmp_path) -> None:
    rx = receiver([503, 429])
    cfg = _config(f"json://127.0.0.1:{rx.port}/h")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, cfg, tmp_path, now)
    assert o.status == "written" and len(rx.posts) == 3 and len(rx.accepted) == 1
    state, attempts, err = warehouse.query("select state, attempts, last_error from channel_deliveries")[0]
    assert (state, attempts) == ("sent", 3) and "HTTP 429" in err  # the last failure is kept as history


def test_a_permanent_failure_is_not_retried_and_fails_the_digest_in_one_line(warehouse, receiver, now,
                                                                               tmp_path) -> None:
    rx = receiver([404])
    cfg = _config(f"json://127.0.0.1:{rx.port}/gone")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, cfg, tmp_path, now)
    assert o.status == "failed" and len(rx.posts) == 1
    assert "HTTP 404" in o.detail and "not retried" in o.detail and "\n" not in o.detail
    assert warehouse.query("select state, attempts from channel_deliveries") == [("failed", 1)]
    # a later run does not try it again
    _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert len(rx.posts) == 1


def test_a_receiver_down_for_the_whole_run_gets_it_next_run_exactly_once(warehouse, receiver, now,
                                                                          tmp_path) -> None:
    down = receiver()
    port = down.port
    down.stop()  # nothing listens there now: connection refused
    cfg = _config(f"json://127.0.0.1:{port}/h")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, cfg, tmp_path, now)
    assert o.status == "failed" and "Connection error" in o.detail and "gave up after 4 tries" in o.detail
    assert warehouse.query("select state, attempts from channel_deliveries") == [("pending", 4)]
    # the receiver comes back on the same port; the next run delivers the waiting notification, and its own
    try:
        back = receiver(port=port)
    except OSError:
        pytest.skip(f"port {port} was taken by another process meanwhile")
    warehouse.add("b1", title="Council apologises", source="ITV", published=now + timedelta(minutes=10))
    nxt = _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert nxt.status == "written"
    titles = [json.loads(b)["title"] for b in back.accepted]
    assert len(titles) == 2 and "Police chiefs" in titles[0] and "Council apologises" in titles[1]
    assert {r[0] for r in warehouse.query("select state from channel_deliveries")} == {"sent"}
    _run(warehouse, cfg, tmp_path, now + timedelta(hours=2))
    assert len(back.posts) == 2


def test_an_interrupted_send_is_sent_again_by_the_next_run(warehouse, receiver, now, tmp_path) -> None:
    """The crash window: 'sending' left behind means it may not have arrived; at-least-once, like email."""
    rx = receiver()
    cfg = _config(f"json://127.0.0.1:{rx.port}/h")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    _run(warehouse, cfg, tmp_path, now)
    warehouse.query("update core.channel_outbox set state = 'sending'")
    _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert len(rx.accepted) == 2 and rx.accepted[0] == rx.accepted[1]
    assert warehouse.query("select state, attempts from channel_deliveries") == [("sent", 2)]


def test_channels_delivered_beside_a_recovered_email_are_reported(warehouse, receiver, smtp_server, now,
                                                                   tmp_path) -> None:
    """A run that only resends an interrupted email still says how the waiting channel notifications went."""
    rx = receiver([503, 503, 503, 503])  # the whole first run: stays pending for the next
    srv = smtp_server()
    cfg = parse_config(f'[smtp]\nhost = "127.0.0.1"\nport = {srv.port}\nstarttls = false\n'
                       f'sender = "digest@newswatch.example"\n[[watches]]\nname = "rotherham"\n'
                       f'recipients = ["desk@example.org"]\nchannels = ["json://127.0.0.1:{rx.port}/h"]\n',
                       origin="test")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    first = _run(warehouse, cfg, tmp_path, now)
    assert first.status == "failed" and len(srv.accepted) == 1
    warehouse.query("update core.outbox set state = 'sending'")  # killed after the email went out
    nxt = _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert nxt.recovered and len(srv.accepted) == 2 and len(rx.accepted) == 1
    assert "channels: json://127.0.0.1:" in nxt.detail and nxt.detail.endswith(": sent")


def test_form_webhooks_and_tokens_from_the_environment_are_never_stored(warehouse, receiver, now, tmp_path,
                                                                         monkeypatch) -> None:
    rx = receiver()
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK", f"form://127.0.0.1:{rx.port}/secret-token-123")
    cfg = _config("env:NEWSWATCH_TEST_HOOK")
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, cfg, tmp_path, now)
    assert o.status == "written"
    path, ctype, body = rx.posts[0]
    assert path == "/secret-token-123" and ctype.startswith("application/x-www-form-urlencoded")
    assert urllib.parse.parse_qs(body.decode())["title"][0].startswith("[rotherham] 1 new story")
    assert warehouse.query("select channel from channel_deliveries") == [("env:NEWSWATCH_TEST_HOOK",)]
    assert b"secret-token-123" not in Path(warehouse.path).read_bytes()


def test_an_unset_environment_channel_fails_in_one_line(warehouse, now, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NEWSWATCH_TEST_HOOK", raising=False)
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    o = _run(warehouse, _config("env:NEWSWATCH_TEST_HOOK"), tmp_path, now)
    assert o.status == "failed" and "environment variable NEWSWATCH_TEST_HOOK is not set" in o.detail


def test_a_channel_removed_from_the_config_is_closed_not_kept_pending(warehouse, now, tmp_path) -> None:
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    _run(warehouse, _config("json://127.0.0.1:9/h"), tmp_path, now)  # port 9: refused; stays pending
    assert warehouse.query("select state from channel_deliveries") == [("pending",)]
    cfg = parse_config('[[watches]]\nname = "rotherham"\n', origin="test")
    _run(warehouse, cfg, tmp_path, now + timedelta(hours=1))
    assert warehouse.query("select state, last_error from channel_deliveries") == [
        ("failed", "channel no longer configured")]


@pytest.mark.parametrize("url", ["nope://x", "slack://", "json:/missing-slashes"])
def test_a_bad_channel_url_is_one_line_and_a_non_zero_exit(tmp_path: Path, url: str) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text(f'[[watches]]\nname = "climate"\nchannels = ["{url}"]\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "config", "check", "--config", str(cfg)],
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "watch 'climate': channels: channel" in lines[0]
    assert "is not a notification URL apprise understands" in lines[0]
