"""The watch query language (extractors/query.py): syntax, matching rules, errors, explain."""

from __future__ import annotations

import pytest

from extractors.query import QuerySyntaxError, compile_query, fold, tokenize
from newswatch.errors import ConfigError

TITLE = "Senior South Yorkshire police officers to be investigated over Rotherham child abuse failings"
TEXT = (
    "The Independent Office for Police Conduct (IOPC) said the investigation into South Yorkshire Police "
    "would examine claims that officers failed to protect children from sexual exploitation in Rotherham "
    "between 1997 and 2013. Prof Alexis Jay's report found at least 1,400 children were abused."
)

DEMO = 'Rotherham AND ("child sexual exploitation" OR "sexual exploitation" OR "child abuse" OR groom*) AND (IOPC OR police)'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", True),
        ("   ", True),
        ("rotherham", True),
        ("ROTHERHAM", True),
        ("Rotherham police", True),  # implicit AND
        ("Rotherham AND football", False),
        ("Rotherham football", False),
        ("football OR Rotherham", True),
        ("NOT football", True),
        ("NOT rotherham", False),
        ("-rotherham", False),
        ("rotherham -football", True),
        ('"south yorkshire police"', True),
        ('"police south yorkshire"', False),  # order matters in a phrase
        ('"sexual exploitation in rotherham"', True),
        ('"failings the independent"', False),  # a phrase does not span title and text
        ("investigat*", True),
        ("exploit*", True),
        ("rother", False),  # word boundaries: no substring matches
        ("police*", True),
        ('"south york*"', True),  # prefix inside a phrase (last word)
        ("iopc", True),
        ("1,400", True),  # punctuation inside a term makes a phrase of its words
        ("1400", False),
        ("child-abuse", True),  # hyphen = phrase
        ("(football OR cricket) AND rotherham", False),
        ("(football OR police) AND rotherham", True),
        ("rotherham AND NOT (football OR cricket)", True),
        ("police OR football rugby", True),  # AND binds tighter: police OR (football AND rugby)
        ("(police OR football) rugby", False),
        ("NOT NOT rotherham", True),
        ("jay's", True),
        ("police or rotherham", False),  # lower-case "or" is a word (absent here), not an operator
        ("police and rotherham", True),  # "and" occurs in the text as a word
        (DEMO, True),
        ("Rotherham && police || football", True),
    ],
)
def test_matches(query: str, expected: bool) -> None:
    assert compile_query(query).matches(TITLE, TEXT) is expected


def test_title_field() -> None:
    assert compile_query("title:rotherham").matches(TITLE, TEXT)
    assert not compile_query("title:iopc").matches(TITLE, TEXT)  # only in the text
    assert compile_query('title:"south yorkshire police"').matches(TITLE, TEXT)
    assert not compile_query('title:"failings the"').matches(TITLE, TEXT)  # would need the text's first word
    assert compile_query("title:investigat* iopc").matches(TITLE, TEXT)
    assert compile_query("TITLE:rotherham -title:football").matches(TITLE, TEXT)
    assert not compile_query("title:police").matches("", "police police")  # empty title
    assert compile_query("title:rotherham").explain(TITLE, TEXT) == ["title:rotherham"]
    for bad in ("title:", "title:(a OR b)", 'title:"unclosed'):
        with pytest.raises(QuerySyntaxError):
            compile_query(bad)


def test_accents_are_folded_both_ways() -> None:
    assert compile_query("zurich cafe").matches("Zürich – café", "")
    assert compile_query("Zürich café").matches("zurich cafe", "")
    assert compile_query("strasse").matches("", "Lange Straße 1")
    assert not compile_query("strasse").matches("", "Hauptstraße 1")  # whole words only
    assert compile_query('"élan vital"').matches("", "ELAN VITAL")
    assert fold("Ærøskøbing") == "aeroskobing"


def test_tokenize_splits_on_punctuation_and_keeps_digits() -> None:
    assert tokenize("IOPC's report (2018): 1,400 children!") == [
        "iopc",
        "s",
        "report",
        "2018",
        "1",
        "400",
        "children",
    ]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("(rotherham OR police", "'(' is never closed at position 1"),
        ("rotherham)", "')' without a matching '(' at position 10"),
        ('"child abuse', "unclosed quote at position 1"),
        ("rotherham OR", "ends where a word or phrase is expected at position 13"),
        ("AND rotherham", "AND needs a word on both sides at position 1"),
        ("rotherham AND AND police", "AND needs a word on both sides at position 15"),
        ("()", "empty parentheses at position 2"),
        ("ro*ther", "'*' is only allowed at the end of a word"),
        ("*", "'*' needs at least one letter"),
        ('""', "empty phrase"),
        ("NOT", "ends where a word or phrase is expected"),
    ],
)
def test_syntax_errors_name_the_position(query: str, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    msg = str(info.value)
    assert fragment in msg
    assert "\n" not in msg
    assert isinstance(info.value, ConfigError)  # shown to users as one line, exit code 2


def test_deep_nesting_is_an_error_not_a_recursion_crash() -> None:
    with pytest.raises(QuerySyntaxError):
        compile_query("(" * 500 + "a" + ")" * 500)
    with pytest.raises(QuerySyntaxError):
        compile_query("NOT " * 500 + "a")


def test_explain_lists_matched_terms_and_excluded_ones() -> None:
    q = compile_query('Rotherham ("child abuse" OR groom* OR football) NOT police')
    assert q.explain(TITLE, TEXT) == ["Rotherham", '"child abuse"', "NOT police"]
    assert q.matches(TITLE, TEXT) is False
    assert compile_query("").explain("a", "b") == ["(empty query matches everything)"]


def test_matching_finds_terms_at_the_end_of_long_articles() -> None:
    # speed is for bench/, not a timed assertion here: a loaded CI machine must not fail this
    text = " ".join(["word"] * 20_000) + " rotherham grooming police"
    q = compile_query(DEMO)
    assert q.matches("title", text) is True
    assert q.matches("title", " ".join(["word"] * 20_000)) is False


def test_seeds_match_the_demo_query() -> None:
    from pathlib import Path

    from extractors.articles import article_from_file
    from newswatch.models import Article

    q = compile_query(DEMO)
    seeds = sorted((Path(__file__).parents[2] / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    for p in seeds:
        a = article_from_file(p, watch="demo")
        assert isinstance(a, Article)
        assert q.matches(a.title, a.text), (p.name, q.explain(a.title, a.text))
