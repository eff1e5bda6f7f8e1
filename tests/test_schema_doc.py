"""docs/schema.md is generated from the database and must match it; every public column is described;
every example query runs on the demo database."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.nwtest import REPO
from warehouse import docs
from warehouse.db import connect

CONTRACT = {
    "articles": ["article_id", "url", "source", "title", "published_at", "fetched_at", "text", "word_count",
                 "simhash", "syndication_id", "story_id"],
    "entity_mentions": ["article_id", "entity", "entity_type", "surface"],
    "figures": ["article_id", "value", "noun", "qualifier", "currency", "sentence"],
    "periods": ["article_id", "start_year", "end_year", "sentence"],
    "quotes": ["article_id", "speaker", "quote"],
    "runs": ["run_id", "started_at", "finished_at", "status"],
}


def test_schema_doc_matches_the_database() -> None:
    committed = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    fresh = docs.render_fresh()
    assert committed == fresh, "docs/schema.md is stale: run `make docs` and review the diff"


def test_contract_views_have_their_columns(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "c.duckdb"))
    try:
        for view, cols in CONTRACT.items():
            have = [c for c, _, _ in docs.columns(con, "main", view)]
            missing = [c for c in cols if c not in have]
            assert not missing, f"view {view} lacks contract columns {missing}"
    finally:
        con.close()


def test_every_public_view_and_column_is_described(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "c.duckdb"))
    try:
        undocumented = []
        for view, comment in docs.public_views(con):
            if not (comment or "").strip():
                undocumented.append(view)
            undocumented += [f"{view}.{c}" for c, _, cc in docs.columns(con, "main", view) if not (cc or "").strip()]
    finally:
        con.close()
    assert not undocumented, f"add COMMENT ON for: {undocumented}"


def test_example_queries_run_on_the_demo_database(demo_run: dict) -> None:
    con = connect(demo_run["db"], read_only=True)
    try:
        examples = docs._examples()
        assert len(examples) >= 3
        for name, title, sql in examples:
            assert title, f"{name} has no title line"
            try:
                con.execute(sql).fetchall()
            except Exception as e:
                raise AssertionError(f"example {name} fails: {e}") from None
    finally:
        con.close()


# The straightforward forms of the examples rewritten for speed at 1M articles (docs/benchmarks.md): each rewrite
# must return exactly what its straightforward form returns.
STRAIGHTFORWARD = {
    "dedup_syndicated_copies.sql": """
        WITH top AS (
            SELECT syndication_id, group_size, published_at FROM syndication
            WHERE role = 'original' AND group_size > 1
            ORDER BY group_size DESC, published_at DESC, syndication_id LIMIT 10)
        SELECT s.syndication_id, s.copy_rank, s.role, s.source, s.title, s.published_at, s.lag,
               round(s.shared_ratio, 2) AS shared_ratio, s.headline_changed, s.figures_added, s.figures_removed
        FROM syndication s JOIN top t USING (syndication_id)
        ORDER BY t.group_size DESC, t.published_at DESC, s.syndication_id, s.copy_rank""",
    "dedup_what_changed.sql": """
        SELECT copy_source, original_source, copy_title, original_title, round(shared_ratio, 2) AS shared_ratio,
               distance AS doc_simhash_bits, lede_changed, figures_added, figures_removed,
               sentences_added, sentences_removed, sentences_edited, quotes_added, quotes_removed
        FROM syndication_edges ORDER BY detected_at DESC, article_id LIMIT 50""",
    "alerts_not_yet_told.sql": """
        WITH untold AS (
            SELECT w.watch, w.article_id, w.matched_at FROM watch_articles w
            WHERE NOT EXISTS (
                SELECT 1 FROM digest_articles d
                WHERE d.article_id = w.article_id AND d.watch = w.watch
                  AND d.status IN ('sent', 'written', 'pending', 'sending'))
            ORDER BY w.matched_at DESC, w.article_id, w.watch LIMIT 50)
        SELECT u.watch, a.story_id, a.source, a.title, a.published_at, u.matched_at
        FROM untold u JOIN articles a USING (article_id)
        ORDER BY u.matched_at DESC, a.published_at DESC NULLS LAST, a.article_id, u.watch""",
}


def test_rewritten_examples_return_what_their_straightforward_form_returns(demo_run: dict, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(demo_run["db"], db)
    con = connect(str(db))
    try:
        # the demo's digest carried every article: mark it failed (its articles are untold again) and deliver one
        # of them in a new digest (told), so that both sides of the ledger are compared
        digest_id, watch, told = con.execute(
            "SELECT d.digest_id, d.watch, min(a.article_id) FROM core.digests d JOIN core.digest_articles a "
            "USING (digest_id) GROUP BY ALL ORDER BY 1 LIMIT 1").fetchone()
        con.execute("UPDATE core.digests SET status = 'failed' WHERE digest_id = ?", [digest_id])
        con.execute("INSERT INTO core.digests (digest_id, watch, created_at, status, items, articles, subject, "
                    "message_id) VALUES ('d-sent', ?, now(), 'sent', 1, 1, 's', 'm')", [watch])
        con.execute("INSERT INTO core.digest_articles (digest_id, article_id, story_id, role) "
                    "VALUES ('d-sent', ?, ?, 'lead')", [told, told])
        assert con.execute("SELECT count(*) FROM syndication_edges").fetchone()[0] > 0, "the demo has no copies"
        examples = {name: sql for name, _, sql in docs._examples()}
        for name, reference in STRAIGHTFORWARD.items():
            expected = con.execute(reference).fetchall()
            assert expected, f"{name}: the demo gives no rows to compare"
            assert con.execute(examples[name]).fetchall() == expected, name
        untold = con.execute("SELECT count(*) FROM watch_articles").fetchone()[0] - 1  # d-sent told one
        assert len(con.execute(examples["alerts_not_yet_told.sql"]).fetchall()) == min(untold, 50)
    finally:
        con.close()
