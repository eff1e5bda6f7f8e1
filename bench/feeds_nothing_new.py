"""A run over many feeds with nothing new: how long `newswatch run` takes when every feed answers 304.

    .venv/bin/python bench/feeds_nothing_new.py [--feeds 1000] [--unchanged-200] [--profile out.prof]

A loopback server (one thread per request) serves --feeds RSS feeds with an ETag, without entries (--entries 1:
one each, a short page off the watch's topic, so the first run stores no facts). A first run (not timed) polls
every feed (and fetches and judges the pages) and keeps each feed's validators. Then the timed run, a cold
`newswatch run --force --no-digest` process: every feed is asked again with If-None-Match and answers 304
(--unchanged-200: the server ignores the validators and sends the same body again, which the runner must
recognise by its hash). Printed: the wall time of the whole process (start-up included), the runner's own stage
seconds (poll = conditional GETs + feed-state reads/writes), and the network part measured apart: the same
number of conditional GETs from a pool of as many threads as the run's total_concurrency, in this process.
The machine may be shared: the load average (`uptime`) is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

REPO = Path(__file__).resolve().parent.parent
CONCURRENCY = 8
WORDS = ("council", "budget", "meeting", "road", "school", "river", "library", "market", "bridge", "park")


def page(i: int) -> bytes:
    text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(120))
    return (f"<!doctype html><html><head><title>Local item {i}</title></head><body><article><h1>Local item {i}"
            f"</h1><p>{text}.</p><p>{text}.</p></article></body></html>").encode()


def serve(n: int, unchanged_200: bool, entries: int = 0) -> tuple[ThreadingHTTPServer, str, list[int]]:
    hits = [0, 0]  # 200s, 304s

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            m = re.fullmatch(r"/f(\d+)\.xml", self.path)
            if m:
                i = int(m.group(1))
                etag = f'"f{i}-v1"'
                if not unchanged_200 and self.headers.get("If-None-Match") == etag:
                    hits[1] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                base = f"http://{self.headers['Host']}"
                item = (f"<item><title>Local item {i}</title><link>{base}/p{i}.html</link><guid>p{i}</guid>"
                        f"<pubDate>Tue, 10 Jul 2018 08:00:00 GMT</pubDate></item>") if entries else ""
                body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title><link>{base}/'
                        f"</link>{item}</channel></rss>").encode()
                hits[0] += 1
                self._send(200, body, "application/rss+xml", etag)
                return
            m = re.fullmatch(r"/p(\d+)\.html", self.path)
            if m:
                self._send(200, page(int(m.group(1))), "text/html; charset=utf-8")
                return
            if self.path == "/robots.txt":
                self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                return
            self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}", hits


def network_only(urls: list[str], unchanged_200: bool) -> float:
    """The same conditional GETs, CONCURRENCY at a time, with nothing else: the network part of a poll."""
    def get(u: str) -> None:
        i = re.search(r"/f(\d+)\.xml", u).group(1)
        req = urllib.request.Request(u, headers={"If-None-Match": f'"f{i}-v1"'})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        except urllib.error.HTTPError as e:  # the 304
            e.read()

    t = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as ex:
        list(ex.map(get, urls))
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--unchanged-200", action="store_true", help="the feeds ignore validators: 200, same body")
    ap.add_argument("--entries", type=int, choices=(0, 1), default=0,
                    help="entries per feed (default 0; 1: a page per feed, fetched and judged by the first run)")
    ap.add_argument("--profile", type=Path, help="also run the timed run under cProfile, writing this file")
    args = ap.parse_args()
    srv, base, hits = serve(args.feeds, args.unchanged_200, args.entries)
    feeds = [f"{base}/f{i}.xml" for i in range(args.feeds)]
    nw = str(Path(sys.executable).parent / "newswatch")
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d, "newswatch.toml")
        cfg.write_text(
            f"[fetch]\nallow_private_networks = true\nper_host_delay_s = 0.0\nper_host_concurrency = {CONCURRENCY}\n"
            f"total_concurrency = {CONCURRENCY}\nretries = 0\n\n"
            f'[[watches]]\nname = "quiet"\nquery = "zzzunmatched"\nfeeds = {json.dumps(feeds)}\n', encoding="utf-8")
        db = str(Path(d, "bench.duckdb"))
        cmd = [nw, "-v", "run", "--config", str(cfg), "--db", db, "--no-digest", "--force"]
        t = time.perf_counter()
        first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        setup_s = time.perf_counter() - t
        if first.returncode != 0:
            print(first.stderr[-3000:], file=sys.stderr)
            return 1
        load_before = os.getloadavg()
        before = list(hits)
        t = time.perf_counter()
        timed = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - t
        got = [hits[0] - before[0], hits[1] - before[1]]
        if timed.returncode != 0:
            print(timed.stderr[-3000:], file=sys.stderr)
            return 1
        if args.profile:
            subprocess.run([sys.executable, "-m", "cProfile", "-o", str(args.profile), "-m", "newswatch.cli",
                            *cmd[1:]], capture_output=True, text=True, cwd=REPO, check=True)
        net = network_only(feeds, args.unchanged_200)
        load_after = os.getloadavg()
    srv.shutdown()
    stages = re.findall(r"stage seconds: (.*)", timed.stderr)
    stored = re.findall(r"stored (\d+) new", timed.stderr)
    print(f"feeds: {args.feeds} ({'200 with the same body' if args.unchanged_200 else '304'}); first run "
          f"(setup, not timed) {setup_s:.1f} s")
    print(f"timed run: {wall:.2f} s wall (cold process); server answered {got[0]} x 200, {got[1]} x 304; "
          f"new articles stored: {sum(map(int, stored))}")
    print(f"runner stage seconds: {stages[-1] if stages else '(none logged)'}")
    print(f"network only ({CONCURRENCY} threads, same requests): {net:.2f} s")
    print(f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)} (2 shared cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
