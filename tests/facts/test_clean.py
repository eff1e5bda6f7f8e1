"""clean_text on the seeds and on the page chrome they show: what goes, what stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.clean import clean_text
from extractors.facts.figures import extract_figures

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_body(prefix: str) -> str:
    raw = next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")
    return raw if prefix == "002" else raw.split("\n", 1)[1]


def test_hide_ad_and_repeated_captions_are_removed_from_seed_004() -> None:
    out = clean_text(seed_body("004"))
    assert "Hide Ad" not in out
    # the caption was written three times (once glued to itself); none of it stays
    assert "Around 1,400 children were sexually abused in Rotherham between 1997 and 2013" not in out
    assert "Jayne Senior,who ran" not in out
    # the body sentence that the caption repeats stays, once
    assert out.count("Ms Senior, who ran the Risky Business youth project") == 1
    # "Read More" and the teaser headline for another story go
    assert "Azeem Rafiq" not in out and "Read More" not in out


def test_teaser_lines_for_other_stories_are_removed_from_seed_001() -> None:
    out = clean_text(seed_body("001"))
    for teaser in ("CRIME:", "READ MORE:", "APPEAL:", "Sheffield schoolgirls", "Radio Sheffield", "£20,000"):
        assert teaser not in out, teaser
    assert "Prof Alexis Jay's report lifted the lid" not in out  # a caption written twice
    assert "the number of victims had risen to 1,510" in out


def test_no_figure_comes_from_a_teaser() -> None:
    """The APPEAL teaser offers a £20,000 reward for another story; its money must not become a fact."""
    raw = seed_body("001")
    assert any(f.value == 20000 for f in extract_figures("x", raw, [(0, len(raw))]))  # it is there before cleaning
    out = clean_text(raw)
    assert not any(f.value == 20000 for f in extract_figures("x", out, [(0, len(out))]))


def test_widgets_credits_and_labels_are_removed_from_seed_003() -> None:
    out = clean_text(seed_body("003"))
    for chrome in ("Don't Miss", "Most Read", "Trending on GB News", "|GETTY", "|SOUTH YORKSHIRE POLICE",
                   "LATEST DEVELOPMENTS"):
        assert chrome not in out, chrome
    # the captions above the credits repeat body sentences; the body keeps one copy
    assert out.count("was a systemic organisational failure") == 1
    assert "Senior officers failed to protect children in Rotherham from grooming abuse gangs" in out


def test_date_stamp_at_the_start_of_seed_002_is_removed() -> None:
    out = clean_text(seed_body("002"))
    assert out.startswith("The actions of South Yorkshire Police's former senior command team")


def test_paragraphs_are_separated_by_one_blank_line() -> None:
    out = clean_text("First paragraph.\nSecond paragraph.\n\n\n\nThird.\r\nFourth.")
    assert out == "First paragraph.\n\nSecond paragraph.\n\nThird.\n\nFourth."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Body one.\nAdvertisement\nBody two.", "Body one.\n\nBody two."),
        ("Body.\nRelated articles\nMinister resigns over row\nPolice name victim\nNext body sentence.",
         "Body.\n\nNext body sentence."),
        ("Body.\nA caption here about the scene. | PA\nMore body.", "Body.\n\nA caption here about the scene.\n\nMore body."),
        ("Body.\nA man walks past the court building\n|REUTERS\nMore.", "Body.\n\nMore."),
        ("Body.\nAdditional reporting by Jane Doe; Editing by John Roe\n", "Body."),
        ("UPDATE: Council leader resigns\nThe council met today.", "The council met today."),
        ("", ""),
        ("Hide Ad\nHide Ad", ""),
    ],
)
def test_chrome_cases(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_ordinary_text_is_left_alone() -> None:
    text = ("The IOPC said: \"We will look at this.\"\n\nOfficers: 14 were found to have a case to answer. "
            "The report is 120 pages long.")
    assert clean_text(text) == text


def test_one_furniture_list_for_cleaning_and_fingerprints():
    # extractors/fingerprint.py used to keep its own copy of these phrases by hand; both now read clean.py's.
    from extractors.clean import FURNITURE_OPENERS
    from extractors.fingerprint import is_boilerplate

    # a full sentence, long enough that neither the short-line nor the heading rule marks it: only the opener can
    body = "the council said on Monday that a new bus route would link the hospital with the railway station."
    assert not is_boilerplate(body.capitalize())
    for opener in FURNITURE_OPENERS:
        assert is_boilerplate(f"{opener.capitalize()}: {body}"), opener
    assert clean_text("Der Stadtrat hat am Montag den neuen Haushalt beschlossen.\nAnzeige\nWerbung") == (
        "Der Stadtrat hat am Montag den neuen Haushalt beschlossen."
    )
    # a long one-line text that happens to start like a teaser is the article, not furniture
    assert not is_boilerplate("Watch Live: " + "the parade runs along a route in Pasadena with floats " * 4)
