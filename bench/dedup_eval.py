"""Quality of syndication and story detection on the labelled set of bench/dedup_gen.py, against
whole-document simhash at the textbook threshold (3 of 64 bits).

Run: .venv/bin/python -m bench.dedup_eval [--seed 7] [--max-bases N] [--json OUT]
Prints pairwise precision/recall/F1 and ARI for copies and stories; docs/dedup.md quotes the output.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from simhash import Simhash

from bench.dedup_gen import Doc, ari, article_row, build, pair_scores
from extractors.fingerprint import fingerprint, hamming, simhash64
from flows.dedup_stage import group_articles
from newswatch.config import DedupSettings
from warehouse.db import connect, insert_rows, transaction


def _row(d: Doc) -> dict:
    return article_row(
        d.doc_id,
        d.title,
        d.text,
        url=f"https://eval.example/{d.doc_id}",
        source=d.source,
        published_at=d.published_at,
        first_seen_at=d.first_seen_at,
    )


def run_rows(
    rows: list[dict], db_path: Path, settings: DedupSettings, batch: int = 25
) -> dict[str, tuple[str, str]]:
    """Feed article rows to the real dedup stage in arrival (first-seen) order, in batches like runs do.
    Returns article id -> (syndication id, story id)."""
    con = connect(db_path)
    try:
        order = sorted(rows, key=lambda r: (r["first_seen_at"], r["article_id"]))
        for i in range(0, len(order), batch):
            chunk = order[i : i + batch]
            with transaction(con):  # one writer transaction per batch, as flows/pipeline.py does
                insert_rows(con, "core.articles", chunk)
                group_articles(con, [r["article_id"] for r in chunk], settings)
        got = con.execute("SELECT article_id, syndication_id, story_id FROM core.article_groups").fetchall()
    finally:
        con.close()
    return {a: (s, t) for a, s, t in got}


def run_pipeline(
    docs: list[Doc], db_path: Path, settings: DedupSettings, batch: int = 25
) -> dict[str, tuple[str, str]]:
    """Feed the labelled documents to the real dedup stage (see run_rows)."""
    return run_rows([_row(d) for d in docs], db_path, settings, batch)


def _union_find(ids: list[str], linked) -> dict[str, str]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if linked(a, b):
                parent[find(a)] = find(b)
    return {i: find(i) for i in ids}


def baselines(docs: list[Doc]) -> dict[str, dict[str, str]]:
    """Whole-document simhash clusters at distance <= 3: the package's default text features, and ours."""
    ids = [d.doc_id for d in docs]
    # The package's own text features (4-character shingles); through our weight guard, because the
    # package itself raises OverflowError on some of these pages under NumPy 2.
    tok = Simhash(0)._tokenize
    raw = {d.doc_id: simhash64(tok(d.text)) for d in docs}
    ours = {d.doc_id: fingerprint(d.doc_id, d.text).doc_simhash for d in docs}
    return {
        "doc_simhash_package_default_k3": _union_find(ids, lambda a, b: hamming(raw[a], raw[b]) <= 3),
        "doc_simhash_shingles_k3": _union_find(ids, lambda a, b: hamming(ours[a], ours[b]) <= 3),
    }


def evaluate(docs: list[Doc], settings: DedupSettings | None = None, *, with_baselines: bool = True) -> dict:
    """Run the stage on the documents and score it (and the baselines) against the labels."""
    settings = settings or DedupSettings()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pred = run_pipeline(docs, Path(tmp) / "eval.duckdb", settings)
        elapsed = time.perf_counter() - t0
    fam = {d.doc_id: d.family for d in docs}
    story = {d.doc_id: d.story for d in docs}
    p_fam = {k: v[0] for k, v in pred.items()}
    p_story = {k: v[1] for k, v in pred.items()}
    # recall by copy operation: was each copy put in its original's group?
    by_op: Counter[str] = Counter()
    hit_op: Counter[str] = Counter()
    orig_of = {d.family: d.doc_id for d in docs if d.kind == "original"}
    for d in docs:
        if d.kind == "copy":
            ok = p_fam[d.doc_id] == p_fam[orig_of[d.family]]
            for op in d.ops:
                by_op[op] += 1
                hit_op[op] += ok
    seeds = {d.doc_id: pred[d.doc_id] for d in docs if d.kind == "seed"}
    out = {
        "documents": len(docs),
        "kinds": dict(Counter(d.kind for d in docs)),
        "seconds": round(elapsed, 2),
        "copies": {**pair_scores(fam, p_fam), "ari": ari(fam, p_fam)},
        "stories": {**pair_scores(story, p_story), "ari": ari(story, p_story)},
        "copy_recall_by_operation": {op: round(hit_op[op] / n, 3) for op, n in sorted(by_op.items())},
        "seeds_ok": (
            seeds["seed-001"][0] == seeds["seed-002"][0]
            and len({seeds[k][0] for k in ("seed-000", "seed-001", "seed-003", "seed-004")}) == 4
            and seeds["seed-000"][1] == seeds["seed-001"][1] == seeds["seed-002"][1]
            and seeds["seed-003"][1] == seeds["seed-004"][1] != seeds["seed-000"][1]
        ),
        "story_errors": sorted(
            f"{'split' if story[a] == story[b] else 'merged'} {a}~{b}"
            for a in p_story
            for b in p_story
            if a < b and (story[a] == story[b]) != (p_story[a] == p_story[b])
        )[:30],
        "missed_copy_pairs": sorted(
            f"{a}~{b}" for a in fam for b in fam if a < b and fam[a] == fam[b] and p_fam[a] != p_fam[b]
        )[:20],
        "false_copy_pairs": sorted(
            f"{a}~{b}" for a in p_fam for b in p_fam if a < b and p_fam[a] == p_fam[b] and fam[a] != fam[b]
        )[:20],
    }
    if with_baselines:
        out["baselines"] = {
            name: {**pair_scores(fam, clusters), "ari": ari(fam, clusters)}
            for name, clusters in baselines(docs).items()
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-bases", type=int, default=None)
    ap.add_argument("--span-days", type=int, default=700, help="days over which originals are published")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    print_json(evaluate(build(seed=args.seed, max_bases=args.max_bases, span_days=args.span_days)), args.json)


def print_json(result: dict, out: Path | None) -> None:
    """Print a bench result as JSON, and write it to `out` too when given (--json OUT)."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
