"""Fetch benchmark: N feeds x M pages from a loopback server with realistic latency, against the politeness floor.

    .venv/bin/python -m bench.fetch_bench                      # the standard scenarios, writes bench/results/fetch.md
    .venv/bin/python -m bench.fetch_bench --feeds 10 --pages 10 --delay 1.0 --no-write

Each feed lives on its own host name (site<i>.test, resolved to 127.0.0.1 through the Fetcher's resolver
parameter), so per-host politeness applies per feed as it would on the web. Every response (robots.txt,
feed, page) waits a seeded random 50-200 ms before answering. Pages are real HTML from
../shared/corpus/html (cycled), served gzip-compressed like most news sites.

One Fetcher is used for both phases (feeds, then the pages they list), as one run should.
Reported: wall time; the floor the rules allow = max(politeness floor, concurrency floor) where
  politeness floor   = (M + 1) * delay + 0.05 s    (robots + feed + M pages start >= delay apart per host)
  concurrency floor  = sum of scripted latencies / total_concurrency
pages/s; peak Python heap (tracemalloc) and process max RSS.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import resource
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from extractors.http import Fetcher
from newswatch.config import FetchSettings
from tests.support.httpserver import LoggedRequest, Reply, ScriptedServer

CORPUS = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "html")
RESULTS = Path(__file__).parent / "results" / "fetch.md"
LAT_MIN, LAT_MAX = 0.05, 0.20


@dataclass
class Outcome:
    feeds: int
    pages: int
    delay: float
    per_host: int
    total: int
    wall_s: float
    floor_s: float
    politeness_floor_s: float
    concurrency_floor_s: float
    pages_ok: int
    pages_per_s: float
    requests: int
    bytes_in: int
    heap_peak_mb: float
    maxrss_mb: float


def _corpus_pages() -> list[bytes]:
    files = sorted(CORPUS.glob("*.html"))
    if not files:
        return [b"<html><body>" + b"<p>filler text</p>" * 2000 + b"</body></html>"]
    return [gzip.compress(p.read_bytes(), 6) for p in files]


def run(feeds: int, pages: int, delay: float, per_host: int, total: int, seed: int = 1) -> Outcome:
    rng = random.Random(seed)
    html = _corpus_pages()
    latency: dict[str, float] = {}

    def lat(path: str) -> float:
        if path not in latency:
            latency[path] = rng.uniform(LAT_MIN, LAT_MAX)
        return latency[path]

    srv = ScriptedServer().start()
    try:
        port = srv.port
        resolver_map: dict[str, list[str]] = {}
        feed_urls: list[str] = []
        for i in range(feeds):
            host = f"site{i}.test"
            resolver_map[host] = ["127.0.0.1"]
            items = "".join(
                f"<item><title>Story {i}-{j}</title><link>http://{host}:{port}/s{i}/p{j}.html</link></item>"
                for j in range(pages)
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Site {i}</title>{items}</channel></rss>'
            srv.route(
                f"/s{i}/feed.xml",
                Reply(
                    200,
                    body=rss,
                    headers={"Content-Type": "application/rss+xml"},
                    delay_s=lat(f"/s{i}/feed.xml"),
                ),
            )
            for j in range(pages):
                path = f"/s{i}/p{j}.html"
                srv.route(
                    path,
                    Reply(
                        200,
                        body=html[(i * pages + j) % len(html)],
                        headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
                        delay_s=lat(path),
                    ),
                )
            feed_urls.append(f"http://{host}:{port}/s{i}/feed.xml")
        robots_lat = lat("/robots.txt")

        def robots(req: LoggedRequest) -> Reply:
            return Reply(200, body="User-agent: *\nDisallow: /private/\n", delay_s=robots_lat)

        srv.route("/robots.txt", robots)

        def resolver(host: str, _port: int) -> list[str]:
            return resolver_map[host]

        settings = FetchSettings(
            allow_private_networks=True,
            per_host_delay_s=delay,
            per_host_concurrency=per_host,
            total_concurrency=total,
        )
        tracemalloc.start()
        t0 = time.monotonic()
        with Fetcher(settings, resolver=resolver) as f:
            feed_results = f.fetch_many(feed_urls, kind="feed")
            page_urls: list[str] = []
            for r in feed_results:
                # a regex is enough for our own feeds; the real pipeline hands bytes to feedparser
                text = r.body.decode("utf-8")
                page_urls += [seg.split("</link>")[0] for seg in text.split("<link>")[1:]]
            page_results = f.fetch_many(page_urls, kind="page")
        wall = time.monotonic() - t0
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        requests = len(srv.requests)
    finally:
        srv.stop()
    ok = sum(1 for r in page_results if r.status == "ok")
    scripted = sum(latency[p] for p in latency if p != "/robots.txt") + robots_lat * feeds
    politeness = (pages + 1) * delay + LAT_MIN
    concurrency = scripted / total
    return Outcome(
        feeds=feeds,
        pages=pages,
        delay=delay,
        per_host=per_host,
        total=total,
        wall_s=wall,
        floor_s=max(politeness, concurrency),
        politeness_floor_s=politeness,
        concurrency_floor_s=concurrency,
        pages_ok=ok,
        pages_per_s=ok / wall if wall else 0.0,
        requests=requests,
        bytes_in=sum(len(r.body) for r in page_results),
        heap_peak_mb=heap_peak / 1e6,
        maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


SCENARIOS = [
    # feeds, pages, delay, per_host, total
    (10, 10, 1.0, 2, 8),  # the defaults: politeness-bound
    (20, 25, 0.0, 2, 8),  # no delay: concurrency-bound
    (5, 20, 0.2, 2, 8),
    (40, 10, 0.0, 2, 16),
]


def render(outcomes: list[Outcome]) -> str:
    lines = [
        "# Fetch benchmark",
        "",
        f"`.venv/bin/python -m bench.fetch_bench` on {platform.node() or 'this machine'} "
        f"({platform.machine()}, 2 cores, Python {platform.python_version()}), "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "Loopback server, one host name per feed, every response delayed by a seeded random 50-200 ms; "
        "pages are real corpus HTML served gzip. One Fetcher for feeds then pages.",
        "",
        "| feeds x pages | delay s | per host / total | wall s | floor s (politeness / concurrency) | wall / floor "
        "| pages ok | pages/s | requests | heap peak MB | max RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.feeds} x {o.pages} | {o.delay:g} | {o.per_host} / {o.total} | {o.wall_s:.2f} | "
            f"{o.floor_s:.2f} ({o.politeness_floor_s:.2f} / {o.concurrency_floor_s:.2f}) | "
            f"{o.wall_s / o.floor_s:.2f} | {o.pages_ok}/{o.feeds * o.pages} | {o.pages_per_s:.1f} | {o.requests} | "
            f"{o.heap_peak_mb:.1f} | {o.maxrss_mb:.0f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int)
    ap.add_argument("--pages", type=int)
    ap.add_argument("--delay", type=float, default=1.0)
    ap.add_argument("--per-host", type=int, default=2)
    ap.add_argument("--total", type=int, default=8)
    ap.add_argument("--no-write", action="store_true", help="print only, do not write bench/results/fetch.md")
    args = ap.parse_args(argv)
    if args.feeds and args.pages:
        scenarios = [(args.feeds, args.pages, args.delay, args.per_host, args.total)]
    else:
        scenarios = SCENARIOS
    outcomes = []
    for sc in scenarios:
        o = run(*sc)
        print(render([o]).splitlines()[-1], flush=True)
        outcomes.append(o)
    text = render(outcomes)
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
