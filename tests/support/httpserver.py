"""A scripted loopback HTTP/1.1 server for tests: routes -> scripted responses, with a request log.

    from tests.support.httpserver import Reply, ScriptedServer

    with ScriptedServer() as srv:
        srv.route("/feed.xml", Reply(200, body=xml, headers={"Content-Type": "application/rss+xml"}, gzip=True))
        srv.route("/flaky", Reply(503, headers={"Retry-After": "1"}), Reply(200, body=b"ok"))  # script
        srv.redirect("/old", "/feed.xml", status=301)
        srv.route("/slow", Reply(200, body=b"x" * 100, trickle=(1, 0.5)))  # 1 byte every 0.5 s
        url = srv.url("/feed.xml")
        ...
        srv.requests_for("/flaky")  # [LoggedRequest(method, path, headers, arrived_at, ...), ...]

A route holds a script of replies: each request takes the next one and the last one repeats. A route
can also be a callable(LoggedRequest) -> Reply for conditional logic (ETag checks and the like).
Unknown paths get 404 (so /robots.txt is "missing" = allow all unless routed). The server binds
127.0.0.1 on a random port and runs in a daemon thread; every handler thread is a daemon too, so a test
that abandons a slow response does not hang the suite.
"""

from __future__ import annotations

import dataclasses
import gzip as _gzip
import socket
import ssl
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LoggedRequest", "Reply", "ScriptedServer", "gzip_bomb", "unresponsive_port"]


@dataclass(frozen=True)
class Reply:
    """One scripted response.

    status/headers/body: what to send. gzip/deflate: compress the body and set Content-Encoding.
    delay_s: wait before sending the status line (slow server / read timeout).
    trickle: (bytes_per_chunk, seconds_between_chunks) for slow bodies.
    content_length: None = correct length; an int = send this (lying) value; -1 = no Content-Length,
    close the connection at the end of the body (HTTP/1.0 style). chunked=True uses chunked encoding.
    drop_after: close the socket abruptly after this many body bytes (connection reset mid-body).
    hang: accept the request and never answer (the server thread sleeps up to hang_s).
    gate: hold the response (before the status line) until the test sets this Event, or gate_timeout_s
    passes; lets a test order events ("answer only after X happened") instead of guessing a delay.
    """

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    gzip: bool = False
    deflate: bool = False
    delay_s: float = 0.0
    trickle: tuple[int, float] | None = None
    content_length: int | None = None
    chunked: bool = False
    drop_after: int | None = None
    hang_s: float = 0.0
    gate: threading.Event | None = None
    gate_timeout_s: float = 20.0

    def header_items(self) -> list[tuple[str, str]]:
        """The scripted headers as (name, value) pairs, in order."""
        if isinstance(self.headers, Mapping):
            return list(self.headers.items())
        return list(self.headers)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it."""

    method: str
    path: str  # including the query string
    headers: dict[str, str]  # lower-case names (the last one wins on repeats)
    raw_headers: tuple[tuple[str, str], ...]
    arrived_at: float  # time.monotonic() when the request line was read
    client_port: int
    connection_id: int  # same value = same TCP connection (keep-alive)
    finished_at: float = 0.0  # set on the copy in the log once the reply is sent (0 if aborted)
    body_complete: bool = False  # set with finished_at: the whole scripted body was written

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name, or None."""
        return self.headers.get(name.lower())


Handler = Callable[[LoggedRequest], Reply]


@dataclass
class _Route:
    replies: list[Reply] = field(default_factory=list)
    handler: Handler | None = None
    served: int = 0

    def next(self, req: LoggedRequest) -> Reply:
        if self.handler is not None:
            return self.handler(req)
        i = min(self.served, len(self.replies) - 1)
        self.served += 1
        return self.replies[i]


def gzip_bomb(decompressed_size: int) -> bytes:
    """A gzip member that inflates to decompressed_size zero bytes (about 1000:1)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    out = []
    left = decompressed_size
    while left > 0:
        n = min(left, len(chunk))
        out.append(z.compress(chunk[:n]))
        left -= n
    out.append(z.flush())
    return b"".join(out)


def unresponsive_port() -> tuple[socket.socket, list[socket.socket], int]:
    """A loopback port where TCP connects hang (listen backlog filled, never accepted): connect timeouts.

    Returns (listener, fillers, port); close them all when done.
    """
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers: list[socket.socket] = []
    # Linux accepts backlog+1 connections into the queue; after that new SYNs are dropped.
    for _ in range(8):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.05)
    return lst, fillers, port


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedServer

    def process_request(self, request: Any, client_address: Any) -> None:
        # Runs on the accept thread, in accept (= connect) order, before any handler thread starts.
        self.owner._log_accept(int(client_address[1]))
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up mid-body (that is the point of many tests) are not errors.
        pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _connection_id = 0

    def setup(self) -> None:
        super().setup()
        # One handler instance serves every request of one TCP connection (keep-alive).
        self._connection_id = self.server.owner._next_connection_id()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self, head: bool = False) -> None:
        owner = self.server.owner
        arrived = time.monotonic()
        raw = tuple((k, v) for k, v in self.headers.items())
        req = LoggedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in raw},
            raw_headers=raw,
            arrived_at=arrived,
            client_port=self.client_address[1],
            connection_id=self._connection_id,
        )
        index = owner._log_arrival(req)
        complete = False
        try:
            reply = owner._reply_for(req)
            complete = self._send(reply, head)
        finally:
            owner._log_finished(index, complete)

    def _send(self, reply: Reply, head: bool) -> bool:
        """Send the reply; True when all of it was written (False: hang, drop, client went away)."""
        if reply.hang_s:
            time.sleep(reply.hang_s)
            self.close_connection = True
            return False
        if reply.gate is not None:
            reply.gate.wait(reply.gate_timeout_s)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        headers = reply.header_items()
        if reply.gzip:
            body = _gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        elif reply.deflate:
            body = zlib.compress(body)
            headers.append(("Content-Encoding", "deflate"))
        self.send_response(reply.status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif reply.content_length == -1:
            self.send_header("Connection", "close")
            self.close_connection = True
        elif "content-length" not in names:
            length = len(body) if reply.content_length is None else reply.content_length
            self.send_header("Content-Length", str(length))
        if reply.content_length is not None and reply.content_length not in (-1, len(body)):
            self.close_connection = True  # a lying length leaves the stream unusable
        self.end_headers()
        if head or reply.status in (204, 304) or 100 <= reply.status < 200:
            return True
        return self._write_body(body, reply)

    def _write_body(self, body: bytes, reply: Reply) -> bool:
        step, pause = reply.trickle if reply.trickle else (64 * 1024, 0.0)
        sent = 0
        try:
            while sent < len(body):
                piece = body[sent : sent + step]
                if reply.drop_after is not None and sent + len(piece) > reply.drop_after:
                    piece = piece[: reply.drop_after - sent]
                    self._write(piece, reply.chunked)
                    self.wfile.flush()
                    # RST instead of FIN so the client sees a broken connection, not a short body
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    return False
                self._write(piece, reply.chunked)
                self.wfile.flush()
                sent += len(piece)
                if pause and sent < len(body):
                    time.sleep(pause)
            if reply.chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
            return False
        return True

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)


class ScriptedServer:
    """The scripted server. Use as a context manager; routes can be added before or after start."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        """tls: a server-side SSLContext to serve HTTPS; the SNI names clients sent land in self.sni."""
        self.host = host
        self.tls = tls
        self.sni: list[str | None] = []
        self._routes: dict[str, _Route] = {}
        # reentrant: wait_for() predicates run with it held and may read self.requests
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._log: list[LoggedRequest] = []
        self._inflight_total = 0
        self._connections = 0
        self.accepted_ports: list[int] = []  # client port of every accepted TCP connection, in order
        self.peak_concurrency = 0  # most requests in flight at once, all paths
        self._httpd: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> ScriptedServer:
        """Bind 127.0.0.1 on a random port and serve in a daemon thread."""
        httpd = _Server((self.host, 0), _RequestHandler)
        httpd.owner = self
        self._port = int(httpd.server_address[1])
        if self.tls is not None:

            def record_sni(
                sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext
            ) -> None:
                with self._lock:
                    self.sni.append(name)

            self.tls.sni_callback = record_sni
            # The handshake runs in the handler thread on first read, so a client that never
            # finishes it cannot stall the accept loop.
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (safe to call twice)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (still known after stop(), for assertions)."""
        assert self._port is not None, "server not started"
        return self._port

    @property
    def base_url(self) -> str:
        """http(s)://127.0.0.1:<port>"""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        return self.base_url + path

    # ---- scripting ----
    def route(self, path: str, *replies: Reply | Handler) -> ScriptedServer:
        """Script a path (path includes the query string if the client sends one)."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            r = _Route(handler=replies[0])
        else:
            if not replies or not all(isinstance(x, Reply) for x in replies):
                raise TypeError("route() takes one handler or one or more Reply objects")
            r = _Route(replies=[x for x in replies if isinstance(x, Reply)])
        with self._lock:
            self._routes[path] = r
        return self

    def redirect(self, path: str, to: str, status: int = 301) -> ScriptedServer:
        """Answer path with a redirect to `to` (absolute URL or path)."""
        return self.route(path, Reply(status, headers={"Location": to}))

    # ---- log ----
    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    def requests_for(self, path: str) -> list[LoggedRequest]:
        """The requests whose path (with query string) is exactly `path`."""
        return [r for r in self.requests if r.path == path]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being served (finished_at is set on every logged request).

        The client can read a whole response a moment before the handler thread records finished_at.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight_total == 0, timeout)

    def wait_for(self, predicate: Callable[[ScriptedServer], bool], timeout: float = 20.0) -> bool:
        """Wait until predicate(self) holds; it is re-checked whenever a request arrives or finishes."""
        with self._idle:
            return self._idle.wait_for(lambda: predicate(self), timeout)

    @property
    def inflight(self) -> int:
        """Requests being served right now (all paths)."""
        return self._inflight_total

    def assert_no_connection(self, timeout: float = 20.0) -> None:
        """Assert that nothing has connected to this server so far, without sleeping and hoping.

        Makes one sentinel connection and waits until the server has accepted it: the kernel queues
        completed connects in order and the accept thread takes them in that order, so any connection
        made before this call (even one abandoned before sending a request) is in accepted_ports first.
        """
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            mine = s.getsockname()[1]
            with self._idle:
                seen = self._idle.wait_for(lambda: mine in self.accepted_ports, timeout)
            assert seen, "the sentinel connection was never accepted"
            with self._lock:
                before = self.accepted_ports[: self.accepted_ports.index(mine)]
        assert before == [], f"{len(before)} unexpected connection(s) from client ports {before}"

    def clear_log(self) -> None:
        """Forget the request log (routes and their script positions stay)."""
        with self._lock:
            self._log.clear()

    # ---- called by handler threads ----
    def _next_connection_id(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _log_accept(self, client_port: int) -> None:
        with self._lock:
            self.accepted_ports.append(client_port)
            self._idle.notify_all()

    def _reply_for(self, req: LoggedRequest) -> Reply:
        path_only = req.path.split("?", 1)[0]
        with self._lock:
            # routes may be written decoded ("/café") while clients send them percent-encoded
            route = (
                self._routes.get(req.path)
                or self._routes.get(path_only)
                or self._routes.get(urllib.parse.unquote(path_only))
            )
            if route is not None and route.handler is None:
                return route.next(req)
        if route is not None:
            return route.next(req)  # handler runs outside the lock; it may be slow
        return Reply(404, body=b"not found", headers={"Content-Type": "text/plain"})

    def _log_arrival(self, req: LoggedRequest) -> int:
        with self._lock:
            self._log.append(req)
            self._inflight_total += 1
            self.peak_concurrency = max(self.peak_concurrency, self._inflight_total)
            self._idle.notify_all()
            return len(self._log) - 1

    def _log_finished(self, index: int, complete: bool) -> None:
        with self._lock:
            self._inflight_total -= 1
            self._idle.notify_all()
            self._log[index] = dataclasses.replace(
                self._log[index], finished_at=time.monotonic(), body_complete=complete
            )
