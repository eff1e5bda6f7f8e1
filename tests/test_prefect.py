"""The Prefect flows against Prefect's test harness (a real temporary Prefect server), and prefect.yaml
against the same server with `prefect deploy --all`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nwtest import REPO, counts, seed_of
from warehouse.db import connect

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def _config_file(tmp_path: Path, feed_url: str) -> Path:
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(textwrap.dedent(f"""
        digest_dir = "{tmp_path / 'digests'}"
        [fetch]
        allow_private_networks = true
        per_host_delay_s = 0.0
        retries = 0
        [[watches]]
        name = "rotherham"
        query = '(Rotherham OR IOPC) AND (abuse OR exploit*)'
        feeds = ["{feed_url}"]
    """))
    return cfg


def test_monitor_flow_runs_the_pipeline_in_batches(prefect_server: str, fixture_server, tmp_path: Path) -> None:
    from flows.monitor import digest, monitor

    cfg = _config_file(tmp_path, fixture_server.feed_url)
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


def test_prefect_yaml_deploys_against_a_local_server(prefect_server: str, tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NEWSWATCH_HOME": str(REPO),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    prefect = [sys.executable, "-m", "prefect"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefect, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)

    created = run("work-pool", "create", "newswatch", "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = run("--no-prompt", "deploy", "--all")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    listed = run("deployment", "ls")
    assert "newswatch-monitor/monitor" in listed.stdout, listed.stdout
    assert "newswatch-digest/digest" in listed.stdout, listed.stdout
    inspected = run("deployment", "inspect", "newswatch-monitor/monitor")
    assert inspected.returncode == 0, inspected.stderr
    text = inspected.stdout
    assert "1800" in text  # every 30 minutes
    assert "'limit': 1" in text or '"limit": 1' in text
    daily = run("deployment", "inspect", "newswatch-digest/digest")
    assert "0 7 * * *" in daily.stdout
