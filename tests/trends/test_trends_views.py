"""The trend views on warehouses built row by row: copies counted once, spikes by robust z-score, outlets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.support.backends import warehouse_contract
from tests.trends.trendsdata import Warehouse, days
from warehouse.db import connect, insert_rows, refresh_trends

pytestmark = warehouse_contract()  # the SQL contract: runs on the DuckDB file and both DuckLake catalogs

START = date(2026, 1, 1)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_attention_counts_a_story_once_and_on_each_day_it_gets_coverage(tmp_path: Path) -> None:
    w = Warehouse()
    first = w.add(START, source="A")
    w.add(START, source="B", story=first, copy_of=first)          # a copy, same day
    w.add(START, source="C", story=first, copy_of=first)          # another copy
    w.add(START, source="D", story=first)                         # own text, same story
    w.add(date(2026, 1, 2), source="E", story=first)              # follow-up next day
    w.add(date(2026, 1, 2), source="A")                           # a new story
    db = w.write(tmp_path / "t.duckdb")
    rows = query(db, "select day, stories, texts, articles, outlets, new_stories from attention "
                     "where period = 'day' order by day")
    assert rows == [(date(2026, 1, 1), 1, 2, 4, 4, 1), (date(2026, 1, 2), 2, 2, 2, 2, 1)]
    week = query(db, "select day, stories, texts, articles, new_stories from attention where period = 'week'")
    assert week == [(date(2025, 12, 29), 2, 4, 6, 2)]   # the ISO week starts on Monday 29 Dec


def quiet_then_burst(burst: int, history: int = 30, entity_in_burst: bool = True) -> Warehouse:
    """One story a day for `history` days, then `burst` stories in one day (all naming an entity)."""
    w = Warehouse()
    for d in days(START, history):
        w.add(d, entities=("Steady Org",))
    burst_day = days(START, history + 1)[-1]
    for i in range(burst):
        w.add(burst_day, source=f"O{i}", entities=("Burst Org", "Steady Org") if entity_in_burst else ())
    return w


def test_a_burst_against_a_quiet_baseline_is_a_spike_with_its_score(tmp_path: Path) -> None:
    db = quiet_then_burst(6).write(tmp_path / "t.duckdb")
    rows = query(db, "select entity, day, stories, baseline, score, history_days from spikes "
                     "order by entity nulls first")
    burst_day = date(2026, 1, 31)
    # watch: baseline median 1, MAD 0 -> scale floored at 1, score (6 - 1) / 1 = 5
    assert rows[0] == (None, burst_day, 6, 1.0, 5.0, 28)
    # Burst Org: never before -> baseline 0, score 6; Steady Org: 6 stories against 1 a day -> 5
    assert rows[1:] == [("Burst Org", burst_day, 6, 0.0, 6.0, 28), ("Steady Org", burst_day, 6, 1.0, 5.0, 28)]


def test_below_threshold_minimum_volume_or_history_is_not_a_spike(tmp_path: Path) -> None:
    # 4 stories against a median of 1 (3 in the burst, none from the steady story that day): score 3 < 3.5
    assert query(quiet_then_burst(4).write(tmp_path / "a0.duckdb"), "select * from spikes where entity is null") == []
    # 3 stories: score 2
    assert query(quiet_then_burst(3).write(tmp_path / "a.duckdb"), "select * from spikes where entity is null") == []
    # 2 stories after silence: score 2/1 but under the minimum volume of 3
    w = Warehouse()
    w.add(START)
    for _ in range(2):
        w.add(date(2026, 1, 20))
    assert query(w.write(tmp_path / "b.duckdb"), "select * from spikes") == []
    # a burst on the fifth day of a watch: fewer than 7 days of history
    w = Warehouse()
    w.add(START)
    for _ in range(9):
        w.add(date(2026, 1, 5))
    assert query(w.write(tmp_path / "c.duckdb"), "select * from spikes") == []


def test_a_noisy_series_needs_a_bigger_burst(tmp_path: Path) -> None:
    # alternating 5 and 1 stories a day: median 3, MAD 2 -> scale 2.97; 10 stories score 2.36: no spike
    w = Warehouse()
    for i, d in enumerate(days(START, 28)):
        for _ in range(1 if i % 2 else 5):
            w.add(d)
    for _ in range(10):
        w.add(date(2026, 1, 29))
    assert query(w.write(tmp_path / "t.duckdb"), "select * from spikes") == []
    for _ in range(10):
        w.add(date(2026, 1, 29))   # 20 stories that day: (20 - 3) / 2.9652 = 5.73
    rows = query(w.write(tmp_path / "t2.duckdb"), "select day, stories, baseline, mad, round(score, 2) from spikes")
    assert rows == [(date(2026, 1, 29), 20, 3.0, 2.0, 5.73)]


def test_outlet_coverage_first_outlet_lag_and_who_copies_whom(tmp_path: Path) -> None:
    w = Warehouse()
    orig = w.add(START, source="Wire", hour=8)
    w.add(START, source="Paper", story=orig, copy_of=orig, hour=10)
    w.add(START, source="Blog", story=orig, hour=11)
    orig2 = w.add(date(2026, 1, 2), source="Wire", hour=9)
    w.add(date(2026, 1, 3), source="Paper", story=orig2, copy_of=orig2, hour=9)
    db = w.write(tmp_path / "t.duckdb")
    cov = query(db, "select source, rank, is_first, lag, first_source, outlets, copies from outlet_coverage "
                    "where story_id = ? order by rank", [orig])
    assert [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in cov] == [
        ("Wire", 1, True, "Wire", 3, 0), ("Paper", 2, False, "Wire", 3, 1), ("Blog", 3, False, "Wire", 3, 0)]
    assert [r[3].total_seconds() / 3600 for r in cov] == [0, 2, 3]
    copies = query(db, "select copy_source, original_source, copies, texts, median_lag from outlet_copies")
    assert len(copies) == 1
    assert copies[0][:4] == ("Paper", "Wire", 2, 2)
    assert copies[0][4].total_seconds() / 3600 == (2 + 24) / 2


def test_new_entities_and_story_timeline(tmp_path: Path) -> None:
    w = Warehouse()
    s1 = w.add(START, source="A", entities=("Old Name",))
    s2 = w.add(date(2026, 1, 5), source="B", entities=("Old Name", "New Name"))
    w.add(date(2026, 1, 6), source="C", story=s2, entities=("New Name",))
    db = w.write(tmp_path / "t.duckdb")
    rows = query(db, "select entity, first_day, story_id, source, first_day_stories, articles, days from new_entities "
                     "order by entity")
    assert rows == [("New Name", date(2026, 1, 5), s2, "B", 1, 2, 2), ("Old Name", START, s1, "A", 1, 2, 2)]
    tl = query(db, "select day, articles, outlets, first_source, is_first_day from story_timeline "
                   "where story_id = ? order by day", [s2])
    assert tl == [(date(2026, 1, 5), 1, 1, "B", True), (date(2026, 1, 6), 1, 1, "B", False)]
    et = query(db, "select entity, day, stories, articles, mentions from entity_trends where entity = 'New Name' "
                   "order by day")
    assert et == [("New Name", date(2026, 1, 5), 1, 1, 1), ("New Name", date(2026, 1, 6), 1, 1, 1)]


from warehouse.trends import TREND_TABLES  # noqa: E402


def table_rows(db: Path) -> dict[str, list]:
    con = connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"select * from core.{t}").fetchall(), key=repr) for t in TREND_TABLES}
    finally:
        con.close()


def test_a_deleted_article_is_noticed_by_the_count_check(tmp_path: Path) -> None:
    db = quiet_then_burst(6).write(tmp_path / "t.duckdb")
    con = connect(str(db))
    try:
        aid = con.execute("select article_id from core.articles order by published_at desc limit 1").fetchone()[0]
        con.execute("delete from core.article_groups where article_id = ?", [aid])
        con.execute("delete from core.articles where article_id = ?", [aid])
    finally:
        con.close()
    refresh_trends(db)
    assert query(db, "select stories from attention where period = 'day' and day = '2026-01-31'") == [(5,)]


def test_incremental_refresh_equals_a_rebuild_from_scratch(tmp_path: Path) -> None:
    w = quiet_then_burst(6)
    db = w.write(tmp_path / "t.duckdb")
    con = connect(str(db))
    try:
        ids = [r[0] for r in con.execute("select article_id from core.articles order by published_at").fetchall()]
        # a later batch: new articles on old and new days, a copy, an article moved to another story, one removed,
        # new facts for an old article, an outlet renamed
        na, nm, nw = len(w.articles), len(w.mentions), len(w.matches)
        late = w.add(date(2026, 1, 10), source="Late", story=ids[3], entities=("Burst Org",))
        w.add(date(2026, 2, 2), source="New", copy_of=late, story=ids[3])
        insert_rows(con, "core.articles", w.articles[na:])
        insert_rows(con, "core.article_groups", w.groups[na:])
        insert_rows(con, "core.watch_articles", w.matches[nw:])
        insert_rows(con, "core.entity_mentions", w.mentions[nm:])
        # regrouped and revised articles get a new group row, as the dedup stage writes them
        con.execute("update core.article_groups set story_id = ?, assigned_at = now() where article_id = ?",
                    [ids[5], ids[6]])
        con.execute("update core.articles set source = 'Renamed' where article_id = ?", [ids[2]])
        con.execute("update core.article_groups set assigned_at = now() where article_id = ?", [ids[2]])
        con.execute("insert into core.entity_mentions values (?, 99, 'Fresh Co', 'ORG', 'Fresh Co', 0, 8, 'Fresh Co')",
                    [ids[1]])
        con.execute("insert into core.fact_runs (article_id, extractor, content_hash, extracted_at, entities, figures, "
                    "periods, quotes) values (?, 'x', NULL, now(), 1, 0, 0, 0)", [ids[1]])
    finally:
        con.close()
    counts = refresh_trends(db)
    assert counts is not None and counts["articles"] == 4   # only what changed was recomputed
    incremental = table_rows(db)
    con = connect(str(db))
    try:
        for t in TREND_TABLES:
            con.execute(f"delete from core.{t}")
        con.execute("delete from core.meta where key like 'trends_%'")
    finally:
        con.close()
    refresh_trends(db)
    assert incremental == table_rows(db)
