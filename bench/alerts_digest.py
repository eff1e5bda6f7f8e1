"""Benchmark of the digest stage: selection + rendering + files on a warehouse of N articles, rendering alone, and
the attention chart (series + PNG) alone.

    .venv/bin/python bench/alerts_digest.py [--articles 5000] [--stories 1000] [--weeks 12]

Writes a small Markdown table to stdout (paste into docs/alerts.md). Not a test.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.render import render_digest
from flows.digest_extras import attention_chart
from flows.digest_stage import run_digest
from newswatch.config import parse_config
from warehouse import digests
from warehouse.db import connect, insert_rows, refresh_trends, session

SEED_TEXT = (Path(__file__).resolve().parents[1] / "seeds" / "000_e794f4b94aea59e2.txt").read_text(
    encoding="utf-8"
)


def build(db: str, n_articles: int, n_stories: int, now: datetime, weeks: int = 12) -> None:
    rows, groups, matches = [], [], []
    step = timedelta(weeks=weeks) / n_articles  # spread over `weeks` weeks: the attention chart has a trend
    for i in range(n_articles):
        story = i % n_stories
        synd = i if i < n_stories * 2 else i % (n_stories * 2)  # later articles are copies of earlier texts
        when = now - step * i
        rows.append(
            {
                "article_id": f"a{i}",
                "watch": "bench",
                "url": f"https://outlet{i % 40}.example/{i}",
                "canonical_url": f"https://outlet{i % 40}.example/{i}",
                "source": f"Outlet {i % 40}",
                "title": f"Story {story}: headline {i}",
                "published_at": when,
                "fetched_at": when,
                "first_seen_at": when,
                "fetch_status": "ok",
                "text": SEED_TEXT,
                "raw_text": SEED_TEXT,
                "word_count": len(SEED_TEXT.split()),
                "content_hash": f"h{i}",
            }
        )
        groups.append(
            {
                "article_id": f"a{i}",
                "syndication_id": f"a{synd}",
                "story_id": f"a{story}",
                "assigned_at": when,
            }
        )
        matches.append({"watch": "bench", "article_id": f"a{i}", "matched_at": when})
    con = connect(db)
    insert_rows(con, "core.articles", rows)
    insert_rows(con, "core.article_groups", groups)
    insert_rows(con, "core.watch_articles", matches)
    con.close()
    refresh_trends(db)  # what the run does after its batches; run_digest's own refresh then finds nothing new


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=5000)
    ap.add_argument("--stories", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--weeks", type=int, default=12, help="weeks the articles are spread over")
    args = ap.parse_args()
    now = datetime(2026, 11, 22, tzinfo=UTC)
    cfg = parse_config('[[watches]]\nname = "bench"\nrecipients = ["desk@example.org"]\nmax_items = 20\n')
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        build(db, args.articles, args.stories, now, args.weeks)
        with session(db) as con:
            t = time.perf_counter()
            plan = digests.select_new(con, "bench", now=now, max_items=20)
            select_s = time.perf_counter() - t
            charts = []
            for _ in range(args.repeat + 1):  # the first includes importing matplotlib
                t = time.perf_counter()
                chart = attention_chart(con, "bench", cfg.watches[0].digest, today=now.date(), file="c.png")
                charts.append(time.perf_counter() - t)
                assert chart is not None
        chart_first, charts = charts[0], sorted(charts[1:])
        assert plan is not None
        t = time.perf_counter()
        for _ in range(args.repeat * 20):
            render_digest(plan.digest, recipients=["desk@example.org"], copy_of=plan.copy_of)
        render_s = (time.perf_counter() - t) / (args.repeat * 20)
        runs = []
        for k in range(args.repeat):
            t = time.perf_counter()
            o = run_digest(db, cfg, "bench", out_dir=str(Path(tmp) / "out"), now=now + timedelta(hours=k))
            runs.append(time.perf_counter() - t)
            assert o.status == "written" and o.items == 20, o
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, {args.articles} articles / "
        f"{args.stories} stories, {datetime.now(UTC):%Y-%m-%d}"
    )
    print("| step | time |")
    print("| --- | --- |")
    print(f"| select_new (first digest, 20 of {args.stories} stories) | {select_s * 1000:.0f} ms |")
    print(f"| render_digest (20 items, text + HTML + MIME) | {render_s * 1000:.1f} ms |")
    print(f"| attention_chart ({cfg.watches[0].digest.chart_weeks} weeks: series + PNG), median of {args.repeat} "
          f"(first, importing matplotlib) | {charts[len(charts) // 2] * 1000:.0f} ms ({chart_first * 1000:.0f} ms) |")
    print(
        f"| run_digest, files only (trend refresh + select + chart + render + write + record), median of "
        f"{args.repeat} | "
        f"{sorted(runs)[len(runs) // 2] * 1000:.0f} ms |"
    )


if __name__ == "__main__":
    main()
