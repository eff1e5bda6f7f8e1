"""Dask runner benchmark: the same pages through the local runner and a Dask LocalCluster, in one invocation.

    .venv/bin/python bench/dask_bench.py [--copies 1] [--workers 2] [--batch-size 100] [--no-record]
                                         [--out docs/benchmarks.md]

--batch-size defaults to 100, the size of the recorded figures; newswatch's own default is [run] batch_size.

Serves the real pages of ../shared/corpus/html (--copies times, under different paths) and one RSS feed listing
them on a loopback server, then runs `flows.pipeline.run_monitor` twice, each in a cold child process with its
own temporary DuckDB file and config (one watch, query "", politeness off for loopback):
- local: `[run] runner = "local"` (the default single-process runner, batch after batch; facts of a batch of
  30,000 words or more use 2 spaCy processes, as in every local run);
- dask: `[run] runner = "dask"` with an empty address, so the run starts a LocalCluster of --workers worker
  processes (one thread each) and sends each batch's extraction and facts there in chunks (flows/cluster.py). The
  chunks go through a plain distributed.Client (no Prefect server: the flow path submits the same functions as
  Prefect tasks, which adds a task run per chunk, a few per batch).
Wall time includes starting the cluster and loading spaCy in each worker (a cold run). CPU is the child's tree
(user + system of the process and every descendant it reaped, os.wait4), and apart the run's own process (with a
LocalCluster its scheduler and nannies live there too; the rest is the worker or spaCy processes). Words are the stored articles' word
counts (the same pages, so the same numerator). The result is appended to --out with the machine, the date and
the load average before and after (`uptime`): the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "html"
sys.path.insert(0, str(REPO))


def child(args: argparse.Namespace) -> int:
    """One run in this (cold) process; prints one JSON line."""
    from flows.cluster import dask_stages
    from flows.pipeline import run_monitor
    from newswatch.config import load_config
    from warehouse.db import connect

    config = load_config(args.config)
    t0 = time.perf_counter()
    with dask_stages(config) as (stages, work):
        up = time.perf_counter() - t0
        report = run_monitor(config, args.db, digest=False, force=True, batch_size=args.batch_size, stages=stages)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)  # this process: the runner, and the scheduler of a LocalCluster
    con = connect(args.db, read_only=True)
    try:
        articles, words = con.execute("SELECT count(*), coalesce(sum(word_count), 0) FROM articles").fetchone()
    finally:
        con.close()
    print(json.dumps({"status": report.status, "wall": wall, "cluster_up": up, "articles": articles,
                      "words": int(words), "cpu_self": ru.ru_utime + ru.ru_stime, "stages": dict(report.stage_seconds),
                      "workers": sorted({p for _, _, p in work.chunks}) if work else []}))
    return 0


def uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_child(label: str, cfg: Path, db: Path, batch_size: int) -> dict:
    out = db.with_suffix(".json")
    with out.open("w") as fh:
        p = subprocess.Popen([sys.executable, __file__, "--child", "--config", str(cfg), "--db", str(db),
                              "--batch-size", str(batch_size)], stdout=fh, stderr=subprocess.DEVNULL, cwd=REPO)
        _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{label} run failed (exit {p.returncode}); rerun the child by hand to see why")
    result = json.loads(out.read_text().strip().splitlines()[-1])
    result["cpu"] = ru.ru_utime + ru.ru_stime
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1, help="serve the corpus this many times under different paths")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--no-record", action="store_true", help="print the result, do not append it to --out")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if not CORPUS.is_dir():
        raise SystemExit(f"no corpus at {CORPUS}: the benchmark reads ../shared/corpus/html")
    from tests.support.httpserver import Reply, ScriptedServer

    files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".html", ".htm"))
    load_before, started = uptime(), datetime.now(UTC)
    results = {}
    with ScriptedServer() as srv, tempfile.TemporaryDirectory(prefix="dask-bench-") as tmp:
        srv.route("/robots.txt", Reply(200, body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}))
        items = []
        for c in range(args.copies):
            for i, f in enumerate(files):
                path = f"/c{c}/{f.name}"
                srv.route(path, Reply(200, body=f.read_bytes(), headers={"Content-Type": "text/html; charset=utf-8"}))
                items.append(f"<item><title>page {c}-{i}</title><link>{srv.url(path)}</link><guid>{c}-{i}</guid></item>")
        srv.route("/feed.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>' + "".join(items)
            + "</channel></rss>").encode()))
        for label, run in (("local", 'runner = "local"'),
                           ("dask", f'runner = "dask"\ndask_workers = {args.workers}')):
            folder = Path(tmp) / label
            folder.mkdir()
            cfg = folder / "nw.toml"
            cfg.write_text(f'digest_dir = "{folder / "digests"}"\n[[watches]]\nname = "bench"\nquery = ""\n'
                           f'feeds = ["{srv.url("/feed.xml")}"]\n[fetch]\nallow_private_networks = true\n'
                           f"per_host_delay_s = 0.0\nper_host_concurrency = 8\nretries = 0\n[run]\n{run}\n")
            print(f"{label} run ...", file=sys.stderr, flush=True)
            results[label] = run_child(label, cfg, folder / "bench.duckdb", args.batch_size)
    load_after = uptime()
    local, dask = results["local"], results["dask"]
    if (local["articles"], local["words"]) != (dask["articles"], dask["words"]):
        raise SystemExit(f"the two runs stored different articles: {local} vs {dask}")
    words = local["words"]
    rows = ["| runner | wall s | CPU s | of which the run's process | CPU util | words/s | articles |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, r in results.items():
        rows.append(f"| {label} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['cpu_self']:.1f} | {r['cpu'] / r['wall']:.0%} | "
                    f"{words / r['wall']:,.0f} | {r['articles']} |")
    ratio = local["wall"] / dask["wall"]
    stage = {k: ", ".join(f"{s} {v:.1f}" for s, v in r["stages"].items()) for k, r in results.items()}
    cmd = " ".join(["bench/dask_bench.py", *sys.argv[1:]])
    text = "\n".join([
        f"### Dask runner (issue 13 §4): {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python {cmd}`: {len(files) * args.copies} pages of ../shared/corpus/html on loopback, one feed, "
        f"batches of {args.batch_size}; {local['articles']} articles, {words:,} words stored by each run.",
        f"Machine: {machine()}; load average (1/5/15 min) {load_before} before, {load_after} after.",
        "",
        *rows,
        "",
        f"Ratio: **{ratio:.2f}x** the local runner's words/s with a LocalCluster of {args.workers} workers "
        f"(started by the run: {dask['cluster_up']:.1f} s of the dask wall time, spaCy then loads in each worker).",
        f"Stage seconds, local: {stage['local']}; dask: {stage['dask']}.",
        "",
    ])
    print(text)
    if not args.no_record:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
        print(f"appended to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
