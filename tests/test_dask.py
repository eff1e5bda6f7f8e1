"""`[run] runner = "dask"` (issue 13 §4): the Prefect monitor flow sends extraction and facts in chunks as Prefect
tasks to a real Dask LocalCluster (two worker processes on loopback) and stores the same rows in every public view
as a local run; the chunks really ran on the workers; an unreachable scheduler fails the run before anything is
written; bad [run] values are one clear config error."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newswatch.config import parse_config
from newswatch.errors import ConfigError
from tests.support.httpserver import ScriptedServer
from tests.test_runner_equivalence import config_in, differences, serve_watches, snapshot
from tests.test_watches import PAGES, page_requests
from warehouse.db import connect

WATCH = '[[watches]]\nname = "a"\nquery = "x"\nfeeds = ["https://example.org/feed.xml"]\n'


@pytest.mark.parametrize(("run", "expected"), [
    ('runner = "ray"', "run.runner: Input should be 'local' or 'dask' (got 'ray')"),
    ('runner = "dask"\ndask_address = "localhost:8786"',
     "run.dask_address: 'localhost:8786' is not a Dask scheduler address"),
    ('runner = "dask"\ndask_address = "tcp://scheduler"', "is not a Dask scheduler address"),
    ('runner = "dask"\ndask_address = "http://scheduler:8786"', "is not a Dask scheduler address"),
    ('runner = "dask"\ndask_workers = 0', "run.dask_workers: Input should be greater than or equal to 1"),
    ('runner = "dask"\ndask_workers = "2"', "run.dask_workers: Input should be a valid integer"),
    ('dask_address = "tcp://scheduler:8786"', "run: dask_address is set but runner is 'local'"),
    ('runer = "dask"', "unknown key 'runer' (did you mean 'runner'?)"),
])
def test_bad_run_settings_are_one_clear_line(run: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(WATCH + "[run]\n" + run + "\n", origin="nw.toml")
    assert expected in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_run_settings_default_to_the_local_runner() -> None:
    run = parse_config(WATCH).run
    assert (run.runner, run.dask_address, run.dask_workers) == ("local", "", 2)
    run = parse_config(WATCH + '[run]\nrunner = "dask"\ndask_address = "tcp://10.0.0.5:8786"\n').run
    assert (run.runner, run.dask_address) == ("dask", "tcp://10.0.0.5:8786")
    assert parse_config(WATCH + '[run]\nrunner = "dask"\ndask_address = "tls://[::1]:8786"\n').run.dask_address


# ---- real clusters ----------------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], bound_s: float = 120.0) -> set[int]:
    """The pids still alive after waiting up to bound_s (a hang guard, not a timing claim)."""
    deadline = time.monotonic() + bound_s
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    # a hang guard: the test server took 148 s to answer at load 17 on this 2-core machine (120 s failed it)
    with prefect_test_harness(server_startup_timeout=600):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, set[int]]]:
    """A LocalCluster of two worker processes (one thread each) on loopback: (scheduler address, worker pids).
    Closed at the end of the module; its worker processes must be gone then."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as c, Client(c, set_as_default=False, timeout="120s") as client:
        client.wait_for_workers(2, timeout=180)
        pids = set(client.run(os.getpid).values())
        yield c.scheduler_address, pids
    assert not _wait_gone(pids), "Dask worker processes left running"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[ScriptedServer, list]]:
    """The fixture watches of tests/test_runner_equivalence.py: two overlapping feeds of real pages and a feed
    whose entry has no link (a poll skip stored with the first batch)."""
    with ScriptedServer() as srv:
        yield srv, serve_watches(srv)


@pytest.fixture(scope="module")
def local_run(prefect_server: str, site: tuple, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter]:
    """The monitor flow with the local runner: what every Dask run must store."""
    from flows.monitor import monitor

    srv, watches = site
    folder = tmp_path_factory.mktemp("local")
    before = page_requests(srv)
    summary = monitor(config_path=str(config_in(folder / "cfg", watches)), db_path=str(folder / "local.duckdb"),
                      batch_size=3, digest=True)
    assert summary["status"] == "succeeded", summary
    assert "dask" not in summary
    assert page_requests(srv) - before == Counter({n: 1 for n in PAGES})
    snap = snapshot(str(folder / "local.duckdb"))
    # the comparison sees what matters: both watches' articles, their facts, the poll skip, two digests
    assert len(snap["watch_articles"]) == 8 and len(snap["entity_mentions"]) > 0 and len(snap["digests"]) == 2
    assert sum(n for row, n in snap["skips"].items() if "no_link" in row) == 1
    return snap


def _chunk_task_runs(flow_run_id: object, expected: Counter, bound_s: float = 600.0) -> Counter:
    """The flow run's chunk task runs, (name, state) -> count, once they equal `expected` or after bound_s (a hang
    guard). Prefect records task run states from the events the workers send, asynchronously: right after the
    flow returns the server may not have all of them yet."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + bound_s
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            seen = Counter((r.name.rsplit("-", 1)[0], r.state_type.value if r.state_type else None) for r in runs)
            chunk_runs = Counter({k: n for k, n in seen.items() if k[0] in ("extract-chunk", "facts-chunk")})
            if chunk_runs == expected or time.monotonic() > deadline:
                return chunk_runs
            time.sleep(1.0)


@pytest.mark.prefect
@pytest.mark.timeout(1200)
def test_a_dask_run_stores_the_rows_of_a_local_run_and_its_chunks_ran_on_the_workers(
    prefect_server: str, cluster: tuple[str, set[int]], site: tuple, local_run: dict, tmp_path: Path
) -> None:
    from flows.monitor import monitor

    address, worker_pids = cluster
    srv, watches = site
    cfg = config_in(tmp_path / "cfg", watches, f'runner = "dask"\ndask_address = "{address}"')
    db = str(tmp_path / "dask.duckdb")
    before = page_requests(srv)
    state = monitor(config_path=str(cfg), db_path=db, batch_size=3, digest=True, return_state=True)
    summary = state.result()
    assert summary["status"] == "succeeded", summary
    # fetching stays in the flow process: each page fetched once, as in the local run
    assert page_requests(srv) - before == Counter({n: 1 for n in PAGES})
    dask = snapshot(db)
    assert not differences(local_run, dask), "\n".join(differences(local_run, dask))

    # every chunk ran on one of the cluster's two worker processes, none in this (the flow's) process
    rows = summary["dask"]
    assert {r["pid"] for r in rows} <= worker_pids and os.getpid() not in {r["pid"] for r in rows}, rows
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in rows), rows
    chunks = Counter()
    for r in rows:
        chunks[r["stage"]] += r["chunks"]
    # 6 pages in batches of 3, cut into up to 4 chunks each (2 per worker): 3 + 3 extraction chunks
    assert chunks["extract"] == 6 and chunks["facts"] >= 2, rows
    # and each chunk was a Prefect task run of this flow run, completed, and no other chunk task run
    expected = Counter({("extract-chunk", "COMPLETED"): chunks["extract"],
                        ("facts-chunk", "COMPLETED"): chunks["facts"]})
    runs = _chunk_task_runs(state.state_details.flow_run_id, expected)
    assert runs == expected, runs


@pytest.mark.prefect
@pytest.mark.timeout(1200)
def test_without_an_address_the_run_starts_a_local_cluster_and_closes_it(
    prefect_server: str, site: tuple, local_run: dict, tmp_path: Path
) -> None:
    from flows.monitor import monitor

    srv, watches = site
    cfg = config_in(tmp_path / "cfg", watches, 'runner = "dask"\ndask_workers = 2')
    db = str(tmp_path / "own.duckdb")
    summary = monitor(config_path=str(cfg), db_path=db, batch_size=3, digest=True)
    assert summary["status"] == "succeeded", summary
    pids = {r["pid"] for r in summary["dask"]}
    assert pids and os.getpid() not in pids and len(pids) <= 2, summary["dask"]
    assert not _wait_gone(pids), "the run's LocalCluster left worker processes running"
    dask = snapshot(db)
    assert not differences(local_run, dask), "\n".join(differences(local_run, dask))


@pytest.mark.timeout(1200)
@pytest.mark.prefect  # its local_run fixture starts the Prefect test server
def test_the_plain_client_path_stores_the_same_rows(
    cluster: tuple[str, set[int]], site: tuple, local_run: dict, tmp_path: Path
) -> None:
    """Without Prefect (bench/dask_bench.py, library callers): the same stages as plain functions on a Client."""
    from flows import cluster as on_dask
    from flows.pipeline import run_monitor
    from newswatch.config import load_config

    address, worker_pids = cluster
    srv, watches = site
    config = load_config(config_in(tmp_path / "cfg", watches, f'runner = "dask"\ndask_address = "{address}"'))
    db = str(tmp_path / "plain.duckdb")
    with on_dask.dask_stages(config) as (stages, work):
        report = run_monitor(config, db, digest=True, batch_size=3, stages=stages)
    assert report.status == "succeeded", report.error
    assert {p for _, _, p in work.chunks} <= worker_pids
    dask = snapshot(db)
    assert not differences(local_run, dask), "\n".join(differences(local_run, dask))


@pytest.mark.prefect
@pytest.mark.timeout(600)
def test_an_unreachable_scheduler_fails_the_run_and_writes_nothing_else(
    prefect_server: str, site: tuple, tmp_path: Path
) -> None:
    import dask

    from flows.monitor import monitor

    srv, watches = site
    # a port held bound but never listening: connections to it are refused, and nothing else (another test's
    # server) can take it between choosing it and the run's connect
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    address = f"tcp://127.0.0.1:{held.getsockname()[1]}"
    cfg = config_in(tmp_path / "cfg", watches, f'runner = "dask"\ndask_address = "{address}"')
    db = str(tmp_path / "bad.duckdb")
    seen = len(srv.requests)
    # Dask's own connect timeout (30 s by default; DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT in production)
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
            state = monitor(config_path=str(cfg), db_path=db, batch_size=3, return_state=True)
    finally:
        held.close()
    assert state.is_failed()
    assert f"cannot reach the Dask scheduler at {address}" in state.message, state.message
    assert "\n" not in state.message and "Traceback" not in state.message
    assert len(srv.requests) == seen  # no feed polled, no robots.txt asked
    con = connect(db, read_only=True)
    try:
        runs = con.execute("SELECT status, error FROM runs").fetchall()
        assert len(runs) == 1 and runs[0][0] == "failed" and address in runs[0][1], runs
        for table in ("articles", "feeds", "skips", "watch_articles"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert con.execute("SELECT count(*) FROM core.feed_entries").fetchone()[0] == 0
    finally:
        con.close()
