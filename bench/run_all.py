"""Run the benchmarks and keep their output in bench/results/ (`make bench`). Copy figures you publish into
docs/benchmarks.md with the date and machine.

    .venv/bin/python bench/run_all.py [--long]     # --long adds the Prefect batching run and the 1M lookup
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable

QUICK = {
    "pipeline": [PY, "bench/pipeline_bench.py"],
    "fetch": [PY, "-m", "bench.fetch_bench"],
    "feeds_extract": [PY, "bench/feeds_extract.py"],
    "dedup_eval": [PY, "-m", "bench.dedup_eval"],
    "dedup_fingerprint": [PY, "-m", "bench.dedup_bench", "fingerprint"],
    "dedup_lookup": [PY, "-m", "bench.dedup_bench", "lookup", "10000", "100000"],
    "facts": [PY, "bench/facts_bench.py", "--docs", "100"],
    "facts_quality": [PY, "-m", "extractors.facts.quality"],
    "alerts_digest": [PY, "bench/alerts_digest.py"],
}
LONG = {
    "prefect": [PY, "bench/prefect_bench.py", "--batch-sizes", "1,100"],
    "dedup_lookup_1m": [PY, "-m", "bench.dedup_bench", "lookup", "1000000"],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", action="store_true", help="also the long runs (Prefect batching, 1M lookup)")
    args = ap.parse_args()
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, cmd in {**QUICK, **(LONG if args.long else {})}.items():
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        (out_dir / f"{name}.txt").write_text(p.stdout + p.stderr, encoding="utf-8")
        status = "ok" if p.returncode == 0 else f"FAILED ({p.returncode})"
        print(f"{name:20s} {status:12s} {time.perf_counter() - t:7.1f} s  -> bench/results/{name}.txt")
        if p.returncode:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
