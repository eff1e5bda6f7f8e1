"""Throughput of the facts stage: the batched NER-only pipeline on 1 and 2 processes vs the plain spaCy pipeline.

Texts: the English pages of ../shared/corpus/html extracted with trafilatura and cleaned, plus the five
seeds, repeated until --docs documents. Every configuration sees the same documents in the same order; model
loading is outside the timings except for n_process=2, where the worker processes load the model while the
clock runs (that is what a pipeline run pays).

    .venv/bin/python bench/facts_bench.py                 # ~2 minutes on 2 cores
    .venv/bin/python bench/facts_bench.py --docs 100 --json out.json
    .venv/bin/python bench/facts_bench.py --pathological  # rules only, on hostile paragraphs (no model)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.clean import clean_text  # noqa: E402
from extractors.facts import extract_facts_batch, extract_facts_from_spans  # noqa: E402
from extractors.facts.nlp import load_nlp  # noqa: E402

CORPUS = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "html")
_EN = {"the", "and", "of", "to", "in", "is", "that", "for", "was", "with", "on", "said"}


def english_texts() -> list[str]:
    """Cleaned English article texts: corpus pages (trafilatura) and the seeds."""
    import trafilatura

    texts = []
    for p in sorted(CORPUS.glob("*.html")):
        html = p.read_text(encoding="utf-8", errors="replace")
        t = clean_text(trafilatura.extract(html) or "")
        words = re.findall(r"[a-z]+", t.lower())
        if len(words) >= 150 and sum(w in _EN for w in words) / len(words) > 0.12:
            texts.append(t)
    for p in sorted((ROOT / "seeds").glob("[0-9][0-9][0-9]_*.txt")):
        texts.append(clean_text(p.read_text(encoding="utf-8")))
    return texts


def _cpu() -> float:
    """CPU seconds of this process and its finished children (spaCy's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(label: str, fn, n_docs: int, n_words: int) -> dict:
    """Wall time (what a run waits) and CPU time (stable when other jobs share the machine)."""
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    dt, cpu = time.perf_counter() - t0, _cpu() - c0
    row = {"config": label, "seconds": round(dt, 2), "cpu_seconds": round(cpu, 2),
           "docs_per_s": round(n_docs / dt, 1), "words_per_s": round(n_words / dt),
           "words_per_cpu_s": round(n_words / cpu), "result": out}
    print(f"{label:<48} {dt:7.2f} s wall {n_docs / dt:6.1f} docs/s {n_words / dt:8.0f} words/s | "
          f"{cpu:7.2f} s CPU {n_words / cpu:8.0f} words/CPU-s", flush=True)
    return row


# The hostile paragraphs of tests/facts/test_robustness.py (which counts their work instead of timing it).
PATHOLOGICAL = {
    "apostrophes, no sentence end": "it's the officers' view that 'he'd say' ",
    "unclosed quotes": '"a b c ',
    "attributed quotes in one paragraph": '"a b c," he said. ',
    "one sentence of numbers": "{i} people 1999-2011 £{i}m ",
}


def pathological(repeats: tuple[int, ...] = (2500, 5000)) -> int:
    """Wall time of the rules (extract_facts_from_spans, no NER) on each hostile paragraph at two sizes."""
    print(f"load average {os.getloadavg()[0]:.1f}")
    for label, piece in PATHOLOGICAL.items():
        cells = []
        for n in repeats:
            text = "".join(piece.replace("{i}", str(i)) for i in range(n))
            t0 = time.perf_counter()
            extract_facts_from_spans("a", text, [], [(0, len(text))])
            cells.append(f"{n} repeats ({len(text):,} chars) {time.perf_counter() - t0:.2f} s")
        print(f"{label}: " + ", ".join(cells))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=300, help="documents per configuration")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--pathological", action="store_true", help="only time the rules on hostile paragraphs")
    args = ap.parse_args()
    if args.pathological:
        return pathological()

    base = english_texts()
    docs = [base[i % len(base)] for i in range(args.docs)]
    n_words = sum(len(t.split()) for t in docs)
    print(f"{len(base)} distinct English texts, {len(docs)} documents, {n_words} words, "
          f"{os.cpu_count()} CPUs, batch {args.batch_size}")
    full = load_nlp(full=True)
    ner = load_nlp()
    bs = args.batch_size

    def ents(nlp, n_process: int = 1) -> list[list[tuple[int, int, str]]]:
        kw = {"batch_size": bs}
        if n_process > 1:
            kw["n_process"] = n_process
        return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(docs, **kw)]

    rows = [
        timed("plain spaCy, all components, 1 process", lambda: ents(full), len(docs), n_words),
        timed("NER only (tok2vec+ner+sentencizer), 1 process", lambda: ents(ner), len(docs), n_words),
        timed("NER only, 2 processes", lambda: ents(ner, 2), len(docs), n_words),
    ]
    same = sum(a == b for a, b in zip(rows[0]["result"], rows[1]["result"], strict=True))
    items = [(str(i), t) for i, t in enumerate(docs)]
    rows.append(timed("extract_facts_batch (all facts), 1 process",
                      lambda: len(extract_facts_batch(items, batch_size=bs)), len(docs), n_words))
    rows.append(timed("extract_facts_batch (all facts), 2 processes",
                      lambda: len(extract_facts_batch(items, batch_size=bs, n_process=2)), len(docs), n_words))
    print(f"entities identical between plain and NER-only pipelines on {same}/{len(docs)} documents; "
          f"load average {os.getloadavg()[0]:.1f}")
    for r in rows:
        r.pop("result")
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "docs": len(docs), "distinct_texts": len(base), "words": n_words, "batch_size": bs,
        "entities_identical": f"{same}/{len(docs)}", "load_average": os.getloadavg(), "rows": rows,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
