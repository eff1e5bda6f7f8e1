"""The scripted loopback server itself (tests/support/httpserver.py), checked with an independent client (http.client)."""

from __future__ import annotations

import gzip
import http.client
import socket
import time

import pytest

from tests.support.httpserver import Reply, ScriptedServer, gzip_bomb, unresponsive_port

pytestmark = pytest.mark.timeout(60)


def get(srv: ScriptedServer, path: str, headers: dict[str, str] | None = None, timeout: float = 5):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def test_script_advances_and_last_reply_repeats():
    with ScriptedServer() as srv:
        srv.route("/x", Reply(503, headers={"Retry-After": "2"}), Reply(200, body="ok"))
        r1, _ = get(srv, "/x")
        r2, b2 = get(srv, "/x")
        r3, b3 = get(srv, "/x")
    assert (r1.status, r1.getheader("Retry-After")) == (503, "2")
    assert (r2.status, b2, r3.status, b3) == (200, b"ok", 200, b"ok")


def test_unknown_path_is_404_and_log_records_headers_and_times():
    with ScriptedServer() as srv:
        t0 = time.monotonic()
        r, _ = get(srv, "/nope?q=1", headers={"User-Agent": "probe/1", "If-None-Match": '"e"'})
        assert srv.wait_idle()
        log = srv.requests
    assert r.status == 404
    assert len(log) == 1
    req = log[0]
    assert req.path == "/nope?q=1"
    assert req.header("User-Agent") == "probe/1"
    assert req.header("if-none-match") == '"e"'
    assert t0 <= req.arrived_at <= req.finished_at


def test_handler_route_and_query_fallback():
    with ScriptedServer() as srv:
        srv.route("/h", lambda req: Reply(200, body=req.header("x-echo") or ""))
        _, body = get(srv, "/h?anything", headers={"X-Echo": "hello"})
    assert body == b"hello"


def test_gzip_chunked_and_redirect():
    with ScriptedServer() as srv:
        srv.route("/g", Reply(200, body="zipped", gzip=True, chunked=True))
        srv.redirect("/old", "/g", 308)
        r, body = get(srv, "/g")
        r2, _ = get(srv, "/old")
    assert r.getheader("Content-Encoding") == "gzip"
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert gzip.decompress(body) == b"zipped"
    assert (r2.status, r2.getheader("Location")) == (308, "/g")


def test_trickle_is_slow_and_lying_length_is_sent():
    with ScriptedServer() as srv:
        srv.route("/t", Reply(200, body=b"abcd", trickle=(1, 0.1)))
        srv.route("/lie", Reply(200, body=b"short", content_length=1000))
        t0 = time.monotonic()
        _, body = get(srv, "/t")
        took = time.monotonic() - t0
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/lie")
        resp = conn.getresponse()
        declared = resp.getheader("Content-Length")
        with pytest.raises(http.client.IncompleteRead):
            resp.read()
        conn.close()
    assert body == b"abcd"
    assert took >= 0.3
    assert declared == "1000"


def test_drop_after_resets_the_connection():
    with ScriptedServer() as srv:
        srv.route("/d", Reply(200, body=b"x" * 10_000, drop_after=100))
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/d")
        resp = conn.getresponse()
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            resp.read()
        conn.close()


def test_hang_and_delay():
    with ScriptedServer() as srv:
        srv.route("/hang", Reply(hang_s=2))
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=0.3)
        conn.request("GET", "/hang")
        with pytest.raises(TimeoutError):
            conn.getresponse()
        conn.close()


def test_gzip_bomb_ratio():
    bomb = gzip_bomb(10_000_000)
    assert len(bomb) < 20_000
    assert len(gzip.decompress(bomb)) == 10_000_000


def test_unresponsive_port_hangs_connects():
    lst, fillers, port = unresponsive_port()
    try:
        s = socket.socket()
        s.settimeout(0.3)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            s.connect(("127.0.0.1", port))
        assert time.monotonic() - t0 >= 0.25
        s.close()
    finally:
        for x in [lst, *fillers]:
            x.close()


def test_peak_concurrency_and_connection_ids():
    import threading

    with ScriptedServer() as srv:
        # Each response is held until all three requests are in flight (or 20 s), so the overlap does
        # not depend on threads starting within a time window. A server that served requests one at
        # a time would never reach 3 in flight: peak 1 after the 20 s gates.
        all_in = threading.Event()

        def held(req: object) -> Reply:
            if srv.wait_for(lambda s: s.inflight >= 3, timeout=20):
                all_in.set()
            return Reply(200, body=b"x", gate=all_in, gate_timeout_s=20)

        srv.route("/slow", held)
        threads = [threading.Thread(target=get, args=(srv, "/slow", None, 30)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert srv.peak_concurrency == 3
        assert len({r.connection_id for r in srv.requests}) == 3
        srv.clear_log()
        assert srv.requests == []


def test_route_rejects_bad_arguments():
    srv = ScriptedServer()
    with pytest.raises(TypeError):
        srv.route("/x")
    with pytest.raises(TypeError):
        srv.route("/x", Reply(), "not a reply")  # type: ignore[arg-type]
