"""The Prefect flows against Prefect's test harness (a real temporary Prefect server). prefect.yaml, the
scheduler and a worker are tested against a real `prefect server start` in tests/test_prefect_server.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nwtest import counts, rotherham_config_file, seed_of
from warehouse.db import connect

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):  # 148 s seen at load 17
        yield PREFECT_API_URL.value()



@pytest.mark.timeout(1200)  # a hang guard over the harness start (module setup counts here)
def test_monitor_flow_runs_the_pipeline_in_batches(prefect_server: str, fixture_server, tmp_path: Path) -> None:
    from flows.monitor import digest, monitor

    cfg = rotherham_config_file(tmp_path / "newswatch.toml", fixture_server.feed_url)
    db = str(tmp_path / "flow.duckdb")
    summary = monitor(config_path=str(cfg), db_path=db, batch_size=2)
    assert summary["status"] == "succeeded"
    assert summary["articles_new"] == 5
    con = connect(db, read_only=True)
    try:
        rows = con.execute("select url, syndication_id from articles").fetchall()
    finally:
        con.close()
    synd = {seed_of(u): s for u, s in rows}
    assert synd["001"] == synd["002"] and len(set(synd.values())) == 4
    before = counts(db)
    again = monitor(config_path=str(cfg), db_path=db, batch_size=2)
    assert again["articles_new"] == 0 and counts(db) == before
    out = digest(config_path=str(cfg), db_path=db)
    assert out == [{"watch": "rotherham", "status": "written", "items": 2}]
    assert digest(config_path=str(cfg), db_path=db)[0]["status"] == "empty"
