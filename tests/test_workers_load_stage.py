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


def test_alignment_is_the_same_after_the_bigram_numbers_are_cleared(monkeypatch) -> None:
    """align numbers bigrams in a bounded table; when it fills it starts again, and no unit keeps a number of the
    old table (a stale number would pair bigrams that differ)."""
    from extractors import dedup

    rng = random.Random(7)
    texts = [segment(t) for _, t in _texts()]
    expected = [list(align(a, b, 0.5).pairs) for a in texts for b in (_edited(a, rng), *texts)]
    monkeypatch.setattr(dedup, "_MAX_BIGRAM_IDS", 50)  # cleared again and again within one text's units
    before = dedup._GENERATION[0]
    for _ in range(2):  # the second time every unit is numbered again in a new table
        rng = random.Random(7)
        assert [list(align(a, b, 0.5).pairs) for a in texts for b in (_edited(a, rng), *texts)] == expected
    assert dedup._GENERATION[0] > before


def test_alignment_of_units_without_bigrams() -> None:
    """A unit of one word has no bigram (its word is its only feature): empty, one-word and repeated units align as
    the counting form does."""
    cases = [([], ["a b c"]), (["word"], ["word", "word again here"]), (["x y", "x y"], ["x y z", "y z"]),
             (["", "a"], ["a", ""])]
    for a, b in cases:
        assert list(align(a, b, 0.5).pairs) == _align_by_counting(a, b, 0.5)
        assert list(align(b, a, 0.5).pairs) == _align_by_counting(b, a, 0.5)


def _trim_by_sorting(profile: dict[str, float], terms: int) -> dict[str, float]:
    top = sorted(profile.items(), key=lambda kv: (-kv[1], kv[0]))[:terms]
    return {t: round(w, 5) for t, w in sorted(top)}


def _add_member_by_merging(centroid: dict[str, float], members: int, unit: dict[str, float]) -> dict[str, float]:
    from extractors.dedup import merge_profiles

    merged = merge_profiles([{k: v * members for k, v in centroid.items()}, unit])
    return _trim_by_sorting({k: v * 2 / (members + 1) for k, v in merged.items()}, 300)


@pytest.mark.parametrize("seed", range(5))
def test_trimmed_profiles_and_centroids_are_those_of_sorting_and_merging(seed: int) -> None:
    """trim_profile keeps the heaviest terms without a keyed sort, add_member merges in one pass: both equal the
    straightforward forms float for float and in order, ties at the cut included."""
    from extractors.dedup import add_member, trim_profile, unit_profile

    rng = random.Random(seed)
    vocab = [f"w:t{i}" for i in range(900)]
    for n in (0, 5, 299, 300, 301, 450, 800):
        # weights with many ties (a few distinct values), as raw term counts have
        prof = {t: float(rng.choice([1, 2, 2, 3, 4, 7])) for t in rng.sample(vocab, n)}
        for terms in (0, 1, 10, 300):
            assert list(trim_profile(prof, terms).items()) == list(_trim_by_sorting(prof, terms).items())
    profs = [story_profile(title, segment(text)) for title, text in _texts()]
    centroid: dict[str, float] = {}
    for members, p in enumerate(profs * 3):
        unit = unit_profile(p, {t: 1.0 + rng.random() for t in p})
        got, want = add_member(centroid, members, unit), _add_member_by_merging(centroid, members, unit)
        assert list(got.items()) == list(want.items())
        centroid = got
    assert len(centroid) == 300


def _profile_by_adding(title: str, units: list[str], entities: list[str]) -> dict[str, float]:
    from extractors.dedup import LEAD_TOKENS, LEAD_WEIGHT, _entity_keys, _is_term
    from extractors.fingerprint import tokens

    prof: Counter[str] = Counter()
    toks = tokens(title) + tokens("\n".join(units))
    lead = len(tokens(title)) + LEAD_TOKENS
    for i, w in enumerate(toks):
        if _is_term(w):
            prof[f"w:{w}"] += LEAD_WEIGHT if i < lead else 1.0
    for key in _entity_keys(entities):
        prof[key] += 1.0
    return dict(prof)


def test_story_profile_is_the_one_of_adding_weight_by_weight() -> None:
    """story_profile counts the terms and weights the counts: the same floats, and the same term order (the order
    sums over the profile run in), as adding each token's weight."""
    entities = ["South Yorkshire Police", "IOPC", "the", "Rotherham", "IOPC"]
    for title, text in [*_texts(), ("", ""), ("Police police POLICE", "police 12 a the police")]:
        units = segment(text) or [text]
        for ents in ([], entities):
            got, want = story_profile(title, units, ents), _profile_by_adding(title, units, ents)
            assert list(got.items()) == list(want.items())
            assert all(type(w) is float for w in got.values())


def test_story_score_is_the_generator_sum_of_the_shared_terms() -> None:
    """story_score sums a list with one lookup per term: the same float as the generator over `t in centroid`
    (same products, same order), with terms missing from either side and zero weights."""
    from extractors.dedup import story_score, unit_profile

    rng = random.Random(3)
    profs = [story_profile(title, segment(text)) for title, text in _texts()]
    for p in profs:
        unit = unit_profile(p, {t: 1.0 + rng.random() for t in p})
        for other in profs:
            centroid = {t: rng.random() * w for t, w in other.items() if rng.random() < 0.8}
            centroid.update({f"w:extra{i}": rng.random() for i in range(5)})
            if centroid:
                centroid[next(iter(centroid))] = 0.0
            want = sum((w * centroid[t] for t, w in unit.items() if t in centroid), 0.0)
            assert story_score(unit, centroid) == want
    assert story_score({}, {"w:a": 1.0}) == 0.0 and story_score({"w:a": 1.0}, {}) == 0.0
