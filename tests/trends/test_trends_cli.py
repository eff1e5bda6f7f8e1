"""`newswatch trends`: the series in every format on the demo warehouse and on built ones, and bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from newswatch.cli import main
from tests.nwtest import REPO
from tests.trends.test_trends_views import quiet_then_burst
from tests.trends.trendsdata import Warehouse
from warehouse.db import connect


def trends(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["trends", *args])
    return r.exit_code, r.stdout, r.stderr


def test_csv_and_json_have_one_row_per_period_with_attention_columns(demo_run: dict) -> None:
    db = demo_run["db"]
    code, out, err = trends("--db", db, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["watch", "period", "day", "stories", "new_stories", "texts", "articles", "outlets",
                             "is_spike"]
    # every day from the first to the last coverage, quiet days as zeros
    first, last = date.fromisoformat(rows[0]["day"]), date.fromisoformat(rows[-1]["day"])
    assert len(rows) == (last - first).days + 1
    con = connect(db, read_only=True)
    try:
        view = con.execute("select day, stories, new_stories, texts, articles, outlets from attention "
                           "where period = 'day' order by day").fetchall()
    finally:
        con.close()
    nonzero = [(date.fromisoformat(r["day"]), int(r["stories"]), int(r["new_stories"]), int(r["texts"]),
                int(r["articles"]), int(r["outlets"])) for r in rows if r["articles"] != "0"]
    assert nonzero == view
    code, out_json, _ = trends("--db", db, "--format", "json")
    assert code == 0
    assert [{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in r.items()}
            for r in json.loads(out_json)] == rows


def test_weekly_series_and_an_entity_series(demo_run: dict) -> None:
    db = demo_run["db"]
    code, out, err = trends("--db", db, "--by", "week", "--format", "json")
    assert code == 0, err
    weeks = json.loads(out)
    assert all(date.fromisoformat(r["day"]).weekday() == 0 and r["period"] == "week" for r in weeks)
    con = connect(db, read_only=True)
    try:
        entity, stories = con.execute(
            "select entity, count(distinct story_id) from entity_mentions join articles using (article_id) "
            "group by entity order by 2 desc, 1 limit 1").fetchone()
    finally:
        con.close()
    code, out, err = trends("--db", db, "--entity", entity.upper(), "--by", "week", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["entity"] for r in rows} == {entity}   # matched ignoring case, reported as stored
    assert sum(r["new_stories"] for r in rows) == stories


def test_table_is_a_bar_chart_and_png_is_a_chart(demo_run: dict, tmp_path: Path) -> None:
    code, out, err = trends("--db", demo_run["db"])
    assert code == 0, err
    assert "stories per day" in out and "█" in out and "without coverage" in out
    png = tmp_path / "chart.png"
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "trends", "--db", demo_run["db"], "--by", "week",
                        "--format", "png", "--out", str(png)], cwd=REPO, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "MPLBACKEND": ""})
    assert p.returncode == 0, p.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [x.name for x in tmp_path.iterdir()] == ["chart.png"]


def test_spike_days_are_marked(tmp_path: Path) -> None:
    db = quiet_then_burst(6).write(tmp_path / "t.duckdb")
    code, out, _ = trends("--db", str(db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["day"] for r in rows if r["is_spike"] == "true"] == ["2026-01-31"]
    code, out, _ = trends("--db", str(db), "--format", "csv", "--by", "week")
    weeks = list(csv.DictReader(io.StringIO(out)))
    assert [r["day"] for r in weeks if r["is_spike"] == "true"] == ["2026-01-26"]
    code, out, _ = trends("--db", str(db), "--entity", "Burst Org", "--format", "json")
    assert [r["day"] for r in json.loads(out) if r["is_spike"]] == ["2026-01-31"]
    code, out, _ = trends("--db", str(db))
    assert "2026-01-31 !" in out


def test_bad_input_is_one_line_a_non_zero_exit_and_nothing_written(tmp_path: Path) -> None:
    w = Warehouse()
    w.add(date(2026, 1, 1), watch="alpha", entities=("Acme",))
    db = str(w.write(tmp_path / "t.duckdb"))
    empty = tmp_path / "empty.duckdb"
    connect(str(empty)).close()
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cases = {
        ("--db", db, "--watch", "beta", "--out", str(out_dir / "a.csv")): "unknown watch 'beta'",
        ("--db", db, "--entity", "Acmee", "--out", str(out_dir / "b.csv")): "did you mean 'Acme'",
        ("--db", str(empty), "--out", str(out_dir / "c.csv")): "no articles yet",
        ("--db", str(tmp_path / "missing.duckdb"),): "does not exist",
        ("--db", db, "--since", "2999-01-01", "--out", str(out_dir / "d.csv")): "is in the future",
        ("--db", db, "--format", "csv", "--out", str(not_a_dir / "e.csv")): "cannot write",
        ("--db", db, "--format", "png", "--out", str(not_a_dir / "f.png")): "cannot write",
        ("--db", db, "--format", "png"): "needs --out",
    }
    for args, message in cases.items():
        code, out, err = trends(*args)
        assert code != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in err, (args, err)
    assert list(out_dir.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_entity_series_by_day_and_by_week_agree(tmp_path: Path) -> None:
    w = quiet_then_burst(6)
    first = w.articles[0]["article_id"]
    w.add(date(2026, 1, 2), source="Follow", story=first, entities=("Steady Org",))   # a follow-up, not new
    db = w.write(tmp_path / "t.duckdb")
    code, out, _ = trends("--db", str(db), "--entity", "steady org", "--format", "json")
    days = json.loads(out)
    assert (days[0]["day"], days[0]["stories"], days[0]["new_stories"]) == ("2026-01-01", 1, 1)
    assert (days[1]["stories"], days[1]["new_stories"], days[1]["articles"], days[1]["outlets"]) == (2, 1, 2, 2)
    assert (days[-1]["day"], days[-1]["stories"], days[-1]["new_stories"], days[-1]["outlets"]) == \
        ("2026-01-31", 6, 6, 6)
    code, out, _ = trends("--db", str(db), "--entity", "Steady Org", "--by", "week", "--format", "json")
    weeks = json.loads(out)
    assert sum(r["articles"] for r in weeks) == sum(r["articles"] for r in days) == 37
    assert sum(r["new_stories"] for r in weeks) == sum(r["new_stories"] for r in days) == 36
