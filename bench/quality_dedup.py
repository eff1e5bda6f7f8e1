"""Dedup and story quality on real and generated data, development and held-out splits, next to baselines.

What it measures (issue 10 §1 §2; docs/dedup.md quotes the output):

* real pairs (../shared/eval/semeval2022-en-train/pairs.csv, people's "same story?" ratings): every text is
  ingested into one warehouse as a local file without a date (source `local file`, all first seen in one
  run, as `newswatch ingest` stores them), the real dedup stage assigns stories incrementally in batches of
  25, and each clear pair (Overall <= 1.5 same, >= 3.5 different) is scored by whether its two texts share
  a story. Baseline in the same run: TF-IDF cosine of the two texts (scikit-learn's default weighting), at
  its best threshold on each split (an oracle) and at the development split's best threshold.
  Stories depend on arrival order, so the texts are also run in ORDERS - 1 shuffled orders, and each split
  reports min / mean / max of P and R over all the runs (stories_over_orders).
* generated copies (bench/dedup_gen.py; bases: the shared corpus pages and PolNeAR bodies, split by a hash
  of their id): cross-source (one outlet per copy, dated), same-source (one outlet runs every copy, dated)
  and local files (one source, no dates). Copy precision/recall, false merges, stories; baseline
  whole-document simhash at 3 bits.
* the seeds: two stories ({000,001,002}, {003,004}) with their dates, and what happens without dates.

Splits: a fixed hash of the pair id / base text id (bench.dedup_gen.split_of); thresholds were tuned on
"dev" only. Run: .venv/bin/python -m bench.quality_dedup [--quick] [--json OUT]; one cell:
--only generated --set cross_source --split dev
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import random
import re
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.dedup_eval import evaluate as evaluate_generated
from bench.dedup_eval import print_json, run_rows
from bench.dedup_gen import (
    EVAL_DIR,
    article_row,
    build,
    in_split,
    load_corpus,
    load_polnear,
    seed_docs,
    split_of,
)
from extractors.facts.quality import polnear_dir
from newswatch.config import DedupSettings
from newswatch.models import stable_id

PAIRS = EVAL_DIR / "semeval2022-en-train" / "pairs.csv"
# PolNeAR article pairs rated for newswatch (seeds/stories/README.md): the ratings are ours, the texts are read
# from ../shared/eval/polnear-train at run time
POLNEAR_PAIRS = Path(__file__).resolve().parents[1] / "seeds" / "stories" / "polnear_pairs.csv"
POLNEAR_PAIRS_DEV = POLNEAR_PAIRS.with_name("polnear_pairs_dev.csv")  # rated later, for development
# two readings of the one rating (1-4) each PolNeAR pair has: rating -> 1 same story, 0 different, None left out
POLNEAR_READINGS = {
    "strict": lambda o: 1 if o <= 1 else 0 if o >= 4 else None,  # as the SemEval reading leaves out 1.5-3.5
    "binary": lambda o: 1 if o <= 2 else 0,
}
SPLITS = ("dev", "held-out")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAME, DIFFERENT = 1.5, 3.5  # Overall rating: <= 1.5 same story, >= 3.5 different (the README's reading)
ORDERS = 8  # arrival orders the real pairs are run in (the fixed one and 7 shuffled)
_SK_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def load_pairs(path: Path = PAIRS) -> tuple[dict[str, str], list[dict]]:
    """Texts by article id, and the pairs: {a, b, overall, label (1 same, 0 different, None), split}."""
    texts: dict[str, str] = {}
    pairs = []
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            a, b = r["pair_id"].split("_")
            texts[a], texts[b] = r["text1"], r["text2"]
            o = float(r["Overall"])
            label = 1 if o <= SAME else 0 if o >= DIFFERENT else None
            pairs.append({"a": a, "b": b, "overall": o, "label": label, "split": split_of(r["pair_id"])})
    return texts, pairs


def _as_ingested(aid: str, text: str, position: int | None = None) -> dict:
    """A text as `newswatch ingest` stores a local .txt file: first line the title, no date, source `local file`.

    position: its place in the arrival order; None: a fixed hash of its id (so pairs are not seen back to back)."""
    lines = text.strip().split("\n", 1)
    title, body = (lines[0].strip(), lines[1]) if len(lines) == 2 else ("", text)
    offset = int(stable_id("order", aid)[:6], 16) % 3600 if position is None else position
    seen = T0 + timedelta(seconds=offset)
    return article_row(
        aid, title, body, url=f"file:///eval/{aid}.txt", source="local file", published_at=None, first_seen_at=seen
    )


def stories_of(rows: list[dict], settings: DedupSettings | None = None, batch: int = 25) -> dict[str, str]:
    """Run the real dedup stage over these article rows (arrival order, batches) and return story ids."""
    with tempfile.TemporaryDirectory() as tmp:
        got = run_rows(rows, Path(tmp) / "pairs.duckdb", settings or DedupSettings(), batch)
    return {a: story for a, (_, story) in got.items()}


def _prf(pred: list[tuple[bool, int]]) -> dict:
    tp = sum(1 for p, y in pred if p and y)
    fp = sum(1 for p, y in pred if p and not y)
    fn = sum(1 for p, y in pred if not p and y)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "tp": tp, "fp": fp, "fn": fn}


def tfidf_cosines(texts: dict[str, str], pairs: list[dict]) -> list[float]:
    """TF-IDF cosine of each pair's two texts: raw counts, idf = ln((1 + n) / (1 + df)) + 1, l2 norm
    (scikit-learn's TfidfVectorizer defaults), document frequencies over all the texts."""
    counts = {k: Counter(_SK_TOKEN.findall(t.lower())) for k, t in texts.items()}
    df: Counter[str] = Counter()
    for c in counts.values():
        df.update(c.keys())
    n = len(texts)
    vecs = {}
    for k, c in counts.items():
        v = {t: x * (math.log((1 + n) / (1 + df[t])) + 1) for t, x in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs[k] = {t: x / norm for t, x in v.items()}
    return [sum(w * vecs[p["b"]].get(t, 0.0) for t, w in vecs[p["a"]].items()) for p in pairs]


def _best_threshold(scored: list[tuple[float, int]]) -> tuple[float, dict]:
    best: tuple[float, dict] = (0.0, _prf([(False, y) for _, y in scored]))
    for th in sorted({s for s, _ in scored}):
        r = _prf([(s >= th, y) for s, y in scored])
        if r["f1"] > best[1]["f1"]:
            best = (th, r)
    return round(best[0], 4), best[1]


def _spread(results: list[dict]) -> dict:
    """min / mean / max of precision and recall over several runs."""
    out: dict = {"runs": len(results)}
    for k in ("precision", "recall"):
        vals = [r[k] for r in results]
        out[k] = {"min": min(vals), "mean": round(sum(vals) / len(vals), 3), "max": max(vals)}
    return out


def real_pairs(path: Path = PAIRS, settings: DedupSettings | None = None, orders: int = ORDERS) -> dict:
    """Stories on the real pairs, per split, with the TF-IDF baseline of the same run.

    Stories are assigned incrementally, so they depend on the order the texts arrive in: besides the fixed
    order (a hash of each id, the headline figure), the texts are run in `orders - 1` more shuffled orders
    (random.Random(k), k = 1 ...), and each split reports the spread of P and R over all of them."""
    texts, pairs = load_pairs(path)
    t0 = time.perf_counter()
    story = stories_of([_as_ingested(a, t) for a, t in texts.items()], settings)
    seconds = time.perf_counter() - t0
    shuffled = []
    for k in range(1, orders):
        ids = sorted(texts)
        random.Random(k).shuffle(ids)
        shuffled.append(stories_of([_as_ingested(a, texts[a], i) for i, a in enumerate(ids)], settings))
    cos = tfidf_cosines(texts, pairs)
    out: dict = {"texts": len(texts), "pairs": len(pairs), "seconds": round(seconds, 1)}
    sizes = Counter(story.values())
    out["stories"] = len(sizes)
    out["largest_story"] = max(sizes.values())
    dev_th = None
    for split in SPLITS:
        clear = [(p, c) for p, c in zip(pairs, cos, strict=True) if p["split"] == split and p["label"] is not None]
        ours = _prf([(story[p["a"]] == story[p["b"]], p["label"]) for p, _ in clear])
        th, best = _best_threshold([(c, p["label"]) for p, c in clear])
        if split == "dev":
            dev_th = th
        at_dev = _prf([(c >= dev_th, p["label"]) for p, c in clear])
        out[split] = {
            "clear_pairs": len(clear),
            "same": sum(p["label"] for p, _ in clear),
            "stories": ours,
            "tfidf_best_threshold": {"threshold": th, **best},
            "tfidf_at_dev_threshold": {"threshold": dev_th, **at_dev},
            "beats_tfidf": ours["f1"] > best["f1"],
            "stories_over_orders": _spread(
                [ours] + [_prf([(st[p["a"]] == st[p["b"]], p["label"]) for p, _ in clear]) for st in shuffled]
            ),
        }
    return out


@functools.cache
def semeval_dev_threshold() -> float:
    """TF-IDF's best threshold on the clear SemEval development pairs (what a user could have tuned on)."""
    texts, pairs = load_pairs(PAIRS)
    dev = [p for p in pairs if p["split"] == "dev" and p["label"] is not None]
    return _best_threshold(list(zip(tfidf_cosines(texts, dev), (p["label"] for p in dev), strict=True)))[0]


def load_polnear_pairs(path: Path = POLNEAR_PAIRS, text_dir: Path | None = None) -> tuple[dict, list[dict]]:
    """PolNeAR texts by name ({"text", "publisher", "date"}) and the rated pairs ({pair, a, b, overall});
    text_dir: the PolNeAR split (default extractors.facts.quality.polnear_dir())."""
    text_dir = text_dir or polnear_dir()
    meta = {r["filename"]: r for r in csv.DictReader((text_dir / "metadata.tsv").open(encoding="utf-8"), delimiter="\t")}
    pairs, texts = [], {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            pairs.append({"pair": r["pair"], "a": r["a"], "b": r["b"], "overall": float(r["overall"])})
            for n in (r["a"], r["b"]):
                texts[n] = {"text": (text_dir / "text" / f"{n}.txt").read_text(encoding="utf-8"),
                            "publisher": meta[n]["publisher"], "date": meta[n]["publication_date"]}
    return texts, pairs


def polnear_pairs(path: Path = POLNEAR_PAIRS, settings: DedupSettings | None = None, orders: int = ORDERS) -> dict:
    """Stories on PolNeAR article pairs rated for newswatch (never used to tune stories: a held-out set), next to
    TF-IDF, in two readings of the one rating per pair: "strict" (1 same story, 4 different; 2 and 3 left out, as
    the SemEval reading leaves out 1.5 < Overall < 3.5) and "binary" (1-2 same, 3-4 different).

    The texts are run twice: as undated local files (like the SemEval pairs) and as the pipeline sees feed
    items, with their outlet as source and their publication date (noon UTC of the PolNeAR date); each in the
    fixed order and ORDERS - 1 shuffled ones. TF-IDF: its best threshold on these pairs (an oracle) and the
    SemEval development split's best threshold (what a user could have tuned on), measured in the same run."""
    texts, pairs = load_polnear_pairs(path)
    out: dict = {"texts": len(texts), "pairs": len(pairs)}

    def rows(order: list[str] | None, dated: bool) -> list[dict]:
        made = []
        for i, n in enumerate(order or sorted(texts)):
            r = _as_ingested(n, texts[n]["text"], None if order is None else i)
            if dated:
                r["source"] = texts[n]["publisher"]
                r["url"] = r["canonical_url"] = f"https://{texts[n]['publisher']}.example/{n}"
                r["published_at"] = datetime.fromisoformat(texts[n]["date"] + "T12:00:00+00:00")
            made.append(r)
        return made

    runs: dict[str, list[dict[str, str]]] = {}
    for name, dated in (("undated", False), ("dated", True)):
        runs[name] = [stories_of(rows(None, dated), settings)]
        for k in range(1, orders):
            ids = sorted(texts)
            random.Random(k).shuffle(ids)
            runs[name].append(stories_of(rows(ids, dated), settings))
    dev_th = semeval_dev_threshold() if PAIRS.is_file() else None
    for reading, label_of in POLNEAR_READINGS.items():
        clear = [{**p, "label": label_of(p["overall"])} for p in pairs]
        clear = [p for p in clear if p["label"] is not None]
        res: dict = {"clear_pairs": len(clear), "same": sum(p["label"] for p in clear)}
        for name, sts in runs.items():
            scored = [_prf([(st[p["a"]] == st[p["b"]], p["label"]) for p in clear]) for st in sts]
            res[name] = {"stories": scored[0], "stories_over_orders": _spread(scored)}
        cos = tfidf_cosines({n: t["text"] for n, t in texts.items()}, clear)
        th, best = _best_threshold([(c, p["label"]) for p, c in zip(clear, cos, strict=True)])
        res["tfidf_best_threshold"] = {"threshold": th, **best}
        if dev_th is not None:
            res["tfidf_at_semeval_dev_threshold"] = {
                "threshold": dev_th, **_prf([(c >= dev_th, p["label"]) for p, c in zip(clear, cos, strict=True)])}
        out[reading] = res
    return out


def _bases(polnear: int) -> list[dict]:
    bases = load_corpus()
    if polnear and (EVAL_DIR / "polnear-train" / "text").is_dir():
        bases = bases + load_polnear(polnear)
    return bases


VARIANTS = {
    "cross_source": {},
    "same_source": {"source": "Daily Bugle", "copies": (1, 2, 3, 4)},
    "local_files": {"source": "local file", "dated": False, "copies": (1, 2, 3, 4)},
}


def generated(
    polnear: int = 30, seed: int = 7, span_days: int = 20, variants: tuple[str, ...] = tuple(VARIANTS),
    splits: tuple[str, ...] = SPLITS,
) -> dict:
    """Copies and stories on the generated sets, per variant and split (whole-document simhash baseline).

    variants / splits: the cells to run (a change is tuned on the dev cells alone, and the held-out cells are
    run once, when it is final)."""
    bases = _bases(polnear)
    out: dict = {}
    for name in variants:
        for split in splits:
            docs = build(seed=seed, corpus=in_split(bases, split), span_days=span_days, **VARIANTS[name])
            r = evaluate_generated(docs)
            base = r["baselines"]["doc_simhash_package_default_k3"]
            out[f"{name}/{split}"] = {
                "documents": r["documents"],
                "copies": {k: r["copies"][k] for k in ("precision", "recall", "f1", "ari", "true_pairs")},
                "false_copy_pairs": r["copies"]["predicted_pairs"] - r["copies"]["correct_pairs"],
                "missed_copy_pairs": r["missed_copy_pairs"][:5],
                "stories": {k: r["stories"][k] for k in ("precision", "recall", "f1")},
                "seeds_ok": r["seeds_ok"],
                "baseline_doc_simhash_k3": {k: base[k] for k in ("precision", "recall", "f1")},
            }
    return out


def seeds(settings: DedupSettings | None = None) -> dict:
    """The seeds' stories with their publication dates and as undated local files."""
    docs = seed_docs()
    out = {}
    for name, dated in (("dated", True), ("undated", False)):
        rows = []
        for d in docs:
            r = _as_ingested(d.doc_id, d.title + "\n" + d.text)
            r["source"] = d.source if dated else "local file"
            r["published_at"] = d.published_at if dated else None
            rows.append(r)
        story = stories_of(rows, settings)
        groups: dict[str, list[str]] = {}
        for k in sorted(story):
            groups.setdefault(story[k], []).append(k[-3:])
        out[name] = {
            "stories": sorted(groups.values()),
            "ok": sorted(groups.values()) == [["000", "001", "002"], ["003", "004"]],
        }
    return out


def evaluate(quick: bool = False) -> dict:
    """Every §1/§2 figure on dev and held-out splits next to its baseline (bench/quality.py calls this)."""
    out: dict = {"seeds": seeds()}
    if PAIRS.is_file():
        out["real_pairs"] = real_pairs()
    else:
        out["real_pairs"] = {"skipped": f"{PAIRS} not found"}
    if POLNEAR_PAIRS.is_file() and (polnear_dir() / "metadata.tsv").is_file():
        out["polnear_pairs"] = polnear_pairs()
        out["polnear_pairs_dev"] = polnear_pairs(POLNEAR_PAIRS_DEV)
    else:
        out["polnear_pairs"] = {"skipped": f"{polnear_dir()} not found"}
    out["generated"] = generated(polnear=0 if quick else 30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller generated sets")
    ap.add_argument("--only", choices=("seeds", "pairs", "polnear-pairs", "generated"), default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--set", dest="sets", action="append", choices=tuple(VARIANTS), default=None,
                    help="with --only generated: this generated set only (repeatable; default all)")
    ap.add_argument("--split", dest="splits", action="append", choices=SPLITS, default=None,
                    help="with --only generated: this split only (repeatable; default both)")
    args = ap.parse_args()
    if (args.sets or args.splits) and args.only != "generated":
        ap.error("--set and --split choose generated cells: use them with --only generated")
    if args.only == "seeds":
        result = {"seeds": seeds()}
    elif args.only == "pairs":
        result = {"real_pairs": real_pairs()}
    elif args.only == "polnear-pairs":
        result = {"polnear_pairs": polnear_pairs(), "polnear_pairs_dev": polnear_pairs(POLNEAR_PAIRS_DEV)}
    elif args.only == "generated":
        result = {
            "generated": generated(
                polnear=0 if args.quick else 30,
                variants=tuple(args.sets or VARIANTS),
                splits=tuple(args.splits or SPLITS),
            )
        }
    else:
        result = evaluate(quick=args.quick)
    print_json(result, args.json)


if __name__ == "__main__":
    main()
