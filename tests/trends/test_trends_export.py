"""`newswatch export`: every public view and core table to Parquet, read back identical; a killed export
leaves the previous one intact."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from newswatch.cli import main
from tests.nwtest import REPO
from warehouse.db import connect
from warehouse.export import export_targets


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_round_trip_has_every_view_and_table_with_the_same_rows(demo_run: dict, tmp_path: Path) -> None:
    dest = tmp_path / "export"
    r = CliRunner().invoke(main, ["export", "--db", demo_run["db"], str(dest)])
    assert r.exit_code == 0, r.stderr
    con = connect(demo_run["db"], read_only=True)
    try:
        targets = export_targets(con)
        assert {"articles", "attention", "spikes", "core.articles", "core.entity_mentions"} <= {n for n, _ in targets}
        assert sorted(p.name for p in dest.iterdir() if p.is_dir()) == sorted(n for n, _ in targets)
        # dated tables are partitioned by month, hive style
        assert sorted(p.name for p in (dest / "articles").iterdir()) == sorted(
            f"month={m}" for (m,) in con.execute(
                "select distinct strftime(timezone('UTC', published_at), '%Y-%m') from articles").fetchall())
        for name, relation in targets:
            files = f"{dest / name}/**/*.parquet"
            cols = [c[0] for c in con.execute(f"describe select * from {relation}").fetchall()]
            col_list = ", ".join(f'"{c}"' for c in cols)
            back = f"(select {col_list} from read_parquet('{files}', hive_partitioning = true, union_by_name = true))"
            n_src = con.execute(f"select count(*) from {relation}").fetchone()[0]
            assert con.execute(f"select count(*) from {back}").fetchone()[0] == n_src, name
            for a, b in ((f"select {col_list} from {relation}", f"select * from {back}"),
                         (f"select * from {back}", f"select {col_list} from {relation}")):
                diff = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                assert diff == 0, f"{name}: {diff} rows differ after the round trip"
    finally:
        con.close()


def test_a_killed_export_leaves_the_previous_one_intact(demo_run: dict, tmp_path: Path) -> None:
    db = tmp_path / "big.duckdb"
    # a copy of the demo warehouse with a big core table, so that the export takes long enough to be killed
    shutil.copyfile(demo_run["db"], db)
    con = connect(str(db))
    con.execute("create table core.zz_ballast as select range as i, md5(range::varchar) as pad, "
                "timestamptz '2020-01-01' + to_minutes(range) as at from range(3000000)")
    con.close()
    dest = tmp_path / "exports" / "latest"
    cmd = [sys.executable, "-m", "newswatch.cli", "export", "--db", str(db), str(dest)]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = tree(dest)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = dest.with_name(f".latest.{proc.pid}.tmp")
    deadline = time.monotonic() + 120
    # kill it once it is well into writing: the views are written and the core tables have begun
    while not (tmp / "core.articles").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the export finished before it could be killed"
    assert tmp.exists()
    assert tree(dest) == before
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in dest.parent.iterdir()) == ["latest"]   # the killed one's folder is removed
    assert tree(dest).keys() == before.keys()


def test_export_refuses_a_folder_that_is_not_an_export(demo_run: dict, tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    r = CliRunner().invoke(main, ["export", "--db", demo_run["db"], str(dest)])
    assert r.exit_code != 0 and "not a newswatch export" in r.stderr
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
