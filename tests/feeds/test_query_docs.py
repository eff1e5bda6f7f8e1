"""docs/query.md is executable: every example row and every error message shown there is checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from extractors.query import QuerySyntaxError, compile_query

DOC = (Path(__file__).parents[2] / "docs" / "query.md").read_text(encoding="utf-8")
TITLE = "Senior South Yorkshire police officers to be investigated over Rotherham child abuse failings"
TEXT = ("The Independent Office for Police Conduct (IOPC) said the investigation would examine claims that "
        "officers failed to protect children from sexual exploitation in Rotherham between 1997 and 2013. "
        "Prof Alexis Jay's report found at least 1,400 children were abused by grooming gangs.")


def example_rows() -> list[tuple[str, bool]]:
    block = DOC.split("<!-- examples: query | matches -->")[1].split("<!-- /examples -->")[0]
    rows = []
    for line in block.splitlines():
        m = re.match(r"\|\s*`(.+)`\s*\|\s*(yes|no)\s*\|$", line.strip())
        if m:
            rows.append((m.group(1).replace("\\|", "|"), m.group(2) == "yes"))
    return rows


def test_the_sample_article_in_the_doc_is_the_one_tested() -> None:
    flat = " ".join(DOC.split())
    assert TITLE in flat
    assert " ".join(TEXT.split()[:12]) in flat.replace("> ", "")


def test_there_are_examples() -> None:
    assert len(example_rows()) >= 15


@pytest.mark.parametrize(("query", "expected"), example_rows())
def test_documented_example(query: str, expected: bool) -> None:
    assert compile_query(query).matches(TITLE, TEXT) is expected


def error_lines() -> list[str]:
    block = DOC.split("## Errors")[1].split("```")[1]
    return [ln for ln in block.splitlines() if ln.startswith("watch query:")]


@pytest.mark.parametrize("line", error_lines())
def test_documented_error_message(line: str) -> None:
    query = ast.literal_eval(line.rsplit(": ", 1)[1])
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    assert str(info.value) == line
