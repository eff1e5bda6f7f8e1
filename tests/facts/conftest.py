"""Fixtures for the facts tests: the seeds' cleaned texts and their facts, extracted once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.clean import clean_text
from extractors.facts import extract_facts_batch

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_texts() -> dict[str, str]:
    """Cleaned body of each seed by its three-digit prefix (title line dropped, except seed 002 that has none)."""
    out = {}
    for p in sorted(SEEDS.glob("[0-9][0-9][0-9]_*.txt")):
        raw = p.read_text(encoding="utf-8")
        prefix = p.name[:3]
        out[prefix] = clean_text(raw if prefix == "002" else raw.split("\n", 1)[1])
    return out


@pytest.fixture(scope="session")
def seed_facts() -> dict:
    texts = seed_texts()
    facts = extract_facts_batch(list(texts.items()))
    out: dict = {f.article_id: f for f in facts}
    out["_texts"] = texts
    return out
