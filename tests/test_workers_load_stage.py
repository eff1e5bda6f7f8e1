"""The main process's load stage (what the worker runner cannot hand to its pool) takes shortcuts that must give
exactly the results of the straightforward forms: alignment counts shared bigrams by set intersection, and a
batch's document-frequency terms come from profile_terms instead of full story profiles."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from extractors.dedup import _bigrams, align, profile_terms, story_profile
from extractors.fingerprint import segment
from tests.nwtest import SEEDS


def _texts() -> list[tuple[str, str]]:
    """(title, text) of the seed articles (first line the title)."""
    out = []
    for p in sorted(SEEDS.glob("*.txt")):
        lines = p.read_text(encoding="utf-8").strip().splitlines()
        out.append((lines[0], "\n".join(lines[1:])))
    return out


def _edited(units: list[str], rng: random.Random) -> list[str]:
    """A syndicated copy: a credit in the lede, a paragraph dropped, one reworded, the order shuffled a little."""
    out = [f"(Agency) {units[0]}", *units[1:]]
    if len(out) > 3:
        del out[rng.randrange(1, len(out))]
        i = rng.randrange(len(out))
        words = out[i].split()
        out[i] = " ".join(words[: len(words) // 2] + ["reportedly"] + words[len(words) // 2 :])
        j = rng.randrange(len(out) - 1)
        out[j], out[j + 1] = out[j + 1], out[j]
    return out


def _align_by_counting(units_a: list[str], units_b: list[str], min_overlap: float = 0.5) -> list:
    """align's scoring as it was written first: the shared bigrams counted pair by pair."""
    ba = [_bigrams(u) for u in units_a]
    bb = [_bigrams(u) for u in units_b]
    index: dict[str, list[int]] = {}
    for j, s in enumerate(bb):
        for g in s:
            index.setdefault(g, []).append(j)
    scored = []
    for i, s in enumerate(ba):
        hits: Counter[int] = Counter()
        for g in s:
            for j in index.get(g, ()):
                hits[j] += 1
        for j, n in hits.items():
            ov = n / min(len(s), len(bb[j]))
            if ov >= min_overlap:
                scored.append((ov, i, j))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a, used_b, pairs = set(), set(), []
    for ov, i, j in scored:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, round(ov, 4)))
    return sorted(pairs)


@pytest.mark.parametrize("seed", range(5))
def test_alignment_pairs_are_those_of_counting_bigram_by_bigram(seed: int) -> None:
    rng = random.Random(seed)
    texts = [segment(t) for _, t in _texts()]
    assert all(len(u) >= 3 for u in texts)
    for a in texts:
        for b in (_edited(a, rng), *texts):  # a copy, itself, and the other (unrelated or related) seeds
            al = align(a, b, 0.5)
            assert list(al.pairs) == _align_by_counting(a, b, 0.5)
    # the copies do align: the comparison saw pairs, not only empty alignments
    assert sum(align(t, _edited(t, rng)).shared for t in texts) > 5 * len(texts)


def test_profile_terms_are_the_terms_of_the_story_profile() -> None:
    entities = ["South Yorkshire Police", "IOPC", "the", "Rotherham"]
    for title, text in _texts():
        units = segment(text)
        for ents in ((), entities):
            assert profile_terms(title, units, ents) == set(story_profile(title, list(units), ents))
    assert profile_terms("A 2024 poll", ["Und so 42 mal x"], ["The"]) == set(
        story_profile("A 2024 poll", ["Und so 42 mal x"], ["The"])) == {"w:poll", "w:mal"}
