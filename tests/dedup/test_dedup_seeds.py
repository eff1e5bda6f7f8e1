"""The dedup stage on the five seeds, in a real DuckDB file: copies, stories, views, idempotence."""

from __future__ import annotations

from dedup_helpers import ROOT, load, seed_articles, seed_rows

from flows.dedup_stage import group_articles as _group
from newswatch.config import DedupSettings
from warehouse.db import connect, transaction


def group_articles(con, ids, settings):
    with transaction(con):  # the pipeline calls the stage inside its batch transaction
        return _group(con, ids, settings)


def _load_seeds(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    seeds = seed_articles()
    load(con, seed_rows())
    return con, seeds


def _groups(con, seeds):
    key = {s["article_id"]: s["key"] for s in seeds}
    rows = con.execute("SELECT article_id, syndication_id, story_id FROM core.article_groups").fetchall()
    return {key[a]: (key[s], key[t]) for a, s, t in rows}


def test_seed_ground_truth(tmp_path):
    con, seeds = _load_seeds(tmp_path)
    counts = group_articles(con, [s["article_id"] for s in seeds], DedupSettings())
    g = _groups(con, seeds)
    # 001 (The Star, 21:40 on 9 July) is the original; 002 (Advertiser, next day) is an edited copy.
    assert g["001"][0] == g["002"][0] == "001"
    assert g["000"][0] == "000" and g["003"][0] == "003" and g["004"][0] == "004"
    assert g["000"][1] == g["001"][1] == g["002"][1]
    assert g["003"][1] == g["004"][1]
    assert g["000"][1] != g["003"][1]
    assert counts == {
        "fingerprinted": 5,
        "copies_grouped": 1,
        "syndication_groups": 1,
        "stories": 2,
        "recomputed": 5,
    }
    # every article has a fingerprint row
    assert con.execute("SELECT count(*) FROM core.fingerprints").fetchone()[0] == 5


def test_rerun_changes_nothing(tmp_path):
    con, seeds = _load_seeds(tmp_path)
    ids = [s["article_id"] for s in seeds]
    group_articles(con, ids, DedupSettings())
    tables = [
        "core.fingerprints",
        "core.article_groups",
        "core.syndication_edges",
        "core.stories",
        "core.simhash_bands",
        "core.article_units",
        "core.unit_keys",
        "core.headline_units",
        "core.story_terms",
        "core.story_assignments",
    ]
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    counts = group_articles(con, ids, DedupSettings())
    after = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    assert before == after
    assert counts["recomputed"] == 0 and counts["copies_grouped"] == 1


def test_views_report_what_changed(tmp_path):
    con, seeds = _load_seeds(tmp_path)
    group_articles(con, [s["article_id"] for s in seeds], DedupSettings())
    key = {s["article_id"]: s["key"] for s in seeds}
    (aid, copy_of, ratio, dist, headline, added, removed) = con.execute(
        "SELECT article_id, copy_of, shared_ratio, distance, headline_changed, figures_added, figures_removed "
        "FROM syndication_edges"
    ).fetchone()
    assert (key[aid], key[copy_of]) == ("002", "001")
    assert 0.3 <= ratio < 1.0
    assert dist > 3  # whole-document simhash alone would miss this copy
    assert headline is True
    assert "33" in added and "1999" in removed
    rows = con.execute(
        "SELECT article_id, role, copy_rank FROM syndication WHERE group_size > 1 ORDER BY copy_rank"
    ).fetchall()
    assert [(key[a], r, n) for a, r, n in rows] == [("001", "original", 1), ("002", "copy", 2)]
    stories = con.execute(
        "SELECT article_count, outlet_count, text_count, copy_count FROM stories ORDER BY first_seen"
    ).fetchall()
    assert stories == [(3, 3, 2, 1), (2, 2, 2, 0)]


def test_example_queries_run_and_answer(tmp_path):
    con, seeds = _load_seeds(tmp_path)
    group_articles(con, [s["article_id"] for s in seeds], DedupSettings())
    examples = sorted((ROOT / "warehouse" / "examples").glob("dedup_*.sql"))
    assert len(examples) >= 3
    for f in examples:
        lines = f.read_text("utf-8").splitlines()
        assert lines[0].startswith("-- ") and len(lines[0]) > 10
        rows = con.execute("\n".join(lines[1:])).fetchall()
        assert rows, f.name  # each example has something to show on the seeds
