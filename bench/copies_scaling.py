"""Copies of one wire story: does the cost per copy stay flat as the group grows? 200 against 400 copies.

    .venv/bin/python bench/copies_scaling.py [--copies 200 400] [--workers N] [--batch-size 100]
    (--batch-size defaults to 100, the size of the recorded figures; newswatch's own default is [run] batch_size)

One wire story (the first seed) carried by N outlets: each copy has an outlet credit in the lede and one or two
paragraphs dropped, inside that outlet's page shell (bench/throughput.shell), on a loopback site with feeds of
200 entries. For each N, a cold `newswatch -v run --no-digest --force` into a fresh DuckDB: wall time, CPU of
the process tree, peak RSS of its largest process, and the runner's stage seconds. Target (issue 9 §4): 400
copies in at most twice the time of 200. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.throughput import FEED_ENTRIES, SEEDS, Story, feed_for, measure, serve, shell, stage_seconds  # noqa: E402


def site(n: int, seed: int = 11) -> dict[str, bytes]:
    rng = random.Random(seed)
    first = sorted(SEEDS.glob("*.txt"))[0]
    lines = [ln.strip() for ln in first.read_text(encoding="utf-8").split("\n\n") if ln.strip()]
    story = Story(lines[0], tuple(lines[1:]))
    pages = {}
    for k in range(n):
        paras = list(story.paragraphs)
        for _ in range(rng.randint(1, 2)):
            if len(paras) > 3:
                paras.pop(rng.randrange(1, len(paras)))
        paras[0] = f"LONDON (Outlet {k}) - {paras[0]}"
        pages[f"/o{k}/wire.html"] = shell(k, Story(story.title, tuple(paras)), rng)
    return pages


def one(n: int, workers: int | None, batch_size: int) -> dict:
    pages = site(n)
    srv, base = serve(pages)
    paths = list(pages)
    feeds = []
    for f, i in enumerate(range(0, len(paths), FEED_ENTRIES)):
        pages[f"/feed{f}.xml"] = feed_for(base, paths[i : i + FEED_ENTRIES], f)
        feeds.append(f"{base}/feed{f}.xml")
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d, "newswatch.toml")
        run = f"[run]\nworkers = {workers}\n\n" if workers else ""
        cfg.write_text(
            f"{run}[fetch]\nallow_private_networks = true\nper_host_delay_s = 0.0\nper_host_concurrency = 8\n"
            f"total_concurrency = 8\nretries = 0\n\n"
            f'[[watches]]\nname = "wire"\nquery = ""\nfeeds = {json.dumps(feeds)}\n', encoding="utf-8")
        m = measure([str(Path(sys.executable).parent / "newswatch"), "-v", "run", "--config", str(cfg), "--db",
                     str(Path(d, "b.duckdb")), "--no-digest", "--force", "--batch-size", str(batch_size)])
    srv.shutdown()
    if m.rc != 0:
        raise SystemExit(f"copies_scaling: newswatch exited {m.rc}\n{m.stderr[-3000:]}")
    stored = sum(int(x) for x in re.findall(r"stored (\d+) new", m.stderr))
    return {"copies": n, "wall_s": m.wall_s, "cpu_s": m.cpu_s, "rss_mb": m.peak_rss_mb, "stored": stored,
            "stages": stage_seconds(m.stderr)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs="+", default=[200, 400])
    ap.add_argument("--workers", type=int)
    ap.add_argument("--batch-size", type=int, default=100)
    args = ap.parse_args()
    if not SEEDS.is_dir():
        print(f"copies_scaling: {SEEDS} is missing (the shared seeds)", file=sys.stderr)
        return 2
    rows = []
    for n in args.copies:
        before = os.getloadavg()
        r = one(n, args.workers, args.batch_size)
        r["load"] = (before, os.getloadavg())
        rows.append(r)
        print(f"{n} copies: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU ({r['cpu_s'] / n * 1000:.0f} ms CPU "
              f"per copy), peak RSS {r['rss_mb']:.0f} MB, stored {r['stored']}; load {before[0]:.2f} -> "
              f"{r['load'][1][0]:.2f}; stages: " + ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items()),
              flush=True)
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        print(f"{b['copies']} vs {a['copies']} copies: wall {b['wall_s'] / a['wall_s']:.2f}x, CPU "
              f"{b['cpu_s'] / a['cpu_s']:.2f}x (target: at most 2x for twice the copies)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
