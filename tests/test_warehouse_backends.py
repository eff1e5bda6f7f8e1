"""The warehouse backends (warehouse/db.py): the same public views and upserts on the DuckDB file and on DuckLake,
and several writers at once on DuckLake with its catalog in a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.pipeline import RunLockedError, run_lock
from tests.nwtest import REPO, rotherham_config_file
from tests.support.backends import BACKENDS, backend_env
from warehouse.db import connect, current_backend, primary_keys, upsert

# every test runs on the backends it names, with the backend's environment (tests/support/backends.py)
on_every_backend = pytest.mark.parametrize("warehouse_backend", BACKENDS, indirect=True)
pytestmark = pytest.mark.usefixtures("warehouse_env")

PUBLIC_COLUMNS = """
    SELECT c.table_name, c.column_name, c.data_type
    FROM duckdb_columns() c JOIN duckdb_views() v
      ON v.database_name = c.database_name AND v.schema_name = c.schema_name AND v.view_name = c.table_name
    WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT v.internal
    ORDER BY c.table_name, c.column_index
"""


@on_every_backend
def test_public_views_have_the_same_columns_and_types_as_on_the_duckdb_file(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    try:
        here = con.execute(PUBLIC_COLUMNS).fetchall()
    finally:
        con.close()
    with backend_env({"NEWSWATCH_WAREHOUSE_BACKEND": "duckdb"}):
        ref = connect(tmp_path / "reference.duckdb")
        try:
            reference = ref.execute(PUBLIC_COLUMNS).fetchall()
        finally:
            ref.close()
    assert {t for t, _, _ in reference} >= {"articles", "runs", "feeds", "watch_articles", "attention", "spikes"}
    assert here == reference


@on_every_backend
def test_upsert_replaces_by_key_ignores_on_request_and_keeps_unlisted_columns(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    try:
        assert primary_keys()["core.feed_entries"] == ("feed_url", "entry_key")
        upsert(con, "core.meta", [("k1", "a"), ("k2", "b")])
        upsert(con, "core.meta", [("k1", "c")])
        upsert(con, "core.meta", [("k2", "ignored")], ignore=True)
        assert dict(con.execute("SELECT key, value FROM core.meta WHERE key LIKE 'k_'").fetchall()) == {
            "k1": "c", "k2": "b"}
        upsert(con, "core.story_terms", columns=("term", "df"), source="SELECT unnest(['x', 'y']) AS term, 1 AS df")
        upsert(con, "core.story_terms", columns=("term", "df"), source="SELECT 'x' AS term, 1 AS df",
               update={"df": "t.df + 1"})
        assert dict(con.execute("SELECT term, df FROM core.story_terms").fetchall()) == {"x": 2, "y": 1}
        # a partial column list updates those columns only (as INSERT OR REPLACE did)
        upsert(con, "core.robots_txt", [("http://a", "2026-01-01T00:00:00Z", 200, b"x")],
               columns=("origin", "fetched_at", "http_status", "body"))
        upsert(con, "core.robots_txt", [("http://a", 404)], columns=("origin", "http_status"))
        assert con.execute("SELECT http_status, body FROM core.robots_txt").fetchall() == [(404, b"x")]
    finally:
        con.close()


@on_every_backend
def test_run_locks_are_per_watch_only_where_several_writers_are_allowed(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    with run_lock(db, watches=["alpha"]):
        with pytest.raises(RunLockedError, match="another newswatch run"), run_lock(db, watches=["alpha"]):
            pass
        if current_backend().concurrent_writers:
            with run_lock(db, watches=["beta"]):  # another watch runs at the same time
                pass
        else:
            with pytest.raises(RunLockedError), run_lock(db, watches=["beta"]):
                pass


def _nw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "60"})


@on_every_backend
@pytest.mark.timeout(900)
def test_the_cli_ingests_queries_and_digests_a_warehouse_on_each_backend(tmp_path: Path) -> None:
    """The commands find the warehouse on every backend (on PostgreSQL nothing is on local disk at --db)."""
    import json

    db = str(tmp_path / "cli.duckdb")
    seeds = sorted(str(p) for p in (REPO / "seeds").glob("00*.txt"))
    p = _nw("ingest", "--db", db, "--watch", "seeds", *seeds)
    assert p.returncode == 0, p.stderr
    assert "articles new 5" in p.stdout
    p = _nw("sql", "--db", db, "--format", "json", "select count(*) AS n, count(DISTINCT syndication_id) AS texts "
            "from articles")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [{"n": 5, "texts": 4}]
    p = _nw("digest", "--db", db, "--watch", "seeds", "--out", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1


SECOND_WATCH = """
[[watches]]
name = "second"
query = '(Rotherham OR IOPC) AND (abuse OR exploit*)'
feeds = ["{feed_url}"]
"""


@pytest.mark.slow
@pytest.mark.timeout(900)  # two whole runs with spaCy at once: ~3.5 min on this 2-core machine under load
@pytest.mark.parametrize("warehouse_backend", ["ducklake-postgres"], indirect=True)
def test_two_runs_of_different_watches_at_once_both_commit_and_readers_never_wait(tmp_path: Path) -> None:
    """Two `newswatch run` processes for two watches (each on its own fixture site), started together, on
    DuckLake on PostgreSQL: both succeed, nothing is lost or stored twice (DuckLake has no key to stop a
    duplicate), and a reader in this process queries all along without a lock error."""
    from newswatch.demo import serve_fixtures

    db = str(tmp_path / "nw.duckdb")
    reader_errors: list[str] = []
    reads: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                con = connect(db, read_only=True, lock_timeout_s=0)
                try:
                    reads.append(con.execute("SELECT count(*) FROM articles").fetchone()[0])
                finally:
                    con.close()
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                reader_errors.append(f"{type(e).__name__}: {e}")

    connect(db).close()  # the lake exists before the reader starts
    reader = threading.Thread(target=read, daemon=True)
    procs: list[subprocess.Popen] = []
    try:
        with serve_fixtures(port=0) as one, serve_fixtures(port=0) as two:
            cfg = rotherham_config_file(tmp_path / "nw.toml", one.feed_url)
            cfg.write_text(cfg.read_text() + SECOND_WATCH.format(feed_url=two.feed_url))
            reader.start()
            env = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "120"}
            for name in ("rotherham", "second"):  # each in its own session: stopped with its worker processes
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "newswatch.cli", "run", "--config", str(cfg), "--db", db, "--watch",
                     name, "--no-digest"],
                    cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    start_new_session=True,
                ))
            # one bound for both (a hang guard), under the test's own timeout so the cleanup below still runs
            deadline = time.monotonic() + 780
            outs = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in procs]
    finally:
        # on any failure too: no run left writing, no reader left querying for the rest of the session
        done.set()
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)  # the group's id is the run's pid
                p.communicate(timeout=60)
        if reader.is_alive():
            reader.join(timeout=60)
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, f"{out}\n{err}"
    assert reader_errors == []
    assert reads, "the reader never got an answer"
    con = connect(db, read_only=True)
    try:
        runs = con.execute("SELECT watches, status, articles_new FROM runs ORDER BY watches").fetchall()
        assert runs == [("rotherham", "succeeded", 5), ("second", "succeeded", 5)]
        for table, key in (("core.articles", "article_id"), ("core.feed_entries", "feed_url, entry_key"),
                           ("core.watch_articles", "watch, article_id"), ("core.fingerprints", "article_id"),
                           ("core.article_groups", "article_id"), ("core.feed_state", "feed_url"),
                           ("core.meta", "key")):
            dupes = con.execute(f"SELECT {key}, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1").fetchall()
            assert dupes == [], f"{table} has duplicate keys: {dupes}"
        per_watch = dict(con.execute("SELECT watch, count(*) FROM articles GROUP BY watch").fetchall())
        assert per_watch == {"rotherham": 5, "second": 5}
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 10
        assert con.execute("SELECT count(*) FROM core.feed_entries WHERE NOT settled").fetchone()[0] == 0
        # both sites carry the same five texts, four of them distinct (seed 002 copies 001): the two writers'
        # articles are grouped with each other as if one run had stored them all
        assert con.execute("SELECT count(DISTINCT syndication_id) FROM articles").fetchone()[0] == 4
    finally:
        con.close()
