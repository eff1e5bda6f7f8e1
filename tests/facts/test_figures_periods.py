"""Figures (digits, words, money, qualifiers, counted nouns) and periods (ranges, decades, single years)."""

from __future__ import annotations

import pytest

from extractors.facts.figures import extract_figures
from extractors.facts.periods import extract_periods


def figs(sentence: str) -> list[tuple[float, str, str | None, str | None, str | None]]:
    return [(f.value, f.noun, f.qualifier, f.currency, f.unit)
            for f in extract_figures("a", sentence, [(0, len(sentence))])]


def pers(sentence: str) -> list[tuple[int, int]]:
    return [(p.start_year, p.end_year) for p in extract_periods("a", sentence, [(0, len(sentence))])]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("A report found at least 1,400 children had been exploited.", [(1400, "children", "at least", None, None)]),
        ("During the £6m operation, the IOPC investigated 265 separate allegations.",
         [(6_000_000, "operation", None, "GBP", None), (265, "separate allegations", None, None, None)]),
        ("Fourteen officers were found to have a case to answer.", [(14, "officers", None, None, None)]),
        ("A reward of £20,000 was offered.", [(20_000, "", None, "GBP", None)]),
        ("One of them was sent to around 90 people.", [(90, "people", "around", None, None)]),
        ("The board wants a fund of up to $2.5bn for repairs.", [(2.5e9, "", "up to", "USD", None)]),
        ("Nearly 40% of staff were on short contracts.", [(40, "staff", "nearly", None, "percent")]),
        ("Risk has grown by 15 per cent since then.", [(15, "", None, None, "percent")]),
        ("More than twenty-five homes flooded.", [(25, "homes", "more than", None, None)]),
        ("It looked into the conduct of 47 current and former officers.",
         [(47, "current and former officers", None, None, None)]),
        ("Earlier this year, the agency said the number of victims had risen to 1,510.",
         [(1510, "victims", None, None, None)]),
        ("Failures continued over 12 years.", [(12, "years", None, None, "years")]),
        ("They were convicted in 2016 – 14 years later.", [(14, "years", None, None, "years")]),
        ("The two whistleblowers who made the complaint spoke out.", [(2, "whistleblowers", None, None, None)]),
        ("Two senior officers received my reports.", [(2, "senior officers", None, None, None)]),
        # issue 10 §5: one figure, not 2 and 50
        ("About two hundred and fifty people were evacuated.", [(250, "people", "around", None, None)]),
        ("Police deployed three thousand five hundred officers.", [(3500, "officers", None, None, None)]),
        ("A hundred and one dalmatians escaped.", [(101, "dalmatians", None, None, None)]),
    ],
)
def test_figures(sentence: str, expected: list) -> None:
    assert figs(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The report came out in 2014 and covered 1997.",  # years are periods
        "He was questioned on 10 September 2014 by MPs.",  # dates
        "The meeting starts at 10:30 am.",
        "One was cleared of wrongdoing and one of them resigned.",  # 'one' is a pronoun
        "Seven retired before they could face hearings.",  # no counted noun written
        "The new @NCA_UK investigation starts.",
        "She came 1st in the race.",
        "Mr Hughes was chief constable from 2004-11.",
    ],
)
def test_not_figures(sentence: str) -> None:
    assert figs(sentence) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Children were exploited between 1997 and 2013.", [(1997, 2013)]),
        ("Mr Hughes was chief constable from 2004-11.", [(2004, 2011)]),
        ("Dozens of cases of misconduct from 1997 to 2013 were found.", [(1997, 2013)]),
        ("In 2014, a report by Alexis Jay found abuse between 1997 and 2013.", [(2014, 2014), (1997, 2013)]),
        ("It failed children in the 1990s and 2000s.", [(1990, 2009)]),
        ("Defences were built in the 1980s.", [(1980, 1989)]),
        ("Contracts grew between 2011-12 and 2017-18.", [(2011, 2018)]),
        ("Reports in 2002 and 2003 mentioned the men.", [(2002, 2002), (2003, 2003)]),
        ("The 2006 report was sent to 90 people.", [(2006, 2006)]),
        ("The figure was 2,013 people.", []),
        ("It was published on 2018-07-10.", [(2018, 2018)]),
    ],
)
def test_periods(sentence: str, expected: list) -> None:
    assert pers(sentence) == expected


def test_figures_on_seed_004(seed_facts: dict) -> None:
    got = {(f.value, f.noun) for f in seed_facts["004"].figures}
    assert {(6_000_000.0, "operation"), (14.0, "officers"), (1400.0, "children"), (3.0, "trials")} <= got
    money = [f for f in seed_facts["004"].figures if f.currency]
    assert [(f.value, f.currency, f.surface) for f in money] == [(6_000_000.0, "GBP", "£6m operation")]
