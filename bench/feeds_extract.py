"""Benchmark: extract_article over the 110-page corpus (/work/shared/corpus/html) and the 5 seeds.

    .venv/bin/python bench/feeds_extract.py [--corpus DIR] [--repeat N]

Prints docs/s, the fetch-status breakdown, how many pages got a date and from which origin, and
parse_feed throughput on the golden feeds. Paste the output into docs/feeds.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors.articles import article_from_file, extract_article  # noqa: E402
from extractors.feeds import parse_feed  # noqa: E402
from extractors.query import compile_query  # noqa: E402
from newswatch.models import Article, FetchResult  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="/work/shared/corpus/html")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    files = sorted(Path(args.corpus).glob("*.html"))
    bodies = [(f.name, f.read_bytes()) for f in files]
    total_bytes = sum(len(b) for _, b in bodies)
    status: collections.Counter[str] = collections.Counter()
    origins: collections.Counter[str] = collections.Counter()
    langs: collections.Counter[str] = collections.Counter()
    words = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(args.repeat):
        status.clear(), origins.clear(), langs.clear()
        words = 0
        for name, body in bodies:
            url = f"https://{name.removesuffix('.html')}/"
            r = FetchResult(url=url, final_url=url, status="ok", http_status=200, content_type="text/html",
                            body=body)
            a = extract_article(r, watch="bench")
            if isinstance(a, Article):
                status[a.fetch_status] += 1
                origins[a.published_origin or "none"] += 1
                langs[a.language or "none"] += 1
                words += a.word_count
            else:
                status[f"skip:{a.reason}"] += 1
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    n = len(bodies) * args.repeat

    q = compile_query('Rotherham AND ("child sexual exploitation" OR "child abuse" OR groom*) AND (IOPC OR police)')
    seeds = [article_from_file(p, watch="bench") for p in sorted((REPO / "seeds").glob("*.txt"))]
    seed_articles = [a for a in seeds if isinstance(a, Article)]
    tq = time.perf_counter()
    for _ in range(200):
        for a in seed_articles:
            q.matches(a.title, a.text)
    query_per_s = 200 * len(seed_articles) / (time.perf_counter() - tq)

    feeds = [p for p in sorted((REPO / "tests/feeds/data/feeds").iterdir()) if not p.name.endswith(".json.expected.json")
             and not p.name.endswith(".expected.json")]
    feed_bodies = [p.read_bytes() for p in feeds]
    tf = time.perf_counter()
    entries = 0
    for _ in range(50):
        for b in feed_bodies:
            entries += len(parse_feed(b, "https://bench.example/feed").entries)
    feed_elapsed = time.perf_counter() - tf

    out = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "pages": n,
        "corpus_mb": round(total_bytes / 1e6, 1),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(n / elapsed, 1),
        "docs_per_cpu_s": round(n / cpu, 1),  # wall time suffers when other jobs share the 2 cores
        "fetch_status": dict(status),
        "date_origin": dict(origins),
        "languages": dict(langs.most_common(6)),
        "mean_words": round(words / max(1, sum(v for k, v in status.items() if not k.startswith("skip")))),
        "query_matches_per_s_on_seeds": round(query_per_s),
        "feeds_parsed_per_s": round(50 * len(feed_bodies) / feed_elapsed),
        "feed_entries_per_s": round(entries / feed_elapsed),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
