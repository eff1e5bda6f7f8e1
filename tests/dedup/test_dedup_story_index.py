"""Two shortcuts of a batch's dedup with many stored articles (issue 9 §3, "at most 5 ms per article with 100k
stored"): stories scored through an inverted index of their centroids, and the rows of stored candidates read
only when they pass the simhash prefilter. Both must decide exactly what the plain computations decide."""

from __future__ import annotations

import math
import random

from dedup_helpers import T0, article_row, days, load, seed_articles
from test_dedup_stage import group

import flows.dedup_stage as stage
from extractors.dedup import StoryIndex, choose_story, story_score
from extractors.fingerprint import fingerprint
from warehouse import dedup as wd
from warehouse.db import connect, insert_rows

# story_score sums a list of floats; on CPython 3.12+ sum() compensates rounding, the index adds one by one
REL = 1e-12


def _profile(rng: random.Random, vocab: list[str], n: int) -> dict[str, float]:
    terms = rng.sample(vocab, n)
    return {t: rng.random() for t in terms}


def test_index_scores_are_story_score_after_puts_and_re_puts():
    rng = random.Random(7)
    vocab = [f"w:t{i}" for i in range(400)]
    index = StoryIndex()
    centroids: dict[str, dict[str, float]] = {}
    for i in range(60):
        centroids[f"s{i:03d}"] = _profile(rng, vocab, rng.randint(1, 120))
        index.put(f"s{i:03d}", centroids[f"s{i:03d}"])
    for i in range(0, 60, 3):  # a story's centroid changes when it gains a member: its old terms must go
        centroids[f"s{i:03d}"] = _profile(rng, vocab, rng.randint(1, 120))
        index.put(f"s{i:03d}", centroids[f"s{i:03d}"])
    for _ in range(40):
        unit = _profile(rng, vocab + [f"w:new{i}" for i in range(50)], rng.randint(1, 200))
        got = index.scores(unit)
        for sid, centroid in centroids.items():
            want = story_score(unit, centroid)
            if unit.keys() & centroid.keys():
                assert math.isclose(got[sid], want, rel_tol=REL, abs_tol=0.0), sid
            else:
                assert sid not in got and want == 0.0
        assert set(got) <= set(centroids)


class _Story:
    def __init__(self, story_id, profile):
        self.story_id, self.profile = story_id, profile
        self.first_at = self.last_at = T0


def test_choose_story_with_index_scores_picks_what_scoring_one_by_one_picks():
    rng = random.Random(11)
    vocab = [f"w:t{i}" for i in range(60)]  # a small vocabulary: many stories reach the threshold, ties included
    for _ in range(200):
        stories = [_Story(f"s{i:02d}", _profile(rng, vocab, rng.randint(1, 30))) for i in range(rng.randint(0, 25))]
        for s in stories:
            norm = math.sqrt(sum(w * w for w in s.profile.values()))
            s.profile = {t: w / norm for t, w in s.profile.items()}
        if stories and rng.random() < 0.3:  # two stories with one centroid: the earlier id wins
            stories.append(_Story("s99", dict(stories[0].profile)))
        unit = _profile(rng, vocab, rng.randint(1, 30))
        norm = math.sqrt(sum(w * w for w in unit.values()))
        unit = {t: w / norm for t, w in unit.items()}
        index = StoryIndex()
        for s in stories:
            index.put(s.story_id, s.profile)
        plain = choose_story(unit, stories, T0, 3.0)
        fast = choose_story(unit, stories, T0, 3.0, scores=index.scores(unit))
        assert fast == plain


def _related_articles() -> list[dict]:
    """Articles on the seeds' two events that are not copies of each other: each seed's paragraphs dealt out
    to three articles (same story words, no shared sentence), a day apart, plus two edited copies of seed 001."""
    rows = []
    for s in seed_articles():
        paras = [p for p in s["text"].splitlines() if p.strip()]
        for k in range(3):
            part = paras[k::3]
            if len(part) < 2:
                continue
            rows.append(
                article_row(f"{s['key']}-{k}", "\n".join(part), title=s["title"], source=f"Outlet {k}",
                            published_at=s["published_at"] + days(k / 3))
            )
        if s["key"] == "001":
            for i in range(2):
                body = [f"(Wire {i}) - {paras[0]}", *paras[1:]]
                rows.append(article_row(f"{s['key']}-copy{i}", "\n".join(body), title=s["title"],
                                        source=f"Wire {i}", published_at=s["published_at"] + days(1 + i)))
    return rows


def _decisions(path, monkeypatch, plain: bool) -> tuple[list, list, list]:
    if plain:  # the reference: every compared story scored one by one with story_score
        monkeypatch.setattr(stage, "choose_story",
                            lambda unit, stories, when, window, copy_stories=(), scores=None:
                            choose_story(unit, stories, when, window, copy_stories))
    con = connect(path)
    rows = _related_articles()
    load(con, rows)
    ids = [r["article_id"] for r in rows]
    for i in range(0, len(ids), 4):  # several batches: stored stories and the batch's own, both scored
        group(con, ids[i : i + 4])
    out = (
        con.execute("SELECT article_id, story_id, reason, similarity FROM core.story_assignments ORDER BY 1")
        .fetchall(),
        con.execute("SELECT story_id, members, profile FROM core.stories ORDER BY 1").fetchall(),
        con.execute("SELECT article_id, syndication_id, story_id FROM core.article_groups ORDER BY 1").fetchall(),
    )
    con.close()
    monkeypatch.undo()
    return out


def test_story_decisions_through_the_index_are_the_plain_ones(tmp_path, monkeypatch):
    fast = _decisions(tmp_path / "fast.duckdb", monkeypatch, plain=False)
    plain = _decisions(tmp_path / "plain.duckdb", monkeypatch, plain=True)
    assert fast == plain
    reasons = {r[2] for r in fast[0]}
    assert {"new", "similar", "syndicated"} <= reasons  # the comparison covers every kind of decision
    assert len({r[1] for r in fast[0]}) >= 2  # the seeds' two events stay apart


def test_a_stored_candidate_rejected_on_its_simhashes_is_never_read(tmp_path, monkeypatch):
    """With 100k stored articles a new text shares a document band with about six by chance; their rows
    (texts) are not read. A stored copy that passes the prefilter is read and grouped as before."""
    con = connect(tmp_path / "w.duckdb")
    seeds = seed_articles()
    new = article_row("new", seeds[0]["text"], title=seeds[0]["title"], published_at=T0 + days(1))
    original = article_row("orig", seeds[1]["text"], title=seeds[1]["title"], source="The Star",
                           published_at=T0)
    load(con, [original])
    group(con, ["orig"])
    # stored articles sharing each of the new text's four document bands, with unrelated units and documents
    doc = fingerprint("new", new["text"]).doc_simhash
    rng = random.Random(3)
    strangers = [f"stranger{i:02d}" for i in range(12)]
    load(con, [article_row(a, f"Unrelated text number {i} about something else entirely.", published_at=T0)
               for i, a in enumerate(strangers)])
    far = doc ^ 0xFFFF_FFFF_0000_FFFF  # 48 bits flipped, so more than DOC_DISTANCE
    for i, a in enumerate(strangers):  # UBIGINT values above 2**63: through SQL, not Arrow's int64
        con.execute("INSERT INTO core.fingerprints VALUES (?, ?::UBIGINT, 'test', ?)",
                    [a, str(far if i % 2 else doc ^ 0xFFFF_0000_0000_FFFF), T0])
        con.execute("INSERT INTO core.article_units (article_id, simhashes) VALUES (?, ?::UBIGINT[])",
                    [a, [str(rng.getrandbits(64)) for _ in range(5)]])
    insert_rows(con, "core.simhash_bands", [
        {"band_key": key, "article_id": a} for i, a in enumerate(strangers)
        for key in wd.band_keys(doc)[i % 4 : i % 4 + 1]])
    insert_rows(con, "core.article_groups", [
        {"article_id": a, "syndication_id": a, "story_id": a, "assigned_at": T0} for a in strangers])
    read: list[str] = []
    real = wd.load_articles
    monkeypatch.setattr(wd, "load_articles", lambda c, ids: read.extend(ids) or real(c, ids))
    copy = article_row("copy", "(Wire) - " + seeds[1]["text"], title=seeds[1]["title"], source="Wire",
                       published_at=T0 + days(1))
    load(con, [new, copy])
    group(con, ["new", "copy"])
    assert not set(read) & set(strangers)
    assert "orig" in read  # the stored original passes the prefilter with its copy: read and verified
    g = dict(con.execute("SELECT article_id, syndication_id FROM core.article_groups").fetchall())
    assert g["copy"] == "orig" and g["new"] == "new"


def test_a_row_not_read_in_the_batch_reads_is_read_when_needed(tmp_path, monkeypatch):
    """A stored article whose row _read left unread (it failed the prefilter for the articles that found it,
    or a merge inside the batch made it a group's original) is read when a verification or the choice of an
    original needs it; an id with no row gives None, and the row is read once."""
    con = connect(tmp_path / "w.duckdb")
    s = seed_articles()[0]
    load(con, [article_row("stored", s["text"], title=s["title"], published_at=T0)])
    group(con, ["stored"])
    batch = stage._Batch(con)
    fp = fingerprint("stored", s["text"])
    batch.known["stored"] = stage._Known(None, list(fp.unit_simhashes), frozenset(), fp.doc_simhash)
    batch.known["gone"] = stage._Known(None, [], frozenset(), 0)
    reads: list[list[str]] = []
    real = wd.load_articles
    monkeypatch.setattr(wd, "load_articles", lambda c, ids: reads.append(list(ids)) or real(c, ids))
    row = batch.art_of("stored")
    assert row is not None and row.article_id == "stored" and row.text == article_row("stored", s["text"])["text"]
    assert batch.art_of("stored") is row
    assert batch.art_of("gone") is None and batch.art_of("gone") is None  # a missing row is asked for once
    assert reads == [["stored"], ["gone"]]
    assert batch.known["stored"].all_units()  # its text segments once the row is there
