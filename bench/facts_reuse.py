"""CPU time of facts per syndicated copy, with span reuse (extract_facts_batch(reuse=SpanCache())) vs without.

Originals: the English corpus pages and the seeds (bench/facts_bench.english_texts) with at least five
paragraphs. Copies, generated per original with a fixed seed: a new lede with an outlet credit, one paragraph
dropped, one figure changed (the shape of issue 9 §3). Every configuration sees the same copies in the same
order in one process on one core (n_process=1), model loaded before the clock; CPU seconds of the process are
the figure (steadier than wall time on a shared machine). Also checks that every copy's facts equal those of
the full run, and counts the characters given to the model. Three configurations: no reuse (the
baseline), SpanCache() (strict, the default) and SpanCache(strict=False).

    .venv/bin/python bench/facts_reuse.py               # ~1-2 minutes
    .venv/bin/python bench/facts_reuse.py --copies 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import extractors.facts.nlp as nlp_module  # noqa: E402
from bench.facts_bench import english_texts  # noqa: E402
from extractors.facts import SpanCache, extract_facts_batch  # noqa: E402
from extractors.facts.reuse import paragraphs  # noqa: E402

OUTLETS = ("Northern Echo", "Doncaster Free Press", "Wire Agency", "Evening Standard", "Daily Courier")


def edited_copy(text: str, rng: random.Random) -> str:
    pars = [text[s:e] for s, e in paragraphs(text)]
    outlet = rng.choice(OUTLETS)
    lede = f"LONDON ({outlet}) - {pars[0][:120].rsplit(' ', 1)[0]}, the {outlet} has learned."
    drop = rng.randrange(1, len(pars))
    out = [lede] + pars[1:drop] + pars[drop + 1 :]
    idx = [k for k, p in enumerate(out) if k > 0 and re.search(r"\b\d+\b", p)]
    if idx:
        k = rng.choice(idx)
        m = re.search(r"\b\d+\b", out[k])
        assert m is not None
        out[k] = out[k][: m.start()] + str(int(m.group()) + rng.randint(1, 9)) + out[k][m.end() :]
    return "\n\n".join(out)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Counting:
    def __init__(self, nlp):
        self.nlp, self.chars = nlp, 0

    def pipe(self, texts, **kw):
        texts = list(texts)
        self.chars += sum(map(len, texts))
        return self.nlp.pipe(texts, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=3, help="edited copies per original")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    rng = random.Random(9)
    originals = [t for t in english_texts() if len(paragraphs(t)) >= 5]
    copies = [(f"c{i}_{j}", edited_copy(t, rng)) for i, t in enumerate(originals) for j in range(args.copies)]
    origs = [(f"o{i}", t) for i, t in enumerate(originals)]
    counting = Counting(nlp_module.load_nlp())
    nlp_module.load_nlp = lambda full=False: counting  # type: ignore[assignment]
    extract_facts_batch(origs[:1])  # model and py3langid loaded outside the clock

    t0, c0 = _cpu(), counting.chars
    full = extract_facts_batch(copies)
    base_cpu, base_chars = _cpu() - t0, counting.chars - c0

    cache = SpanCache(strict=False)  # the fast mode: only unshared paragraphs are run
    t0 = _cpu()
    extract_facts_batch(origs, reuse=cache)  # the originals arrive first, as the wire story does
    orig_cpu = _cpu() - t0
    t0, c0 = _cpu(), counting.chars
    reused = extract_facts_batch(copies, reuse=cache)
    reuse_cpu, reuse_chars = _cpu() - t0, counting.chars - c0

    cache = SpanCache()  # the default (strict): paragraphs next to an edit are run too
    extract_facts_batch(origs, reuse=cache)
    t0, c0 = _cpu(), counting.chars
    strict = extract_facts_batch(copies, reuse=cache)
    strict_cpu, strict_chars = _cpu() - t0, counting.chars - c0

    same = sum(a == b for a, b in zip(full, reused, strict=True))
    same_strict = sum(a == b for a, b in zip(full, strict, strict=True))
    out = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": os.getloadavg()[0],
        "originals": len(originals),
        "copies": len(copies),
        "copy_chars": sum(len(t) for _, t in copies),
        "ms_per_original": 1000 * orig_cpu / len(origs),
        "ms_per_copy_full": 1000 * base_cpu / len(copies),
        "ms_per_copy_reuse_fast": 1000 * reuse_cpu / len(copies),
        "ner_chars_full": base_chars,
        "ner_chars_reuse_fast": reuse_chars,
        "copies_with_equal_facts_fast": same,
        "ms_per_copy_reuse_strict": 1000 * strict_cpu / len(copies),
        "ner_chars_reuse_strict": strict_chars,
        "copies_with_equal_facts_strict": same_strict,
    }
    out["ratio_fast"] = out["ms_per_copy_reuse_fast"] / out["ms_per_copy_full"]
    out["ratio_strict"] = out["ms_per_copy_reuse_strict"] / out["ms_per_copy_full"]
    for k, v in out.items():
        print(f"{k:24} {v:.2f}" if isinstance(v, float) else f"{k:24} {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
