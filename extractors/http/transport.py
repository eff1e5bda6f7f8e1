"""Connections only to checked addresses (SSRF pinning), every read and write under the response's deadline."""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore

from extractors.netguard import Target, ip_refusal


class _Deadline(Exception):
    """The total deadline of one response passed."""


@dataclass
class _RequestContext:
    """Per-request state the network backend reads from the calling thread."""

    deadline: float  # time.monotonic() value
    pins: dict[tuple[str, int], list[str]]
    deadline_hit: bool = False

    def clamp(self, timeout: float | None) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.deadline_hit = True
            raise _Deadline()
        return remaining if timeout is None else min(timeout, remaining)


class _PinnedStream(httpcore.NetworkStream):
    """A socket stream whose reads and writes never outlive the request's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream, backend: _PinnedBackend) -> None:
        self._inner = inner
        self._backend = backend

    def _timeout(self, timeout: float | None, exc: type[Exception]) -> float | None:
        ctx = self._backend.context()
        if ctx is None:
            return timeout
        try:
            return ctx.clamp(timeout)
        except _Deadline:
            raise exc("total deadline passed") from None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        t = self._timeout(timeout, httpcore.ReadTimeout)
        try:
            return self._inner.read(max_bytes, t)
        except httpcore.ReadTimeout:
            ctx = self._backend.context()
            if ctx is not None and time.monotonic() >= ctx.deadline:
                ctx.deadline_hit = True
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name (not the pinned IP), so SNI and certificate checks
        # are done against the name the user asked for.
        t = self._timeout(timeout, httpcore.ConnectTimeout)
        return _PinnedStream(self._inner.start_tls(ssl_context, server_hostname, t), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the guard checked for this request; never resolves names itself.

    httpcore asks to connect to (host, port) of the URL; we look the pair up in the calling thread's
    request context and connect to the pinned, already-checked IP instead. A host without a pin is
    refused, so no code path can reach the system resolver between check and connect (DNS rebinding).
    """

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._local = threading.local()
        self._allow_private = allow_private

    def context(self) -> _RequestContext | None:
        return getattr(self._local, "ctx", None)

    @contextmanager
    def bound(self, ctx: _RequestContext) -> Iterator[None]:
        self._local.ctx = ctx
        try:
            yield
        finally:
            self._local.ctx = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        ctx = self.context()
        if ctx is None:
            raise httpcore.ConnectError(f"refusing to connect to {host}:{port} outside a checked request")
        ips = ctx.pins.get((host.lower(), port))
        if not ips:
            raise httpcore.ConnectError(f"refusing to connect to {host}:{port}: address was not checked")
        last: Exception | None = None
        for ip in ips:
            # Defence in depth: the pin came from the guard, check it again right before connect().
            reason = ip_refusal(ipaddress.ip_address(ip), allow_private=self._allow_private)
            if reason is not None:
                raise httpcore.ConnectError(f"refusing to connect to {host}: {reason}")
            try:
                t = ctx.clamp(timeout)
            except _Deadline:
                raise httpcore.ConnectTimeout("total deadline passed") from None
            try:
                stream = self._inner.connect_tcp(ip, port, t, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
                continue
            return _PinnedStream(stream, self)
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise httpcore.ConnectError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _header_map(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw:
        # Repeated headers: the first one wins (what browsers do for Content-Type and Location).
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1").strip())
    return out


def _drain(resp: httpcore.Response, limit: int = 64 * 1024) -> None:
    """Read and drop a small error/redirect body so the connection can be reused (keep-alive)."""
    n = 0
    try:
        for chunk in resp.iter_stream():
            n += len(chunk)
            if n > limit:
                break  # a big error page: closing the connection is cheaper than reading it
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.TimeoutException):
        pass  # the status line is what counts; a broken error body changes nothing


_UNREACHABLE = " unreachable ("


def _unreachable(target: Target, reason: str) -> str:
    """The detail of a connection that could not be made: it names the host, not the URL's path (or robots.txt)."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"host {host}:{target.port}{_UNREACHABLE}{reason})"


def _is_unreachable(detail: str) -> bool:
    return detail.startswith("host ") and _UNREACHABLE in detail.split(";", 1)[0]


def _connect_reason(e: Exception) -> str:
    """'connection refused' from '[Errno 111] Connection refused' (the OS words, without the number)."""
    words = str(e).split("] ", 1)[-1].strip().rstrip(".")
    return words[:1].lower() + words[1:] if words else "connection failed"


def _error_kind(e: Exception) -> str:
    if isinstance(e, httpcore.ConnectError):
        return "connection failed"
    if isinstance(e, httpcore.ReadError):
        return "connection broken while reading"
    if isinstance(e, httpcore.RemoteProtocolError):
        return "server broke the HTTP protocol"
    return type(e).__name__
