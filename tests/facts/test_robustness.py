"""Hostile or odd text: the facts stage never raises, and its work grows linearly with the input."""

from __future__ import annotations

import random
import re
import sys

import pytest

from extractors.clean import clean_text
from extractors.facts import extract_facts_batch, extract_facts_from_spans

PIECES = ['the', 'Mr', 'Smith', 'said', '"', "'", "’", "“", "”", '2014', '£3m', 'and', '.', ',', 'between', '1997',
          '1,400', 'IOPC', '(IOPC)', 'Office', 'for', '\n', '\n\n', 'Hide Ad', 'READ MORE:', '|GETTY', 'at least',
          'Fourteen', '%', '2004-11', 'Dr', 'Heal', '\x00', '\ud800', 'é', '—', '-', ':']


@pytest.mark.timeout(60)
def test_random_text_never_raises() -> None:
    rng = random.Random(20261122)
    for _ in range(300):
        text = " ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 300)))
        cleaned = clean_text(text)
        fx = extract_facts_from_spans("a", cleaned, [], [(0, len(cleaned))])
        for m in fx.entities:
            assert cleaned[m.start : m.end] == m.surface
        for q in fx.quotes:
            assert len(re.findall(r"\w+", q.quote)) >= 3


def _steps(text: str) -> int:
    """Work done by the facts stage on text, counted, not timed: Python lines executed plus calls into C (each
    regex call is one; every regex runs on a window of bounded length, see _MAX_SENTENCE in quotes.py)."""
    count = 0

    def tracer(frame: object, event: str, arg: object) -> object:
        nonlocal count
        count += 1
        return tracer

    def profiler(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    old_trace, old_profile = sys.gettrace(), sys.getprofile()
    sys.settrace(tracer)  # type: ignore[arg-type]
    sys.setprofile(profiler)  # type: ignore[arg-type]
    try:
        extract_facts_from_spans("a", text, [], [(0, len(text))])
    finally:
        sys.settrace(old_trace)
        sys.setprofile(old_profile)
    return count


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "piece",
    [
        "it's the officers' view that 'he'd say' ",  # apostrophes everywhere, no sentence end
        '"a b c ',  # thousands of unclosed quotes
        '"a b c," he said. ',  # thousands of attributed quotes in one paragraph
        "{i} people 1999-2011 £{i}m ",  # one sentence, thousands of facts
    ],
)
def test_pathological_paragraphs_take_linear_work(piece: str) -> None:
    # Doubling the input must about double the work: quadratic code (a character loop per quote back to the
    # paragraph start, which took 30-140 s on 5,000 repeats) quadruples it. Counted steps do not depend on
    # the machine's load, so this fails only when the code's growth is wrong. Wall times: bench/facts_bench.py.
    def text(n: int) -> str:
        return "".join(piece.replace("{i}", str(i)) for i in range(n))

    small, large = _steps(text(400)), _steps(text(800))
    assert large <= 2.6 * small, f"work grew {large / small:.2f}x for 2x input"

def test_overlong_text_is_cut_not_refused() -> None:
    text = "The IOPC said 14 officers were found. " * 30_000  # 1.1 million characters: spaCy would refuse it
    [fx] = extract_facts_batch([("a", text)], max_chars=2_000)
    assert fx.figures and all(m.end <= 2_000 for m in fx.entities)


def test_empty_batch_and_empty_text() -> None:
    assert extract_facts_batch([]) == []
    [fx] = extract_facts_batch([("a", "")])
    assert (fx.entities, fx.figures, fx.periods, fx.quotes) == ((), (), (), ())
