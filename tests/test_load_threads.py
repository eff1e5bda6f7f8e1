"""The load window of a batch runs DuckDB on LOAD_THREADS threads (its statements are small and the pool's
workers hold the cores), and the setting, which belongs to the database instance, is put back afterwards for
another connection of the process to the same file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows import pipeline
from newswatch.config import load_config
from tests.support.httpserver import ScriptedServer
from tests.test_runner_equivalence import config_in, serve_watches
from warehouse import db


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def test_a_batch_is_loaded_on_load_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    upsert = pipeline.load.upsert_articles

    def recording(con, *args, **kwargs):
        seen.append(_threads(con))
        return upsert(con, *args, **kwargs)

    monkeypatch.setattr(pipeline.load, "upsert_articles", recording)
    with ScriptedServer() as srv:
        config = load_config(str(config_in(tmp_path / "cfg", serve_watches(srv), run="workers = 1")))
        report = pipeline.run_monitor(config, str(tmp_path / "w.duckdb"), digest=False, batch_size=3,
                                      stages=pipeline.DIRECT)
    assert report.status == "succeeded", report
    assert len(seen) >= 2 and set(seen) == {pipeline.LOAD_THREADS}, seen


def test_the_setting_is_put_back_for_a_connection_that_shares_the_instance(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    held = duckdb.connect(str(path))
    held.execute("SET threads = 3")
    try:
        con = duckdb.connect(str(path))   # the same database instance as `held`
        with db.duckdb_threads(con, 1):
            assert _threads(held) == 1
        assert _threads(held) == 3
        with pytest.raises(RuntimeError), db.duckdb_threads(con, 1):
            raise RuntimeError("a failed window")
        assert _threads(held) == 3
        con.close()
    finally:
        held.close()
