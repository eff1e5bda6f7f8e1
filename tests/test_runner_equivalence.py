"""`newswatch run` (a real CLI subprocess) and the Prefect `monitor` flow (in-process, Prefect's test harness) run
the same fixture watches into two DuckDB files, which must hold the same rows in every public view: both go
through the one runner (flows.pipeline.run_batches), and this test fails if they ever diverge again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import Reply, ScriptedServer
from tests.test_watches import BINS, FEED_A, FEED_B, JUSTICE, PAGES, page_requests, serve_site, write_config
from warehouse.db import connect

pytestmark = pytest.mark.prefect

# Columns left out of the comparison, and why. Each holds a value of the run itself, not of what it stored.
PER_RUN = {
    "run_id": "a new id per run (hash of the command and its start time)",
    "started_at": "wall-clock time of the run",
    "finished_at": "wall-clock time of the run",
    "fetched_at": "when the page was fetched: wall clock",
    "first_seen_at": "when the article was first stored: wall clock",
    "matched_at": "when the watch first matched the article: wall clock",
    "extracted_at": "when facts were extracted: wall clock",
    "detected_at": "when a copy edge was found: wall clock",
    "polled_at": "when the feed was polled: wall clock",
    "last_polled_at": "feed health times: wall clock",
    "last_ok_at": "feed health times: wall clock",
    "last_new_entry_at": "feed health times: wall clock",
    "next_poll_at": "the next poll is scheduled from the poll's wall-clock time",
    "created_at": "when a digest or story row was made: wall clock",
    "updated_at": "when a story row was last changed: wall clock",
    "first_fetched": "story: first fetch time of its articles, wall clock",
    "last_fetched": "story: last fetch time of its articles, wall clock",
    "delivered_at": "when the digest was written: wall clock",
    "since": "the previous digest's created_at (none here, but a wall-clock value when set)",
    "eml_path": "the digest folder differs between the two runs (one per config, so files never clash)",
    "html_path": "the digest folder differs between the two runs",
    "elapsed_s": "how long a feed request took: network timing",
    "latest_article_at": "freshness: when the newest article was stored, wall clock",
    "latest_run_started_at": "freshness: wall clock of the last run",
    "trends_refreshed_at": "freshness: wall clock of the last trend refresh",
}
# skipped_at is not dropped: it is replaced by the batch it was stored with (skips of one batch share one
# skipped_at), so a skip attached to another batch (e.g. poll skips with the last batch instead of the first)
# makes the two warehouses differ.
BATCH_ORDINAL = {"skips": "skipped_at"}


def serve_watches(srv: ScriptedServer) -> list[tuple[str, str, list[str]]]:
    """The fixture watches every runner is compared on (here, tests/test_dask.py, tests/test_dask_cli.py): two
    overlapping feeds of real pages and a feed whose entry has no link (a poll skip, stored with the first batch)."""
    urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
    srv.route("/c.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>C</title>'
        b'<item><title>No link here</title><guid isPermaLink="false">c1</guid></item></channel></rss>')))
    feeds = [urls["/a.xml"], urls["/b.xml"], srv.url("/c.xml")]
    return [("justice", JUSTICE, feeds), ("bins", BINS, feeds)]


def config_in(folder: Path, watches: list, run: str = "") -> Path:
    """folder/nw.toml for these watches, with a [run] table when given."""
    folder.mkdir()
    cfg = write_config(folder / "nw.toml", watches)
    if run:
        cfg.write_text(cfg.read_text() + "\n[run]\n" + run + "\n")
    return cfg


def _norm(v: object) -> object:
    if isinstance(v, list | tuple):
        return tuple(_norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    return v


def snapshot(db: str) -> dict[str, Counter]:
    """Every public view's rows (as a multiset), per-run columns left out."""
    con = connect(db, read_only=True)
    try:
        views = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        out: dict[str, Counter] = {}
        for v in views:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                "ORDER BY ordinal_position", [v]).fetchall()]
            keep = [c for c in cols if c not in PER_RUN]
            select = ", ".join(f'"{c}"' for c in keep if c != BATCH_ORDINAL.get(v))
            if v in BATCH_ORDINAL:
                select += f', dense_rank() OVER (ORDER BY "{BATCH_ORDINAL[v]}") AS batch'
            out[v] = Counter(_norm(tuple(r)) for r in con.execute(f'SELECT {select} FROM "{v}"').fetchall())
        return out
    finally:
        con.close()


def differences(a: dict[str, Counter], b: dict[str, Counter]) -> list[str]:
    diffs = [f"view {v} only in one warehouse" for v in sorted(set(a) ^ set(b))]
    for v in sorted(set(a) & set(b)):
        if a[v] != b[v]:
            diffs.append(f"{v}: only CLI {sorted(map(repr, a[v] - b[v]))[:3]}; only flow {sorted(map(repr, b[v] - a[v]))[:3]}")
    return diffs


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):  # 148 s seen at load 17
        yield PREFECT_API_URL.value()


@pytest.mark.timeout(1200)  # a hang guard over the harness start (module setup counts here)
def test_the_cli_and_the_prefect_flow_store_the_same_rows(prefect_server: str, tmp_path: Path) -> None:
    from flows.monitor import monitor

    with ScriptedServer() as srv:
        watches = serve_watches(srv)
        cli_cfg, flow_cfg = config_in(tmp_path / "cli", watches), config_in(tmp_path / "flow", watches)
        cli_db, flow_db = str(tmp_path / "cli.duckdb"), str(tmp_path / "flow.duckdb")

        p = subprocess.run(
            [sys.executable, "-m", "newswatch.cli", "run", "--config", str(cli_cfg), "--db", cli_db,
             "--batch-size", "2"],
            capture_output=True, text=True, timeout=600, env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "5"})
        assert p.returncode == 0, p.stderr
        cli_pages, cli_robots = page_requests(srv), len(srv.requests_for("/robots.txt"))

        summary = monitor(config_path=str(flow_cfg), db_path=flow_db, batch_size=2, digest=True)
        flow_pages = page_requests(srv) - cli_pages
        flow_robots = len(srv.requests_for("/robots.txt")) - cli_robots

    assert summary["status"] == "succeeded", summary
    # one Fetcher per run in both: robots.txt asked once (a Fetcher per task asked it again for each batch)
    assert cli_robots == flow_robots == 1
    assert cli_pages == flow_pages == Counter({n: 1 for n in PAGES})
    a, b = snapshot(cli_db), snapshot(flow_db)
    assert not differences(a, b), "\n".join(differences(a, b))
    # the comparison saw what matters: both watches' articles, per-watch skips, the poll skip, two digests
    assert len(a["watch_articles"]) == 8 and len(a["digests"]) == 2
    assert sum(n for row, n in a["skips"].items() if "no_link" in row) == 1
    assert sum(a["run_watches"].values()) == 2
    for c in PER_RUN:  # the exclusions name real columns (a renamed column must not silently stop being compared)
        assert any(c in (r[0] for r in _columns(cli_db, v)) for v in a), c

    # and it notices a skip stored with another batch: move the poll skip to the last batch in a copy
    moved = str(tmp_path / "moved.duckdb")
    shutil.copy(cli_db, moved)
    con = connect(moved)
    try:
        con.execute("UPDATE core.skips SET skipped_at = (SELECT max(skipped_at) FROM core.skips) "
                    "WHERE reason = 'no_link'")
    finally:
        con.close()
    assert any(d.startswith("skips:") for d in differences(a, snapshot(moved)))


def _columns(db: str, view: str) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                           "AND table_name = ?", [view]).fetchall()
    finally:
        con.close()


def test_the_same_warehouse_whatever_the_number_of_workers(tmp_path: Path) -> None:
    """`[run] workers = 1` (every stage in the main process, batch after batch) and `workers = 2` (streaming:
    extraction and facts in the worker pool) store the same rows in every public view, poll skip included."""
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        srv.route("/c.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>C</title>'
            b'<item><title>No link here</title><guid isPermaLink="false">c1</guid></item></channel></rss>')))
        feeds = [urls["/a.xml"], urls["/b.xml"], srv.url("/c.xml")]
        watches = [("justice", JUSTICE, feeds), ("bins", BINS, feeds)]
        snaps = []
        for workers in (1, 2):
            (tmp_path / f"w{workers}").mkdir()
            cfg = write_config(tmp_path / f"w{workers}" / "nw.toml", watches)
            cfg.write_text(cfg.read_text() + f"\n[run]\nworkers = {workers}\n")
            db = str(tmp_path / f"w{workers}.duckdb")
            p = subprocess.run(
                [sys.executable, "-m", "newswatch.cli", "-v", "run", "--config", str(cfg), "--db", db,
                 "--batch-size", "3"],
                capture_output=True, text=True, timeout=600, env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "5"})
            assert p.returncode == 0, p.stderr
            # the pool ran (its facts line names the workers) only when asked for
            assert ("process(es) (pool)" in p.stderr) == (workers == 2), p.stderr
            snaps.append(snapshot(db))
    a, b = snaps
    assert not differences(a, b), "\n".join(differences(a, b))
    # the comparison saw what the pool makes: articles, their facts, per-watch matches
    assert len(a["watch_articles"]) == 8 and len(a["entity_mentions"]) > 0 and len(a["fact_runs"]) > 0
    assert sum(n for row, n in a["skips"].items() if "no_link" in row) == 1
