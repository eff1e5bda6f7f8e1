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
}


def split_of(name: str) -> str:
    return "heldout" if hashlib.sha1(name.encode("utf-8")).digest()[0] % 2 else "dev"


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def measure(corpus: Path | None = None) -> dict[str, Any]:
    import trafilatura

    corpus = corpus or ROOT.parent / "shared" / "corpus" / "html"
    pages = json.loads(EVAL.read_text(encoding="utf-8"))["pages"]
    out: dict[str, Any] = {}
    for label, kw in VARIANTS.items():
        counts = {"dev": [0, 0, 0, 0], "heldout": [0, 0, 0, 0]}  # tp fn fp tn
        for g in pages.values():
            path = corpus / g["file"]
            if not path.is_file():
                continue
            html = path.read_bytes().decode("utf-8", "replace")
            doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=True, **kw)
            text = _norm(getattr(doc, "text", None) or "") if doc is not None else ""
            c = counts[split_of(g["file"])]
            for s in g.get("with", []):
                c[0 if _norm(s) in text else 1] += 1
            for s in g.get("without", []):
                c[2 if _norm(s) in text else 3] += 1
        for split, (tp, fn, fp, _tn) in counts.items():
            p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
            out.setdefault(label, {})[split] = {"precision": round(p, 3), "recall": round(r, 3),
                                                "f1": round(2 * p * r / max(1e-9, p + r), 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = measure()
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{'variant':<24} {'dev P/R/F1':<22} {'held-out P/R/F1':<22}")
        for label, r in res.items():
            d, h = r["dev"], r["heldout"]
            print(f"{label:<24} {d['precision']:.3f}/{d['recall']:.3f}/{d['f1']:.3f}    "
                  f"{h['precision']:.3f}/{h['recall']:.3f}/{h['f1']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
