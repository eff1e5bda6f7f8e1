"""`newswatch run` honours `[run] runner = "dask"` (issue 13 §4): a real CLI subprocess starts its own LocalCluster
of two worker processes, extracts and finds facts on them, writes the same rows as a local run, and an
unreachable scheduler is one error line, exit 1 and one failed run row, with nothing polled."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.httpserver import ScriptedServer
from tests.test_runner_equivalence import config_in, differences, serve_watches, snapshot
from warehouse.db import connect

ENV = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "5", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}


def _cli(cfg: Path, db: str) -> tuple[subprocess.CompletedProcess, int]:
    """One `newswatch -v run` as a subprocess: (its result, its pid)."""
    with subprocess.Popen(
        [sys.executable, "-m", "newswatch.cli", "-v", "run", "--config", str(cfg), "--db", db, "--batch-size", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    ) as p:
        try:
            out, err = p.communicate(timeout=900)  # a hang guard: the run takes well under a minute when quiet
        except subprocess.TimeoutExpired:
            p.kill()
            raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err), p.pid


@pytest.mark.timeout(1900)
def test_newswatch_run_on_dask_stores_the_rows_of_a_local_run(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        watches = serve_watches(srv)
        local_db, dask_db = str(tmp_path / "local.duckdb"), str(tmp_path / "dask.duckdb")
        local, _ = _cli(config_in(tmp_path / "local", watches), local_db)
        assert local.returncode == 0, local.stderr
        on_dask, pid = _cli(config_in(tmp_path / "dask", watches, 'runner = "dask"\ndask_workers = 2'), dask_db)
        assert on_dask.returncode == 0, on_dask.stderr
    # the chunks ran in the cluster's worker processes, not in the CLI's own
    line = next((ln for ln in on_dask.stderr.splitlines() if "Dask chunks:" in ln), None)
    assert line is not None, on_dask.stderr
    stages = set(re.findall(r"\b(extract|facts) \S+ pid \d+", line))
    pids = {int(p) for p in re.findall(r"pid (\d+)", line)}
    assert stages == {"extract", "facts"} and pids and pid not in pids, line
    assert "Dask chunks" not in local.stderr
    a, b = snapshot(local_db), snapshot(dask_db)
    assert not differences(a, b), "\n".join(differences(a, b))
    assert len(a["watch_articles"]) == 8  # the comparison saw both watches' articles


@pytest.mark.timeout(600)
def test_newswatch_run_with_an_unreachable_scheduler_fails_in_one_line(tmp_path: Path) -> None:
    # a port held bound but never listening: connections are refused and no other server can take it meanwhile
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    address = f"tcp://127.0.0.1:{held.getsockname()[1]}"
    try:
        with ScriptedServer() as srv:
            watches = serve_watches(srv)
            db = str(tmp_path / "bad.duckdb")
            p, _ = _cli(config_in(tmp_path / "cfg", watches, f'runner = "dask"\ndask_address = "{address}"'), db)
            requests = len(srv.requests)
    finally:
        held.close()
    assert p.returncode == 1, (p.returncode, p.stderr)
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("newswatch: error:")]
    assert len(errors) == 1 and f"cannot reach the Dask scheduler at {address}" in errors[0], p.stderr
    assert "Traceback" not in p.stderr
    assert requests == 0  # no feed polled, no robots.txt asked
    con = connect(db, read_only=True)
    try:
        runs = con.execute("SELECT status, error FROM runs").fetchall()
        assert len(runs) == 1 and runs[0][0] == "failed" and address in runs[0][1], runs
        for table in ("articles", "feeds", "skips", "watch_articles"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    finally:
        con.close()
