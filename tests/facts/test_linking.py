"""Cross-article reasoning as pure functions: name variants, quote clusters, conflicting claims."""

from __future__ import annotations

from extractors.facts.linking import cluster_quotes, compatible_first_names, find_aliases, find_conflicts


def m(article: str, entity: str, etype: str, synd: str | None = None) -> tuple:
    return (article, entity, etype, entity, synd or article, "s")


CTX = ["Rotherham", "South Yorkshire Police"]


def mentions(article: str, *people: str, synd: str | None = None) -> list[tuple]:
    out = [m(article, p, "PERSON", synd) for p in people]
    out += [m(article, c, "GPE" if c == "Rotherham" else "ORG", synd) for c in CTX]
    return out


def test_first_name_compatibility() -> None:
    assert compatible_first_names("Angie", "Angela")
    assert compatible_first_names("Med", "Meredydd")
    assert not compatible_first_names("Angie", "Andrew")
    assert not compatible_first_names("Jo", "Joanna")  # two letters: too short to be evidence
    assert not compatible_first_names("Jo", "Jim")


def test_person_variant_needs_shared_context() -> None:
    rows = mentions("a", "Angie Heal") + mentions("b", "Angie Heal") + mentions("c", "Angela Heal")
    aliases = {r["alias"]: r["entity"] for r in find_aliases(rows, [])}
    assert aliases == {"Angela Heal": "Angie Heal"}
    # without shared context (different stories, nothing in common) no link is made
    lonely = [m("a", "Angie Heal", "PERSON"), m("c", "Angela Heal", "PERSON"), m("c", "Leeds", "GPE")]
    assert find_aliases(lonely, []) == []


def test_most_used_name_wins_and_copies_count_once() -> None:
    # Med Hughes appears in two copies of one text; Meredydd Hughes in one other text: a tie, the longer wins
    rows = mentions("a", "Meredydd Hughes") + mentions("b", "Med Hughes", synd="b") + mentions("c", "Med Hughes", synd="b")
    aliases = {r["alias"]: r["entity"] for r in find_aliases(rows, [])}
    assert aliases == {"Med Hughes": "Meredydd Hughes"}


def test_acronyms_and_misspelt_acronyms() -> None:
    art_aliases = [("a", "IOPC", "Independent Office for Police Conduct", "ORG", "acronym", "")]
    rows = [m("a", "Independent Office for Police Conduct", "ORG"), m("b", "IOPC", "ORG"),
            m("c", "IPOC", "ORG"), m("c", "IOPC", "ORG"), m("d", "IPCO", "ORG")]
    aliases = {r["alias"]: (r["entity"], r["origin"]) for r in find_aliases(rows, art_aliases)}
    assert aliases["IOPC"] == ("Independent Office for Police Conduct", "acronym")
    assert aliases["IPOC"] == ("Independent Office for Police Conduct", "variant")
    assert "IPCO" not in aliases  # not one adjacent swap, and never next to the organisation


def test_quote_clusters() -> None:
    quotes = [
        ("a", "q1", "We are extending our investigation and will be looking into senior officers.", ""),
        ("b", "q2", "We are extending our investigation and will be looking into senior officers. "
                    "The main allegation is that they failed.", ""),
        ("c", "q3", "We continue to work with the IOPC in relation to their investigation into abuse.", ""),
        ("d", "q4", "We continue to co-operate with the IOPC in relation to their investigation into abuse.", ""),
        ("e", "q5", "A completely different statement about something else entirely here.", ""),
        ("f", "q6", "looking into senior", ""),  # too short to be evidence
    ]
    c = cluster_quotes(quotes)
    assert c["q1"] == c["q2"]
    assert c["q3"] == c["q4"] != c["q1"]
    assert "q5" not in c and "q6" not in c


def test_conflicts_align_values_inside_similar_sentences() -> None:
    s_a = "In 2014, a report by Alexis Jay found at least 1,400 children were exploited between 1997 and 2013."
    s_b = "A report by Professor Alexis Jay in 2015 found at least 1,400 children were exploited between 1997 and 2013."
    facts = [
        ("year", "a", s_a, "2014"), ("period", "a", s_a, "1997-2013"), ("figure", "a", s_a, "1400 children"),
        ("year", "b", s_b, "2015"), ("period", "b", s_b, "1997-2013"), ("figure", "b", s_b, "1400 children"),
        ("year", "c", s_a, "2014"), ("period", "c", s_a, "1997-2013"), ("figure", "c", s_a, "1400 children"),
    ]
    rows = find_conflicts(facts)
    assert {(r["kind"], r["article_id"], r["value"]) for r in rows} == {
        ("year", "a", "2014"), ("year", "c", "2014"), ("year", "b", "2015")}
    assert len({r["conflict_id"] for r in rows}) == 1
    assert "alexis jay" in rows[0]["claim"]


def test_no_conflict_between_unrelated_sentences_or_two_values_each() -> None:
    s1 = "Officers failed children between 1999 and 2011, the complaint said."
    s2 = "The weather in Leeds was mild between 1990 and 1995 according to records."
    assert find_conflicts([("period", "a", s1, "1999-2011"), ("period", "b", s2, "1990-1995")]) == []
    # two different years on each side: which pairs with which is unknown, so no conflict is claimed
    s3 = "Reports by the analyst in 2002 and 2003 named the men, the watchdog said."
    s4 = "Reports by the analyst in 2003 and 2006 named the men, the watchdog said."
    s5 = "Reports by the analyst in 2001 and 2007 named the men, the watchdog said."
    facts = [("year", "a", s3, "2002"), ("year", "a", s3, "2003"),
             ("year", "b", s4, "2003"), ("year", "b", s4, "2006")]
    assert {r["value"] for r in find_conflicts(facts)} == {"2002", "2006"}
    facts2 = [("year", "a", s3, "2002"), ("year", "a", s3, "2003"),
              ("year", "b", s5, "2001"), ("year", "b", s5, "2007")]
    assert find_conflicts(facts2) == []
