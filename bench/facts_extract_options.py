"""trafilatura's precision options on the annotated corpus pages (issue 10 §5): plain, favor_precision,
favor_recall, and pruning of page furniture (prune_xpath), each scored like bench/feeds_extract.py
(snippets that must / must not appear, trafilatura's own annotations in bench/feeds_evaldata.json), on a dev
and a held-out half of the pages (fixed hash of the file name).

    .venv/bin/python -m bench.facts_extract_options [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "bench" / "feeds_evaldata.json"
# Page furniture that trafilatura sometimes keeps: share bars, bylines boxes, related-link lists, comment forms.
PRUNE = [
    "//*[contains(@class, 'share') or contains(@class, 'social') or contains(@class, 'related')"
    " or contains(@class, 'newsletter') or contains(@class, 'comment') or contains(@id, 'comment')]",
]
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "prune_furniture": {"prune_xpath": PRUNE},
    "favor_precision+prune": {"favor_precision": True, "prune_xpath": PRUNE},
    "fast (no fallback)": {"fast": True},
    # what the pipeline stores: trafilatura's text, then extractors.clean.clean_text (page furniture lines)
    "plain+clean_text": {"_clean": True},
    "favor_precision+clean_text": {"favor_precision": True, "_clean": True},
}


def split_of(name: str) -> str:
    return "heldout" if hashlib.sha1(name.encode("utf-8")).digest()[0] % 2 else "dev"


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def measure(corpus: Path | None = None, splits: tuple[str, ...] = ("dev", "heldout")) -> dict[str, Any]:
    """P/R/F1 of each variant on the pages of the given halves (tune on "dev" only; "heldout" is for reporting)."""
    import trafilatura

    from extractors.clean import clean_text

    corpus = corpus or ROOT.parent / "shared" / "corpus" / "html"
    pages = json.loads(EVAL.read_text(encoding="utf-8"))["pages"]
    out: dict[str, Any] = {}
    for label, kw in VARIANTS.items():
        counts = {"dev": [0, 0, 0, 0], "heldout": [0, 0, 0, 0]}  # tp fn fp tn
        kw = dict(kw)
        clean = kw.pop("_clean", False)
        for g in pages.values():
            path = corpus / g["file"]
            if not path.is_file() or split_of(g["file"]) not in splits:
                continue
            html = path.read_bytes().decode("utf-8", "replace")
            doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=True, **kw)
            raw = (getattr(doc, "text", None) or "") if doc is not None else ""
            text = _norm(clean_text(raw) if clean else raw)
            c = counts[split_of(g["file"])]
            for s in g.get("with", []):
                c[0 if _norm(s) in text else 1] += 1
            for s in g.get("without", []):
                c[2 if _norm(s) in text else 3] += 1
        for split, (tp, fn, fp, _tn) in counts.items():
            if split not in splits:
                continue
            p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
            out.setdefault(label, {})[split] = {"precision": round(p, 3), "recall": round(r, 3),
                                                "f1": round(2 * p * r / max(1e-9, p + r), 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dev-only", action="store_true", help="only the dev half (for trying options)")
    args = ap.parse_args(argv)
    splits = ("dev",) if args.dev_only else ("dev", "heldout")
    res = measure(splits=splits)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{'variant':<28} " + " ".join(f"{s + ' P/R/F1':<22}" for s in splits))
        for label, r in res.items():
            cells = [f"{r[s]['precision']:.3f}/{r[s]['recall']:.3f}/{r[s]['f1']:.3f}" for s in splits]
            print(f"{label:<28} " + "    ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
