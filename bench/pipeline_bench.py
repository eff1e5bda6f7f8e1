"""End-to-end pipeline benchmark: stage by stage, on the 110 real pages of ../shared/corpus/html plus the seeds.

    .venv/bin/python bench/pipeline_bench.py [--corpus DIR] [--repeat N] [--out bench/results/pipeline.md]

A loopback server serves a feed listing every page (no added latency: this measures our work, not the
network; bench/fetch_bench.py measures politeness and latency). The stages are the same plain functions the
CLI and the Prefect flow call: poll, fetch, extract (trafilatura + cleaning), topic filter, facts (spaCy),
load (DuckDB + dedup grouping). Reports seconds and docs/s per stage, and peak RSS.
"""

from __future__ import annotations

import argparse
import html
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows import pipeline  # noqa: E402
from newswatch.config import Config, WatchConfig  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "html"


def serve(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path.split("?")[0])
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            elif body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                ctype = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def build_site(corpus: Path, copies: int) -> dict[str, bytes]:
    files = sorted(p for p in corpus.glob("*.html"))
    seeds = sorted((REPO / "seeds" / "fixtures" / "site").rglob("*.htm*"))
    pages: dict[str, bytes] = {}
    for k in range(copies):
        for p in files:
            pages[f"/c{k}/{p.name}"] = p.read_bytes()
        for p in seeds:
            pages[f"/s{k}/{p.name}"] = p.read_text(encoding="utf-8").replace("__BASE__", "https://example.org").encode()
    return pages


def feed_for(base: str, paths: list[str]) -> bytes:
    items = "\n".join(
        f"<item><title>{html.escape(p)}</title><link>{base}{p}</link><guid>{html.escape(p)}</guid></item>"
        for p in paths
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}</channel></rss>'.encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--copies", type=int, default=1, help="serve the corpus this many times under different paths")
    ap.add_argument("--n-process", type=int, default=None,
                    help="spaCy processes for the facts stage (default: the pipeline's own choice)")
    ap.add_argument("--out", type=Path, default=None, help="append a markdown result block to this file")
    args = ap.parse_args()

    pages = build_site(args.corpus, args.copies)
    srv, base = serve(pages)
    pages["/feed.xml"] = feed_for(base, [p for p in pages if p != "/feed.xml"])
    watch = WatchConfig(name="bench", query="")
    config = Config(watches=[watch], fetch={"allow_private_networks": True, "per_host_delay_s": 0.0,
                                           "per_host_concurrency": 8, "total_concurrency": 8, "retries": 0})
    settings = config.effective_fetch()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "bench.duckdb")
        run_id = pipeline.begin_run(db, "bench", ["bench"])
        t = time.perf_counter()
        polled = pipeline.poll_feeds(db, run_id, {base + "/feed.xml": (watch.name,)}, settings, 10, force=True)
        jobs, skips = list(polled.jobs), list(polled.skips)
        timings["poll feed + plan"] = time.perf_counter() - t
        t = time.perf_counter()
        fetched = pipeline.fetch_pages(jobs, settings)
        timings["fetch pages"] = time.perf_counter() - t
        t = time.perf_counter()
        articles, xskips, settled = pipeline.extract_pages(fetched)
        timings["extract + clean"] = time.perf_counter() - t
        t = time.perf_counter()
        kept, off = pipeline.filter_topic(articles, watch.query)
        timings["topic filter"] = time.perf_counter() - t
        t = time.perf_counter()
        facts = pipeline.extract_facts(kept, None, n_process=args.n_process)
        timings["facts (spaCy NER + rules)"] = time.perf_counter() - t
        t = time.perf_counter()
        counts = pipeline.load_batch(db, run_id, kept, facts, skips + xskips + off, settled, config.dedup)
        timings["load + dedup/stories"] = time.perf_counter() - t
    srv.shutdown()
    n_pages, n_art = len(jobs), len(kept)
    words = sum(a.word_count for a in kept)
    total = sum(timings.values())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"### Pipeline, stage by stage ({datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/pipeline_bench.py', *sys.argv[1:]])}`: {n_pages} pages served on "
        f"loopback, {n_art} articles kept ({words} words), {counts.get('facts', 0)} fact rows, "
        f"{len(xskips)} skipped at extraction.",
        "",
        "| stage | seconds | docs/s |",
        "| --- | ---: | ---: |",
    ]
    for stage, s in timings.items():
        n = n_pages if stage.startswith(("fetch", "extract")) else n_art
        lines.append(f"| {stage} | {s:.2f} | {n / s if s > 0 else float('inf'):.0f} |")
    lines += [f"| **total** | **{total:.2f}** | **{n_art / total:.1f}** |", "", f"Peak RSS: {rss_mb:.0f} MB.", ""]
    emit("\n".join(lines), args.out)
    return 0


def emit(text: str, out: Path | None) -> None:
    """Print a result block and append it to out (a markdown file) when given."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
