"""Extract the real pages of ../shared/corpus/html once with trafilatura and cache their texts for the dedup
evaluation (bench/dedup_data/corpus.jsonl). Run: .venv/bin/python -m bench.dedup_corpus [HTML_DIR]."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import trafilatura

HTML_DIR = Path("/work/shared/corpus/html")
OUT = Path(__file__).resolve().parent / "dedup_data" / "corpus.jsonl"


def extract_all(html_dir: Path) -> list[dict]:
    """One record per page with enough text: {"id", "title", "text"} (text: paragraphs separated by newlines)."""
    out = []
    for f in sorted(html_dir.glob("*.html")):
        html = f.read_bytes().decode("utf-8", "replace")
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False
        )
        if doc is None:
            continue
        text = (doc.text or "").strip()
        if len(text.split()) < 150:
            continue
        out.append({"id": f.stem, "title": (doc.title or f.stem).strip(), "text": text})
    return out


def main() -> None:
    html_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else HTML_DIR
    docs = extract_all(html_dir)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(f"{len(docs)} texts -> {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
