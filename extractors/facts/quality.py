"""Quality harness: precision and recall of the facts extractors against hand-written gold annotations.

Gold files are seeds/gold/*.json (format in seeds/gold/README.md). Each names a text file; the text is
cleaned with clean_text exactly as the pipeline does (after dropping the title line when there is one),
then run through extract_facts_batch. Scores are micro-averaged over all documents, per fact kind:

  entities   (canonical name, type) pairs, distinct per article
  names      canonical names only (type ignored)
  aliases    (surface, canonical) for every mention written differently from its canonical name
  figures    money by (value, currency), percentages by (value), counts by (value, last word of the noun)
  qualifier  accuracy of the qualifier on matched figures
  periods    (start_year, end_year), counted with repeats
  quotes     a predicted quote matches when its words start and end with the gold start and end words
  speakers   accuracy of the speaker on matched quotes that have a gold speaker

    python -m extractors.facts.quality            # table
    python -m extractors.facts.quality --json     # machine-readable
    python -m extractors.facts.quality -v         # plus every miss and false hit
    python -m extractors.facts.quality --split heldout   # only documents not used for tuning
    python -m extractors.facts.quality --split heldout --prefix ent_   # only the held-out entity-only pages
    python -m extractors.facts.quality --split heldout --prefix news_  # only the held-out PolNeAR entity pages
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.clean import clean_text
from newswatch.models import Facts

ROOT = Path(__file__).resolve().parents[2]
GOLD_DIR = ROOT / "seeds" / "gold"


def corpus_dir() -> Path:
    """The shared corpus of real pages (Apache-2.0), kept beside the repository and never copied into it:
    $NEWSWATCH_CORPUS_DIR, else ../shared/corpus/html."""
    return Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or ROOT.parent / "shared" / "corpus" / "html")


def polnear_dir() -> Path:
    """The PolNeAR development split: $NEWSWATCH_EVAL_DIR/polnear-train, else ../shared/eval/polnear-train."""
    base = os.environ.get("NEWSWATCH_EVAL_DIR")
    return (Path(base) if base else ROOT.parent / "shared" / "eval") / "polnear-train"


def polnear_body(raw: str) -> str:
    """What the extractors are given of a PolNeAR article, as the pipeline gives it: the text without its title
    line (the pipeline's Article.text has no title either), through clean_text (which makes every line a
    paragraph: most PolNeAR texts put one paragraph per line)."""
    lines = raw.split("\n", 1)
    return clean_text(lines[1] if len(lines) > 1 else raw)


KINDS = ("entities", "names", "aliases", "figures", "periods", "quotes")


def norm(s: str | None) -> str:
    """Case-folded, quotes straightened, whitespace collapsed."""
    s = (s or "").replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(s.split()).casefold()


def words(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", norm(s).replace("'", "")))


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, doc: str, gold: Iterable[Any], pred: Iterable[Any]) -> None:
        g, p = Counter(gold), Counter(pred)
        both = g & p
        self.tp += sum(both.values())
        self.fn += sum((g - p).values())
        self.fp += sum((p - g).values())
        self.misses += [f"{doc}: {k}" for k in (g - p).elements()]
        self.false_hits += [f"{doc}: {k}" for k in (p - g).elements()]


@dataclass
class Accuracy:
    right: int = 0
    total: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.right / self.total if self.total else 1.0


@dataclass
class Report:
    scores: dict[str, Score]
    qualifier: Accuracy
    speakers: Accuracy
    documents: int
    words: int

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"documents": self.documents, "words": self.words}
        for k, s in self.scores.items():
            out[k] = {"precision": round(s.precision, 3), "recall": round(s.recall, 3), "f1": round(s.f1, 3),
                      "tp": s.tp, "fp": s.fp, "fn": s.fn}
        out["qualifier_accuracy"] = {"accuracy": round(self.qualifier.value, 3), "n": self.qualifier.total}
        out["speaker_accuracy"] = {"accuracy": round(self.speakers.value, 3), "n": self.speakers.total}
        return out


def load_gold(
    gold_dir: Path = GOLD_DIR, split: str = "all", prefix: str = "", exclude_prefix: str | tuple[str, ...] = ""
) -> list[dict[str, Any]]:
    """Gold documents sorted by id. split: 'all', 'dev' (the extractors were tuned on these) or 'heldout'
    (annotated before the extractors were run on them, and not tuned on afterwards); prefix keeps only the
    ids that start with it (`ent_` for the entity-only corpus pages, `news_` for the PolNeAR ones),
    exclude_prefix (one or a tuple) drops them."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(gold_dir.glob("*.json"))]
    if split != "all":
        docs = [d for d in docs if d.get("split", "dev") == split]
    docs = [d for d in docs if d["id"].startswith(prefix) and not (exclude_prefix and d["id"].startswith(exclude_prefix))]
    return sorted(docs, key=lambda d: d["id"])


def gold_text(doc: dict[str, Any], root: Path = ROOT) -> str:
    """The cleaned text a gold document annotates (title line dropped, clean_text applied).

    PolNeAR articles are named by `polnear_text`, corpus pages by `corpus_page` (extracted here with the pinned
    trafilatura, so the text is the one that was annotated); neither is stored: they may not be copied here.
    """
    if "polnear_text" in doc:
        # a PolNeAR article (../shared/eval/polnear-train, read at run time, never copied), as the speaker
        # evaluation gives it to the extractors
        return polnear_body((polnear_dir() / "text" / f"{doc['polnear_text']}.txt").read_text(encoding="utf-8"))
    if "corpus_page" in doc:
        import trafilatura

        html = (corpus_dir() / doc["corpus_page"]).read_bytes().decode("utf-8", "replace")
        return clean_text(trafilatura.extract(html) or "")
    raw = (root / doc["text_file"]).read_text(encoding="utf-8")
    if doc.get("title_line"):
        lines = raw.split("\n")
        first = next(i for i, ln in enumerate(lines) if ln.strip())
        raw = "\n".join(lines[first + 1 :])
    return clean_text(raw)


def _fig_key(value: float, noun: str, currency: str | None, unit: str | None) -> tuple[Any, ...]:
    v = round(float(value), 4)
    if currency:
        return ("money", v, currency)
    if unit == "percent":
        return ("percent", v)
    head = noun.split()[-1].casefold() if noun.split() else ""
    return ("count", v, head)


def score(docs: Sequence[dict[str, Any]], facts: Sequence[Facts]) -> Report:
    """Compare extracted facts (same order as docs) with the gold annotations."""
    scores = {k: Score() for k in KINDS}
    qual = Accuracy()
    spk = Accuracy()
    for doc, fx in zip(docs, facts, strict=True):
        d = doc["id"]
        # entity-only pages (`"kinds"`) were not annotated for figures, periods or quotes: what the extractors
        # find there is neither right nor wrong, so those kinds are not scored on them
        kinds = set(doc.get("kinds", KINDS))
        if not kinds & {"figures", "periods", "quotes"}:
            fx = Facts(article_id=fx.article_id, entities=fx.entities)
        scores["entities"].add(d, {(norm(e), t) for e, t in doc["entities"]},
                               {(norm(m.entity), m.entity_type) for m in fx.entities})
        scores["names"].add(d, {norm(e) for e, _ in doc["entities"]}, {norm(m.entity) for m in fx.entities})
        scores["aliases"].add(d, {(norm(a), norm(e)) for a, e in doc["aliases"]},
                              {(norm(m.surface), norm(m.entity)) for m in fx.entities if m.surface != m.entity})
        gold_figs = [(_fig_key(g["value"], g.get("noun", ""), g.get("currency"), g.get("unit")), g.get("qualifier"))
                     for g in doc["figures"]]
        pred_figs = [(_fig_key(f.value, f.noun, f.currency, f.unit), f.qualifier) for f in fx.figures]
        scores["figures"].add(d, [k for k, _ in gold_figs], [k for k, _ in pred_figs])
        pool = list(pred_figs)
        for key, q in gold_figs:
            hit = next((p for p in pool if p[0] == key), None)
            if hit is None:
                continue
            pool.remove(hit)
            qual.total += 1
            if hit[1] == q:
                qual.right += 1
            else:
                qual.wrong.append(f"{d}: {key} gold {q!r} got {hit[1]!r}")
        scores["periods"].add(d, [tuple(p) for p in doc["periods"]], [(p.start_year, p.end_year) for p in fx.periods])
        # quotes: greedy, in text order
        unmatched = list(fx.quotes)
        gold_keys, pred_keys = [], []
        for i, g in enumerate(doc["quotes"]):
            start, end = words(g["start"]), words(g["end"])
            hit = next((q for q in unmatched if words(q.quote).startswith(start) and words(q.quote).endswith(end)), None)
            gold_keys.append((i, g["start"][:40]))
            if hit is None:
                continue
            unmatched.remove(hit)
            pred_keys.append((i, g["start"][:40]))
            if g["speaker"]:
                spk.total += 1
                if norm(hit.speaker) in {norm(s) for s in g["speaker"]}:
                    spk.right += 1
                else:
                    spk.wrong.append(f"{d}: {g['start'][:40]!r} gold {g['speaker'][0]!r} got {hit.speaker!r}")
        pred_keys += [(-1, q.quote[:40]) for q in unmatched]
        scores["quotes"].add(d, gold_keys, pred_keys)
    return Report(scores, qual, spk, len(docs), 0)


def evaluate(
    gold_dir: Path = GOLD_DIR,
    *,
    split: str = "all",
    prefix: str = "",
    exclude_prefix: str | tuple[str, ...] = "",
    n_process: int = 1,
) -> Report:
    """Run the extractors over the gold documents of a split (and id prefix) and score them."""
    from extractors.facts import extract_facts_batch

    docs = load_gold(gold_dir, split, prefix, exclude_prefix)
    texts = [gold_text(d) for d in docs]
    facts = extract_facts_batch([(d["id"], t) for d, t in zip(docs, texts, strict=True)], n_process=n_process)
    rep = score(docs, facts)
    rep.words = sum(len(t.split()) for t in texts)
    return rep


def format_report(rep: Report, verbose: bool = False) -> str:
    lines = [f"{rep.documents} documents, {rep.words} words", f"{'kind':<10} {'P':>6} {'R':>6} {'F1':>6}   tp/fp/fn"]
    for k, s in rep.scores.items():
        lines.append(f"{k:<10} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}   {s.tp}/{s.fp}/{s.fn}")
    lines.append(f"qualifier accuracy {rep.qualifier.value:.3f} (n={rep.qualifier.total})")
    lines.append(f"speaker accuracy   {rep.speakers.value:.3f} (n={rep.speakers.total})")
    if verbose:
        for k, s in rep.scores.items():
            for m in s.misses:
                lines.append(f"  MISS  {k}: {m}")
            for m in s.false_hits:
                lines.append(f"  FALSE {k}: {m}")
        for w in rep.qualifier.wrong + rep.speakers.wrong:
            lines.append(f"  WRONG {w}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Precision/recall of the facts extractors on seeds/gold.")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false hits")
    ap.add_argument("--split", choices=("all", "dev", "heldout"), default="all", help="which gold documents")
    ap.add_argument("--prefix", default="", help="only gold ids starting with this (ent_, news_: the entity-only pages)")
    args = ap.parse_args(argv)
    rep = evaluate(split=args.split, prefix=args.prefix)
    print(json.dumps(rep.as_dict(), indent=2) if args.json else format_report(rep, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
