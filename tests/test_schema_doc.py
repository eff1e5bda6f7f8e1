"""docs/schema.md is generated from the database and must match it; every public column is described;
every example query runs on the demo database."""

from __future__ import annotations

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
