"""The `newswatch` console script after `trends`: the output is complete through a pipe, exit codes are those
of the command, and the process skips finalisation only when nothing is left to do at exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from newswatch.cli import main
from tests.nwtest import REPO
from tests.trends.test_trends_views import START
from tests.trends.trendsdata import Warehouse, days

# a script that marks its own exit: the line is printed only when Python's at-exit handlers run
MARKED = ("import atexit, sys; atexit.register(lambda: print('finalised', file=sys.stderr)); {before}"
          "from newswatch.cli import console; sys.argv[0] = 'newswatch'; console()")


def run(*args: str, before: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", MARKED.format(before=before), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def two_years(tmp_path: Path) -> str:
    w = Warehouse()
    for i, d in enumerate(days(START, 730)):
        w.add(d, source=f"O{i % 7}", entities=("Steady Org",))
    return str(w.write(tmp_path / "t.duckdb"))


def test_trends_output_is_whole_through_a_pipe_and_the_process_ends_early(tmp_path: Path) -> None:
    db = two_years(tmp_path)
    expected = CliRunner().invoke(main, ["trends", "--db", db, "--format", "json"]).stdout
    assert len(expected) > 64 * 1024    # more than a pipe holds at once
    p = run("trends", "--db", db, "--format", "json")
    assert (p.returncode, p.stdout) == (0, expected)
    assert "finalised" not in p.stderr   # read-only and nothing pending: no finalisation
    out = tmp_path / "t.csv"
    p = run("trends", "--db", db, "--format", "csv", "--out", str(out))
    assert p.returncode == 0 and out.read_text().count("\n") == 731


def test_errors_other_commands_and_charts_finalise_as_before(tmp_path: Path) -> None:
    db = two_years(tmp_path)
    # png: matplotlib's own at-exit work (a temporary config folder when MPLCONFIGDIR cannot be written) runs
    chart = tmp_path / "t.png"
    p = run("trends", "--db", db, "--format", "png", "--out", str(chart))
    assert p.returncode == 0 and chart.read_bytes().startswith(b"\x89PNG") and "finalised" in p.stderr, p.stderr
    p = run("trends", "--db", db, "--watch", "nope")
    assert p.returncode == 2 and p.stderr.splitlines() == [
        "newswatch: error: unknown watch 'nope'; the warehouse has: w", "finalised"]
    p = run("sql", "--db", db, "select count(*) from articles")
    assert p.returncode == 0 and "730" in p.stdout and "finalised" in p.stderr


def test_work_left_for_exit_is_done(tmp_path: Path) -> None:
    """Something registered for exit (here the extension links folder DuckLake connections use, which the
    at-exit handler removes): trends then exits normally and the folder is gone."""
    db = two_years(tmp_path)
    made = tmp_path / "made.txt"
    before = (f"from warehouse.db import _extension_links_dir; open({str(made)!r}, 'w')"
              ".write(str(_extension_links_dir())); ")
    p = run("trends", "--db", db, "--format", "csv", before=before)
    assert p.returncode == 0 and p.stdout.count("\n") == 731
    assert "finalised" in p.stderr
    assert not Path(made.read_text()).exists()
