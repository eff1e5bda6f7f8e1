"""Per-host concurrency and delay, total concurrency across hosts, and fetch_many ordering (RELIABILITY.md C20)."""

from __future__ import annotations

import time

import pytest

from extractors.http import Fetcher
from tests.net.netutil import fast_settings
from tests.support.httpserver import LoggedRequest, Reply, ScriptedServer

pytestmark = pytest.mark.timeout(30)


def _pages(srv: ScriptedServer, n: int, delay_s: float = 0.0) -> list[str]:
    for i in range(n):
        srv.route(
            f"/p{i}",
            Reply(200, body=f"<html>{i}</html>", headers={"Content-Type": "text/html"}, delay_s=delay_s),
        )
    return [srv.url(f"/p{i}") for i in range(n)]


def _max_overlap(reqs: list[LoggedRequest]) -> int:
    events = sorted([(r.arrived_at, 1) for r in reqs] + [(r.finished_at, -1) for r in reqs])
    cur = peak = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    return peak


def test_per_host_concurrency_is_respected_and_used():
    with ScriptedServer() as srv:
        urls = _pages(srv, 8, delay_s=0.25)
        with Fetcher(fast_settings(per_host_concurrency=2, total_concurrency=8, obey_robots=False)) as f:
            t0 = time.monotonic()
            res = f.fetch_many(urls)
            took = time.monotonic() - t0
    assert all(r.status == "ok" for r in res)
    assert srv.peak_concurrency == 2
    assert 0.95 < took < 2.2  # 8 requests x 0.25 s over 2 connections = 1 s


def test_per_host_delay_spaces_request_starts():
    with ScriptedServer() as srv:
        urls = _pages(srv, 4)
        with Fetcher(fast_settings(per_host_delay_s=0.3, per_host_concurrency=2)) as f:
            res = f.fetch_many(urls)
    assert all(r.status == "ok" for r in res)
    arrivals = sorted(r.arrived_at for r in srv.requests)  # robots.txt counts as a request too
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) == 5
    # starts are spaced on the client; arrivals carry a little jitter (the first one includes connect)
    assert min(gaps) >= 0.25, gaps
    assert arrivals[-1] - arrivals[0] >= 4 * 0.3 - 0.03


def test_delay_on_one_host_does_not_slow_another():
    with ScriptedServer() as a, ScriptedServer() as b:
        urls = _pages(a, 3) + _pages(b, 3)
        with Fetcher(fast_settings(per_host_delay_s=0.4, obey_robots=False)) as f:
            t0 = time.monotonic()
            res = f.fetch_many(urls)
            took = time.monotonic() - t0
    assert [r.url for r in res] == urls
    assert all(r.status == "ok" for r in res)
    assert 0.75 < took < 1.6  # 2 delays per host, hosts in parallel (not 5 delays in a row)


def test_total_concurrency_across_hosts():
    servers = [ScriptedServer().start() for _ in range(3)]
    try:
        urls = [u for s in servers for u in _pages(s, 3, delay_s=0.2)]
        with Fetcher(fast_settings(per_host_concurrency=3, total_concurrency=2, obey_robots=False)) as f:
            res = f.fetch_many(urls)
        assert all(r.status == "ok" for r in res)
        assert all(s.wait_idle() for s in servers)
        assert _max_overlap([r for s in servers for r in s.requests]) <= 2
    finally:
        for s in servers:
            s.stop()


def test_total_concurrency_holds_for_direct_fetch_calls_from_threads():
    import threading

    with ScriptedServer() as srv:
        urls = _pages(srv, 6, delay_s=0.2)
        with Fetcher(fast_settings(per_host_concurrency=6, total_concurrency=3, obey_robots=False)) as f:
            threads = [threading.Thread(target=f.fetch, args=(u,)) for u in urls]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
    assert srv.peak_concurrency == 3


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
    """10 hosts x 3 pages, 0.5 s delay, 4 workers: robots.txt + 3 pages per host need >= 1.5 s.

    Handing URLs out in list order makes each worker sleep out one host's delay while other hosts wait
    (about 4 s here); the scheduler picks the host whose slot opens first.
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
        settings = fast_settings(per_host_delay_s=0.5, per_host_concurrency=2, total_concurrency=4)
        with Fetcher(settings, resolver=static_resolver(names)) as f:
            t0 = time.monotonic()
            res = f.fetch_many(urls)
            took = time.monotonic() - t0
    assert all(r.status == "ok" for r in res)
    assert len(srv.requests_for("/robots.txt")) == 10
    assert 1.5 <= took < 2.5, took


def test_retry_after_pauses_the_whole_host():
    with ScriptedServer() as srv:
        urls = _pages(srv, 3)
        srv.route("/p0", Reply(429, headers={"Retry-After": "1"}), Reply(200, body=b"<html>0</html>"))
        with Fetcher(fast_settings(per_host_concurrency=1, obey_robots=False, retries=1)) as f:
            res = f.fetch_many(urls)
    assert [r.status for r in res] == ["ok", "ok", "ok"]
    first_429 = srv.requests_for("/p0")[0].arrived_at
    later = [r.arrived_at for r in srv.requests if r.arrived_at > first_429]
    assert len(later) == 3  # the retry of /p0, /p1, /p2
    assert min(later) - first_429 >= 0.95  # nobody hammered the host during its Retry-After


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
