"""Story linkage on the real pairs, offline: is recall lost to arrival order (a story diluted by a member close
on topic only) or to pairs whose own texts are far apart? (issue 10 §2)

The 321 texts go once through the real dedup stage (bench/quality_dedup.real_pairs's fixed order), which
stores each article's story profile; those profiles, weighted with the stored document frequencies at the end
(warehouse.dedup.idf_of), are then assigned again in memory, in 16 shuffled orders, by two rules:
- `average`: the stage's rule (join the story whose mean member profile scores highest, at least
  STORY_MIN_SIMILARITY);
- `average or single S`: the same, and an article whose best average is under the threshold still joins a
  story when its cosine with one member reaches S (a strong single link beats a diluted average).
It prints mean and min P / R over the orders per rule, then the pair cosines of the clear pairs (the lowest
same-story ones, the highest different-story ones), which bound what any linkage rule can reach.

    .venv/bin/python -m bench.stories_linkage [--split dev|held-out] [--orders 16]
    .venv/bin/python -m bench.stories_linkage --pairs polnear-dev   # the rated PolNeAR dev pairs, more rules

With --pairs polnear-dev (seeds/stories/polnear_pairs_dev.csv, strict and binary readings) it also compares
member-level rules, which the stage cannot run today (it keeps one centroid per story): `max` (single linkage,
the best member's cosine), `top2` (mean of the two closest members' cosines), `mix F` (the average, or F times
the best member's cosine), each at a threshold; docs/dedup.md ("PolNeAR pairs") has the figures.

The stage's own figures (which use the idf of arrival time) are bench/quality_dedup.py's; this simulation
only compares the two rules with each other.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.dedup_eval import run_rows
from bench.quality_dedup import _as_ingested, _prf, load_pairs
from extractors.dedup import STORY_MIN_SIMILARITY, story_fade, unit_profile
from flows.dedup_stage import DedupSettings
from warehouse import dedup as wd
from warehouse.db import connect


def unit_profiles(texts: dict[str, str]) -> dict[str, dict[str, float]]:
    """Every text's stored story profile through the real stage, as a unit vector with the final idf."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "pairs.duckdb"
        run_rows([_as_ingested(a, t) for a, t in texts.items()], db, DedupSettings(), 25)
        con = connect(db)
        try:
            prof = {a: json.loads(p) for a, p in con.execute(
                "SELECT article_id, profile FROM core.story_assignments").fetchall()}
            terms = {t for p in prof.values() for t in p}
            n, df = wd.term_counts(con, terms)
        finally:
            con.close()
    idf = wd.idf_of(terms, n, df)
    return {a: unit_profile(p, idf) for a, p in prof.items()}


def cosine(u: dict[str, float], v: dict[str, float]) -> float:
    return sum(w * v.get(t, 0.0) for t, w in u.items())


def assign(order: list[str], units: dict[str, dict[str, float]], single: float | None) -> dict[str, str]:
    """article -> story, incremental, by the average rule (and a strong single link when `single` is set)."""
    members: dict[str, list[str]] = {}
    centroid: dict[str, dict[str, float]] = {}
    story: dict[str, str] = {}
    for a in order:
        u = units[a]
        best: tuple[float, str] | None = None
        for s, mem in members.items():
            score = cosine(u, centroid[s])
            if single is not None and score < STORY_MIN_SIMILARITY and max(cosine(u, units[m]) for m in mem) >= single:
                score = STORY_MIN_SIMILARITY
            if score >= STORY_MIN_SIMILARITY and (best is None or score > best[0]):
                best = (score, s)
        if best is None:
            members[a], centroid[a], story[a] = [a], dict(u), a
            continue
        s = best[1]
        k = len(members[s])
        c = {t: w * k for t, w in centroid[s].items()}
        for t, w in u.items():
            c[t] = c.get(t, 0.0) + w
        centroid[s] = {t: w / (k + 1) for t, w in c.items()}
        members[s].append(a)
        story[a] = s
    return story


def assign_members(order: list[str], score_of, threshold: float, day: dict[str, datetime] | None = None) -> dict[str, str]:
    """article -> story, incremental: each article joins the story with the highest score_of(article, members,
    (first, last) day of the story or None) that reaches `threshold`, else starts its own."""
    members: dict[str, list[str]] = {}
    span: dict[str, tuple[datetime, datetime]] = {}
    story: dict[str, str] = {}
    for a in order:
        best: tuple[float, str] | None = None
        for s, mem in members.items():
            sc = score_of(a, mem, span.get(s))
            if sc >= threshold and (best is None or sc > best[0]):
                best = (sc, s)
        if best is None:
            members[a], story[a] = [a], a
            if day is not None:
                span[a] = (day[a], day[a])
            continue
        s = best[1]
        members[s].append(a)
        story[a] = s
        if day is not None:
            span[s] = (min(span[s][0], day[a]), max(span[s][1], day[a]))
    return story


def assign_by(order: list[str], units: dict[str, dict[str, float]], mode: str, threshold: float) -> dict[str, str]:
    """article -> story, incremental, scoring a story by its members' cosines with the article: "avg" (the
    stage's average cosine), "max", "top2" (mean of the two best), "mixF" (max(average, F * best))."""

    def score(a: str, mem: list[str], _span) -> float:
        cs = sorted((cosine(units[a], units[m]) for m in mem), reverse=True)
        if mode == "avg":
            return sum(cs) / len(cs)
        if mode == "max":
            return cs[0]
        if mode == "top2":
            return sum(cs[:2]) / min(2, len(cs))
        return max(sum(cs) / len(cs), float(mode[3:]) * cs[0])

    return assign_members(order, score, threshold)


def assign_dated(order: list[str], units: dict[str, dict[str, float]], day: dict[str, datetime], window: int,
                 fade: tuple[float, float] | None) -> dict[str, str]:
    """article -> story, incremental, by the average rule over the stories active within `window` days of the
    article (its date against a story's first and last); fade (after, days): the average is scaled by the stage's
    extractors.dedup.story_fade with those constants. (The stage also lets in a story outside the window that
    shares text with the article, at STORY_STRONG_SIMILARITY; these pairs share none, so that branch is left out.)"""
    reach = timedelta(days=window)

    def score(a: str, mem: list[str], span: tuple[datetime, datetime]) -> float:
        first, last = span
        if not first - reach <= day[a] <= last + reach:
            return 0.0
        sc = sum(cosine(units[a], units[m]) for m in mem) / len(mem)
        return sc if fade is None else sc * story_fade(first, last, day[a], *fade)

    return assign_members(order, score, STORY_MIN_SIMILARITY, day)


DATED_RULES = ((21, None), (14, None), (7, None), (3, None), (21, (3.0, 3.0)), (21, (3.0, 7.0)), (21, (1.0, 5.0)))


def shuffled_orders(ids, n: int) -> list[list[str]]:
    """n arrival orders of the ids: sorted, then shuffled by random.Random(100 + k)."""
    orders = []
    for k in range(n):
        o = sorted(ids)
        random.Random(100 + k).shuffle(o)
        orders.append(o)
    return orders


def _summary(runs: list[dict]) -> str:
    """Mean and min precision and recall over the runs of one rule."""
    ps, rs = [r["precision"] for r in runs], [r["recall"] for r in runs]
    return f"P mean {sum(ps) / len(ps):.3f} min {min(ps):.3f}   R mean {sum(rs) / len(rs):.3f} min {min(rs):.3f}"


MEMBER_RULES = (("avg", 0.22), ("avg", 0.18), ("max", 0.25), ("max", 0.3), ("top2", 0.22), ("top2", 0.25),
                ("mix0.8", 0.22))


def polnear_dev(orders: int) -> int:
    from bench.quality_dedup import POLNEAR_PAIRS_DEV, POLNEAR_READINGS, load_polnear_pairs

    texts, pairs = load_polnear_pairs(POLNEAR_PAIRS_DEV)
    units = unit_profiles({n: t["text"] for n, t in texts.items()})
    day = {n: datetime.fromisoformat(t["date"] + "T12:00:00").replace(tzinfo=UTC) for n, t in texts.items()}
    shuffled = shuffled_orders(units, orders)
    for name, label_of in POLNEAR_READINGS.items():
        clear = [(p, y) for p in pairs if (y := label_of(p["overall"])) is not None]
        same = sorted(round(cosine(units[p["a"]], units[p["b"]]), 3) for p, y in clear if y)
        diff = sorted(round(cosine(units[p["a"]], units[p["b"]]), 3) for p, y in clear if not y)
        print(f"polnear dev {name}: {len(clear)} pairs, {len(same)} same; {orders} orders")
        print(f"  pair cosine, same-story: {same}; highest different-story: {diff[-6:]}")
        for mode, th in MEMBER_RULES:
            runs = [_prf([(st[p["a"]] == st[p["b"]], y) for p, y in clear])
                    for st in (assign_by(o, units, mode, th) for o in shuffled)]
            print(f"  {mode:<7} {th:<5} {_summary(runs)}")
        print(f"  with publication dates, average rule at {STORY_MIN_SIMILARITY}:")
        for window, fade in DATED_RULES:
            runs = [_prf([(st[p["a"]] == st[p["b"]], y) for p, y in clear])
                    for st in (assign_dated(o, units, day, window, fade) for o in shuffled)]
            name = f"window {window}" + ("" if fade is None else f" fade after {fade[0]:g} over {fade[1]:g}")
            print(f"    {name:<30} {_summary(runs)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "held-out"), default="dev")
    ap.add_argument("--orders", type=int, default=16)
    ap.add_argument("--pairs", choices=("semeval", "polnear-dev"), default="semeval")
    args = ap.parse_args(argv)
    if args.pairs == "polnear-dev":
        return polnear_dev(args.orders)
    texts, pairs = load_pairs()
    units = unit_profiles(texts)
    clear = [p for p in pairs if p["split"] == args.split and p["label"] is not None]
    orders = shuffled_orders(units, args.orders)
    print(f"{args.split}: {len(clear)} clear pairs, {sum(p['label'] for p in clear)} same; {args.orders} orders")
    for single in (None, 0.3, 0.35, 0.4, 0.5):
        runs = [_prf([(st[p["a"]] == st[p["b"]], p["label"]) for p in clear])
                for st in (assign(o, units, single) for o in orders)]
        name = "average" if single is None else f"average or single {single}"
        print(f"  {name:<26} {_summary(runs)}")
    same = sorted(round(cosine(units[p["a"]], units[p["b"]]), 3) for p in clear if p["label"] == 1)
    diff = sorted(round(cosine(units[p["a"]], units[p["b"]]), 3) for p in clear if p["label"] == 0)
    print(f"  pair cosine, lowest same-story: {same[:5]}; highest different-story: {diff[-5:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
