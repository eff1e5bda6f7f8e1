"""Benchmark: extract_article over the 110-page corpus (../shared/corpus/html), scored against trafilatura's
own annotations for those pages (bench/feeds_evaldata.json, Apache-2.0, see its _source).

    .venv/bin/python bench/feeds_extract.py [--corpus DIR] [--repeat N]

Prints throughput (wall and per CPU second), the fetch-status breakdown, where chosen dates came from, text
quality on the annotated snippets (precision/recall/F1 as trafilatura's evaluation counts them), publication
date accuracy on the pages with a gold date (ours against trafilatura's default date), and parse_feed and
watch-query throughput. Paste the output into docs/feeds.md.
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

import trafilatura  # noqa: E402

from extractors.articles import article_from_file, extract_article  # noqa: E402
from extractors.feeds import parse_feed  # noqa: E402
from extractors.query import compile_query  # noqa: E402
from newswatch.models import Article, FetchResult  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).with_name("feeds_evaldata.json")


def norm(s: str) -> str:
    return " ".join(s.split()).lower()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("NEWSWATCH_CORPUS_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "corpus" / "html"))
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    gold = json.loads(EVAL.read_text(encoding="utf-8"))["pages"]
    url_of = {v["file"]: u for u, v in gold.items()}
    gold_of = {v["file"]: v for v in gold.values()}
    files = sorted(Path(args.corpus).glob("*.html"))
    bodies = [(f.name, f.read_bytes()) for f in files]
    fetched_at = datetime(2026, 11, 22, 12, tzinfo=UTC)

    status: collections.Counter[str] = collections.Counter()
    origins: collections.Counter[str] = collections.Counter()
    results: dict[str, object] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.repeat):
        for name, body in bodies:
            url = url_of.get(name, f"https://{name.removesuffix('.html')}/")
            r = FetchResult(url=url, final_url=url, status="ok", http_status=200, content_type="text/html",
                            body=body, fetched_at=fetched_at)
            results[name] = extract_article(r, watch="bench")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(bodies) * args.repeat
    words = 0
    for a in results.values():
        if isinstance(a, Article):
            status[a.fetch_status] += 1
            origins[a.published_origin or "none"] += 1
            words += a.word_count
        else:
            status[f"skip:{a.reason}"] += 1  # type: ignore[attr-defined]

    # text quality on the annotated snippets (trafilatura's evaluation counting)
    tp = fn = fp = tn = 0
    for name, a in results.items():
        g = gold_of.get(name)
        if g is None:
            continue
        text = norm(a.text) if isinstance(a, Article) and a.fetch_status == "ok" else ""
        for s in g.get("with", []):
            tp, fn = (tp + 1, fn) if norm(s) in text else (tp, fn + 1)
        for s in g.get("without", []):
            fp, tn = (fp + 1, tn) if norm(s) in text else (fp, tn + 1)
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)

    # dates: ours against trafilatura's default (htmldate with extensive search) on the gold-dated pages
    ours = collections.Counter()
    theirs = collections.Counter()
    for name, body in bodies:
        g = gold_of.get(name)
        if not g or not g.get("date"):
            continue
        a = results[name]
        got = a.published_at.date().isoformat() if isinstance(a, Article) and a.published_at else None
        ours["right" if got == g["date"] else "none" if got is None else "wrong"] += 1
        doc = trafilatura.bare_extraction(body, url=url_of[name], with_metadata=True)
        t = getattr(doc, "date", None)
        theirs["right" if t == g["date"] else "none" if t is None else "wrong"] += 1

    # metadata against gold (case- and whitespace-insensitive exact match) on pages that have it
    meta_scores: dict[str, list[int]] = {"title": [0, 0], "source_vs_sitename": [0, 0], "author": [0, 0]}
    for name, a in results.items():
        g = gold_of.get(name)
        if not g or not isinstance(a, Article):
            continue
        for key, ours_value, gold_key in (("title", a.title, "title"), ("source_vs_sitename", a.source, "sitename"),
                                          ("author", a.author, "author")):
            if g.get(gold_key):
                meta_scores[key][1] += 1
                meta_scores[key][0] += norm(ours_value or "") == norm(g[gold_key])

    q = compile_query('Rotherham AND ("child sexual exploitation" OR "child abuse" OR groom*) AND (IOPC OR police)')
    seeds = [article_from_file(p, watch="bench") for p in sorted((REPO / "seeds").glob("*.txt"))]
    seed_articles = [a for a in seeds if isinstance(a, Article)]
    tq = time.perf_counter()
    for _ in range(200):
        for a in seed_articles:
            q.matches(a.title, a.text)
    query_per_s = 200 * len(seed_articles) / (time.perf_counter() - tq)

    feeds = [p for p in sorted((REPO / "tests/feeds/data/feeds").iterdir()) if not p.name.endswith(".expected.json")]
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
        "load_average": os.getloadavg()[0],
        "pages": n,
        "seconds": round(elapsed, 2),
        "docs_per_s": round(n / elapsed, 1),
        "docs_per_cpu_s": round(n / cpu, 1),  # wall time suffers when other jobs share the cores
        "fetch_status": dict(status),
        "date_origin": dict(origins),
        "mean_words": round(words / max(1, sum(v for k, v in status.items() if not k.startswith("skip")))),
        "snippets": {"tp": tp, "fn": fn, "fp": fp, "tn": tn, "precision": round(precision, 3),
                     "recall": round(recall, 3), "f1": round(f1, 3)},
        "gold_metadata_right_of": {k: f"{v[0]}/{v[1]}" for k, v in meta_scores.items()},
        "gold_dates": {"pages": sum(ours.values()), "ours": dict(ours), "trafilatura_default": dict(theirs)},
        "query_matches_per_s_on_seeds": round(query_per_s),
        "feeds_parsed_per_s": round(50 * len(feed_bodies) / feed_elapsed),
        "feed_entries_per_s": round(entries / feed_elapsed),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
