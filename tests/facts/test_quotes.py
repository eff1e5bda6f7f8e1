"""Quotes and speakers: attribution patterns, split quotes, multi-paragraph quotes, roles, pronouns."""

from __future__ import annotations

from extractors.facts import extract_facts_batch
from newswatch.models import Quote


def quotes(text: str) -> list[Quote]:
    return list(extract_facts_batch([("a", text)])[0].quotes)


def speakers(text: str) -> list[tuple[str, str | None]]:
    return [(q.quote, q.speaker) for q in quotes(text)]


def test_x_said_colon_and_title_surname() -> None:
    text = ("Jayne Senior ran an outreach project.\n\n"
            'Mrs Senior said: "I know that senior officers were aware of this."')
    assert speakers(text) == [("I know that senior officers were aware of this.", "Jayne Senior")]


def test_said_x_after_the_quote_and_split_quote() -> None:
    text = ('Opposition leader Dr Helen Price welcomed the plan.\n\n'
            '"It is a start, not a solution," said Dr Price. "The other 14 sites will still flood."')
    [q] = quotes(text)
    assert q.speaker == "Helen Price"
    assert q.quote == "It is a start, not a solution The other 14 sites will still flood."


def test_split_by_pronoun_attribution() -> None:
    text = ('Governor Mark Ellison promised a review. "We owe these families answers," he said, '
            '"and we owe every other town a guarantee."')
    [q] = quotes(text)
    assert (q.speaker, q.speaker_type) == ("Mark Ellison", "PERSON")
    assert q.quote.startswith("We owe these families answers and we owe")


def test_multi_paragraph_quote_uk_style() -> None:
    text = ('Dr Angie Heal wrote a series of reports.\n\n'
            'She told Sky News: "I could not believe the lack of response.\n\n'
            '"I saw the circulation list and that two senior officers received my reports.\n\n'
            '"These were really serious crimes against children."\n\n'
            'The watchdog will now investigate.')
    [q] = quotes(text)
    assert q.speaker == "Angie Heal"
    assert q.quote.startswith("I could not believe") and q.quote.endswith("crimes against children.")


def test_role_speaker_and_following_quote_paragraph() -> None:
    text = ('A South Yorkshire Police spokeswoman said: "We continue to work with the IOPC on this.\n\n'
            '"It would be inappropriate to comment further at this time."')
    [q] = quotes(text)
    assert (q.speaker, q.speaker_type) == ("a South Yorkshire Police spokeswoman", "ROLE")


def test_organisation_speaker_and_acronym() -> None:
    text = ("The Independent Office for Police Conduct (IOPC) reviewed the case.\n\n"
            'The IOPC has written to survivors saying: "We are extending our investigation to senior officers."')
    [q] = quotes(text)
    assert (q.speaker, q.speaker_type) == ("Independent Office for Police Conduct", "ORG")


def test_according_to_and_single_quote_marks() -> None:
    text = ("They were referred to in Prof Alexis Jay's report, where she said they presented "
            "'a vivid and alarming picture of the links' but were 'ignored and no action was taken'.")
    got = speakers(text)
    assert got == [("a vivid and alarming picture of the links", "Alexis Jay"),
                   ("ignored and no action was taken", "Alexis Jay")]
    text2 = "According to the IOPC, intelligence “continued to filter through” to the force."
    assert speakers(text2) == [("continued to filter through", "IOPC")]


def test_scare_quotes_nicknames_and_titles_are_not_quotes() -> None:
    text = ('One victim, "Elizabeth", told Sky News: "The senior team should have been investigated."\n\n'
            'Police inaction "facilitated" her abuse, she says. The film "Once Upon A Time in Hollywood" won.')
    assert speakers(text) == [("The senior team should have been investigated.", "Elizabeth")]


def test_definite_role_resolves_to_the_person_named_before() -> None:
    text = ('Rotherham MP Sarah Champion has reacted to the summary.\n\n'
            'The Labour MP said: "So what happens now? Who do you complain to?"')
    assert speakers(text) == [("So what happens now? Who do you complain to?", "Sarah Champion")]


def test_apostrophes_do_not_open_quotes() -> None:
    text = "Dr Heal’s reports were not seen by the force's officers, the officers' union said."
    assert quotes(text) == []


def test_seed_quotes(seed_facts: dict) -> None:
    s2 = [(q.speaker, q.quote[:30]) for q in seed_facts["002"].quotes]
    assert ("Steve Noonan", "It’s important to say that we’") in s2
    assert ("Steve Noonan", "As we have stated all along ou") in s2
    s4 = seed_facts["004"].quotes
    forber = [q for q in s4 if q.speaker == "Tim Forber"]
    # four paragraphs of one statement are one quote
    assert any(q.quote.startswith("We prioritise") and q.quote.endswith("we let victims down.") for q in forber)
    # the same quote in two syndicated copies has the same id
    ids1 = {q.quote_id for q in seed_facts["001"].quotes}
    ids2 = {q.quote_id for q in seed_facts["002"].quotes}
    assert len(ids1 & ids2) == 1  # Med Hughes's quote; the spokeswoman's differs by one word ("work"/"co-operate")
