"""Dedup benchmarks: fingerprinting throughput, and candidate lookup latency and memory as the warehouse grows.

Run:
    .venv/bin/python -m bench.dedup_bench fingerprint            # docs/s, simhash package vs NumPy variant
    .venv/bin/python -m bench.dedup_bench lookup 10000 100000 1000000
Each lookup size runs in its own process (so peak memory is that size's), on a DuckDB file in a temporary
directory: N stored articles with 30 unit fingerprints and 4 document bands each (random 64-bit values
generated in SQL), plus the real seeds planted among them; then the real stage code looks up and groups
new articles. Results go to stdout as JSON lines; docs/dedup.md quotes them.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

UNITS_PER_ARTICLE = 30  # median body length is ~25-35 sentence units in the corpus
OUTLETS = 200


def _texts() -> list[str]:
    from bench.dedup_gen import load_corpus, seed_docs

    return [d["text"] for d in load_corpus()] + [d.text for d in seed_docs()]


def bench_fingerprint(min_seconds: float = 5.0) -> dict:
    """Documents per second through fingerprint(), with the simhash package and with the NumPy variant."""
    from extractors.fingerprint import fingerprint

    texts = _texts()
    words = sum(len(t.split()) for t in texts)
    out: dict = {"bench": "fingerprint", "docs": len(texts), "words_per_doc": round(words / len(texts))}
    for name, use_numpy in (("simhash_package", False), ("numpy_variant", True)):
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < min_seconds:
            for i, t in enumerate(texts):
                fingerprint(str(i), t, use_numpy=use_numpy)
            n += len(texts)
        dt = time.perf_counter() - t0
        out[name] = {"docs_per_s": round(n / dt, 1), "words_per_s": round(n * words / len(texts) / dt)}
    same = all(fingerprint("x", t) == fingerprint("x", t, use_numpy=True) for t in texts)
    out["identical_fingerprints"] = same
    return out


def _populate(con, n: int) -> None:
    """N synthetic stored articles: articles rows (short text), unit fingerprints, document bands, groups."""
    con.execute(
        f"""
        INSERT INTO core.articles (article_id, watch, url, canonical_url, source, title, published_at, fetched_at,
            first_seen_at, fetch_status, text, raw_text, word_count, content_hash)
        SELECT printf('%016x', i), 'bench', 'https://x/' || i, 'https://x/' || i, 'outlet ' || (i % {OUTLETS}),
            't', TIMESTAMPTZ '2020-01-01' + to_seconds(i * 60), TIMESTAMPTZ '2020-01-01' + to_seconds(i * 60),
            TIMESTAMPTZ '2020-01-01' + to_seconds(i * 60), 'ok', 'x', 'x', 1, 'h'
        FROM range({n}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.unit_fingerprints
        SELECT printf('%016x', i // {UNITS_PER_ARTICLE}), (i % {UNITS_PER_ARTICLE})::INTEGER, hash(i)::UBIGINT
        FROM range({n} * {UNITS_PER_ARTICLE}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.simhash_bands
        SELECT ((i % 4) * 65536 + (hash(i * 7 + 1) % 65536))::UINTEGER, printf('%016x', i // 4)
        FROM range({n} * 4) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.fingerprints
        SELECT printf('%016x', i), hash(i * 13 + 5)::UBIGINT, 'bench', now() FROM range({n}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.article_groups
        SELECT printf('%016x', i), printf('%016x', i), printf('%016x', i), now() FROM range({n}) t(i)
        """
    )


def bench_lookup(n: int) -> dict:
    """Lookup latency and memory with n stored articles (run in a fresh process for a clean peak RSS)."""
    from bench.dedup_eval import _row
    from bench.dedup_gen import T0, build
    from extractors.fingerprint import fingerprint
    from flows.dedup_stage import group_articles
    from newswatch.config import DedupSettings
    from warehouse import dedup as wd
    from warehouse.db import connect, insert_rows, transaction

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        con = connect(path)
        t0 = time.perf_counter()
        _populate(con, n)
        con.execute("CHECKPOINT")
        con.close()
        build_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 2**20
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # fresh connection, as a scheduled run would open it
        con = connect(path)
        docs = [d for d in build(seed=11, max_bases=40) if d.kind in ("original", "copy", "half")]
        shift = datetime(2021, 1, 1, tzinfo=UTC) - T0  # after the synthetic articles
        docs = [
            d.__class__(
                d.doc_id,
                d.title,
                d.text,
                d.source,
                d.published_at + shift if d.published_at else None,
                d.first_seen_at + shift,
                d.family,
                d.story,
                d.kind,
                d.ops,
            )
            for d in docs
        ]
        originals = [d for d in docs if d.kind != "copy"]
        copies = [d for d in docs if d.kind == "copy"]
        insert_rows(con, "core.articles", [_row(d) for d in originals])
        t0 = time.perf_counter()
        with transaction(con):
            group_articles(con, [d.doc_id for d in originals], DedupSettings())
        per_article_originals = (time.perf_counter() - t0) / len(originals)

        # lookup alone: copies against everything stored
        lat = []
        found = 0
        for d in copies:
            fp = fingerprint(d.doc_id, d.text)
            t0 = time.perf_counter()
            cands = wd.find_candidates(con, d.doc_id, fp.doc_simhash, fp.unit_simhashes)
            lat.append(time.perf_counter() - t0)
            found += any(c == d.family for c, _ in cands)
        insert_rows(con, "core.articles", [_row(d) for d in copies])
        t0 = time.perf_counter()
        with transaction(con):
            counts = group_articles(con, [d.doc_id for d in copies], DedupSettings())
        per_article_copies = (time.perf_counter() - t0) / len(copies)
        con.close()
    lat.sort()
    return {
        "bench": "lookup",
        "stored_articles": n,
        "stored_unit_fingerprints": n * UNITS_PER_ARTICLE,
        "db_mb": round(size_mb),
        "build_s": round(build_s, 1),
        "lookup_ms_p50": round(statistics.median(lat) * 1000, 2),
        "lookup_ms_p95": round(lat[int(len(lat) * 0.95)] * 1000, 2),
        "lookup_ms_max": round(lat[-1] * 1000, 2),
        "copies_found_by_lookup": f"{found}/{len(copies)}",
        "group_articles_ms_per_article_new_texts": round(per_article_originals * 1000, 1),
        "group_articles_ms_per_article_copies": round(per_article_copies * 1000, 1),
        "copies_grouped": counts["copies_grouped"],
        "peak_rss_mb_build": round(rss_before),
        "peak_rss_mb_total": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str]) -> None:
    if not argv or argv[0] == "fingerprint":
        print(json.dumps(bench_fingerprint()), flush=True)
        if argv:
            return
    if argv and argv[0] == "lookup":
        sizes = [int(x) for x in argv[1:]] or [10_000, 100_000, 1_000_000]
        for n in sizes:
            # one process per size: its peak RSS is that size's alone
            subprocess.run([sys.executable, "-m", "bench.dedup_bench", "_lookup", str(n)], check=True)
    elif argv and argv[0] == "_lookup":
        print(json.dumps(bench_lookup(int(argv[1]))), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    main(sys.argv[1:])
