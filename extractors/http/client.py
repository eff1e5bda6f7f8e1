"""The Fetcher: robots.txt, redirects and retries over the pinned transport, one FetchResult per URL."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

import httpcore

from extractors.http.body import read_body
from extractors.http.policy import KINDS, _request_target, parse_retry_after, request_headers
from extractors.http.politeness import MAX_CRAWL_DELAY_S, _HostGate, _origin, _Scheduler
from extractors.http.result import _Exchange, _since, classify
from extractors.http.status import (
    HOST_PAUSE_STATUS,
    PERMANENT_REDIRECT_CODES,
    REDIRECT_CODES,
    HttpClass,
    http_class,
    is_transient,
)
from extractors.http.transport import (
    _connect_reason,
    _drain,
    _error_kind,
    _header_map,
    _is_unreachable,
    _PinnedBackend,
    _RequestContext,
    _unreachable,
)
from extractors.netguard import ResolutionError, Resolver, Target, check_url, resolve_checked, system_resolver
from extractors.robots import MAX_ROBOTS_BYTES, RobotsCache, RobotsRules, parse_robots, robots_answer
from extractors.urls import is_web_url
from newswatch.config import FetchSettings
from newswatch.errors import BlockedError
from newswatch.models import FetchResult


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
            return classify(
                ex, common, permanent, kind, etag, last_modified, started,
                max_retry_after_s=s.max_retry_after_s,
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
                    headers=request_headers(target, kind, etag, last_modified, s.user_agent),
                    extensions={"timeout": timeouts},
                ) as resp,
            ):
                ex.status = resp.status
                ex.headers = _header_map(resp.headers)
                ex.retry_now = http_class(resp.status) is HttpClass.TRANSIENT
                if 200 <= resp.status < 300:
                    read_body(resp, ex, kind, self._cap(kind))
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

