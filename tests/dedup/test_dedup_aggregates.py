"""The per-story and per-copy-group aggregates (core.story_stats, core.syndication_members) behind the views
stories and syndication equal the values computed from scratch after every batch: new copies, a late original,
a revision that moves an article in time, and a round-up that merges two copy groups."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from dedup_helpers import T0, article_row, days, load
from test_dedup_stage import OTHER, STORY, _wire_copy, copy_of_story, group

from warehouse.db import connect
from warehouse.dedup import group_members, rebuild_aggregates, refresh_aggregates

# The views as they were before the aggregate tables: what the aggregates must reproduce.
STORIES_FROM_SCRATCH = """
SELECT s.story_id, s.title,
       min(coalesce(a.published_at, a.first_seen_at)) AS first_seen,
       max(coalesce(a.published_at, a.first_seen_at)) AS last_seen,
       count(DISTINCT g.article_id) AS article_count, count(DISTINCT a.source) AS outlet_count,
       count(DISTINCT g.syndication_id) AS text_count,
       count(DISTINCT g.article_id) - count(DISTINCT g.syndication_id) AS copy_count,
       min(a.first_seen_at) AS first_fetched, max(a.first_seen_at) AS last_fetched, s.created_at, s.updated_at
FROM core.stories s
JOIN core.article_groups g ON g.story_id = s.story_id
JOIN core.articles a ON a.article_id = g.article_id
GROUP BY s.story_id, s.title, s.created_at, s.updated_at
"""
SYNDICATION_FROM_SCRATCH = """
WITH members AS (
    SELECT g.syndication_id, a.article_id, a.source, a.title, a.url, a.published_at, a.first_seen_at,
           coalesce(a.published_at, a.first_seen_at) AS ran_at,
           count(*) OVER (PARTITION BY g.syndication_id) AS group_size
    FROM core.article_groups g JOIN core.articles a USING (article_id)
)
SELECT m.syndication_id, m.article_id, m.source, m.title, m.url, m.published_at, m.first_seen_at,
       CASE WHEN m.article_id = m.syndication_id THEN 'original' ELSE 'copy' END AS role,
       row_number() OVER (PARTITION BY m.syndication_id ORDER BY m.ran_at, m.article_id) AS copy_rank,
       m.group_size, m.ran_at - o.ran_at AS lag,
       CASE WHEN m.article_id = m.syndication_id THEN 1.0 ELSE e.shared_ratio END AS shared_ratio,
       CASE WHEN m.article_id = m.syndication_id THEN 0.0 ELSE 1.0 - e.shared_ratio END AS changed_ratio,
       CAST(json_extract(e.changes, '$.headline_changed') AS BOOLEAN) AS headline_changed,
       CAST(json_extract(e.changes, '$.figures_added') AS VARCHAR[]) AS figures_added,
       CAST(json_extract(e.changes, '$.figures_removed') AS VARCHAR[]) AS figures_removed
FROM members m
LEFT JOIN members o ON o.article_id = m.syndication_id
LEFT JOIN core.syndication_edges e ON e.article_id = m.article_id AND e.copy_of = m.syndication_id
"""


def rows(con, sql):
    return sorted(con.execute(sql).fetchall(), key=repr)


def assert_views_equal_from_scratch(con):
    assert rows(con, "SELECT * FROM stories") == rows(con, STORIES_FROM_SCRATCH)
    assert rows(con, "SELECT * FROM syndication") == rows(con, SYNDICATION_FROM_SCRATCH)


def test_view_columns_and_types_are_those_of_the_from_scratch_queries(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    for view, sql in (("stories", STORIES_FROM_SCRATCH), ("syndication", SYNDICATION_FROM_SCRATCH)):
        got = con.execute(f"SELECT * FROM {view} LIMIT 0").description
        want = con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description
        assert [(d[0], d[1]) for d in got] == [(d[0], d[1]) for d in want]


def test_aggregates_follow_copies_late_originals_revisions_and_merges(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    # batch 1: a copy seen before its original (its own group and story for now)
    load(con, [article_row("copy", copy_of_story("A court has fined the water company after years of spills."),
                           source="Echo", published_at=T0 + days(1), first_seen_at=T0 + days(1))])
    group(con, ["copy"])
    assert_views_equal_from_scratch(con)
    # batch 2: the original, published earlier: the copy's group and story are re-pointed
    load(con, [article_row("water", "\n".join(STORY), source="Wire", published_at=T0, first_seen_at=T0 + days(2))])
    group(con, ["water"])
    assert con.execute("SELECT syndication_id FROM core.article_groups WHERE article_id = 'copy'").fetchone() == (
        "water",)
    assert_views_equal_from_scratch(con)
    # batch 3: a second wire text and its copy, in one call
    load(con, [article_row("library", "\n".join(OTHER), source="Wire", published_at=T0 + days(0.1)),
               article_row("library-copy", _wire_copy(1, OTHER), source="Echo", published_at=T0 + days(0.3))])
    group(con, ["library", "library-copy"])
    assert_views_equal_from_scratch(con)
    # batch 4: the copy is revised and now dated later: its rank, lag and its story's last_seen move
    load(con, [article_row("copy", copy_of_story("The water company was fined after years of spills."),
                           source="Echo", published_at=T0 + days(3), first_seen_at=T0 + days(1))])
    group(con, ["copy"])
    assert_views_equal_from_scratch(con)
    # batch 5: a round-up copying both texts merges the two copy groups under the earliest original
    load(con, [article_row("roundup", "\n".join([*STORY[:6], *OTHER[:5]]), source="Gazette",
                           published_at=T0 + days(0.5))])
    group(con, ["roundup"])
    synd = {r[0] for r in con.execute("SELECT syndication_id FROM core.article_groups").fetchall()}
    assert synd == {"water"}
    assert_views_equal_from_scratch(con)
    # a rerun changes nothing
    group(con, ["water", "copy", "library", "library-copy", "roundup"])
    assert_views_equal_from_scratch(con)


def test_rows_written_without_the_stage_are_picked_up_by_a_rebuild(tmp_path):
    # bench/trends_gen.py and warehouses made before the aggregate tables write groups directly
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("a", "\n".join(STORY), published_at=T0), article_row("b", "\n".join(OTHER))])
    con.execute("INSERT INTO core.article_groups VALUES ('a', 'a', 'a', now()), ('b', 'a', 'a', now())")
    con.execute("INSERT INTO core.stories VALUES ('a', 'A', now(), now(), 2, '{}', now(), now())")
    assert con.execute("SELECT count(*) FROM stories").fetchone() == (0,)
    rebuild_aggregates(con)
    assert_views_equal_from_scratch(con)
    assert con.execute("SELECT article_count, text_count FROM stories").fetchone() == (2, 1)


def test_a_warehouse_from_before_the_tables_gets_them_filled_when_opened(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    load(con, [article_row("water", "\n".join(STORY), source="Wire", published_at=T0),
               article_row("copy", _wire_copy(0, STORY), source="Echo", published_at=T0 + days(0.2))])
    group(con, ["water", "copy"])
    con.execute("DROP VIEW stories")
    con.execute("DROP VIEW syndication")
    con.execute("DROP TABLE core.story_stats")
    con.execute("DROP TABLE core.syndication_members")
    con.execute("DELETE FROM core.meta WHERE key = 'schema_hash'")  # as after an upgrade: the schema is applied
    con.close()
    con = connect(path)
    assert con.execute("SELECT count(*) FROM syndication WHERE group_size > 1").fetchone() == (2,)
    assert_views_equal_from_scratch(con)


class _ScanCounter:
    """A connection that records, for each statement, how many table rows DuckDB scanned (its JSON profile)."""

    def __init__(self, con, profile):
        self.con, self.profile, self.scanned = con, profile, []

    def execute(self, sql, *args):
        self.con.execute("PRAGMA enable_profiling = 'json'")
        self.con.execute(f"PRAGMA profiling_output = '{self.profile}'")
        try:
            # materialised here: the profile is written when the statement completes
            result = _Rows(self.con.execute(sql, *args).to_arrow_table())
        finally:
            self.con.execute("PRAGMA disable_profiling")
        self.scanned.append((json.loads(self.profile.read_text())["cumulative_rows_scanned"], sql[:80]))
        self.profile.unlink()
        return result

    def register(self, name, data):
        return self.con.register(name, data)

    def unregister(self, name):
        return self.con.unregister(name)


class _Rows:
    def __init__(self, table):
        self.table = table

    def fetchall(self):
        return [tuple(r.values()) for r in self.table.to_pylist()]

    def fetchone(self):
        rows = self.fetchall()
        return rows[0] if rows else None

    def to_arrow_table(self):
        return self.table


def test_the_aggregate_refresh_reads_only_the_rows_of_the_touched_stories_and_groups(tmp_path):
    # 20,000 stored group rows; refreshing one story and one copy group must not scan them all (it used to:
    # an OR over story_id and syndication_id without indexes, +0.4-1.2 s per batch at 1M articles)
    con = connect(tmp_path / "w.duckdb")
    n = 20_000
    con.execute(
        f"""
        INSERT INTO core.articles (article_id, watch, url, canonical_url, source, title, published_at, fetched_at,
            first_seen_at, fetch_status, text, raw_text, word_count, content_hash)
        SELECT printf('a%06d', i), 'w', 'https://x/' || i, 'https://x/' || i, 'outlet ' || (i % 50), 't',
            TIMESTAMPTZ '2024-01-01' + to_seconds(i * 60), TIMESTAMPTZ '2024-01-01' + to_seconds(i * 60),
            TIMESTAMPTZ '2024-01-01' + to_seconds(i * 60), 'ok', 'x', 'x', 1, 'h'
        FROM range({n}) t(i)
        """
    )
    # copy groups of 2 and stories of 4
    con.execute(
        f"INSERT INTO core.article_groups SELECT printf('a%06d', i), printf('a%06d', i - i % 2), "
        f"printf('a%06d', i - i % 4), now() FROM range({n}) t(i)"
    )
    rebuild_aggregates(con)
    con.execute("CHECKPOINT")
    before = rows(con, "SELECT * FROM core.story_stats") + rows(con, "SELECT * FROM core.syndication_members")
    counter = _ScanCounter(con, tmp_path / "profile.json")
    refresh_aggregates(counter, ["a000100"], ["a000202"])
    assert counter.scanned
    for scanned, sql in counter.scanned:
        assert scanned < 1_000, (scanned, sql)
    after = rows(con, "SELECT * FROM core.story_stats") + rows(con, "SELECT * FROM core.syndication_members")
    assert after == before  # nothing changed, so the recomputed rows are the same
    assert group_members(con, ["a000100"], ["a000202"]) == {
        ("a000100", "a000100", "a000100"), ("a000101", "a000100", "a000100"), ("a000102", "a000100", "a000102"),
        ("a000103", "a000100", "a000102"), ("a000202", "a000200", "a000202"), ("a000203", "a000200", "a000202"),
    }


def _aggregate_tables(con):
    # lag as text too: an interval of 49 hours and one of 2 days 1 hour are equal timedeltas but different values
    return (rows(con, "SELECT * FROM core.story_stats"),
            rows(con, "SELECT *, lag::VARCHAR FROM core.syndication_members"))


def test_the_arrow_refresh_equals_the_sql_aggregates_from_scratch(tmp_path):
    # refresh_aggregates computes the rows of _STORY_STATS and _MEMBERS with Arrow; rebuild_aggregates runs those
    # SELECTs over every group row. Random groups: undated articles, ties in time (ranked by id), outlets shared
    # within a story, copy groups whose original is not a member (NULL lag), stories spanning several groups.
    rng = random.Random(7)
    con = connect(tmp_path / "w.duckdb")
    n = 400
    arts = []
    for i in range(n):
        seen = T0 + timedelta(hours=rng.randrange(0, 2000))
        published = None if rng.random() < 0.3 else T0 + timedelta(minutes=rng.choice([0, 30, 90]) + 60 * (i % 40))
        arts.append(article_row(f"a{i:04d}", f"text {i}", source=f"outlet {rng.randrange(12)}",
                                published_at=published, first_seen_at=seen))
    load(con, arts)
    values = []
    for i in range(n):
        group_of = f"a{rng.randrange(0, n // 3) * 3:04d}" if rng.random() < 0.8 else f"a{i:04d}"
        if rng.random() < 0.05:
            group_of = f"gone{rng.randrange(5)}"  # an original that is not (or no longer) a member
        values.append(f"('a{i:04d}', '{group_of}', 's{rng.randrange(25):02d}', now())")
    con.execute(f"INSERT INTO core.article_groups VALUES {', '.join(values)}")
    rebuild_aggregates(con)
    want = _aggregate_tables(con)
    stories = [r[0] for r in con.execute("SELECT DISTINCT story_id FROM core.article_groups").fetchall()]
    synds = [r[0] for r in con.execute("SELECT DISTINCT syndication_id FROM core.article_groups").fetchall()]
    con.execute("DELETE FROM core.story_stats")
    con.execute("DELETE FROM core.syndication_members")
    # in three calls over overlapping parts, with keys that have no members left (their rows go)
    refresh_aggregates(con, stories[:10] + ["s-none"], synds[: len(synds) // 2])
    refresh_aggregates(con, stories[5:], synds[len(synds) // 3 :] + ["g-none"])
    refresh_aggregates(con, [], [])
    assert _aggregate_tables(con) == want
    assert any(r[4] is None for r in want[1]) and any(r[4] is not None for r in want[1])  # both lag cases ran
    # a group moved and a story emptied: refreshing the touched keys gives the from-scratch rows again
    con.execute(f"UPDATE core.article_groups SET syndication_id = '{synds[1]}' WHERE syndication_id = '{synds[0]}'")
    con.execute(f"UPDATE core.article_groups SET story_id = '{stories[1]}' WHERE story_id = '{stories[0]}'")
    refresh_aggregates(con, stories[:2], synds[:2])
    got = _aggregate_tables(con)
    rebuild_aggregates(con)
    assert got == _aggregate_tables(con)
