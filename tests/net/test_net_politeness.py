"""Per-host concurrency and delay, total concurrency across hosts, and fetch_many ordering (RELIABILITY.md C20)."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

import pytest

from extractors.http import Fetcher
from tests.net.netutil import fast_settings
from tests.support.httpserver import Reply, ScriptedServer

pytestmark = pytest.mark.timeout(30)


def _pages(srv: ScriptedServer, n: int, delay_s: float = 0.0) -> list[str]:
    for i in range(n):
        srv.route(
            f"/p{i}",
            Reply(200, body=f"<html>{i}</html>", headers={"Content-Type": "text/html"}, delay_s=delay_s),
        )
    return [srv.url(f"/p{i}") for i in range(n)]


class InFlight:
    """The Fetcher's exchanges in flight, counted where its limiters decide: a counting wrapper around the real
    Fetcher._exchange, which runs only inside a per-host slot and a total slot. No mock and no timestamps
    compared across threads: a server sees a request end a moment after the client has its whole reply and
    started the next one, so server-side overlaps can exceed a limit the client kept.

    hold_until_overlap=n holds each exchange (inside its slots) until n are in flight at once or hold_s passes:
    if the limiters let n through together they will be seen together, on any machine load.
    """

    def __init__(self, fetcher: Fetcher, hold_until_overlap: int = 0, hold_s: float = 10.0) -> None:
        self._real = fetcher._exchange
        fetcher._exchange = self._exchange  # type: ignore[method-assign]
        self._cond = threading.Condition()
        self._want = hold_until_overlap
        self._hold_s = hold_s
        self.total = 0
        self.peak_total = 0
        self.per_host: Counter = Counter()
        self.peak_per_host: Counter = Counter()
        self.starts: dict[int, list[float]] = defaultdict(list)  # port -> monotonic start of each exchange

    def _exchange(self, target, *args, **kwargs):  # noqa: ANN001, ANN202 - same signature as the real one
        with self._cond:
            self.starts[target.port].append(time.monotonic())
            self.total += 1
            self.per_host[target.port] += 1
            self.peak_total = max(self.peak_total, self.total)
            self.peak_per_host[target.port] = max(self.peak_per_host[target.port], self.per_host[target.port])
            self._cond.notify_all()
            if self._want:
                self._cond.wait_for(lambda: self.peak_total >= self._want, timeout=self._hold_s)
        try:
            return self._real(target, *args, **kwargs)
        finally:
            with self._cond:
                self.total -= 1
                self.per_host[target.port] -= 1

    def sorted_starts(self, port: int | None = None) -> list[float]:
        return sorted(t for p, ts in self.starts.items() if port in (None, p) for t in ts)


def _spaced(starts: list[float], t0: float, delay_s: float) -> bool:
    """The k-th start is no earlier than t0 + k delays: what the per-host gate guarantees (each start is
    scheduled one delay after the previous schedule, and a thread never starts before its scheduled time)."""
    return all(t - t0 >= k * delay_s for k, t in enumerate(starts))


def test_per_host_concurrency_is_respected_and_used():
    with ScriptedServer() as srv:
        urls = _pages(srv, 8, delay_s=0.05)
        with Fetcher(fast_settings(per_host_concurrency=2, total_concurrency=8, obey_robots=False)) as f:
            seen = InFlight(f, hold_until_overlap=2)
            res = f.fetch_many(urls)
    assert all(r.status == "ok" for r in res)
    assert seen.peak_per_host[srv.port] == 2  # never 3 at once, and 2 really were used together
    assert len(srv.requests) == 8


def test_per_host_delay_spaces_request_starts():
    with ScriptedServer() as srv:
        urls = _pages(srv, 4)
        with Fetcher(fast_settings(per_host_delay_s=0.3, per_host_concurrency=2)) as f:
            seen = InFlight(f)
            t0 = time.monotonic()
            res = f.fetch_many(urls)
    assert all(r.status == "ok" for r in res)
    starts = seen.sorted_starts(srv.port)
    assert len(starts) == 5 and len(srv.requests) == 5  # robots.txt counts as a request too
    assert _spaced(starts, t0, 0.3), [round(t - t0, 3) for t in starts]


def test_delay_on_one_host_does_not_slow_another():
    with ScriptedServer() as a, ScriptedServer() as b:
        urls = _pages(a, 3) + _pages(b, 3)
        with Fetcher(fast_settings(per_host_delay_s=1.0, obey_robots=False)) as f:
            seen = InFlight(f)
            t0 = time.monotonic()
            res = f.fetch_many(urls)
    assert [r.url for r in res] == urls
    assert all(r.status == "ok" for r in res)
    on_a, on_b = seen.sorted_starts(a.port), seen.sorted_starts(b.port)
    assert _spaced(on_a, t0, 1.0) and _spaced(on_b, t0, 1.0)
    # hosts in parallel: b's first page does not wait for a's delay (a's second start is >= 1 s after t0)
    assert on_b[0] < on_a[1] and on_a[0] < on_b[1], ([t - t0 for t in on_a], [t - t0 for t in on_b])


def test_total_concurrency_across_hosts():
    servers = [ScriptedServer().start() for _ in range(3)]
    try:
        urls = [u for s in servers for u in _pages(s, 3, delay_s=0.05)]
        with Fetcher(fast_settings(per_host_concurrency=3, total_concurrency=2, obey_robots=False)) as f:
            seen = InFlight(f, hold_until_overlap=2)
            res = f.fetch_many(urls)
        assert all(r.status == "ok" for r in res)
        assert seen.peak_total == 2  # never 3 at once across the hosts, and both slots were used
        assert sum(len(s.requests) for s in servers) == 9
    finally:
        for s in servers:
            s.stop()


def test_total_concurrency_holds_for_direct_fetch_calls_from_threads():
    with ScriptedServer() as srv:
        urls = _pages(srv, 6, delay_s=0.05)
        with Fetcher(fast_settings(per_host_concurrency=6, total_concurrency=3, obey_robots=False)) as f:
            seen = InFlight(f, hold_until_overlap=3)
            threads = [threading.Thread(target=f.fetch, args=(u,)) for u in urls]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
    assert seen.peak_total == 3
    assert len(srv.requests) == 6


def test_fetch_many_keeps_order_and_handles_empty_and_duplicates():
    with ScriptedServer() as srv:
        urls = _pages(srv, 3)
        with Fetcher(fast_settings()) as f:
            assert f.fetch_many([]) == []
            res = f.fetch_many([urls[2], urls[0], urls[2], urls[1]])
    assert [r.url for r in res] == [urls[2], urls[0], urls[2], urls[1]]
    assert [r.body for r in res] == [
        b"<html>2</html>",
        b"<html>0</html>",
        b"<html>2</html>",
        b"<html>1</html>",
    ]


def test_keep_alive_reuses_connections():
    with ScriptedServer() as srv:
        urls = _pages(srv, 5)
        with Fetcher(fast_settings(per_host_concurrency=1)) as f:
            for u in urls:
                assert f.fetch(u).status == "ok"
    assert len({r.connection_id for r in srv.requests}) == 1


def test_close_is_idempotent():
    f = Fetcher(fast_settings())
    f.close()
    f.close()


def test_many_hosts_few_workers_stay_near_the_politeness_floor():
    """10 hosts x 3 pages, 1 s delay, 4 workers: robots.txt + 3 pages per host need >= 3 s.

    Handing URLs out in list order makes each worker sleep out one host's delay while other hosts wait;
    the scheduler picks the host whose slot opens first, so the requests go in rounds: every host's k-th
    request starts before any host's (k+1)-th, whose slot opens a whole delay later.
    """
    from tests.net.netutil import static_resolver

    with ScriptedServer() as srv:
        names = {f"h{i}.example": ["127.0.0.1"] for i in range(10)}
        urls = []
        for i in range(10):
            for j in range(3):
                srv.route(
                    f"/h{i}/p{j}", Reply(200, body=b"<html>x</html>", headers={"Content-Type": "text/html"})
                )
                urls.append(f"http://h{i}.example:{srv.port}/h{i}/p{j}")
        settings = fast_settings(per_host_delay_s=1.0, per_host_concurrency=2, total_concurrency=4)
        with Fetcher(settings, resolver=static_resolver(names)) as f:
            starts: dict[str, list[float]] = defaultdict(list)
            real = f._exchange

            def exchange(target, *args, **kwargs):  # noqa: ANN001, ANN202 - records which host each start is for
                starts[target.host].append(time.monotonic())
                return real(target, *args, **kwargs)

            f._exchange = exchange  # type: ignore[method-assign]
            t0 = time.monotonic()
            res = f.fetch_many(urls)
    assert all(r.status == "ok" for r in res)
    assert len(srv.requests_for("/robots.txt")) == 10
    assert sorted(starts) == sorted(names) and all(len(v) == 4 for v in starts.values())
    assert all(_spaced(sorted(v), t0, 1.0) for v in starts.values())
    rounds = [[sorted(v)[k] for v in starts.values()] for k in range(4)]
    for k in range(3):
        assert max(rounds[k]) < min(rounds[k + 1]), f"round {k + 1} overlaps round {k + 2}"


def _three_pages_the_first_answered_429() -> tuple[list[str], list[str], float, list[float]]:
    """Three pages of one host, one at a time; /p0 is answered 429 with Retry-After: 1 once, then 200.

    Returns (statuses, request paths in order, start of the 429 exchange, starts of the other exchanges)."""
    with ScriptedServer() as srv:
        urls = _pages(srv, 3)
        srv.route("/p0", Reply(429, headers={"Retry-After": "1"}), Reply(200, body=b"<html>0</html>"))
        with Fetcher(fast_settings(per_host_concurrency=1, obey_robots=False, retries=1)) as f:
            seen = InFlight(f)
            res = f.fetch_many(urls)
    first_429, *later = seen.sorted_starts(srv.port)
    return [r.status for r in res], [q.path for q in srv.requests], first_429, later


def _assert_nobody_started_inside_the_pause(statuses: list[str], paths: list[str], first_429: float,
                                            later: list[float]) -> None:
    assert statuses == ["ok", "ok", "ok"]
    assert paths[0] == "/p0" and len(paths) == 4
    assert len(later) == 3  # the retry of /p0, /p1, /p2
    # nobody hammered the host during its Retry-After: no request started within 1 s of the one answered 429
    assert all(t - first_429 >= 1.0 for t in later), [round(t - first_429, 3) for t in later]


def test_retry_after_pauses_the_whole_host():
    _assert_nobody_started_inside_the_pause(*_three_pages_the_first_answered_429())


def test_retry_after_pause_is_in_place_before_the_next_request_can_start(monkeypatch: pytest.MonkeyPatch):
    """The race behind an occasional early request, made wide: reading Retry-After takes 0.2 s here."""
    import extractors.http.client as http  # the module whose retry loop reads Retry-After

    real = http.parse_retry_after

    def slow_parse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(http, "parse_retry_after", slow_parse)
    _assert_nobody_started_inside_the_pause(*_three_pages_the_first_answered_429())


def test_retry_after_beyond_the_limit_closes_the_host_for_the_run():
    with ScriptedServer() as srv, ScriptedServer() as other:
        urls = _pages(srv, 4)
        srv.route("/p0", Reply(503, headers={"Retry-After": "7200"}))
        other_urls = _pages(other, 2)
        with Fetcher(
            fast_settings(per_host_concurrency=1, obey_robots=False, retries=3, max_retry_after_s=10)
        ) as f:
            first = f.fetch(urls[0])
            rest = f.fetch_many(urls[1:] + other_urls)
    assert first.status == "http_error" and first.retry_after_s == 7200
    assert [r.status for r in rest[:3]] == ["http_error"] * 3
    assert all(r.http_status == 503 and "not fetching from it this run" in r.detail for r in rest[:3])
    assert [q.path for q in srv.requests] == ["/p0"]  # one request, then the host was left alone
    assert [r.status for r in rest[3:]] == ["ok", "ok"]  # other hosts unaffected
