"""Trends per watch through core.watch_articles: an article matched by two watches counts in both, and a match
added later (a new watch over stored articles) is picked up by the incremental refresh."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from newswatch.cli import main
from tests.trends.test_trends_views import query, table_rows
from tests.trends.trendsdata import Warehouse, days
from warehouse.db import connect, refresh_trends
from warehouse.trends import TREND_TABLES

START = date(2026, 3, 2)   # a Monday


def two_watches() -> tuple[Warehouse, str]:
    """Watch `econ` has two stories on START; `health` one; the shared article (with a copy) is in both."""
    w = Warehouse()
    shared = w.add(START, watch="econ", also_in=("health",), source="Wire", entities=("Acme",), hour=8)
    w.add(START, watch="econ", also_in=("health",), source="Paper", story=shared, copy_of=shared, entities=("Acme",))
    w.add(START, watch="econ", source="Blog", entities=("Acme",))
    return w, shared


def test_an_article_in_two_watches_counts_in_both(tmp_path: Path) -> None:
    w, shared = two_watches()
    db = w.write(tmp_path / "t.duckdb")
    att = query(db, "select watch, period, day, stories, texts, articles, outlets, new_stories from attention "
                    "order by watch, period")
    assert att == [("econ", "day", START, 2, 2, 3, 3, 2), ("econ", "week", START, 2, 2, 3, 3, 2),
                   ("health", "day", START, 1, 1, 2, 2, 1), ("health", "week", START, 1, 1, 2, 2, 1)]
    assert query(db, "select watch, stories, articles from entity_trends order by watch") == [
        ("econ", 2, 3), ("health", 1, 2)]
    assert query(db, "select watch, story_id, articles, outlets from story_timeline where story_id = ? "
                     "order by watch", [shared]) == [("econ", shared, 2, 2), ("health", shared, 2, 2)]
    assert query(db, "select watch, source, rank from outlet_coverage where story_id = ? order by watch, rank",
                 [shared]) == [("econ", "Wire", 1), ("econ", "Paper", 2), ("health", "Wire", 1),
                               ("health", "Paper", 2)]
    assert query(db, "select watch, copy_source, original_source, copies from outlet_copies order by watch") == [
        ("econ", "Paper", "Wire", 1), ("health", "Paper", "Wire", 1)]
    # core.articles.watch says econ for all three; the health watch still has its own series
    r = CliRunner().invoke(main, ["trends", "--db", str(db), "--watch", "health", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].startswith(f"health,day,{START.isoformat()},1,1,1,2,2,")
    r = CliRunner().invoke(main, ["trends", "--db", str(db), "--watch", "health", "--entity", "Acme",
                                  "--by", "week", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].startswith(f"health,week,{START.isoformat()},1,1,1,2,2,")


def test_a_match_added_later_is_picked_up_by_the_incremental_refresh(tmp_path: Path) -> None:
    w = Warehouse()
    ids = [w.add(d, watch="econ", source=f"O{i}", entities=("Acme",)) for i, d in enumerate(days(START, 10))]
    db = w.write(tmp_path / "t.duckdb")
    assert query(db, "select count(*) from attention where watch = 'health'") == [(0,)]
    # a watch added to the config later matches two stored articles: the pipeline adds their rows, now
    con = connect(str(db))
    try:
        con.execute("insert into core.watch_articles select 'health', article_id, now(), ['acme'] "
                    "from core.articles where article_id in (?, ?)", [ids[2], ids[7]])
    finally:
        con.close()
    counts = refresh_trends(db)
    assert counts is not None and counts["articles"] == 2   # only the new (watch, article) rows were recomputed
    assert query(db, "select day, stories from attention where watch = 'health' and period = 'day' order by day") == [
        (days(START, 10)[2], 1), (days(START, 10)[7], 1)]
    assert query(db, "select count(*) from attention where watch = 'econ' and period = 'day'") == [(10,)]
    assert query(db, "select entity, articles, days from new_entities where watch = 'health'") == [("Acme", 2, 2)]
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


def test_a_dropped_match_leaves_that_watch_only(tmp_path: Path) -> None:
    w, shared = two_watches()
    db = w.write(tmp_path / "t.duckdb")
    con = connect(str(db))
    try:   # a reprocess finds the health query no longer matches: its rows go, the articles stay
        con.execute("delete from core.watch_articles where watch = 'health'")
    finally:
        con.close()
    refresh_trends(db)
    assert query(db, "select distinct watch from attention") == [("econ",)]
    assert query(db, "select distinct watch from story_timeline where story_id = ?", [shared]) == [("econ",)]


def test_the_series_of_several_watches_read_at_once_equal_each_read_alone(tmp_path: Path) -> None:
    """`series_of` (two queries for every watch, what `newswatch trends` calls) gives each watch exactly the series
    `series` reads for it alone: its own days, gaps, spikes and counts, in the order asked."""
    from tests.trends.test_trends_views import quiet_then_burst
    from warehouse.trends import series, series_of

    w = quiet_then_burst(6)                                     # watch "w": a spike on its last day
    for i, d in enumerate(days(START, 12)):
        if i % 3:                                               # "econ": gaps, and its own range of days
            w.add(d, watch="econ", also_in=("health",) if i % 2 else (), source=f"E{i}", entities=("Acme",))
    db = w.write(tmp_path / "t.duckdb")
    today = date(2026, 12, 1)
    with connect(db, read_only=True) as con:
        for by in ("day", "week"):
            for since in (None, date(2026, 1, 20), date(2026, 3, 5)):
                watches = ["health", "w", "econ"]
                together = series_of(con, watches, by=by, since=since, today=today)
                alone = [series(con, x, by=by, since=since, today=today) for x in watches]
                assert together == alone
                assert [s.watch for s in together] == watches
        assert any(p.is_spike for p in series_of(con, ["econ", "w"], today=today)[1].points)
        assert series_of(con, ["w"], entity="burst org", today=today) == [
            series(con, "w", entity="Burst Org", today=today)]
