"""Languages on the shared corpus pages (issue 10 §4): detected language against <html lang>, and the entity
mentions the English model produced on non-English pages before (every page through the English pipeline)
and after (extract_facts_batch, which skips languages without a model).

    .venv/bin/python -m bench.facts_languages [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def measure(corpus: Path | None = None) -> dict[str, Any]:
    import lxml.html
    import trafilatura

    from extractors.clean import clean_text
    from extractors.facts import extract_facts_batch, extract_facts_from_spans
    from extractors.facts.language import detect_language
    from extractors.facts.nlp import load_nlp

    corpus = corpus or ROOT.parent / "shared" / "corpus" / "html"
    pages = []
    for p in sorted(corpus.glob("*.html")):
        html = p.read_bytes().decode("utf-8", "replace")
        text = clean_text(trafilatura.extract(html) or "")
        if not text:
            continue
        try:
            declared = (lxml.html.fromstring(html.encode()).get("lang") or "").split("-")[0].lower() or None
        except (ValueError, lxml.etree.ParserError):
            declared = None
        pages.append((p.name, text, declared, detect_language(text)[0]))
    langs = Counter(d for _, _, _, d in pages)
    disagree = [(n, dec, det) for n, _, dec, det in pages if dec != det]
    other = [(n, t) for n, t, _, d in pages if d not in (None, "en")]
    nlp = load_nlp()
    before: Counter[str] = Counter()
    german_person_words: Counter[str] = Counter()
    for (name, text), doc in zip(other, nlp.pipe([t for _, t in other]), strict=True):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        fx = extract_facts_from_spans(name, text, ents, [(s.start_char, s.end_char) for s in doc.sents])
        lang = next(d for n, _, _, d in pages if n == name)
        before[lang] += len(fx.entities)
        if lang == "de":
            german_person_words.update(m.surface for m in fx.entities if m.entity_type == "PERSON"
                                       and re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]+", m.surface))
    after: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for fx in extract_facts_batch(other):
        after[fx.language or "unknown"] += len(fx.entities)
        if fx.skipped:
            reasons[fx.skipped] += 1
    return {
        "pages": len(pages), "languages": dict(langs.most_common()),
        "html_lang_missing_or_different": len(disagree), "examples": disagree[:8],
        "entity_mentions_before": dict(before), "entity_mentions_after": dict(after),
        "german_one_word_person_surfaces_before": german_person_words.most_common(12),
        "skipped": dict(reasons),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = measure()
    print(json.dumps(out, indent=2, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
