"""Prefect batching benchmark: the monitor flow over the same pages with small and large task batches.

    .venv/bin/python bench/prefect_bench.py [--batch-sizes 1,10,100] [--out bench/results/prefect.md]

Runs flows/monitor.py's `monitor` flow against Prefect's test harness (a real temporary Prefect server in a
subprocess) over the corpus pages served on loopback (bench/pipeline_bench.py's site), once per batch size,
each into a fresh database. The difference in wall time is the orchestration cost of more tasks.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import pipeline_bench as pb  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", default="1,10,100")
    ap.add_argument("--corpus", type=Path, default=pb.DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    sizes = [int(x) for x in args.batch_sizes.split(",")]

    from prefect.testing.utilities import prefect_test_harness

    from flows.monitor import monitor

    pages = pb.build_site(args.corpus, 1)
    srv, base = pb.serve(pages)
    pages["/feed.xml"] = pb.feed_for(base, [p for p in pages if p != "/feed.xml"])
    rows = []
    with prefect_test_harness(server_startup_timeout=120), tempfile.TemporaryDirectory() as d:
        cfg = Path(d) / "bench.toml"
        cfg.write_text(textwrap.dedent(f"""
            [fetch]
            allow_private_networks = true
            per_host_delay_s = 0.0
            per_host_concurrency = 8
            total_concurrency = 8
            retries = 0
            [[watches]]
            name = "bench"
            feeds = ["{base}/feed.xml"]
        """))
        for size in sizes:
            db = str(Path(d) / f"b{size}.duckdb")
            t = time.perf_counter()
            summary = monitor(config_path=str(cfg), db_path=db, batch_size=size)
            rows.append((size, time.perf_counter() - t, summary["articles_new"]))
    srv.shutdown()
    n_pages = len(pages) - 1
    lines = [
        f"### Prefect task batching ({datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})",
        "",
        f"`.venv/bin/python bench/prefect_bench.py {' '.join(sys.argv[1:])}`: the monitor flow over {n_pages} "
        "loopback pages, 5 tasks per batch (fetch, extract, topic, facts, load) plus one poll task.",
        "",
        "| pages per task batch | tasks | wall seconds | articles |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for size, secs, n in rows:
        batches = -(-n_pages // size)
        lines.append(f"| {size} | {1 + 5 * batches} | {secs:.1f} | {n} |")
    if len(rows) >= 2:
        (s1, t1, _), (s2, t2, _) = rows[0], rows[-1]
        extra_tasks = 5 * (-(-n_pages // s1) - -(-n_pages // s2))
        if extra_tasks > 0:
            lines += ["", f"Orchestration cost: {(t1 - t2) / extra_tasks * 1000:.0f} ms per extra task "
                          f"(batch {s1} vs {s2})."]
    pb.emit("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
