"""SIGINT and SIGTERM sent to a real `newswatch run` subprocess at each stage: it ends promptly with one line and
exit 130/143, leaves no child process, releases the run lock, records the run `interrupted`, keeps the batches
it stored, and the next run completes with the rest.

The stage is read from the run's own progress (`newswatch -v` logs each stage on stderr), the server's request
log and the run's child processes in /proc, never from sleeps.
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nwtest import REPO, SEEDS
from tests.support.httpserver import Reply, ScriptedServer
from warehouse.db import connect

# A hang guard only: a run that is never interrupted fails the test instead of blocking the suite.
STAGE_TIMEOUT_S = 240
# The requirement: the run is over within this many seconds of the signal (the run's watchdog ends it at 4 s).
EXIT_WITHIN_S = 5

_SENTENCES = [s.strip() for f in sorted(SEEDS.glob("00*.txt"))
              for s in f.read_text(encoding="utf-8").replace("\n", " ").split(". ") if len(s.split()) > 6]


def _page(i: int, words: int, base: str) -> bytes:
    """A unique article page about the watch's topic, about `words` words long."""
    rnd = random.Random(i)
    paras, n = [], 0
    while n < words:
        para = ". ".join(rnd.sample(_SENTENCES, 4)) + f". Report {i} on Rotherham abuse, paragraph {len(paras)}."
        paras.append(f"<p>{para}</p>")
        n += len(para.split())
    title = f"Rotherham abuse inquiry, report {i}"
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="canonical" href="{base}/a/{i}"></head><body><article><h1>{title}</h1>'
            f'{"".join(paras)}</article></body></html>').encode()


def _feed(base: str, n: int) -> bytes:
    items = "".join(
        f"<item><title>Rotherham abuse inquiry, report {i}</title><link>{base}/a/{i}</link><guid>r{i}</guid>"
        f"<description>Report {i} on Rotherham abuse.</description></item>" for i in range(n)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Gazette</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def _site(srv: ScriptedServer, n: int, words: int = 300, *, feed_delay_s: float = 0.0, big_first: int = 0,
          held: threading.Event | None = None, held_from: int = 0) -> None:
    """n article pages and their feed; with held, pages held_from.. answer only once the test sets it."""
    base = srv.base_url
    feed = _feed(base, n)
    if feed_delay_s:  # the first poll hangs; later polls answer at once
        srv.route("/feed.xml", Reply(200, body=feed, headers=RSS, delay_s=feed_delay_s), Reply(200, body=feed, headers=RSS))
    else:
        srv.route("/feed.xml", Reply(200, body=feed, headers=RSS))
    for i in range(n):
        w = big_first if (i == 0 and big_first) else words
        gate = held if held is not None and i >= held_from else None
        srv.route(f"/a/{i}", Reply(200, body=_page(i, w, base), headers=HTML, gate=gate, gate_timeout_s=STAGE_TIMEOUT_S))


def _config(tmp_path: Path, feed_url: str, **fetch: object) -> Path:
    settings = {"allow_private_networks": "true", "per_host_delay_s": "0.0", "retries": "0", **{
        k: str(v) for k, v in fetch.items()}}
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(textwrap.dedent(f"""
        digest_dir = "{tmp_path / 'digests'}"
        [fetch]
        {chr(10).join(f"{k} = {v}" for k, v in settings.items())}
        [[watches]]
        name = "rotherham"
        query = 'Rotherham AND abuse'
        feeds = ["{feed_url}"]
    """))
    return cfg


class Run:
    """A `newswatch -v run` subprocess whose stderr lines are collected as they come."""

    def __init__(self, cfg: Path | None, db: Path, *extra: str, command: str = "run") -> None:
        env = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "120", "PYTHONUNBUFFERED": "1",
               "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "1"}
        args = ["run", "--config", str(cfg), "--db", str(db), "--no-digest"] if command == "run" else \
            [command, "--db", str(db)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newswatch.cli", "-v", *args, *extra],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,  # its own process group, like a command started from a terminal
        )
        self.lines: list[str] = []
        self._cursor = 0  # wait_for looks only at lines after its previous match
        self._q: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_for(self, pattern: str, *, also: Callable[[], bool] | None = None) -> re.Match:
        """Block until a stderr line after the previous match matches pattern (and `also()` holds); fail if the
        run ends first."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        found: re.Match | None = None
        while time.monotonic() < deadline:
            while found is None and self._cursor < len(self.lines):
                found = rx.search(self.lines[self._cursor])
                self._cursor += 1
            if found is not None and (also is None or also()):
                return found
            try:
                line = self._q.get(timeout=0.02)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the run ended before {pattern!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
        pytest.fail(f"no {pattern!r} within {STAGE_TIMEOUT_S}s:\n" + "\n".join(self.lines))

    def interrupt(self, signum: int, after: Callable[[], None] | None = None,
                  group: bool = False) -> tuple[int, float, list[int]]:
        """Send signum to the run (group: to its whole process group, as Ctrl-C in a terminal does), then call
        after(); return (exit code, seconds to exit, the run's child pids then)."""
        children = descendants(self.proc.pid)
        sent = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        if after is not None:
            after()
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail("the run did not end within 60 s of the signal:\n" + "\n".join(self.lines))
        took = time.monotonic() - sent
        self._reader.join(10)
        while True:
            try:
                line = self._q.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return code, took, children


def descendants(pid: int) -> list[int]:
    """Live descendants of pid from /proc (psutil is not installed)."""
    parents: dict[int, list[int]] = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            stat = Path(f"/proc/{e}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(e))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _db_state(db: Path) -> dict:
    con = connect(db, read_only=True)
    try:
        runs = con.execute("select status, error from runs order by started_at").fetchall()
        n = con.execute("select count(*), count(distinct canonical_url) from core.articles").fetchone()
        revisions = con.execute("select count(*) from core.article_revisions").fetchone()[0]
        pending = con.execute("select count(*) from core.feed_entries where not settled").fetchone()[0]
    finally:
        con.close()
    return {"runs": runs, "articles": n[0], "distinct": n[1], "revisions": revisions, "pending": pending}


def _lock_is_free(db: Path) -> bool:
    from flows.pipeline import RunLockedError, run_lock

    try:
        with run_lock(str(db)):
            return True
    except RunLockedError:
        return False


def check_interrupted(run: Run, signum: int, db: Path, stage: str, after: Callable[[], None] | None = None,
                      group: bool = False) -> dict:
    """Everything an interrupted run must have done; returns the database state after it."""
    code, took, children = run.interrupt(signum, after, group)
    out = run.proc.stdout.read() if run.proc.stdout else ""
    assert code == 128 + signum, (code, "\n".join(run.lines))
    assert took < EXIT_WITHIN_S, f"the run took {took:.1f}s to end after {signal.Signals(signum).name}"
    # the stage the run was in when the signal came is the last progress line before it noticed
    at = next(i for i, ln in enumerate(run.lines) if "interrupted by" in ln and "stopping" in ln)
    progress = [ln for ln in run.lines[:at] if ln.startswith("newswatch: ")]
    assert re.search(stage, progress[-1]), (stage, progress[-3:])
    # one line for the user after that, no traceback, no summary
    assert run.lines[at + 1 :] == [run.lines[-1]], run.lines[at:]
    assert re.match(rf"newswatch: interrupted by {signal.Signals(signum).name}: run \w+ recorded as interrupted",
                    run.lines[-1]), run.lines[-1]
    assert "Traceback" not in "\n".join(run.lines) and not out.startswith("run ")
    assert [p for p in children if alive(p)] == [], "child processes outlived the run"
    assert _lock_is_free(db)
    state = _db_state(db)
    assert state["runs"][-1] == ("interrupted", f"interrupted by {signal.Signals(signum).name}")
    assert state["articles"] == state["distinct"] == state["revisions"]
    return state


def rerun_completes(cfg: Path, db: Path, expected_articles: int) -> dict:
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "run", "--config", str(cfg), "--db", str(db),
                        "--no-digest"], cwd=REPO, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "30"})
    assert p.returncode == 0, p.stderr
    assert "succeeded" in p.stdout.splitlines()[0], p.stdout
    state = _db_state(db)
    assert state["articles"] == state["distinct"] == state["revisions"] == expected_articles
    assert state["pending"] == 0
    assert state["runs"][-1][0] == "succeeded"
    return state


def test_sigterm_while_polling_a_feed_that_hangs(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        _site(srv, 3, feed_delay_s=60)
        cfg, db = _config(tmp_path, srv.url("/feed.xml")), tmp_path / "nw.duckdb"
        run = Run(cfg, db)
        run.wait_for(r"polling 1 feed", also=lambda: len(srv.requests_for("/feed.xml")) == 1)
        check_interrupted(run, signal.SIGTERM, db, r"polling 1 feed")
        rerun_completes(cfg, db, 3)


def test_sigint_while_fetching_keeps_the_stored_batch_and_the_rerun_fetches_only_the_rest(tmp_path: Path) -> None:
    n, batch = 30, 10
    held = threading.Event()  # the pages after the first batch are held: the run is fetching them at the signal
    with ScriptedServer() as srv:
        _site(srv, n, held=held, held_from=batch)
        cfg, db = _config(tmp_path, srv.url("/feed.xml"), total_concurrency=2), tmp_path / "nw.duckdb"
        run = Run(cfg, db, "--batch-size", str(batch))
        pages = lambda: sum(len(srv.requests_for(f"/a/{i}")) for i in range(n))  # noqa: E731
        try:
            run.wait_for(r"stored 10 new")  # the first batch is committed
            run.wait_for(r"fetching 10 page", also=lambda: pages() > batch)  # a second-batch request is held
            state = check_interrupted(run, signal.SIGINT, db, r"fetching 10 page")
        finally:
            held.set()
        fetched_before = pages()
        assert state["articles"] == batch  # the committed batch is kept
        assert fetched_before < n  # it stopped fetching instead of finishing the feed
        srv.clear_log()
        rerun_completes(cfg, db, n)
        # the next run fetched exactly the pages not stored, once each
        again = [i for i in range(n) if srv.requests_for(f"/a/{i}")]
        assert len(again) == n - batch and all(len(srv.requests_for(f"/a/{i}")) == 1 for i in again)


def test_sigterm_during_extraction(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        # the first page is very long: extraction is busy on it when the signal comes
        _site(srv, 4, big_first=150_000)
        cfg, db = _config(tmp_path, srv.url("/feed.xml")), tmp_path / "nw.duckdb"
        run = Run(cfg, db)
        run.wait_for(r"extracting 4 page")
        check_interrupted(run, signal.SIGTERM, db, r"extracting 4 page")
        rerun_completes(cfg, db, 4)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c-to-the-group", "SIGTERM"])
def test_signal_during_facts_on_two_processes_leaves_no_worker(tmp_path: Path, signum: int) -> None:
    """Ctrl-C reaches the workers too (they used to print a traceback each, then hang in spaCy's pipe); SIGTERM
    reaches only the parent (the workers used to be left running as orphans)."""
    # enough articles and words for the facts stage to use two spaCy processes (flows/pipeline.py)
    n = 70
    with ScriptedServer() as srv:
        _site(srv, n, words=520)
        cfg, db = _config(tmp_path, srv.url("/feed.xml"), total_concurrency=8, per_host_concurrency=8), \
            tmp_path / "nw.duckdb"
        run = Run(cfg, db)
        run.wait_for(r"facts: 70 article\(s\), \d+ words, 2 process", also=lambda: len(descendants(run.proc.pid)) >= 2)
        assert len(descendants(run.proc.pid)) >= 2
        state = check_interrupted(run, signum, db, r"facts: 70 article", group=signum == signal.SIGINT)
        assert state["articles"] == 0  # the batch in flight is not stored
        rerun_completes(cfg, db, n)


def test_sigint_while_loading_keeps_earlier_batches(tmp_path: Path) -> None:
    """The run waits for its writer window (the test holds the database) in the load stage of its second batch."""
    n, batch = 12, 6
    with ScriptedServer() as srv:
        _site(srv, n)
        cfg, db = _config(tmp_path, srv.url("/feed.xml")), tmp_path / "nw.duckdb"
        run = Run(cfg, db, "--batch-size", str(batch))
        run.wait_for(r"stored 6 new")
        run.wait_for(r"extracting 6 page")  # the second batch: the run holds no connection now
        holder = connect(db)  # a writer elsewhere: the run's load waits for it
        try:
            run.wait_for(r"loading 6 article")
        except BaseException:
            holder.close()
            raise
        # the writer goes away as the signal is sent, so the run can record itself interrupted
        state = check_interrupted(run, signal.SIGINT, db, r"loading 6 article", after=holder.close)
        assert state["articles"] == batch  # the first batch is kept, the second was never stored
        rerun_completes(cfg, db, n)


def test_sigint_stops_an_ingest_of_a_feed_url_and_the_next_ingest_completes(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        _site(srv, 3, feed_delay_s=60)
        db = tmp_path / "nw.duckdb"
        run = Run(None, db, srv.url("/feed.xml"), command="ingest")
        run.wait_for(r"polling 1 feed", also=lambda: len(srv.requests_for("/feed.xml")) == 1)
        check_interrupted(run, signal.SIGINT, db, r"polling 1 feed")
        p = subprocess.run([sys.executable, "-m", "newswatch.cli", "ingest", "--db", str(db), srv.url("/feed.xml")],
                           cwd=REPO, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "1"})
    assert p.returncode == 0, p.stdout + p.stderr
    state = _db_state(db)
    assert state["articles"] == 3 and state["runs"][-1][0] == "succeeded"
