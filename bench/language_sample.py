"""How many characters language detection reads: its cost per text and how often the language differs from the
one read on 5,000 characters (the sample before), on the shared corpus pages (trafilatura's text) and the
PolNeAR development articles.

    .venv/bin/python -m bench.language_sample [--sizes 5000,2000,1000]

py3langid walks the UTF-8 bytes of its input in Python, so its cost grows with the sample; a run detects the
language of every page once (extractors/articles.py), on the worker that extracts it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def texts() -> list[str]:
    import trafilatura

    out = []
    for p in sorted((SHARED / "corpus" / "html").glob("*.html")):
        t = trafilatura.extract(p.read_bytes().decode("utf-8", "replace")) or ""
        if t:
            out.append(t)
    out += [p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((SHARED / "eval" / "polnear-train").rglob("*.txt"))]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000,3000,2000,1500,1000")
    args = ap.parse_args()
    if not (SHARED / "corpus" / "html").is_dir():
        print(f"language_sample: {SHARED}/corpus/html is missing (the shared data)", file=sys.stderr)
        return 2
    import extractors.facts.language as lang

    docs = texts()
    lang._identifier()  # the model loads outside the clock
    saved = lang.SAMPLE_CHARS
    base = None
    print(f"{len(docs)} texts (corpus pages + PolNeAR development articles)")
    print("| sample chars | ms per text | languages that differ from 5,000 |\n| ---: | ---: | ---: |")
    try:
        for n in [5000] + [int(s) for s in args.sizes.split(",") if int(s) != 5000]:
            lang.SAMPLE_CHARS = n
            t0 = time.process_time()
            got = [lang.detect_language(t)[0] for t in docs]
            ms = (time.process_time() - t0) / len(docs) * 1000
            base = base or got
            print(f"| {n:,} | {ms:.2f} | {sum(a != b for a, b in zip(got, base, strict=True))} |")
    finally:
        lang.SAMPLE_CHARS = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
