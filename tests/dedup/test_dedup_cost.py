"""The shortcuts that keep dedup cheap per copy (issue 9 §3) give the results of the plain computations: cached
fingerprints, the vectorised simhash prefilter, posting lists cut per copy group in SQL,
and batches of new articles inserted without a merge."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime

import numpy as np
from dedup_helpers import T0, article_row, days, load, seed_articles
from test_dedup_stage import OTHER, STORY, _wire_copy, copy_of_story, group

import flows.dedup_stage as stage
from extractors import fingerprint as fpm
from extractors.fingerprint import (
    MIN_UNIT_WORDS,
    body_lines,
    fingerprint,
    hamming,
    is_access_wall,
    segment,
    split_sentences,
    tokens,
)
from flows.dedup_stage import DOC_DISTANCE, GROUP_SAMPLE, _prefilter
from warehouse import dedup as wd
from warehouse.db import connect


def _copies(text: str, n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    paras = [p for p in text.splitlines() if p.strip()]
    out = []
    for i in range(n):
        body = list(paras)
        if len(body) > 4:
            body.pop(rng.randrange(1, len(body)))
        body[0] = f"(Outlet {i}) - {body[0]}"
        out.append("\n".join(body))
    return out


def test_cached_fingerprints_equal_the_reference_cold_warm_and_after_the_digest_cache_is_cleared(monkeypatch):
    texts = [s["text"] for s in seed_articles()]
    texts += _copies(texts[1], 5) + ["\n".join(STORY), "short", ""]
    want = [dataclasses.astuple(fingerprint(str(i), t)) for i, t in enumerate(texts)]  # the simhash package
    fpm._line_units.cache_clear()
    fpm._UNITS.clear()
    fpm._DIGESTS.clear()
    monkeypatch.setattr(fpm, "_MAX_DIGESTS", 50)  # the bounds are hit and the caches cleared many times
    monkeypatch.setattr(fpm, "_MAX_UNITS", 7)
    for _ in range(2):  # cold, then from the caches
        got = [dataclasses.astuple(fingerprint(str(i), t, use_numpy=True)) for i, t in enumerate(texts)]
        assert got == want
    assert len(fpm._DIGESTS) <= 50


def _units_uncached(text: str) -> list[str]:
    """segment() as it was before its per-line cache: body_lines, then the sentences of each, each unit once."""
    units, seen = [], set()
    for line in body_lines(text):
        for sent in split_sentences(line):
            toks = tokens(sent)
            if len(toks) < MIN_UNIT_WORDS or is_access_wall(sent):
                continue
            key = " ".join(toks)
            if key not in seen:
                seen.add(key)
                units.append(sent)
    return units


def test_cached_segmentation_is_the_uncached_one():
    texts = [s["text"] for s in seed_articles()]
    texts += _copies(texts[1], 5) + ["\n".join(STORY), "short", ""]
    texts.append(texts[0] + "\n" + texts[0].splitlines()[0] + "\nRead more\n\n" + texts[2])  # repeated lines
    fpm._line_units.cache_clear()
    for _ in range(2):  # cold, then from the line cache
        assert [segment(t) for t in texts] == [_units_uncached(t) for t in texts]


def test_vectorised_prefilter_is_the_pairwise_hamming_test():
    rng = random.Random(1)
    for _ in range(300):
        mine = [rng.getrandbits(64) for _ in range(rng.randint(0, 12))]
        other = [rng.getrandbits(64) for _ in range(rng.randint(0, 12))]
        if mine and other and rng.random() < 0.5:  # a near copy of one unit: a few bits flipped
            other[0] = mine[-1] ^ sum(1 << b for b in rng.sample(range(64), rng.randint(0, 6)))
        doc_a, doc_b = rng.getrandbits(64), rng.getrandbits(64)
        if rng.random() < 0.2:
            doc_b = doc_a ^ (1 << rng.randrange(64))
        for dist in (0, 3, 5):
            want = hamming(doc_a, doc_b) <= DOC_DISTANCE or any(hamming(x, y) <= dist for x in mine for y in other)
            fp = fingerprint("a", "")
            fp = dataclasses.replace(fp, doc_simhash=doc_a, unit_simhashes=tuple(mine))
            got = _prefilter(fp, np.array(mine, dtype=np.uint64), doc_b, np.array(other, dtype=np.uint64), dist)
            assert got == want


def test_long_posting_lists_cut_in_sql_are_the_full_lists_cut_per_copy_group(tmp_path):
    # more copies of one text than BIG_POSTING, plus a second text sharing some sentences: the cut lists (and
    # the copy groups per key) must be what cutting the full lists per group gives, with excluded articles gone
    con = connect(tmp_path / "w.duckdb")
    n = wd.BIG_POSTING + 8
    rows = [article_row("orig", "\n".join(STORY), source="Wire", published_at=T0)]
    rows += [article_row(f"c{i:03d}", t, source=f"Outlet {i}", published_at=T0 + days(0.01 * (i + 1)))
             for i, t in enumerate(_copies("\n".join(STORY), n))]
    rows.append(article_row("other", "\n".join(STORY[:3] + ["An unrelated closing sentence about the weather today."]),
                            source="Elsewhere", published_at=T0 - days(30)))
    load(con, rows)
    group(con, [r["article_id"] for r in rows])
    keys = {r[0] for r in con.execute("SELECT DISTINCT key32 FROM core.unit_keys").fetchall()}
    label = {a: s for a, s, _ in con.execute("SELECT article_id, syndication_id, story_id FROM core.article_groups").fetchall()}
    # the original excluded, and kept: "orig" sorts after every "c..." id, so it must be put first, not found by id
    for exclude in ({"c005", "orig"}, {"c005"}, set()):
        got = wd.postings(con, "core.unit_keys", "key32", keys, exclude, GROUP_SAMPLE + 1)
        full: dict[int, list[str]] = {}
        for k, a in con.execute("SELECT key32, article_id FROM core.unit_keys").fetchall():
            if a not in exclude:
                full.setdefault(int(k), []).append(a)
        assert max(len(v) for v in full.values()) > wd.BIG_POSTING  # the SQL path ran
        for k, arts in full.items():
            by_label: dict[str, list[str]] = {}
            for a in sorted(arts, key=lambda a: (a != label[a], a)):
                by_label.setdefault(label[a], []).append(a)
            want = sorted(a for kept in by_label.values() for a in kept[: GROUP_SAMPLE + 1])
            if len(arts) > wd.BIG_POSTING:
                assert sorted(got.articles[k]) == want
                assert got.labels[k] == set(by_label)
                if "orig" not in exclude and "orig" in arts:
                    assert "orig" in got.articles[k]
            else:
                assert sorted(got.articles[k]) == sorted(arts)  # short lists come whole (cut by the stage)


_DEDUP_TABLES = (
    "core.article_groups", "core.syndication_edges", "core.story_assignments", "core.stories", "core.story_terms",
    "core.fingerprints", "core.article_units", "core.unit_keys", "core.headline_units", "core.simhash_bands",
    "core.dedup_state",
    "core.story_stats", "core.syndication_members",
)


def _runs(path, monkeypatch, merge_always: bool) -> tuple[dict, list[bool]]:
    """The same batches into a new warehouse: new articles, copies, a late original, a revision, a rerun, a
    round-up merging two groups; with merge_always, every write replaces (the form before the fresh shortcut)."""
    monkeypatch.setattr(stage, "utcnow", lambda: datetime(2024, 6, 1, tzinfo=UTC))  # the same stamps in both
    replaced: list[bool] = []
    for name in ("store_edges", "assign_many", "save_story_assignments"):
        real = getattr(wd, name)

        def write(con, rows, *, replace=True, _real=real):
            replaced.append(replace)
            return _real(con, rows, replace=True if merge_always else replace)

        monkeypatch.setattr(wd, name, write)
    con = connect(path)
    batches = [
        [article_row("copy", copy_of_story("A court has fined the water company after years of spills."),
                     source="Echo", published_at=T0 + days(1))],
        [article_row("water", "\n".join(STORY), source="Wire", published_at=T0)],
        [article_row("library", "\n".join(OTHER), source="Wire", published_at=T0 + days(0.1)),
         *[article_row(f"lib{i}", _wire_copy(i, OTHER), source=f"Outlet {i}", published_at=T0 + days(0.2 + i / 100))
           for i in range(4)]],
        [article_row("copy", copy_of_story("The water company was fined after years of spills."), source="Echo",
                     published_at=T0 + days(3))],
        [article_row("roundup", "\n".join([*STORY[:6], *OTHER[:5]]), source="Gazette", published_at=T0 + days(0.5)),
         article_row("fresh", "\n".join(reversed(OTHER)), source="Other", published_at=T0 + days(0.6))],
    ]
    for rows in batches:
        load(con, rows)
        group(con, [r["article_id"] for r in rows])
    group(con, ["water", "copy", "library", "roundup"])  # a rerun: nothing recomputed
    tables = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in _DEDUP_TABLES}
    con.close()
    return tables, replaced


def test_batches_of_new_articles_insert_what_merging_would_store(tmp_path, monkeypatch):
    # store_edges, assign_many and save_story_assignments insert without a merge when no article of the batch has
    # derived rows yet: every table ends the same as when every write merges
    got, replaced = _runs(tmp_path / "a.duckdb", monkeypatch, merge_always=False)
    monkeypatch.undo()
    want, _ = _runs(tmp_path / "b.duckdb", monkeypatch, merge_always=True)
    assert got == want
    assert False in replaced and True in replaced  # both the insert and the merge ran
    assert len(got["core.syndication_edges"]) >= 6 and len(got["core.article_groups"]) == 9
