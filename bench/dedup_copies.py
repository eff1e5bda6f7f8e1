"""Dedup cost of one wire story carried by many outlets: milliseconds of dedup per copy as the group grows.

Run: .venv/bin/python -m bench.dedup_copies --copies 1000 [--stored 100000] [--baseline REV --baseline-copies 200]

One text (seed 001, a real regional news article) is run by N outlets: the same body with the outlet's credit
in the lede and one or two paragraphs dropped (issue 9 §3). The original and its copies are fed to the real
dedup stage (`group_articles`) in batches of a run's `[run] batch_size` (--batch N; 25 before the eighth
session), one transaction per batch as a run stores them, into a fresh warehouse. Printed (JSON): ms of dedup
per copy over the first and the last 100 copies and overall, whether every copy joined the original's copy
group and story, and peak RSS; the same per-copy figures in
CPU time of the process (less sensitive to other jobs on a shared machine than wall time).

--stored N first fills the warehouse with N synthetic stored articles (30 unit keys and 4 bands each, as
bench/dedup_bench.py lookup builds them; not timed), then also times distinct real texts arriving as new
articles, before the wire copies: ms of dedup per new article with N stored. --new-texts K says how many (100:
the corpus pages, 95 texts; more are PolNeAR development articles, so 250 fills one batch of a run).

--fingerprints-given computes every fingerprint first in another process, as the pipeline's pool workers do with
the extraction (Extracted.fingerprints), and hands them to the stage: the figures are then the main process's
dedup cost without fingerprinting (its segmentation caches cold, as in a run).

--baseline REV measures the same thing with the code of a git revision (a `git archive` of it in a
temporary directory, run in its own process) in the same invocation, so both figures share the machine's
load; --baseline-copies bounds it (the code before issue 9 §3 costs seconds per copy at 1,000).
Each measurement runs in its own process; `--code DIR` (internal) says which tree to import.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "001_9b26fe86bbcc8c81.txt"
BATCH = 25  # what the figures before the eighth session used; runs now store [run] batch_size (--batch)
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def wire_copies(n: int, seed: int = 3) -> list[dict]:
    """The original and n copies as core.articles rows (all dated: the original first, copies minutes apart)."""
    lines = [ln.strip() for ln in SEED.read_text("utf-8").splitlines() if ln.strip()]
    title, paras = lines[0], lines[1:]
    rng = random.Random(seed)
    rows = []
    for i in range(n + 1):
        body = list(paras)
        source = "The Star" if i == 0 else f"Outlet {i}"
        if i:
            for _ in range(rng.randint(1, 2)):
                if len(body) > 4:
                    body.pop(rng.randrange(1, len(body)))
            body[0] = f"({source}) - {body[0]}"
        t = T0 + timedelta(minutes=i)
        aid = f"wire{i:012d}"
        text = "\n".join(body)
        rows.append(
            {
                "article_id": aid,
                "watch": "bench",
                "url": f"https://outlet{i}.example/news/{aid}",
                "canonical_url": f"https://outlet{i}.example/news/{aid}",
                "source": source,
                "title": title,
                "published_at": t,
                "fetched_at": t,
                "first_seen_at": t,
                "fetch_status": "ok",
                "text": text,
                "raw_text": text,
                "word_count": len(text.split()),
                "content_hash": f"h{i}",
            }
        )
    return rows


def distinct_texts(limit: int = 100) -> list[dict]:
    """Real texts as new-article rows: the shared corpus pages (as bench/dedup_gen.py extracts them; 95 of them),
    then, beyond those, PolNeAR development articles (real political news, ../shared/eval) up to `limit`."""
    from bench.dedup_gen import load_corpus, load_polnear

    docs = load_corpus()[:limit]
    if len(docs) < limit:
        docs += load_polnear(None)[: limit - len(docs)]
    rows = []
    for i, d in enumerate(docs):
        t = T0 - timedelta(days=1) + timedelta(minutes=i)
        aid = f"text{i:012d}"
        rows.append(
            {
                "article_id": aid, "watch": "bench", "url": f"https://texts.example/{aid}",
                "canonical_url": f"https://texts.example/{aid}", "source": f"Site {i}", "title": d["title"],
                "published_at": t, "fetched_at": t, "first_seen_at": t, "fetch_status": "ok", "text": d["text"],
                "raw_text": d["text"], "word_count": len(d["text"].split()), "content_hash": f"t{i}",
            }
        )
    return rows


def _fingerprints(rows: list[dict]) -> dict:
    from extractors.fingerprint import fingerprint

    return {(r["article_id"], r["content_hash"]): fingerprint(r["article_id"], r["text"], use_numpy=True) for r in rows}


def measure(n: int, db_path: Path, stored: int = 0, texts: list[dict] | None = None, given: bool = False,
            batch: int = BATCH) -> dict:
    """Ingest the original and n copies with whichever tree is first on sys.path; ms of dedup per copy.
    With stored > 0, first N synthetic stored articles, then `texts` as new articles (timed per article).
    given: the fingerprints computed beforehand in another process (as the pool workers do) and handed over."""
    from flows.dedup_stage import group_articles
    from newswatch.config import DedupSettings
    from warehouse.db import connect, insert_rows, transaction

    rows = wire_copies(n)
    fps: dict = {}
    if given:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1) as pool:  # not this process: its fingerprint caches stay cold, as in a run
            fps = pool.submit(_fingerprints, rows + list(texts or [])).result()
    con = connect(db_path)
    per_copy: list[float] = []
    cpu_copy: list[float] = []
    per_text: list[float] = []
    cpu_text: list[float] = []
    if stored:
        from bench.dedup_bench import _populate

        _populate(con, stored)
        con.execute("CHECKPOINT")
        for i in range(0, len(texts or []), batch):
            chunk = (texts or [])[i : i + batch]
            with transaction(con):
                insert_rows(con, "core.articles", chunk)
                t0, c0 = time.perf_counter(), time.process_time()
                group_articles(con, [r["article_id"] for r in chunk], DedupSettings(), fps or None)
                per_text.extend([(time.perf_counter() - t0) / len(chunk)] * len(chunk))
                cpu_text.extend([(time.process_time() - c0) / len(chunk)] * len(chunk))
    try:
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            with transaction(con):
                insert_rows(con, "core.articles", chunk)
                t0, c0 = time.perf_counter(), time.process_time()
                group_articles(con, [r["article_id"] for r in chunk], DedupSettings(), fps or None)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
            copies = sum(1 for r in chunk if r["article_id"] != rows[0]["article_id"])
            per_copy.extend([dt / len(chunk)] * copies)
            cpu_copy.extend([dc / len(chunk)] * copies)
        groups = con.execute(
            "SELECT syndication_id, story_id FROM core.article_groups WHERE article_id LIKE 'wire%'"
        ).fetchall()
    finally:
        con.close()
    first = per_copy[:100]
    last = per_copy[-100:]
    extra = {}
    if stored:
        extra = {
            "stored_articles": stored,
            "new_texts": len(per_text),
            "ms_per_new_text": round(1000 * sum(per_text) / max(1, len(per_text)), 1),
            "cpu_ms_per_new_text": round(1000 * sum(cpu_text) / max(1, len(cpu_text)), 1),
        }
    return {
        **extra,
        "batch": batch,
        "fingerprints_given": given,
        "copies": n,
        "ms_per_copy_first_100": round(1000 * sum(first) / len(first), 1),
        "ms_per_copy_last_100": round(1000 * sum(last) / len(last), 1),
        "ms_per_copy_all": round(1000 * sum(per_copy) / len(per_copy), 1),
        # CPU time of the process (all its threads): less sensitive to other jobs on a shared machine
        "cpu_ms_per_copy_first_100": round(1000 * sum(cpu_copy[:100]) / len(cpu_copy[:100]), 1),
        "cpu_ms_per_copy_last_100": round(1000 * sum(cpu_copy[-100:]) / len(cpu_copy[-100:]), 1),
        "one_copy_group": len({g[0] for g in groups}) == 1 and len(groups) == n + 1,
        "one_story": len({g[1] for g in groups}) == 1,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _run(code: Path, n: int, stored: int = 0, given: bool = False, batch: int = BATCH, new_texts: int = 100) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        extra = []
        if stored:
            # the texts come from this tree (the corpus cache is not in a git archive)
            (Path(tmp) / "texts.json").write_text(json.dumps(distinct_texts(new_texts), default=str), "utf-8")
            extra = ["--stored", str(stored), "--texts", str(Path(tmp) / "texts.json")]
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--code", str(code), "--measure", str(n),
             "--db", str(Path(tmp) / "copies.duckdb"), "--batch", str(batch), *extra,
             *(["--fingerprints-given"] if given else [])],
            capture_output=True,
            text=True,
            env=env,
        )
    if out.returncode:
        raise SystemExit(f"measurement with {code} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1000)
    ap.add_argument("--baseline", default=None, help="git revision to measure in the same run")
    ap.add_argument("--baseline-copies", type=int, default=200)
    ap.add_argument("--stored", type=int, default=0, help="synthetic stored articles to fill in first")
    ap.add_argument("--fingerprints-given", action="store_true",
                    help="fingerprints computed beforehand in another process, as the pool workers do")
    ap.add_argument("--batch", type=int, default=None,
                    help="articles per transaction (default: a run's, [run] batch_size of this tree's config)")
    ap.add_argument("--new-texts", type=int, default=100,
                    help="distinct real texts timed as new articles with --stored (the corpus gives 95; more come "
                         "from the PolNeAR development articles; 250 fills one batch of a run)")
    ap.add_argument("--texts", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--measure", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure is not None:
        sys.path.insert(0, str(args.code))
        texts = None
        if args.texts:
            texts = json.loads(args.texts.read_text("utf-8"))
            for r in texts:
                for k in ("published_at", "fetched_at", "first_seen_at"):
                    r[k] = datetime.fromisoformat(r[k])
        print(json.dumps(measure(args.measure, args.db, args.stored, texts, args.fingerprints_given, args.batch)))
        return
    if args.batch is None:
        from newswatch.config import RunSettings

        args.batch = RunSettings().batch_size
    result: dict = {"bench": "dedup_copies", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            result["baseline"] = {"revision": args.baseline, **_run(Path(tmp), args.baseline_copies, args.stored,
                                                                  args.fingerprints_given, args.batch,
                                                                  args.new_texts)}
    result["current"] = _run(ROOT, args.copies, args.stored, args.fingerprints_given, args.batch, args.new_texts)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
