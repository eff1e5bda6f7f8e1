"""What goes into a digest: one item per story, copies folded, what is new, never the same thing twice."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from flows.digest_stage import run_digest
from newswatch.errors import ConfigError, UnknownWatchError


def _text_part(eml_path: str) -> str:
    msg = message_from_bytes(Path(eml_path).read_bytes(), policy=policy.default)
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def _coverage(warehouse, now) -> None:
    # story A: an original, a syndicated copy of it, another outlet's own report; story B: one article
    warehouse.add(
        "a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=5)
    )
    warehouse.add(
        "a2",
        title="Police chiefs face inquiry",
        source="The Star",
        copy_of="a1",
        published=now - timedelta(hours=4),
    )
    warehouse.add(
        "a3",
        title="Watchdog opens Rotherham inquiry",
        source="BBC",
        story="a1",
        published=now - timedelta(hours=3),
    )
    warehouse.add(
        "b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=2)
    )


def test_first_digest_has_one_item_per_story_with_copies_folded(warehouse, make_config, now, tmp_path):
    _coverage(warehouse, now)
    out = tmp_path / "out"
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(out), now=now)

    assert o.status == "written" and o.items == 2 and o.articles == 4
    assert Path(o.eml_path).name == f"rotherham-2026-11-22-{o.digest_id}.eml"
    assert _files(out) == sorted([Path(o.eml_path).name, Path(o.html_path).name])
    text = _text_part(o.eml_path)
    # most recent activity first: story B (2h ago) before story A (3h ago)
    assert text.index("Council apologises") < text.index("Police chiefs to be investigated")
    assert "Also ran in: The Star" in text
    assert "More coverage:" in text and "Watchdog opens Rotherham inquiry (BBC" in text
    # the copy is folded: its own headline is not listed as a separate item
    assert "Police chiefs face inquiry" not in text
    roles = warehouse.query("SELECT article_id, role FROM core.digest_articles ORDER BY article_id")
    assert roles == [("a1", "lead"), ("a2", "copy"), ("a3", "coverage"), ("b1", "lead")]
    items = warehouse.query(
        "SELECT position, story_id, is_update, articles, copies, outlets FROM digest_items ORDER BY 1"
    )
    assert items == [(1, "b1", False, 1, 0, 1), (2, "a1", False, 3, 1, 3)]


def test_rerun_with_nothing_new_is_empty_and_writes_nothing(warehouse, make_config, now, tmp_path):
    _coverage(warehouse, now)
    out = tmp_path / "out"
    first = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(out), now=now)
    before = _files(out)
    again = run_digest(
        warehouse.path, make_config(), "rotherham", out_dir=str(out), now=now + timedelta(days=1)
    )
    assert again.status == "empty" and again.items == 0 and again.eml_path is None
    assert "nothing new" in again.detail
    assert _files(out) == before
    assert warehouse.query("SELECT digest_id, status FROM digests") == [(first.digest_id, "written")]


def test_story_with_new_coverage_comes_back_as_an_update_with_only_the_new(
    warehouse, make_config, now, tmp_path
):
    _coverage(warehouse, now)
    out = tmp_path / "out"
    run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(out), now=now)
    warehouse.add(
        "a4",
        title="Former chief constable named",
        source="Guardian",
        story="a1",
        published=now + timedelta(hours=3),
    )
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(out), now=now + timedelta(hours=6))
    assert o.status == "written" and o.items == 1 and o.articles == 1
    text = _text_part(o.eml_path)
    assert "1. UPDATE: Police chiefs to be investigated" in text  # the title the story first went out with
    assert "New: Former chief constable named" in text
    for old in ("Watchdog opens", "The Star", "Council apologises", "/a1", "/a3"):
        assert old not in text, old
    assert warehouse.query(
        "SELECT is_update, lead_article_id FROM digest_items WHERE digest_id = ?", [o.digest_id]
    ) == [(True, "a4")]
    since = warehouse.query("SELECT since FROM digests WHERE digest_id = ?", [o.digest_id])[0][0]
    assert since == now


def test_a_late_syndicated_copy_of_something_already_told_is_not_news(warehouse, make_config, now, tmp_path):
    _coverage(warehouse, now)
    run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    warehouse.add(
        "a5",
        title="Police chiefs probed",
        source="Yorkshire Post",
        copy_of="a1",
        published=now + timedelta(hours=1),
    )
    o = run_digest(
        warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=2)
    )
    assert o.status == "empty"


def test_max_items_holds_the_rest_for_the_next_digest(warehouse, make_config, now, tmp_path):
    for i in range(3):
        warehouse.add(
            f"s{i}", title=f"Story number {i}", source=f"Outlet {i}", published=now - timedelta(hours=10 - i)
        )
    cfg = make_config(max_items=2)
    first = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert first.items == 2
    text = _text_part(first.eml_path)
    assert "Story number 2" in text and "Story number 1" in text and "Story number 0" not in text
    assert "1 more story will follow in the next digest." in text
    second = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=1))
    assert second.items == 1 and "Story number 0" in _text_part(second.eml_path)
    assert run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now).status == "empty"


def test_other_watches_are_not_mixed_in(warehouse, make_config, now, tmp_path):
    warehouse.add("x1", title="Ours", source="Sky News")
    warehouse.add("y1", title="Somebody else's watch", source="BBC", watch="other")
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.items == 1 and "Somebody else" not in _text_part(o.eml_path)


def test_same_content_gives_the_same_digest_id_and_bytes(new_warehouse, make_config, now, tmp_path):
    results = []
    for name in ("one", "two"):
        wh = new_warehouse(tmp_path / f"{name}.duckdb")
        _coverage(wh, now)
        o = run_digest(wh.path, make_config(), "rotherham", out_dir=str(tmp_path / name), now=now)
        results.append((o.digest_id, o.message_id, Path(o.eml_path).read_bytes()))
    assert results[0] == results[1]


def test_unknown_watch_and_bad_recipient_are_user_errors(warehouse, make_config, now, tmp_path):
    warehouse.add("x1", title="Ours", source="Sky News")
    with pytest.raises(UnknownWatchError):
        run_digest(warehouse.path, make_config(), "nope", out_dir=str(tmp_path), now=now)
    # a header-breaking recipient is refused when the config is read ...
    with pytest.raises(ConfigError, match="not a plain address"):
        make_config(recipients=("desk@example.org\r\nBcc: spy@evil.example",))
    # ... and again by the digest stage for a config built in code without validation (model_copy)
    good = make_config()
    watch = good.watches[0].model_copy(update={"recipients": ["desk@example.org\r\nBcc: spy@evil.example"]})
    bad = good.model_copy(update={"watches": [watch]})
    with pytest.raises(ConfigError, match="not a plain email address"):
        run_digest(warehouse.path, bad, "rotherham", out_dir=str(tmp_path), now=now)
    # nothing was recorded or written for the refused digest
    assert warehouse.query("SELECT count(*) FROM digests") == [(0,)]
    assert list(tmp_path.rglob("*.eml")) == []


def test_untitled_article_and_missing_group_rows_still_render(warehouse, make_config, now, tmp_path):
    # no core.article_groups row: the public view falls back to the article's own id for story and copies
    warehouse.add("u1", title="", source="Rotherham Advertiser")
    warehouse.query("DELETE FROM core.article_groups WHERE article_id = 'u1'")
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.items == 1 and "1. (untitled)" in _text_part(o.eml_path)


def test_update_items_carry_new_fact_lines_from_the_facts_views(warehouse, make_config, now, tmp_path):
    _coverage(warehouse, now)
    fig = (
        "INSERT INTO core.figures (article_id, seq, value, noun, noun_head, qualifier, currency, unit, surface, "
        "sentence) VALUES (?, 1, ?, 'children', 'children', 'at least', NULL, NULL, ?, ?)"
    )
    warehouse.query(fig, ["a1", 1400, "at least 1,400 children", "At least 1,400 children were abused."])
    warehouse.query(fig, ["a3", 1450, "1,450 children", "Some 1,450 children were abused."])
    first = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    # nothing was told before: different numbers in a first digest are not "changes"
    assert "figure changed" not in _text_part(first.eml_path)
    warehouse.add(
        "a4",
        title="Inquiry finds more victims",
        source="Guardian",
        story="a1",
        published=now + timedelta(hours=3),
    )
    warehouse.query(fig, ["a4", 1510, "1,510 children", "The inquiry identified 1,510 children."])
    conflict = (
        "INSERT INTO core.fact_conflicts (conflict_id, kind, claim, article_id, value, sentence, similarity) "
        "VALUES ('c1', 'period', 'abuse took place', ?, ?, ?, 0.8)"
    )
    warehouse.query(conflict, ["a1", "1997-2013", "Abuse took place between 1997 and 2013."])
    warehouse.query(conflict, ["a3", "1997-2013", "Abuse went on from 1997 to 2013."])
    warehouse.query(conflict, ["a4", "1999-2011", "Abuse took place between 1999 and 2011."])

    o = run_digest(
        warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=6)
    )
    text = _text_part(o.eml_path)
    assert "* figure changed: children 1,450 -> 1,510" in text
    assert "* reports differ (period): 1997-2013 (BBC, Sky News) vs 1999-2011 (Guardian)" in text
    (facts,) = warehouse.query("SELECT new_facts FROM digest_items WHERE digest_id = ?", [o.digest_id])[0]
    assert facts == [
        "figure changed: children 1,450 -> 1,510",
        "reports differ (period): 1997-2013 (BBC, Sky News) vs 1999-2011 (Guardian)",
    ]


def test_public_views_are_documented_and_examples_run(warehouse, make_config, now, tmp_path):
    _coverage(warehouse, now)
    run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    undocumented = warehouse.query(
        """
        SELECT v.view_name FROM duckdb_views() v
        WHERE v.schema_name = 'main' AND v.view_name IN ('digests', 'digest_items', 'digest_articles')
          AND coalesce(v.comment, '') = ''
        UNION ALL
        SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() c
        WHERE c.schema_name = 'main' AND c.table_name IN ('digests', 'digest_items', 'digest_articles')
          AND coalesce(c.comment, '') = ''
        """
    )
    assert undocumented == []
    examples = sorted((Path(__file__).resolve().parents[2] / "warehouse" / "examples").glob("alerts_*.sql"))
    assert len(examples) >= 3
    results = {}
    for path in examples:
        title, _, sql = path.read_text(encoding="utf-8").partition("\n")
        assert title.startswith("-- ") and len(title) > 5, path.name
        results[path.stem] = warehouse.query(sql)
    assert len(results["alerts_digests"]) == 1 and results["alerts_digests"][0][2] == "written"
    assert results["alerts_not_yet_told"] == []
    assert {r[0] for r in results["alerts_story_history"]} == {"a1", "b1"}
