"""Extract the real pages of ../shared/corpus/html once with trafilatura and cache their texts for the dedup
evaluation (bench/dedup_data/.cache/corpus.jsonl, not committed: the corpus may not be copied into the project).
The evaluation and the tests call ensure_corpus(), which builds the cache when it is missing (a few seconds).
Run: .venv/bin/python -m bench.dedup_corpus [HTML_DIR]."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import trafilatura

REPO = Path(__file__).resolve().parent.parent
HTML_DIR = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or REPO.parent / "shared" / "corpus" / "html")
OUT = Path(__file__).resolve().parent / "dedup_data" / ".cache" / "corpus.jsonl"


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


def write_cache(html_dir: Path = HTML_DIR, out: Path = OUT) -> Path:
    """Extract every page and write the cache atomically (a killed build leaves no partial cache)."""
    if not html_dir.is_dir():
        raise FileNotFoundError(f"corpus {html_dir} not found: set NEWSWATCH_CORPUS_DIR to ../shared/corpus/html")
    docs = extract_all(html_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return out


def ensure_corpus() -> Path:
    """The cached corpus texts, built on first use."""
    return OUT if OUT.is_file() else write_cache()


def main() -> None:
    html_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else HTML_DIR
    out = write_cache(html_dir)
    print(f"{sum(1 for _ in out.open(encoding='utf-8'))} texts -> {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
