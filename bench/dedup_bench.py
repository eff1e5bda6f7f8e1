"""Dedup benchmarks: fingerprinting throughput, and candidate lookup latency and memory as the warehouse grows.

Run:
    .venv/bin/python -m bench.dedup_bench fingerprint            # docs/s, simhash package vs NumPy variant
    .venv/bin/python -m bench.dedup_bench lookup 10000 100000 1000000
Each lookup size runs in its own process (so peak memory is that size's), on a DuckDB file in a temporary
directory: N stored articles with 30 unit fingerprints and 4 document bands each (random values generated
in SQL), then real articles from the labelled set are grouped by the real stage code and their copies looked
up. Lookups are timed cold (first touch of those index paths after opening) and warm (the same lookups again). Results go to stdout as JSON lines; docs/dedup.md quotes them.
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
    # the hashing step alone: document features (word 3-grams) of every text, already tokenised
    from extractors.fingerprint import doc_features, segment, simhash64, simhash64_numpy

    feats = [doc_features(segment(t)) for t in texts]
    for name, fn in (("simhash_package", simhash64), ("numpy_variant", simhash64_numpy)):
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < min_seconds / 2:
            for f in feats:
                fn(f)
            n += len(feats)
        out[name]["hash_only_docs_per_s"] = round(n / (time.perf_counter() - t0), 1)
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
        INSERT INTO core.article_units (article_id, simhashes)
        SELECT printf('%016x', i), list_transform(range({UNITS_PER_ARTICLE}), j -> hash(i * {UNITS_PER_ARTICLE} + j))
        FROM range({n}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.unit_keys
        SELECT (hash(i) >> 32)::UINTEGER, printf('%016x', i // {UNITS_PER_ARTICLE})
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


def build_db(n: int, path: Path) -> dict:
    """Create the warehouse file with n synthetic stored articles (own process: its memory is not counted)."""
    from warehouse.db import connect

    con = connect(path)
    t0 = time.perf_counter()
    _populate(con, n)
    con.execute("CHECKPOINT")
    con.close()
    return {"build_s": round(time.perf_counter() - t0, 1), "db_mb": round(path.stat().st_size / 2**20)}


def bench_lookup(n: int, path: Path) -> dict:
    """Lookup latency and memory on a built warehouse, in a fresh process as a scheduled run would be."""
    from bench.dedup_eval import _row
    from bench.dedup_gen import T0, build
    from extractors.fingerprint import fingerprint
    from flows.dedup_stage import group_articles
    from newswatch.config import DedupSettings
    from warehouse import dedup as wd
    from warehouse.db import connect, insert_rows, transaction

    con = connect(path)
    rss_open = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
    with transaction(con):
        insert_rows(con, "core.articles", [_row(d) for d in originals])
        t0 = time.perf_counter()
        group_articles(con, [d.doc_id for d in originals], DedupSettings())
        per_article_originals = (time.perf_counter() - t0) / len(originals)

    # the lookup alone: each copy against everything stored, cold then warm
    fps = [fingerprint(d.doc_id, d.text) for d in copies]
    lat = []
    warm = []
    found = 0
    for timings in (lat, warm):
        for d, fp in zip(copies, fps, strict=True):
            t0 = time.perf_counter()
            cands = wd.find_candidates(con, d.doc_id, fp.doc_simhash, fp.unit_simhashes)
            timings.append(time.perf_counter() - t0)
            found += timings is lat and any(c == d.family for c, _ in cands)
    with transaction(con):
        insert_rows(con, "core.articles", [_row(d) for d in copies])
        t0 = time.perf_counter()
        counts = group_articles(con, [d.doc_id for d in copies], DedupSettings())
        per_article_copies = (time.perf_counter() - t0) / len(copies)
    con.close()
    lat.sort()
    warm.sort()
    return {
        "bench": "lookup",
        "stored_articles": n,
        "stored_unit_fingerprints": n * UNITS_PER_ARTICLE,
        "lookups": len(lat),
        "lookup_ms_p50": round(statistics.median(lat) * 1000, 2),
        "lookup_ms_p95": round(lat[int(len(lat) * 0.95)] * 1000, 2),
        "lookup_ms_max": round(lat[-1] * 1000, 2),
        "warm_lookup_ms_p50": round(statistics.median(warm) * 1000, 2),
        "warm_lookup_ms_p95": round(warm[int(len(warm) * 0.95)] * 1000, 2),
        "copies_found_by_lookup": f"{found}/{len(copies)}",
        "group_articles_ms_per_new_text": round(per_article_originals * 1000, 1),
        "group_articles_ms_per_copy": round(per_article_copies * 1000, 1),
        "copies_grouped": counts["copies_grouped"],
        "rss_mb_after_open": round(rss_open),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str]) -> None:
    if not argv or argv[0] == "fingerprint":
        print(json.dumps(bench_fingerprint()), flush=True)
        if argv:
            return
    if argv and argv[0] == "lookup":
        sizes = [int(x) for x in argv[1:]] or [10_000, 100_000, 1_000_000]
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "bench.duckdb"
                # build and measure in separate processes: the measured peak RSS is the lookup's alone
                built = subprocess.run(
                    [sys.executable, "-m", "bench.dedup_bench", "_build", str(n), str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                measured = subprocess.run(
                    [sys.executable, "-m", "bench.dedup_bench", "_lookup", str(n), str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                result = {**json.loads(measured.stdout), **json.loads(built.stdout)}
                print(json.dumps(result), flush=True)
    elif argv and argv[0] == "_build":
        print(json.dumps(build_db(int(argv[1]), Path(argv[2]))))
    elif argv and argv[0] == "_lookup":
        print(json.dumps(bench_lookup(int(argv[1]), Path(argv[2]))))


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    main(sys.argv[1:])
