"""At interpreter exit the pending read copies are published under the backend each warehouse was written with:
a process that wrote a DuckLake warehouse and then switched to the DuckDB backend (the test suite, a library
caller) must not open the DuckLake catalog file as a plain DuckDB warehouse."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.backends import backend_env
from warehouse import db


def test_pending_copies_are_published_under_the_backend_they_were_written_with(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lake = tmp_path / "lake.duckdb"
    with backend_env({"NEWSWATCH_WAREHOUSE_BACKEND": "ducklake"}):
        with db.session(str(lake)) as con:
            con.execute("SELECT count(*) FROM core.articles").fetchone()
        db.publish_read_copy(str(lake), force=True)  # leaves it pending for the exit handler
        assert str(lake.resolve()) in db._pending_publish
    with backend_env({"NEWSWATCH_WAREHOUSE_BACKEND": "duckdb"}), caplog.at_level(logging.WARNING, "warehouse"):
        db._publish_pending()
        assert db.current_backend().kind == "duckdb"  # the environment the exit handler found is restored
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not problems, problems
    assert not db.read_copy_path(lake).exists()  # DuckLake has no read copy: readers read the catalog
    assert not db._pending_publish
    with backend_env({"NEWSWATCH_WAREHOUSE_BACKEND": "ducklake"}), db.session(str(lake), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.articles").fetchone()[0] == 0
