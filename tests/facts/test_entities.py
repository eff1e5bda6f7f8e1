"""Entity canonicalisation: acronyms, titles, surnames, case variants, user aliases (spaCy and rules)."""

from __future__ import annotations

import re

import pytest

from extractors.facts import extract_facts_batch
from extractors.facts.entities import acronym_definitions, canonicalise, initials, normalise_org, strip_title


def spans(text: str, *named: tuple[str, str]) -> list[tuple[int, int, str]]:
    """NER-like spans for every occurrence of each (surface, label), so the rules can be tested without spaCy."""
    out = []
    for surface, label in named:
        for m in re.finditer(re.escape(surface), text):
            out.append((m.start(), m.end(), label))
    return out


def test_acronym_defined_in_text() -> None:
    text = "Whistleblower Jayne Senior submitted a complaint to the Independent Office for Police Conduct (IOPC)."
    assert acronym_definitions(text) == {"IOPC": "Independent Office for Police Conduct"}
    assert initials("Independent Office For Police Conduct") == "IOPC"
    assert normalise_org("Independent Office For Police Conduct") == "Independent Office for Police Conduct"


def test_titles_are_dropped_from_canonical_names() -> None:
    assert strip_title("Dr Angie Heal") == "Angie Heal"
    assert strip_title("Deputy Chief Constable Tim Forber") == "Tim Forber"
    assert strip_title("Professor Alexis Jay") == "Alexis Jay"
    assert strip_title("Chief Constable") == "Chief Constable"


def test_surname_back_references_and_case_variants() -> None:
    text = ("Jayne Senior ran a project. She complained on behalf of Dr Angie Heal. Mrs Senior said it was late. "
            "Dr Heal agreed. The Independent Office For Police Conduct (IOPC) replied. The IOPC and SYP met. "
            "South Yorkshire Police declined to comment.")
    art = canonicalise("a1", text, spans(text, ("Jayne", "PERSON"), ("Angie Heal", "PERSON"),
                                         ("The Independent Office For Police Conduct (IOPC", "ORG"),
                                         ("South Yorkshire Police", "GPE")))
    by_surface = {m.surface: m.entity for m in art.mentions}
    assert by_surface["Mrs Senior"] == "Jayne Senior"  # "Jayne" alone from NER, extended by the titled surname
    assert by_surface["Jayne Senior"] == "Jayne Senior"
    assert by_surface["Dr Heal"] == "Angie Heal"
    assert by_surface["Dr Angie Heal"] == "Angie Heal"
    assert by_surface["Independent Office For Police Conduct"] == "Independent Office for Police Conduct"
    assert by_surface["IOPC"] == "Independent Office for Police Conduct"
    assert by_surface["SYP"] == "South Yorkshire Police"  # initials of an organisation in the article
    types = {m.entity: m.entity_type for m in art.mentions}
    assert types["South Yorkshire Police"] == "ORG"  # "... Police" is an organisation whatever NER said
    assert types["Jayne Senior"] == "PERSON"
    origins = {(a.alias, a.entity): a.origin for a in art.aliases}
    assert origins[("Mrs Senior", "Jayne Senior")] == "surname"
    assert origins[("IOPC", "Independent Office for Police Conduct")] == "acronym"


def test_misspelt_acronym_is_linked_when_the_right_one_is_in_the_article() -> None:
    text = "A complaint went to the Independent Office for Police Conduct (IOPC). The IPOC said reports were ignored."
    art = canonicalise("a1", text, spans(text, ("Independent Office for Police Conduct", "ORG")))
    assert {m.surface: m.entity for m in art.mentions}["IPOC"] == "Independent Office for Police Conduct"
    assert ("IPOC", "variant") in {(a.alias, a.origin) for a in art.aliases}


def test_unrelated_acronym_is_not_linked() -> None:
    text = "The Independent Office for Police Conduct (IOPC) met the NHS."
    art = canonicalise("a1", text, spans(text, ("Independent Office for Police Conduct", "ORG"), ("NHS", "ORG")))
    assert {m.surface: m.entity for m in art.mentions}["NHS"] == "NHS"


def test_two_people_with_one_surname_are_not_merged() -> None:
    text = "John Smith met Mary Smith. Mr Smith said nothing."
    art = canonicalise("a1", text, spans(text, ("John Smith", "PERSON"), ("Mary Smith", "PERSON")))
    names = {m.surface: m.entity for m in art.mentions}
    assert names["Mr Smith"] == "Smith"  # ambiguous: left as written, not guessed


def test_user_aliases_win() -> None:
    text = "The Met said it would review the case. Scotland Yard declined to comment."
    art = canonicalise("a1", text, spans(text, ("Met", "ORG"), ("Scotland Yard", "GPE")),
                       {"the met": "Metropolitan Police Service", "Scotland Yard": "Metropolitan Police Service"})
    assert {m.entity for m in art.mentions} == {"Metropolitan Police Service"}
    assert {a.origin for a in art.aliases} == {"user"}


@pytest.mark.timeout(120)
def test_seed_entities_with_spacy(seed_facts: dict) -> None:
    f0 = seed_facts["000"]
    by_surface = {m.surface: m.entity for m in f0.entities}
    assert by_surface["Mrs Senior"] == "Jayne Senior"
    assert by_surface["Dr Heal"] == "Angie Heal"
    assert by_surface["Prof Jay"] == "Alexis Jay"
    assert by_surface["Mr Hughes"] == "Meredydd Hughes"
    assert by_surface["IOPC"] == "Independent Office for Police Conduct"
    f4 = seed_facts["004"]
    assert {m.surface: m.entity for m in f4.entities}["IPOC"] == "Independent Office for Police Conduct"
    for key, fx in seed_facts.items():
        if key == "_texts":
            continue
        for m in fx.entities:
            assert fx_text(seed_facts, fx.article_id)[m.start : m.end] == m.surface


def fx_text(seed_facts: dict, article_id: str) -> str:
    return seed_facts["_texts"][article_id]


def test_user_aliases_through_the_batch_api() -> None:
    text = "Alexis Jay wrote the report. Professor Jay said it was clear."
    [fx] = extract_facts_batch([("a", text)], user_aliases={"Alexis Jay": "Prof Alexis Jay OBE"})
    assert {m.entity for m in fx.entities if m.entity_type == "PERSON"} == {"Prof Alexis Jay OBE"}
