"""Politeness per host: concurrency, delays and Retry-After pauses, and the scheduler that hands out URLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

# Crawl-delay is a site's wish; above this we treat it as this (one page a minute is already slow).
MAX_CRAWL_DELAY_S = 60.0


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
