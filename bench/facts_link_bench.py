"""Scale of the warehouse side of facts: store_facts and link_aliases on N copies of the seeds' facts.

The five seeds are extracted once; their facts are replicated under new article ids (N x 5 articles), stored in a
fresh DuckDB file, then linked (aliases, quote clusters, conflicts). Replication is a worst case for conflicts
(every sentence repeated N times) and a fair case for the rest.

    .venv/bin/python bench/facts_link_bench.py 2000     # 10,000 articles, ~10 s
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.clean import clean_text  # noqa: E402
from extractors.facts import extract_facts_batch  # noqa: E402
from extractors.facts.linking import cluster_quotes, find_aliases, find_conflicts  # noqa: E402
from flows.facts_stage import link_aliases  # noqa: E402
from newswatch.models import Facts  # noqa: E402
from warehouse.db import connect, insert_rows  # noqa: E402
from warehouse.facts import read_link_inputs, store_facts  # noqa: E402


def seed_items() -> list[tuple[str, str]]:
    out = []
    for p in sorted((ROOT / "seeds").glob("[0-9][0-9][0-9]_*.txt")):
        raw = p.read_text(encoding="utf-8")
        out.append((p.name[:3], clean_text(raw if p.name.startswith("002") else raw.split("\n", 1)[1])))
    return out


def relabel(fx: Facts, aid: str) -> Facts:
    def re_id(xs: tuple) -> tuple:
        return tuple(replace(x, article_id=aid) for x in xs)

    return replace(fx, article_id=aid, entities=re_id(fx.entities), figures=re_id(fx.figures),
                   periods=re_id(fx.periods), quotes=re_id(fx.quotes), aliases=re_id(fx.aliases))


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = extract_facts_batch(seed_items())
    t0 = datetime(2018, 1, 1, tzinfo=UTC)
    facts, rows = [], []
    for r in range(n):
        for fx in base:
            aid = f"{fx.article_id}-{r}"
            facts.append(relabel(fx, aid))
            rows.append(dict(article_id=aid, watch="bench", url=aid, canonical_url=aid, source=f"s{fx.article_id}",
                             title="t", published_at=t0 + timedelta(days=r), fetched_at=t0, first_seen_at=t0,
                             fetch_status="ok", text="x", raw_text="x", word_count=1, content_hash="h"))
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(str(Path(tmp) / "bench.duckdb"))
        insert_rows(con, "core.articles", rows)
        timings = {}
        t = time.perf_counter()
        store_facts(con, facts)
        timings["store_facts"] = time.perf_counter() - t
        t = time.perf_counter()
        inputs = read_link_inputs(con)
        timings["read"] = time.perf_counter() - t
        for name, fn in (("find_aliases", lambda: find_aliases(inputs["mentions"], inputs["aliases"])),
                         ("cluster_quotes", lambda: cluster_quotes(inputs["quotes"])),
                         ("find_conflicts", lambda: find_conflicts(inputs["facts"]))):
            t = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - t
        t = time.perf_counter()
        link_aliases(con)
        timings["link_aliases (all of it, with writes)"] = time.perf_counter() - t
        con.close()
    print(f"{len(facts)} articles: " + ", ".join(f"{k} {len(v)}" for k, v in inputs.items()) + " rows")
    for k, v in timings.items():
        print(f"  {k:<40} {v:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
