"""The one hardened HTTP client for feeds, pages and robots.txt (timeouts, deadline, caps, SSRF pinning, politeness).

Every request goes through the same path:

    check_url (scheme, userinfo, port)      -> blocked
    resolve once, check every address       -> blocked          (extractors/netguard.py)
    robots.txt of the host (cached)         -> blocked
    per-host slot (concurrency + delay)
    GET over a pinned connection            -> the TCP connection goes to an address that was checked
    status: 3xx -> next hop (re-checked from the top), 304, 410, 408/429/5xx -> retry with backoff
    body read with a total deadline and a cap on DECOMPRESSED bytes, binary content sniffed

and ends as one FetchResult; nothing raises out of fetch()/fetch_many() for a network problem.
docs/fetching.md explains each policy and setting.
"""

from __future__ import annotations

import email.utils
import ipaddress
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from extractors.netguard import (
    ResolutionError,
    Resolver,
    Target,
    check_url,
    ip_refusal,
    resolve_checked,
    system_resolver,
)
from extractors.robots import MAX_ROBOTS_BYTES, RobotsCache, RobotsRules, parse_robots, robots_answer
from extractors.sniff import SNIFF_BYTES, sniff
from extractors.urls import is_web_url
from newswatch.config import FetchSettings
from newswatch.errors import BlockedError
from newswatch.models import FetchResult

KINDS = ("feed", "page", "robots")
REDIRECT_CODES = (301, 302, 303, 307, 308)
PERMANENT_REDIRECT_CODES = (301, 308)


class HttpClass(StrEnum):
    """What an HTTP status code means to the fetcher: the one decision; docs/fetching.md has the table."""

    OK = "ok"  # 2xx
    NOT_MODIFIED = "not_modified"  # 304
    REDIRECT = "redirect"  # 301/302/303/307/308: followed (without a Location: terminal http_error)
    GONE = "gone"  # 410
    TRANSIENT = "transient"  # retried now (up to `retries`) and, failing that, next run
    TERMINAL = "terminal"  # final for this URL: not retried now nor next run


# 5xx codes that say the server will never serve this request, however often we ask (RFC 9110 15.6,
# RFC 2295, RFC 5842, RFC 2774). Every other 5xx is the server's trouble now, Cloudflare's 520-524 (the origin
# failed, refused, timed out) and proxies' 598/599 included.
TERMINAL_5XX = frozenset({501, 505, 506, 508, 510})
TRANSIENT_4XX = frozenset({408, 429})  # Request Timeout, Too Many Requests: ask again later


def http_class(code: int) -> HttpClass:
    """The class of an HTTP status code (any integer; unknown codes follow their hundred)."""
    if 200 <= code < 300:
        return HttpClass.OK
    if code == 304:
        return HttpClass.NOT_MODIFIED
    if code in REDIRECT_CODES:
        return HttpClass.REDIRECT
    if code == 410:
        return HttpClass.GONE
    if code in TRANSIENT_4XX or (500 <= code < 600 and code not in TERMINAL_5XX):
        return HttpClass.TRANSIENT
    return HttpClass.TERMINAL


# The statuses retried within a run (derived, for readers of the old name).
RETRY_STATUS = frozenset(c for c in range(100, 600) if http_class(c) is HttpClass.TRANSIENT)
TRANSIENT_FETCH_STATUSES = frozenset({"timeout", "error"})  # no usable answer: the next run asks again


def is_transient(status: str, http_status: int | None) -> bool:
    """Is a fetch outcome worth trying again next run? The value of FetchResult.transient, decided here only.

    timeout and error (DNS, connect, reset, TLS, corrupt or cut-off body, redirect loops) are; an http_error is
    when its code is TRANSIENT; ok, not_modified, gone, blocked, too_large, not_html and other codes are not.
    """
    if status in TRANSIENT_FETCH_STATUSES:
        return True
    return status == "http_error" and http_status is not None and http_class(http_status) is HttpClass.TRANSIENT
HOST_PAUSE_STATUS = frozenset({429, 503})  # a Retry-After with these pauses the whole host
# Crawl-delay is a site's wish; above this we treat it as this (one page a minute is already slow).
MAX_CRAWL_DELAY_S = 60.0

_ACCEPT = {
    "feed": (
        "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
        "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
    ),
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}

# Content types that can never be a page or a feed: refused from the header, before reading the body.
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/msword",
        "application/x-shockwave-flash",
        "application/java-archive",
        "application/x-msdownload",
        "application/wasm",
        "application/postscript",
        "application/epub+zip",
    }
)


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


class _HostGate:
    """Politeness for one host: at most N requests at once, and starts spaced by a delay."""

    def __init__(self, concurrency: int, delay_s: float) -> None:
        self._sem = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._next_start = 0.0
        self.delay_s = delay_s
        # Set when the host asked for a pause longer than max_retry_after_s: (status, seconds).
        self.closed: tuple[int, float] | None = None

    def pause(self, seconds: float) -> None:
        """The host said Retry-After: no request to it starts before that, whichever page it is for."""
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)

    def close_for_run(self, status: int, seconds: float) -> None:
        with self._lock:
            self.closed = (status, seconds)

    def set_delay(self, delay_s: float) -> None:
        with self._lock:
            self.delay_s = max(self.delay_s, delay_s)

    def ready_at(self) -> float:
        """Earliest monotonic time the next request to this host may start."""
        with self._lock:
            return self._next_start

    @contextmanager
    def slot(self) -> Iterator[None]:
        self._sem.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self.delay_s
            if start > now:
                time.sleep(start - now)
            yield
        finally:
            self._sem.release()


class _Scheduler:
    """Hands fetch_many's URLs to worker threads, host by host, so no worker sleeps on a busy host.

    A worker takes the next URL of the host with the fewest URLs in progress, and among those the one
    whose politeness slot opens first. Handing out URLs in list order instead lets every worker sleep
    on a host's delay while other hosts sit idle (measured: 10 hosts x 10 pages at 1 s delay took
    12.3 s with 8 workers instead of about 11).
    """

    def __init__(self, urls: Sequence[str], gate_for: Callable[[str], _HostGate]) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, list[int]] = {}
        self._key_of: dict[int, str] = {}
        for i, u in enumerate(urls):
            try:
                key = _origin(u)[1]
            except ValueError:
                key = ""
            self._queues.setdefault(key, []).append(i)
            self._key_of[i] = key
        for q in self._queues.values():
            q.reverse()  # pop() from the end = list order
        self._claimed = dict.fromkeys(self._queues, 0)
        self._gate_for = gate_for

    def take(self) -> int | None:
        with self._lock:
            best: tuple[int, float, str] | None = None
            for key, q in self._queues.items():
                if not q:
                    continue
                cand = (self._claimed[key], self._gate_for(key).ready_at(), key)
                if best is None or cand < best:
                    best = cand
            if best is None:
                return None
            key = best[2]
            self._claimed[key] += 1
            return self._queues[key].pop()

    def done(self, i: int) -> None:
        with self._lock:
            self._claimed[self._key_of[i]] -= 1


@dataclass
class _Exchange:
    """One request/response (or its failure), before classification."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: str = "ok"  # ok | too_large | not_html | timeout | error | decode_error
    detail: str = ""
    retry_now: bool = False  # worth another try within this run (a transient status or a reset connection)
    attempts: int = 1  # tries for this hop, set by _exchange_with_retries


def _header_map(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw:
        # Repeated headers: the first one wins (what browsers do for Content-Type and Location).
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1").strip())
    return out


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(mime type lower case, charset lower case) from a Content-Type header value."""
    if not value:
        return None, None
    parts = value.split(";")
    mime = parts[0].strip().lower() or None
    charset = None
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip("'\"").lower() or None
    return mime, charset


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or invalid."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


def _binary_mime(mime: str | None) -> bool:
    if mime is None:
        return False
    if mime.endswith("+xml") or mime.endswith("+json"):
        return False
    return mime.startswith(_BINARY_PREFIXES) or mime in _BINARY_TYPES


class _Decoder:
    """Content-Encoding decoder that never produces more than `cap` bytes (gzip bombs)."""

    def __init__(self, encoding: str | None) -> None:
        enc = (encoding or "identity").strip().lower()
        self.encoding = enc
        self._finished = False
        self._extra_member = False
        self._fed = False
        if enc in ("gzip", "x-gzip"):
            self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = None  # decided on the first bytes: zlib-wrapped or raw deflate
        elif enc in ("identity", ""):
            self._z = False
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode a chunk, producing at most limit+1 bytes (one more than allowed shows the cap was hit)."""
        if self._z is False:
            return data[: limit + 1]
        self._fed = self._fed or bool(data)
        if self._z is None:
            wbits = (
                zlib.MAX_WBITS
                if data[:1]
                and (data[0] & 0x0F) == 8
                and len(data) > 1
                and ((data[0] << 8) | data[1]) % 31 == 0
                else -zlib.MAX_WBITS
            )
            self._z = zlib.decompressobj(wbits)
        out = bytearray()
        chunk = data
        while chunk and not self._finished:
            if self._z.eof:
                # Bytes after the end of the stream: another gzip member (RFC 1952 allows several), or
                # trailing junk that browsers ignore. Try a new member; junk ends decoding quietly.
                if self.encoding not in ("gzip", "x-gzip"):
                    self._finished = True
                    break
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._extra_member = True
            try:
                piece = self._z.decompress(chunk, limit + 1 - len(out))
            except zlib.error:
                if not self._extra_member:
                    raise
                self._finished = True
                break
            out += piece
            if len(out) > limit:
                break
            chunk = self._z.unconsumed_tail or (self._z.unused_data if self._z.eof else b"")
        return bytes(out)

    def truncated(self) -> bool:
        """True when the compressed stream ended before its end marker: the body was cut off in transfer.

        zlib decodes a prefix without complaint, so without this check half a gzip body (the connection
        closed early, Content-Length matching what was sent) is stored as a complete page or feed.
        """
        return self._fed and not self._finished and self._z not in (None, False) and not self._z.eof


class Fetcher:
    """The hardened HTTP client. A context manager; thread-safe; one instance per run.

    fetch() and fetch_many() never raise for network trouble: every outcome is a FetchResult status
    (ok, not_modified, too_large, not_html, blocked, timeout, error, http_error, gone).
    """

    def __init__(self, settings: FetchSettings, *, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self._resolver: Callable[[str, int], list[str]] = resolver or system_resolver
        self._backend = _PinnedBackend(settings.allow_private_networks)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=None,  # our own semaphores bound concurrency
            max_keepalive_connections=max(4, settings.total_concurrency),
            keepalive_expiry=15.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=self._backend,
        )
        self._total = threading.BoundedSemaphore(settings.total_concurrency)
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_failed: dict[str, FetchResult] = {}
        # robots.txt kept across runs: the pipeline sets warehouse callbacks (RFC 9309 2.4); none = fetch every run
        self.robots_cache = RobotsCache()
        self._closed = False
        self._dns = ThreadPoolExecutor(
            max_workers=max(2, settings.total_concurrency), thread_name_prefix="newswatch-dns"
        )

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._pool.close()
            self._dns.shutdown(wait=False, cancel_futures=True)

    # ---- public API --------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        kind: str = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET one URL (following redirects) and classify the outcome. Never raises for network problems."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        res = self._fetch_any(url, kind, etag, last_modified)
        return replace(res, transient=is_transient(res.status, res.http_status))

    def _fetch_any(self, url: str, kind: str, etag: str | None, last_modified: str | None) -> FetchResult:
        started = time.monotonic()
        try:
            return self._fetch(url, kind, etag, last_modified, started)
        except ResolutionError as e:
            return FetchResult(
                url=url,
                final_url=url,
                status="timeout" if e.timed_out else "error",
                detail=f"{e}; will retry next run",
                elapsed_s=_since(started),
            )
        except BlockedError as e:
            return FetchResult(
                url=url, final_url=url, status="blocked", detail=str(e), elapsed_s=_since(started)
            )
        except Exception as e:  # noqa: BLE001 - one URL never fails a run; the reason is recorded
            return FetchResult(
                url=url,
                final_url=url,
                status="error",
                detail=f"internal error: {type(e).__name__}: {e}",
                elapsed_s=_since(started),
            )

    def fetch_many(
        self,
        urls: Sequence[str],
        *,
        kind: str = "page",
        validators: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> list[FetchResult]:
        """Fetch many URLs concurrently (total_concurrency threads, per-host politeness); same order as urls."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not urls:
            return []
        validators = validators or {}
        results: list[FetchResult | None] = [None] * len(urls)
        sched = _Scheduler(urls, self._gate)

        def work() -> None:
            while (i := sched.take()) is not None:
                etag, lm = validators.get(urls[i], (None, None))
                try:
                    results[i] = self.fetch(urls[i], kind=kind, etag=etag, last_modified=lm)
                finally:
                    sched.done(i)

        workers = min(self.settings.total_concurrency, len(urls))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newswatch-fetch") as pool:
            if self.settings.obey_robots and kind != "robots" and self.settings.per_host_delay_s > 0:
                # robots.txt of every new host first, all hosts in parallel: otherwise a worker that
                # fetches robots.txt then sleeps out the host delay before the real request, while
                # other hosts wait for a free worker. Without a delay nobody sleeps, and this phase
                # would only add a barrier (measured: 40 x 10 pages 4.9 s -> 5.4 s).
                firsts: dict[str, str] = {}
                for u in urls:
                    try:
                        firsts.setdefault(_origin(u)[0], u)
                    except ValueError:
                        continue
                with self._lock:
                    todo = [u for origin, u in firsts.items() if origin not in self._robots and is_web_url(u)]
                list(pool.map(self._warm_robots, todo))
            for fut in [pool.submit(work) for _ in range(workers)]:
                fut.result()
        return [r for r in results if r is not None]

    def _warm_robots(self, url: str) -> None:
        """Load robots.txt for a URL's host, but only if the SSRF guard lets us talk to that host at all."""
        try:
            target = check_url(url, allow_private=self.settings.allow_private_networks)
            resolve_checked(target, self._resolve_in_time, allow_private=self.settings.allow_private_networks)
        except (BlockedError, ResolutionError):
            return  # the page fetch reports it
        self.robots_for(url)

    def robots_for(self, url: str) -> RobotsRules:
        """The robots.txt rules for the URL's host (fetched once per Fetcher, then cached)."""
        origin, host_key = _origin(url)
        with self._lock:
            cached = self._robots.get(origin)
            if cached is not None:
                return cached
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt request per host even when many pages start at once
            with self._lock:
                cached = self._robots.get(origin)
            if cached is not None:
                return cached
            rules = self._load_robots(origin)
            with self._lock:
                self._robots[origin] = rules
            if rules.crawl_delay:
                self._gate(host_key).set_delay(min(rules.crawl_delay, MAX_CRAWL_DELAY_S))
            return rules

    def host_delay(self, url: str) -> float:
        """Seconds between request starts to this URL's host: max(per_host_delay_s, capped Crawl-delay)."""
        return self._gate(_origin(url)[1]).delay_s

    # ---- internals ---------------------------------------------------------------------------

    def _resolve_in_time(self, host: str, port: int) -> list[str]:
        """Run the resolver with connect_timeout_s as its limit (getaddrinfo has no timeout of its own)."""
        fut = self._dns.submit(self._resolver, host, port)
        try:
            return fut.result(timeout=self.settings.connect_timeout_s)
        except FutureTimeout:
            # The lookup thread finishes on its own later; this request does not wait for it.
            raise ResolutionError(
                f"resolving {host} took longer than {self.settings.connect_timeout_s:g}s", timed_out=True
            ) from None

    def _robots_failure(self, url: str) -> FetchResult | None:
        with self._lock:
            return self._robots_failed.get(_origin(url)[0])

    def _load_robots(self, origin: str) -> RobotsRules:
        res = self.robots_cache.fetch(origin, lambda: self.fetch(origin + "/robots.txt", kind="robots"))
        if res.status not in ("ok", "not_modified"):
            with self._lock:
                self._robots_failed[origin] = res
        answer = robots_answer(res)
        if answer == "rules":
            return parse_robots(res.body, self.settings.user_agent)
        if answer == "missing":
            return RobotsRules.allow_everything("missing")
        # 5xx, 429, timeouts, connection errors, refused redirects: RFC 9309 2.3.1.4, assume complete
        # disallow; the cache lasts one run, so the next run tries again.
        return RobotsRules.deny_everything(f"unreachable ({res.detail or res.status})")

    def _gate(self, host_key: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host_key)
            if gate is None:
                gate = _HostGate(self.settings.per_host_concurrency, self.settings.per_host_delay_s)
                self._gates[host_key] = gate
            return gate

    def _cap(self, kind: str) -> int:
        if kind == "feed":
            return self.settings.max_feed_bytes
        if kind == "robots":
            return MAX_ROBOTS_BYTES
        return self.settings.max_page_bytes

    def _fetch(
        self, url: str, kind: str, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        s = self.settings
        current = url
        seen = {url}
        hops = 0
        all_permanent = True
        attempts_total = 0
        while True:
            target = check_url(current, allow_private=s.allow_private_networks)
            # Resolve and check before robots.txt, so a refused host is reported as such (and its
            # robots.txt is never requested); the addresses stay pinned for the exchange below.
            ips = resolve_checked(target, self._resolve_in_time, allow_private=s.allow_private_networks)
            if kind != "robots" and s.obey_robots:
                rules = self.robots_for(current)
                if not rules.allowed(current):
                    failed = self._robots_failure(current)
                    if failed is not None and failed.status in ("timeout", "error", "http_error"):
                        # robots.txt unavailable (network trouble, 5xx, 429): RFC 9309 says disallow
                        # everything, and we do for this run, but report the robots.txt failure's own
                        # status rather than "blocked", so the page is tried again next run when that status
                        # is transient (a 5xx other than 501 and friends, 429, network trouble).
                        # A host that cannot be connected to is down: say so, do not blame robots.txt.
                        what = failed.detail if _is_unreachable(failed.detail) else f"robots.txt: {failed.detail}"
                        return FetchResult(
                            url=url,
                            final_url=current,
                            status=failed.status,
                            http_status=failed.http_status,
                            retry_after_s=failed.retry_after_s,
                            detail=f"{what}; not fetching from this host this run",
                            elapsed_s=_since(started),
                            attempts=attempts_total,
                        )
                    if rules.disallow_all:
                        raise BlockedError(
                            f"{current}: robots.txt {rules.source}; host disallowed for this run"
                        )
                    raise BlockedError(f"{current}: disallowed by robots.txt")
            closed = self._gate(_origin(current)[1]).closed
            if closed is not None:
                code, wait = closed
                return FetchResult(
                    url=url,
                    final_url=current,
                    status="http_error",
                    http_status=code,
                    retry_after_s=wait,
                    detail=(
                        f"host answered HTTP {code} with Retry-After {wait:.0f}s (over max_retry_after_s); "
                        "not fetching from it this run"
                    ),
                    elapsed_s=_since(started),
                    attempts=attempts_total,
                )
            raw_path = _request_target(current)
            ex, attempts, retry_after = self._exchange_with_retries(
                target, raw_path, ips, kind, etag, last_modified
            )
            attempts_total += attempts
            common: dict[str, Any] = {
                "url": url,
                "final_url": current,
                "http_status": ex.status,
                "attempts": attempts_total,
                "retry_after_s": retry_after,
            }
            if ex.status in REDIRECT_CODES and ex.headers.get("location"):
                nxt = urljoin(current, ex.headers["location"].strip())
                hops += 1
                if hops > s.max_redirects:
                    return FetchResult(
                        status="error",
                        detail=f"more than {s.max_redirects} redirects (last to {nxt})",
                        elapsed_s=_since(started),
                        **common,
                    )
                if nxt in seen:
                    return FetchResult(
                        status="error",
                        detail=f"redirect loop back to {nxt}",
                        elapsed_s=_since(started),
                        **common,
                    )
                seen.add(nxt)
                all_permanent = all_permanent and ex.status in PERMANENT_REDIRECT_CODES
                current = nxt
                continue
            permanent = current if hops and all_permanent else None
            return self._classify(ex, common, permanent, kind, etag, last_modified, started)

    def _classify(
        self,
        ex: _Exchange,
        common: dict[str, Any],
        permanent: str | None,
        kind: str,
        etag: str | None,
        last_modified: str | None,
        started: float,
    ) -> FetchResult:
        mime, charset = parse_content_type(ex.headers.get("content-type"))
        common = dict(
            common, content_type=mime, charset=charset, permanent_redirect=permanent,
            cache_control=ex.headers.get("cache-control"), expires=ex.headers.get("expires"),
        )
        elapsed = _since(started)
        # tries of the last hop only: "HTTP 503 after 3 tries" even when a redirect came first
        tries = f" after {ex.attempts} tries" if ex.attempts > 1 else ""
        if ex.outcome in ("timeout", "error"):
            return FetchResult(status=ex.outcome, detail=ex.detail + tries, elapsed_s=elapsed, **common)
        if ex.outcome in ("too_large", "not_html", "decode_error"):
            status = "error" if ex.outcome == "decode_error" else ex.outcome
            return FetchResult(status=status, detail=ex.detail, elapsed_s=elapsed, **common)
        code = ex.status or 0
        new_etag = ex.headers.get("etag")
        new_lm = ex.headers.get("last-modified")
        if code == 304:
            # A 304 need not repeat the validators; keep the ones we sent so the caller does not lose them.
            return FetchResult(
                status="not_modified",
                etag=new_etag or etag,
                last_modified=new_lm or last_modified,
                detail="HTTP 304 not modified",
                elapsed_s=elapsed,
                **common,
            )
        if 200 <= code < 300:
            return FetchResult(
                status="ok", body=ex.body, etag=new_etag, last_modified=new_lm, elapsed_s=elapsed, **common
            )
        if code == 410:
            return FetchResult(status="gone", detail="HTTP 410 gone", elapsed_s=elapsed, **common)
        if code in REDIRECT_CODES:
            return FetchResult(
                status="http_error", detail=f"HTTP {code} without Location", elapsed_s=elapsed, **common
            )
        extra = ""
        if (
            common.get("retry_after_s") is not None
            and common["retry_after_s"] > self.settings.max_retry_after_s
        ):
            extra = (
                f"; Retry-After {common['retry_after_s']:.0f}s exceeds max_retry_after_s, will retry next run"
            )
        return FetchResult(
            status="http_error", detail=f"HTTP {code}{tries}{extra}", elapsed_s=elapsed, **common
        )

    def _exchange_with_retries(
        self,
        target: Target,
        raw_path: bytes,
        ips: list[str],
        kind: str,
        etag: str | None,
        last_modified: str | None,
    ) -> tuple[_Exchange, int, float | None]:
        s = self.settings
        gate = self._gate(_origin(target.url)[1])
        attempt = 0
        retry_after: float | None = None
        while True:
            attempt += 1
            with gate.slot(), self._slot_total():
                ex = self._exchange(target, raw_path, ips, kind, etag, last_modified)
                ra = parse_retry_after(ex.headers.get("retry-after")) if ex.status is not None else None
                if ra is not None and ex.status in HOST_PAUSE_STATUS:
                    # 429/503 speak for the whole host, not this URL: every request to it waits. Decided
                    # before the host slot is released, so a request waiting for the slot cannot start
                    # inside the pause.
                    if ra <= s.max_retry_after_s:
                        gate.pause(ra)
                    else:
                        gate.close_for_run(ex.status or 0, ra)
            if ra is not None:
                retry_after = ra
            ex.attempts = attempt
            if not ex.retry_now or attempt > s.retries:
                return ex, attempt, retry_after
            if ra is not None:
                if ra > s.max_retry_after_s:
                    return ex, attempt, retry_after  # the server asks for longer than we wait in a run
                if ex.status not in HOST_PAUSE_STATUS:
                    time.sleep(ra)  # otherwise the paused gate makes the retry wait
            else:
                time.sleep(s.backoff_base_s * (2 ** (attempt - 1)))

    @contextmanager
    def _slot_total(self) -> Iterator[None]:
        with self._total:
            yield

    def _headers(
        self, target: Target, kind: str, etag: str | None, last_modified: str | None
    ) -> list[tuple[bytes, bytes]]:
        host = f"[{target.host}]" if ":" in target.host else target.host
        if target.port != {"http": 80, "https": 443}[target.scheme]:
            host = f"{host}:{target.port}"
        headers = [
            (b"Host", host.encode("ascii")),
            (b"User-Agent", self.settings.user_agent.encode("latin-1", "replace")),
            (b"Accept", _ACCEPT[kind].encode("ascii")),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"Connection", b"keep-alive"),
        ]
        if etag:
            headers.append((b"If-None-Match", etag.encode("latin-1", "replace")))
        if last_modified:
            headers.append((b"If-Modified-Since", last_modified.encode("latin-1", "replace")))
        return headers

    def _exchange(
        self,
        target: Target,
        raw_path: bytes,
        ips: list[str],
        kind: str,
        etag: str | None,
        last_modified: str | None,
    ) -> _Exchange:
        """One GET over a pinned connection; never raises for network trouble."""
        s = self.settings
        hurl = httpcore.URL(
            scheme=target.scheme.encode(), host=target.host.encode("ascii"), port=target.port, target=raw_path
        )
        ctx = _RequestContext(
            deadline=time.monotonic() + s.total_deadline_s, pins={(target.host.lower(), target.port): ips}
        )
        timeouts = {
            "connect": s.connect_timeout_s,
            "read": s.read_timeout_s,
            "write": s.read_timeout_s,
            "pool": s.total_deadline_s,
        }
        ex = _Exchange()
        try:
            with (
                self._backend.bound(ctx),
                self._pool.stream(
                    "GET",
                    hurl,
                    headers=self._headers(target, kind, etag, last_modified),
                    extensions={"timeout": timeouts},
                ) as resp,
            ):
                ex.status = resp.status
                ex.headers = _header_map(resp.headers)
                ex.retry_now = http_class(resp.status) is HttpClass.TRANSIENT
                if 200 <= resp.status < 300:
                    self._read_body(resp, ex, kind)
                else:
                    _drain(resp)
        except httpcore.TimeoutException as e:
            ex.outcome = "timeout"
            if ctx.deadline_hit:
                ex.detail = f"total deadline of {s.total_deadline_s:g}s passed"
            elif isinstance(e, httpcore.ConnectTimeout):
                ex.detail = _unreachable(target, f"connect timeout {s.connect_timeout_s:g}s")
            else:
                ex.detail = f"read timeout ({s.read_timeout_s:g}s without data)"
            ex.retry_now = False  # a slow host is retried next run, not now (it would multiply the budget)
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as e:
            ex.outcome = "error"
            ex.detail = f"{_error_kind(e)}: {e}" if str(e) else _error_kind(e)
            ex.retry_now = isinstance(e, httpcore.NetworkError | httpcore.RemoteProtocolError)
            if "refusing to connect" in str(e):
                ex.retry_now = False  # the pin check refused: retrying cannot help
            elif "CERTIFICATE_VERIFY_FAILED" in str(e) or "WRONG_VERSION_NUMBER" in str(e):
                ex.retry_now = False  # a certificate that does not match now will not match in a second
                ex.detail = f"TLS handshake with {target.host} failed: {e}"
            elif isinstance(e, httpcore.ConnectError) and str(e).startswith("[Errno"):
                # the TCP connect itself failed (refused, no route): the host is down, whatever the URL
                ex.detail = _unreachable(target, _connect_reason(e))
        return ex

    def _read_body(self, resp: httpcore.Response, ex: _Exchange, kind: str) -> None:
        mime, charset = parse_content_type(ex.headers.get("content-type"))
        cap = self._cap(kind)
        if kind != "robots" and _binary_mime(mime):
            ex.outcome = "not_html"
            ex.detail = f"content type {mime} is not a page or feed"
            return
        declared = ex.headers.get("content-length", "")
        enc = ex.headers.get("content-encoding")
        if declared.isdigit() and int(declared) > cap and not enc and kind != "robots":
            ex.outcome = "too_large"
            ex.detail = f"Content-Length {declared} exceeds the {cap}-byte cap for {kind}s"
            return
        try:
            decoder = _Decoder(enc)
        except ValueError as e:
            ex.outcome = "decode_error"
            ex.detail = str(e)
            return
        body = bytearray()
        raw = 0
        sniffed = False
        capped = False
        try:
            for chunk in resp.iter_stream():
                raw += len(chunk)
                body += decoder.feed(chunk, cap - len(body))
                if len(body) > cap or raw > cap:
                    if kind == "robots":
                        del body[cap:]  # RFC 9309 2.5: parse the first 500 KiB
                        capped = True
                        break
                    ex.outcome = "too_large"
                    ex.detail = f"body exceeds the {cap}-byte cap for {kind}s (decompressed)"
                    return
                if not sniffed and kind != "robots" and len(body) >= 512:
                    sniffed = True
                    if _refused_as_binary(ex, bytes(body[:SNIFF_BYTES]), mime, charset):
                        return
        except zlib.error as e:
            ex.outcome = "decode_error"
            ex.detail = f"corrupt {decoder.encoding} body: {e}"
            return
        if not capped and decoder.truncated():
            # transient: the next try (or run) usually gets the whole body; a partial text is never stored
            ex.outcome = "error"
            ex.detail = f"{decoder.encoding} body cut off before its end ({raw} compressed bytes received)"
            ex.retry_now = True
            return
        if not sniffed and kind != "robots" and _refused_as_binary(ex, bytes(body[:SNIFF_BYTES]), mime, charset):
            return
        ex.body = bytes(body)


def _refused_as_binary(ex: _Exchange, head: bytes, mime: str | None, charset: str | None) -> bool:
    """Mark the exchange not_html when the body starts like a binary format, whatever its Content-Type says."""
    what = sniff(head, charset).binary
    if what:
        ex.outcome = "not_html"
        ex.detail = f"body is {what} (Content-Type {mime or 'missing'})"
    return what is not None


def _request_target(url: str) -> bytes:
    """The percent-encoded path and query to send (httpx's URL rules); BlockedError if it cannot be encoded."""
    try:
        return httpx.URL(url).raw_path or b"/"
    except (httpx.InvalidURL, UnicodeError, ValueError) as e:
        raise BlockedError(f"{url}: not a valid URL ({e})") from None


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


def _origin(url: str) -> tuple[str, str]:
    """(robots.txt origin 'scheme://host:port', politeness key 'host:port') of a URL, normalised.

    Politeness is per host and port: the tests and the demo run several "hosts" on loopback ports.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme, 0)
    key = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{scheme}://{key}", key


def _since(t0: float) -> float:
    return round(time.monotonic() - t0, 4)
