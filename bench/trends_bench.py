"""Times every documented example query (warehouse/examples/*.sql) and every kind of `newswatch trends` call on a
generated warehouse (bench/trends_gen.py): p50/p95 over repeated runs and peak memory, each case in its own
process so that its peak RSS is its own. Also times publishing the read copy.

Each `trends` call is timed twice: in-process (a CliRunner invocation in a process that has run it before:
connect, query, render) and as the user calls it, a cold `newswatch trends` process from start to exit (Python
start-up and imports included). A cold process runs without PYTHONDONTWRITEBYTECODE (which this machine's
shell sets): its first run writes the code's .pyc files, as an installed newswatch has them, and is shown apart.

Which figure the 500 ms target (issue 11 §5) is checked against: the in-process wall p95 (the cost of a call:
connect, query, render) and, for the user's view, the cold-process wall p95, both reported. On the shared 2-core
machine wall time mostly measures the queue for a core (load 10 means a runnable process waits ~5x its CPU
time), so each case also reports its CPU time p50/p95, which does not depend on the load: on an idle machine the
wall time of a call is about its CPU time (less when DuckDB runs threads in parallel).

`--baseline CODE_DIR=DB` times the same cases with the code in CODE_DIR (e.g. `git archive` of an older commit)
against DB in the same run, interleaved case by case, so that before and after share the machine's load.

`--code DIR` times the code in DIR instead of this checkout (e.g. a `git archive` whose schema files match the
warehouse, when others change the schema while a 1M warehouse would take 20 min to migrate).

Run: .venv/bin/python -m bench.trends_bench DB [--runs 10] [--only trends,example x.sql] [--baseline DIR=DB] [--code DIR]
Prints a markdown table (for docs/benchmarks.md) and the machine, date and load (`uptime`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def warehouse_info(db: str) -> dict:
    """Sizes, the biggest watch and its most mentioned entity, the last day: in a worker with the code under test
    (connect_reader there migrates the warehouse only to that code's schema)."""
    from warehouse.db import connect_reader

    con = connect_reader(db)
    try:   # articles.watch: the same in old and new warehouses
        watch = con.execute("select watch from core.articles group by 1 order by count(*) desc limit 1").fetchone()[0]
        entity = con.execute(
            "select m.entity from core.entity_mentions m join core.articles a using (article_id) where a.watch = ? "
            "group by 1 order by count(*) desc limit 1", [watch]).fetchone()[0]
        last = con.execute("select max(day) from attention").fetchone()[0]
        n = con.execute("select count(*) from core.articles").fetchone()[0]
        m = con.execute("select count(*) from core.entity_mentions").fetchone()[0]
    finally:
        con.close()
    return {"watch": watch, "entity": entity, "last": last.isoformat(), "articles": n, "mentions": m}


def cases(db: str, info: dict, code_dir: str, only: str | None) -> list[tuple[str, str, list[str]]]:
    """(label, kind, args): kind 'sql' runs an example file, 'trends' a whole CLI call (connect, query, render),
    'cold' the same call as a new `newswatch trends` process, 'floor' a new process that only imports duckdb (and
    matplotlib) and runs one query, 'connect' opens the file, 'publish' writes the read copy."""
    watch, entity = info["watch"], info["entity"]
    since = date.fromisoformat(info["last"]).replace(day=1).isoformat()
    examples = Path(code_dir) / "warehouse" / "examples"
    out = [(f"example {p.name}", "sql", [str(p)]) for p in sorted(examples.glob("*.sql"))]
    base = ["--db", db, "--watch", watch]
    for fmt in ("table", "csv", "json", "png"):
        for by in ("day", "week"):
            extra = ["--out", "/tmp/nw_trends_bench.png"] if fmt == "png" else []
            out.append((f"trends --by {by} --format {fmt}", "trends", [*base, "--by", by, "--format", fmt, *extra]))
    out.append(("trends (every watch) --format csv", "trends", ["--db", db, "--format", "csv"]))
    out.append(("trends --entity (top) --by day --format csv", "trends",
                [*base, "--entity", entity, "--format", "csv"]))
    out.append(("trends --entity (top) --by week --format table", "trends",
                [*base, "--entity", entity, "--by", "week"]))
    out.append((f"trends --since {since} --format json", "trends", [*base, "--since", since, "--format", "json"]))
    out += [(f"{label} [cold process]", "cold", args) for label, kind, args in out if kind == "trends"]
    # the floor of any cold process that reads the warehouse: Python starts, imports duckdb, opens the file and
    # runs one query of the attention view (and, for png, also imports matplotlib's Figure and Agg canvas)
    out.append(("floor: python, import duckdb, open, one query [cold process]", "floor", [db]))
    out.append(("floor: the same + import matplotlib Figure/Agg [cold process]", "floor", [db, "png"]))
    out.append(("connect_reader (open the file, check the schema)", "connect", [db]))
    out.append(("publish_read_copy", "publish", [db]))
    if only:  # comma-separated label substrings
        out = [c for c in out if any(o in c[0] for o in only.split(","))]
    return out


def worker(kind: str, args: list[str], runs: int) -> dict:
    """Runs one case `runs` times in this process; wall times in ms, CPU times in ms (trends calls: this process's,
    DuckDB's threads included; cold processes: the child's user + system), peak RSS in MiB."""
    times: list[float] = []
    cpu: list[float] = []
    if kind == "info":
        return warehouse_info(args[0])
    if kind == "sql":
        from warehouse.db import connect_reader

        sql = Path(args[0]).read_text(encoding="utf-8")
        # the query on an open connection (opening the file is timed once, as "connect")
        con = connect_reader(os.environ["NW_BENCH_DB"])
        try:
            for _ in range(runs):
                t, c = time.perf_counter(), time.process_time()
                con.execute(sql).fetchall()
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
        finally:
            con.close()
    elif kind == "connect":
        from warehouse.db import connect_reader

        for _ in range(runs):
            t = time.perf_counter()
            connect_reader(args[0]).close()
            times.append((time.perf_counter() - t) * 1000)
    elif kind == "trends":
        from click.testing import CliRunner

        from newswatch.cli import main

        runner = CliRunner()
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            r = runner.invoke(main, ["trends", *args])
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            if r.exit_code != 0:
                raise SystemExit(f"trends {args} failed: {r.stderr or r.output}")
    elif kind == "cold":
        # what the console script `newswatch` runs, as a new process each time; cwd puts the code under test first
        code = "import sys; from newswatch.cli import console; sys.argv[0] = 'newswatch'; sys.exit(console())"
        _time_processes([sys.executable, "-c", code, "trends", *args], runs, times, cpu)
    elif kind == "floor":
        code = ("import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
                "con.execute(\"select count(*) from attention where period = 'day'\").fetchall()")
        if args[1:] == ["png"]:
            code += ("; from matplotlib.figure import Figure; "
                     "from matplotlib.backends.backend_agg import FigureCanvasAgg")
        _time_processes([sys.executable, "-c", code, args[0]], runs, times, cpu)
    elif kind == "publish":
        from warehouse.db import publish_read_copy

        for _ in range(runs):
            t = time.perf_counter()
            assert publish_read_copy(args[0], force=True) is not None
            times.append((time.perf_counter() - t) * 1000)
    return {"times": times, "cpu": cpu, "peak_mib": peak_rss_mib()}


def _time_processes(argv: list[str], runs: int, times: list[float], cpu: list[float]) -> None:
    """Runs argv `runs` times as new processes, appending each one's wall and CPU ms. Without
    PYTHONDONTWRITEBYTECODE (which this machine's shell sets): pycs are written and read as on an installed
    newswatch, instead of every cold process compiling the changed modules again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(runs):
        t, c = time.perf_counter(), _children_cpu()
        p = subprocess.run(argv, capture_output=True, text=True, env=env)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((_children_cpu() - c) * 1000)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(argv[3:])} failed: {p.stderr}")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def peak_rss_mib() -> float:
    """This process's peak RSS. Not getrusage: Linux keeps ru_maxrss across exec, so a worker would report its
    parent's peak; VmHWM belongs to the new address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(q * (len(xs) - 1)))))
    return xs[k]


def batch_refresh(db: str, n: int = 100, rounds: int = 3) -> None:
    """Cost of keeping the trend tables current: store `n` new articles the way a batch does (a new story on the
    last day with copies, entity mentions, group and watch_articles rows stamped now), then time refresh_trends.
    Adds rows to db."""
    import pyarrow as pa

    from warehouse.db import connect, refresh_trends

    refresh_trends(db)  # start from current trend tables
    stamp = int(time.time())
    for r in range(rounds):
        con = connect(db)
        try:
            day, watch = con.execute("select max(day), arg_max(watch, day) from core.trend_watch_articles").fetchone()
            ids = [f"batch{stamp}r{r:03d}i{i:06d}" for i in range(n)]  # unique across invocations
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            now = datetime.now(UTC)
            b_articles = pa.table({  # noqa: F841 - read by name in the SQL below
                "article_id": ids, "watch": [watch] * n, "source": [f"Outlet {i % 50:03d}" for i in range(n)],
                             "title": [f"batch {r} article {i}" for i in range(n)], "ts": [at] * n})
            b_groups = pa.table({  # noqa: F841
                "article_id": ids, "syndication_id": [ids[0] if i % 3 else ids[i] for i in range(n)],
                               "story_id": [ids[0]] * n, "assigned_at": [now] * n})
            b_mentions = pa.table({  # noqa: F841
                "article_id": [a for a in ids for _ in range(5)], "seq": [k for _ in ids for k in range(5)],
                              "entity": [f"Batch Entity {k}" for _ in ids for k in range(5)]})
            con.execute("INSERT INTO core.articles (article_id, watch, url, canonical_url, source, title, published_at, "
                        "fetched_at, first_seen_at, fetch_status, text, raw_text, word_count, content_hash) "
                        "SELECT article_id, watch, 'u' || article_id, 'u' || article_id, source, title, ts, ts, ts, 'ok', "
                        "title, title, 3, article_id FROM b_articles")
            con.execute("INSERT INTO core.article_groups SELECT * FROM b_groups")
            con.execute("INSERT INTO core.watch_articles SELECT ?, article_id, now(), NULL FROM b_articles", [watch])
            con.execute("INSERT INTO core.entity_mentions SELECT article_id, seq, entity, 'ORG', entity, 0, 1, entity "
                        "FROM b_mentions")
        finally:
            con.close()
        t = time.perf_counter()
        counts = refresh_trends(db)
        print(f"refresh after a batch of {n} new articles: {(time.perf_counter() - t) * 1000:.0f} ms {counts}",
              flush=True)


def _run_worker(code_dir: str, db: str, kind: str, args: list[str], runs: int) -> dict:
    env = {**os.environ, "NW_BENCH_DB": db, "NEWSWATCH_READ_COPY": "1" if kind == "publish" else "0",
           "PYTHONPATH": code_dir}
    # this script by path, its imports (warehouse, newswatch) from code_dir
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), db, "--runs", str(runs), "--worker",
                        json.dumps([kind, *args])], cwd=code_dir, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else str(p.returncode))
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--only", help="comma-separated substrings of the case labels to time")
    ap.add_argument("--batch-refresh", type=int, metavar="N", help="time the refresh after batches of N new articles "
                    "(adds them to DB)")
    ap.add_argument("--baseline", metavar="CODE_DIR=DB", help="also time every case with the code in CODE_DIR "
                    "against DB (before/after columns)")
    ap.add_argument("--code", metavar="DIR", default=str(REPO), help="time the code in DIR (default: this checkout)")
    ap.add_argument("--worker", help="internal: a JSON list [kind, *args] to run in this process")
    a = ap.parse_args()
    if a.worker:
        kind, *wargs = json.loads(a.worker)
        print(json.dumps(worker(kind, wargs, a.runs)))
        return
    if a.batch_refresh:
        print(f"load {os.getloadavg()[0]:.1f}")
        batch_refresh(a.db, a.batch_refresh)
        return
    info = _run_worker(a.code, a.db, "info", [a.db], 1)
    n, m = info["articles"], info["mentions"]
    size_mb = Path(a.db).stat().st_size / 2**20
    load_before = os.getloadavg()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    if a.code != str(REPO):
        print(f"code under test: {a.code}")
    print(f"warehouse {a.db}: {n:,} articles, {m:,} entity mentions, {size_mb:,.0f} MiB; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; uptime: {uptime}", flush=True)
    base_dir, base_db = a.baseline.split("=", 1) if a.baseline else (None, None)
    if base_dir:
        print(f"baseline: code in {base_dir}, warehouse {base_db}")
        print("\n| case | before p50 | before p95 | before CPU p50 | after p50 | after p95 | after CPU p50 | "
              "after CPU p95 | after first | after peak RSS MiB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- "
              "| --- |", flush=True)
    else:
        print("\n| case | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | first ms | peak RSS MiB |\n"
              "| --- | --- | --- | --- | --- | --- | --- |", flush=True)

    def measure(code_dir: str, db: str, kind: str, args: list[str]) -> tuple[float, ...] | str:
        try:
            r = _run_worker(code_dir, db, kind, args, a.runs if kind != "publish" else 3)
        except RuntimeError as e:
            return f"failed: {e}"
        ts = r["times"]
        steady = ts[1:] if len(ts) > 2 else ts
        cpu = r.get("cpu") or [float("nan")]
        cpu_steady = cpu[1:] or cpu
        return (statistics.median(steady), pct(steady, 0.95), ts[0], r["peak_mib"], statistics.median(cpu_steady),
                pct(cpu_steady, 0.95))

    for label, kind, args in cases(a.db, info, a.code, a.only):
        after = measure(a.code, a.db, kind, args)
        if isinstance(after, str):
            print(f"| {label} | {after} | | | |", flush=True)
            continue
        cells = f"{after[0]:.0f} | {after[1]:.0f} | {after[4]:.0f} | {after[5]:.0f} | {after[2]:.0f} | {after[3]:.0f}"
        if base_dir:
            b_args = [base_db if x == a.db else x for x in args]
            if kind == "sql":   # the baseline's own version of the example (a bounded one may be new)
                b_args = [str(Path(base_dir) / "warehouse" / "examples" / Path(args[0]).name)]
            before = measure(base_dir, base_db, kind, b_args)
            b_cells = (f"{before} | |" if isinstance(before, str)
                       else f"{before[0]:.0f} | {before[1]:.0f} | {before[4]:.0f}")
            cells = f"{b_cells} | {cells}"
        print(f"| {label} | {cells} |", flush=True)
    load_after = os.getloadavg()
    print(f"\nload average before {load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores shared with other jobs); "
          f"p50/p95 (wall) and CPU p50/p95 over runs 2..{a.runs} (the first run shown apart); uptime: "
          + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
