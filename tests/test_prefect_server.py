"""Scheduling for real: a local Prefect server, prefect.yaml deployed with `prefect deploy --all`, the server's
scheduler creating runs for both deployments, and a process worker executing one monitor run into DuckDB.

This is the README's Prefect section, step by step, on loopback (issue 8 §1: with SQLAlchemy 2.1 the scheduler
failed on every loop and no run was ever scheduled, while `deploy` and `inspect` still succeeded).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.nwtest import REPO, rotherham_config_file, seed_of
from tests.support.prefect_server import PrefectServer
from warehouse.db import connect

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}



def _when(run: dict) -> datetime:
    return datetime.fromisoformat(run["expected_start_time"].replace("Z", "+00:00"))


# Bounded by ceilings that a loaded 2-core machine stays far below (server ~15 s, scheduling ~15 s, a run
# ~30 s when idle); the test never asserts on how long anything took.
@pytest.mark.timeout(1200)
def test_scheduler_creates_runs_and_a_worker_executes_a_monitor_run(fixture_server, tmp_path: Path) -> None:
    cfg = rotherham_config_file(tmp_path / "my-newswatch.toml", fixture_server.feed_url)
    env_db = tmp_path / "from-worker-env.duckdb"
    param_db = tmp_path / "from-parameter.duckdb"

    with PrefectServer.start(tmp_path / "prefect-home") as server:
        server.cli("work-pool", "create", "newswatch", "--type", "process")
        server.cli("--no-prompt", "deploy", "--all", cwd=REPO, env={"NEWSWATCH_HOME": str(REPO)})
        monitor_id = server.deployment_id("newswatch-monitor/monitor")
        digest_id = server.deployment_id("newswatch-digest/digest")
        for dep_id in (monitor_id, digest_id):  # never two runs at once; a late one is cancelled, not queued
            dep = server.api("GET", f"/deployments/{dep_id}")
            assert dep["global_concurrency_limit"]["limit"] == 1
            assert dep["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
            assert dep["parameters"]["config_path"] is None and dep["parameters"]["db_path"] is None

        # The server's scheduler (not the test) creates the runs from the schedules in prefect.yaml.
        def scheduled() -> tuple[list[dict], list[dict]] | None:
            monitor_runs = server.flow_runs(monitor_id, ["SCHEDULED"])
            digest_runs = server.flow_runs(digest_id, ["SCHEDULED"])
            return (monitor_runs, digest_runs) if len(monitor_runs) >= 2 and len(digest_runs) >= 2 else None

        monitor_runs, digest_runs = server.wait_for(scheduled, "scheduled runs of both deployments", 300)
        assert all(r["auto_scheduled"] for r in monitor_runs + digest_runs)
        assert _when(monitor_runs[1]) - _when(monitor_runs[0]) == timedelta(minutes=30)
        # the digest deployment only sets the granularity; each watch's digest rules decide when it is due
        assert _when(digest_runs[1]) - _when(digest_runs[0]) == timedelta(minutes=15)
        # The digest is not run below: pausing it deletes its scheduled runs, so that none can come due while the
        # worker runs. Monitoring's first is 30 minutes away.
        server.api("POST", f"/deployments/{digest_id}/pause_deployment")

        # The worker's environment names the user's config and database (README); a run's parameter wins.
        worker = server.spawn("worker", "start", "--pool", "newswatch",
                              env={"NEWSWATCH_CONFIG": str(cfg), "NEWSWATCH_DB": str(env_db)})
        out = server.cli("deployment", "run", "newswatch-monitor/monitor", "--param", f"db_path={param_db}")
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)

        def finished() -> dict | None:
            run = server.api("GET", f"/flow_runs/{run_id}")
            return run if run["state_type"] in TERMINAL else None

        run = server.wait_for(finished, "the worker to execute the monitor run", 600, watch=worker)
        assert run["state_type"] == "COMPLETED", f"{run['state_name']}: {run['state']}\n{worker.output()}"
    assert not [pid for s in server.services for pid in s.left_running()]  # worker, flow run and server are gone

    con = connect(str(param_db), read_only=True)
    try:
        rows = con.execute("select url from articles").fetchall()
        runs = con.execute("select count(*) from runs").fetchone()[0]
    finally:
        con.close()
    assert sorted(seed_of(u) for (u,) in rows) == ["000", "001", "002", "003", "004"]
    assert runs == 1
    assert not env_db.exists()  # the parameter overrode $NEWSWATCH_DB; the config came from $NEWSWATCH_CONFIG
