"""Peak memory of `newswatch run` on a feed of big pages (issue 9 §2: under 1 GiB for 200 pages of 4.7 MB).

    .venv/bin/python bench/memory_bench.py [--pages 200] [--page-mb 4.7] [--workers 1,2] [--repo PATH]
                                           [--batch-bytes N] [--label TEXT]

A loopback server serves one RSS feed of --pages entries; page i is real page i of ../shared/corpus/html (cycled)
padded to --page-mb MB by a large HTML comment before </body>, so trafilatura still extracts the article and each
page stays under the 5 MB page cap. The padding is made per request (the server holds only the real pages).
For each --workers value, a cold `python -m newswatch.cli -v run --no-digest --force` process runs one watch
(query "", everything matched) into a temporary DuckDB, with --repo as its working directory and PYTHONPATH (the
checkout measured: the default is this one; a `git worktree add /tmp/r_before <commit>` checkout measures the old
code). Peak RSS is the largest process of the run's process tree (the main process, the worker pool's fork
server and its workers): each process's VmHWM from /proc, sampled every 0.2 s, and wait4's ru_maxrss (the same
sampler as bench/throughput.py). Printed as a Markdown table with the machine, the date and the load average
(`uptime`) before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import CORPUS, REPO, cpu_model, load_avg, measure, stage_seconds  # noqa: E402

sys.path.insert(0, str(REPO))  # the project's loopback server, as bench/dask_bench.py uses it
from tests.support.httpserver import Reply, ScriptedServer  # noqa: E402

FILLER = b"padding text " * 1024  # 13 KiB, repeated to the wanted size


def real_pages() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob("*.html"))]


def padded(page: bytes, size: int) -> bytes:
    """page with an HTML comment before </body> that brings it to size bytes (page as it is when larger)."""
    room = size - len(page) - len(b"<!--  -->")
    if room <= 0:
        return page
    filler = (FILLER * (room // len(FILLER) + 1))[:room]
    i = page.lower().rfind(b"</body>")
    i = i if i >= 0 else len(page)
    return page[:i] + b"<!-- " + filler + b" -->" + page[i:]


def serve(pages: list[bytes], n: int, size: int) -> ScriptedServer:
    """The feed and its n pages on the project's loopback server; a page is padded when it is asked for."""
    srv = ScriptedServer().start()
    html = {"Content-Type": "text/html; charset=utf-8"}
    srv.route("/robots.txt", Reply(200, body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}))
    for i in range(n):
        srv.route(f"/p{i}.html", lambda _req, i=i: Reply(200, body=padded(pages[i % len(pages)], size), headers=html))
    items = "".join(f"<item><title>Page {i}</title><link>{srv.url(f'/p{i}.html')}</link><guid>p{i}</guid></item>"
                    for i in range(n))
    srv.route("/feed.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big pages</title>'
        f"<link>{srv.url('/')}</link>{items}</channel></rss>").encode()))
    return srv


def git_head(repo: Path) -> str:
    p = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return p.stdout.strip()[:70] or "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--page-mb", type=float, default=4.7, help="size of each page in MB (10^6 bytes)")
    ap.add_argument("--workers", default="1,2", help="comma list of [run] workers values, one run each")
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout to run (default: this one)")
    ap.add_argument("--batch-bytes", type=int, help="[run] batch_bytes (default: the code's default)")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="newswatch --batch-size (default: newswatch's own, [run] batch_size)")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"memory_bench: {CORPUS} is missing (the shared corpus)", file=sys.stderr)
        return 2
    pages = real_pages()
    size = int(args.page_mb * 1e6)
    srv = serve(pages, args.pages, size)
    repo = args.repo.resolve()
    rows = []
    load_before = load_avg()
    for w in [int(x) for x in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            cfg = Path(d, "newswatch.toml")
            budget = f"batch_bytes = {args.batch_bytes}\n" if args.batch_bytes else ""
            cfg.write_text(
                f"[run]\nworkers = {w}\n{budget}\n[fetch]\nallow_private_networks = true\nper_host_delay_s = 0.0\n"
                "per_host_concurrency = 8\ntotal_concurrency = 8\nretries = 0\n\n"
                f'[[watches]]\nname = "big"\nquery = ""\nfeeds = {json.dumps([srv.url("/feed.xml")])}\n',
                encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": str(repo)}
            batch = ["--batch-size", str(args.batch_size)] if args.batch_size is not None else []
            m = measure([sys.executable, "-m", "newswatch.cli", "-v", "run", "--config", str(cfg), "--db",
                         str(Path(d, "bench.duckdb")), "--no-digest", "--force", *batch], env=env, cwd=repo)
        if m.rc != 0:
            print(f"memory_bench: workers={w}: newswatch exited {m.rc}\n{m.stderr[-3000:]}", file=sys.stderr)
            return 1
        stored = sum(int(n) for n in re.findall(r"stored (\d+) new", m.stderr))
        batches = len(re.findall(r"loading \d+ article\(s\)", m.stderr))
        stages = stage_seconds(m.stderr)
        rows.append((w, m, stored, batches, stages))
    load_after = load_avg()
    srv.stop()
    lines = [
        f"### Peak memory{' (' + args.label + ')' if args.label else ''}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python bench/memory_bench.py {' '.join(sys.argv[1:])}`: one feed of {args.pages} pages of "
        f"{size / 1e6:.1f} MB ({len(pages)} real pages of ../shared/corpus/html, padded by an HTML comment), "
        f"loopback; code: {repo} at `{git_head(repo)}`.",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"(1/5/15 min) {load_before} before, {load_after} after.",
        "",
        "| `[run] workers` | wall s | peak RSS (largest process) | articles stored | batches committed |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for w, m, stored, batches, _ in rows:
        lines.append(f"| {w} | {m.wall_s:.1f} | {m.peak_rss_mb:,.0f} MB | {stored} | {batches} |")
    for w, _, _, _, stages in rows:
        if stages:
            lines.append(f"\nworkers={w} stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
