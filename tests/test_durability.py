"""Durability and concurrency (RELIABILITY.md D21-D25, F30): kill -9 mid-load, locks held by other processes,
readers during a run, snapshots killed midway, overlapping runs, and revisions of a changed article."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.nwtest import REPO, SEEDS, counts, make_config
from warehouse.db import connect

SEED_TXT = sorted(SEEDS.glob("00*.txt"))


def make_corpus(folder: Path, n: int) -> list[Path]:
    """n distinct text files built from the seeds (each a seed plus a paragraph of its own)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        seed = SEED_TXT[i % len(SEED_TXT)].read_text(encoding="utf-8")
        p = folder / f"doc{i:03d}.txt"
        p.write_text(f"{seed}\n\nCorrection {i}: an earlier version of this article misstated item {i}.\n",
                     encoding="utf-8")
        out.append(p)
    return out


def ingest_cmd(db: Path, folder: Path, batch_size: int = 3) -> list[str]:
    return [sys.executable, "-m", "newswatch.cli", "ingest", "--db", str(db), "--watch", "dur",
            "--batch-size", str(batch_size), str(folder)]


def run_ingest(db: Path, folder: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(ingest_cmd(db, folder), cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# The real `newswatch ingest`, started through a probe that reports the run's progress on a pipe: the start of
# the process (before any import), every corpus file it opens, every log line of the pipeline's stages, and in
# the warehouse every connection, transaction start, bulk insert, COMMIT (just before it executes) and closed
# writer window. Nothing is mocked: the probe wraps warehouse.db's functions around the real ones before the
# CLI imports them. NWTEST_KILL_AT="kind:n" arms at the n-th event of that kind; from then on the next event
# of any thread blocks for good, so a kill sent after the armed event lands between it and the next one,
# never after the run is over. NWTEST_PAUSE_AT=kind,... waits for a byte on NWTEST_ACK_FD after each such event.
PROBE = r"""
import os, sys, threading
fd = int(os.environ["NWTEST_EVENTS_FD"])
kill_kind, _, kill_n = os.environ.get("NWTEST_KILL_AT", "").partition(":")
kill_n = int(kill_n or 0)
pause_kinds = os.environ.get("NWTEST_PAUSE_AT", "").split(",")
ack_fd = int(os.environ.get("NWTEST_ACK_FD", "-1"))
corpus = os.environ["NWTEST_CORPUS"]
lock = threading.RLock()
seen = {}
armed = False

def emit(kind, detail=""):
    global armed
    with lock:
        blocked = armed
        n = seen[kind] = seen.get(kind, 0) + 1
        hit = not armed and kind == kill_kind and n == kill_n
        armed = armed or hit
        os.write(fd, f"{kind} {n} {detail}{' ARMED' if hit else ''}\n".encode())
    if blocked:
        threading.Event().wait()
    if kind in pause_kinds and os.read(ack_fd, 1) != b"+":
        os._exit(3)

emit("start")

def audit(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(corpus):
        emit("open", os.path.basename(args[0]))

sys.addaudithook(audit)

import contextlib, logging
import warehouse.db as db

real_connect, real_session, real_transaction, real_insert = db.connect, db.session, db.transaction, db.insert_rows
depth = {}

def connect(*a, **k):
    emit("connect", "read" if k.get("read_only") else "write")
    return real_connect(*a, **k)

@contextlib.contextmanager
def session(*a, **k):
    with real_session(*a, **k) as con:
        yield con
    emit("closed")

@contextlib.contextmanager
def transaction(con):
    outer = not depth.get(id(con))
    if outer:
        emit("begin")
    depth[id(con)] = depth.get(id(con), 0) + 1
    cm = real_transaction(con)
    c = cm.__enter__()
    try:
        yield c
    except BaseException:
        depth[id(con)] -= 1
        if not cm.__exit__(*sys.exc_info()):
            raise
        return
    depth[id(con)] -= 1
    if outer:
        emit("commit")
    cm.__exit__(None, None, None)

def insert_rows(con, table, rows, **kw):
    emit("insert", table)
    return real_insert(con, table, rows, **kw)

db.connect, db.session, db.transaction, db.insert_rows = connect, session, transaction, insert_rows

class Progress(logging.Handler):
    def emit(self, record):
        emit("log", record.getMessage().split()[0] if record.getMessage() else "")

logging.getLogger("flows").addHandler(Progress(logging.INFO))
logging.getLogger("flows").setLevel(logging.INFO)

from newswatch.cli import main
sys.argv = ["newswatch", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    emit("end", str(e.code))
    raise
emit("end", "0")
"""
KINDS = ("start", "open", "log", "connect", "begin", "insert", "commit", "closed")


@dataclass
class ProbedRun:
    returncode: int
    events: list[tuple[str, int, str]]  # (kind, n of that kind, detail)
    armed: tuple[str, int] | None  # the event the kill was armed at
    stderr: str

    @property
    def finished(self) -> bool:
        return any(k == "end" for k, _, _ in self.events)  # main() returned (the probe blocks it after a kill point)

    def count(self, kind: str) -> int:
        return sum(1 for k, _, _ in self.events if k == kind)


def probed_ingest(db: Path, folder: Path, tmp: Path, *, kill_at: tuple[str, int] | None = None,
                  kill_delay_s: float = 0.0, batch_size: int = 3,
                  on_pause: Callable[[tuple[str, int, str]], None] | None = None,
                  pause_at: tuple[str, ...] = (), env: dict | None = None) -> ProbedRun:
    """Run the real CLI under PROBE. With kill_at, SIGKILL it kill_delay_s after that event (the probe holds it
    at the next event, so the kill always lands inside the run); on_pause is called at each pause_at event."""
    r, w = os.pipe()
    ack_r, ack_w = os.pipe()
    env = {**os.environ, **(env or {}), "NWTEST_EVENTS_FD": str(w), "NWTEST_ACK_FD": str(ack_r), "NWTEST_CORPUS": str(folder),
           "NWTEST_KILL_AT": f"{kill_at[0]}:{kill_at[1]}" if kill_at else "", "NWTEST_PAUSE_AT": ",".join(pause_at)}
    errf = tmp / f"stderr-{time.monotonic_ns()}.txt"
    with errf.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", PROBE, *ingest_cmd(db, folder, batch_size)[3:]], cwd=REPO,
                                env=env, pass_fds=(w, ack_r), stdout=subprocess.DEVNULL, stderr=err)
    os.close(w)
    os.close(ack_r)
    events: list[tuple[str, int, str]] = []
    armed = None
    try:
        with os.fdopen(r, "r", encoding="utf-8") as lines:
            for line in lines:  # ends when the process (and with it the write end) is gone
                kind, n, *rest = line.split()
                events.append((kind, int(n), " ".join(x for x in rest if x != "ARMED")))
                if rest and rest[-1] == "ARMED":
                    armed = (kind, int(n))
                    time.sleep(kill_delay_s)
                    proc.send_signal(signal.SIGKILL)
                if kind in pause_at:
                    if on_pause is not None:
                        on_pause(events[-1])
                    os.write(ack_w, b"+")
        proc.wait(timeout=300)
    finally:
        os.close(ack_w)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return ProbedRun(proc.returncode, events, armed, errf.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "docs"
    make_corpus(folder, 36)
    return folder


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Row counts after one uninterrupted ingest of the corpus, and the progress events that run reported."""
    tmp = tmp_path_factory.mktemp("ref")
    run = probed_ingest(tmp / "ref.duckdb", corpus, tmp)
    assert run.returncode == 0 and run.finished, run.stderr
    return {"counts": counts(str(tmp / "ref.duckdb")), "run": run}


def test_the_probe_reports_progress_through_the_whole_run(reference: dict) -> None:
    """The kill points below are only as good as the progress the probe sees: all of loading and every batch."""
    run: ProbedRun = reference["run"]
    assert run.events[0][0] == "start" and run.finished
    assert run.count("open") >= 36  # every corpus file is read
    assert run.count("commit") >= 12 and run.count("insert") >= 12 * 2  # 36 files in batches of 3
    assert run.count("begin") == run.count("commit")
    assert run.count("log") >= 12  # the pipeline's stage lines ("loading 3 article(s)", ...)
    first_commit = next(i for i, e in enumerate(run.events) if e[0] == "commit")
    last_commit = max(i for i, e in enumerate(run.events) if e[0] == "commit")
    assert first_commit < len(run.events) // 2 < last_commit  # batches are committed throughout, not at the end


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_9_at_random_points_then_rerun_loses_and_duplicates_nothing(corpus: Path, reference: dict,
                                                                        tmp_path: Path) -> None:
    db = tmp_path / "killed.duckdb"
    rng = random.Random(20261122)
    # every kind of point in turn: start-up (imports), reading the files, the stages' progress, opening the
    # warehouse, inside a batch's transaction, at its COMMIT, after a writer window closed
    plan = [k for k in KINDS if k != "start"] * 3
    plan = ["start"] + plan[: 19]
    rng.shuffle(plan)
    last = reference["run"]
    kills: list[tuple[str, int, str]] = []
    attempts = 0
    while plan:
        attempts += 1
        assert attempts <= 60, f"could not place the kills {plan} inside the runs: {kills}"
        kind = plan[0]
        available = last.count(kind)
        if available == 0:  # nothing of that kind left to do (everything stored): kill where the run is now
            kind, available = "open", last.count("open")
        n = rng.randint(1, available)
        delay = rng.choice([0.0, 0.0, rng.uniform(0.0, 0.3)])  # often immediately, e.g. during the COMMIT
        run = probed_ingest(db, corpus, tmp_path, kill_at=(kind, n), kill_delay_s=delay)
        if run.armed is None:
            # this run had fewer such events than the last one (earlier batches are stored): it finished
            # normally without reaching the kill point; choose again against its own progress
            assert run.returncode == 0 and run.finished, run.stderr
            last = run
            continue
        assert run.returncode == -signal.SIGKILL, (run.returncode, run.stderr)
        if run.finished:
            last = run  # the point was the run's last event: the kill came after its work, so it does not count
            continue
        kills.append((kind, n, f"{len(run.events)} events"))
        plan.pop(0)
    assert len(kills) == 20
    assert {k for k, _, _ in kills} >= {"start", "open", "insert", "commit"}, kills
    p = run_ingest(db, corpus)
    assert p.returncode == 0, p.stderr
    assert counts(str(db)) == reference["counts"]
    con = connect(str(db), read_only=True)
    try:
        statuses = [r[0] for r in con.execute("select status from runs order by started_at").fetchall()]
        dupes = con.execute(
            "select count(*) from (select article_id from core.articles group by 1 having count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()
    assert dupes == 0
    assert statuses[-1] == "succeeded"
    assert "running" not in statuses  # killed runs are recorded as killed by the next run
    assert statuses.count("killed") >= 1
    assert set(statuses) <= {"succeeded", "killed"}


def test_writer_waits_for_a_lock_held_briefly(corpus: Path, tmp_path: Path) -> None:
    import threading

    db = tmp_path / "locked.duckdb"
    connect(str(db)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " sys.stdin.readline(); c.close()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"

    def at_first_connect(event: tuple[str, int, str]) -> None:
        # the writer is about to open the warehouse while the other process still holds it: let that process
        # go a second later, so the writer meets the lock and has to wait for it
        if event[1] == 1:
            threading.Timer(1.0, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()

    try:
        run = probed_ingest(db, corpus, tmp_path, pause_at=("connect",), on_pause=at_first_connect,
                            env={"NEWSWATCH_LOCK_TIMEOUT": "60"})
    finally:
        try:
            holder.wait(timeout=60)
        finally:
            if holder.poll() is None:  # the run never got to the warehouse
                holder.kill()
                holder.wait(timeout=30)
    assert holder.returncode == 0
    assert run.returncode == 0, run.stderr
    assert counts(str(db))["core.articles"] == 36


def test_writer_gives_up_cleanly_when_the_lock_stays(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "stuck.duckdb"
    connect(str(db)).close()
    before = counts(str(db))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(3600)", str(db)], stdout=subprocess.PIPE, text=True)  # until killed below
    try:
        assert holder.stdout.readline().strip() == "held"
        p = run_ingest(db, corpus, env={"NEWSWATCH_LOCK_TIMEOUT": "1"})
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert p.returncode == 75
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [p.stderr.strip()]
    assert "locked by another newswatch process" in p.stderr
    assert counts(str(db)) == before  # nothing partial


def test_a_second_run_exits_without_writing_while_one_holds_the_run_lock(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    lock = open(f"{db}.run-lock", "w")  # noqa: SIM115 - held for the test
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        p = run_ingest(db, corpus)
    finally:
        lock.close()
    assert p.returncode == 75
    assert "another newswatch run is using" in p.stderr and "Traceback" not in p.stderr
    assert not db.exists()  # not even created


def test_readers_get_answers_while_a_run_writes(corpus: Path, tmp_path: Path) -> None:
    """A reader between two writer windows gets an answer at once; one that arrives while a batch is being
    committed waits for the writer and gets an answer too; each sees whole batches only, growing."""
    import threading

    db = tmp_path / "busy-read.duckdb"
    connect(str(db)).close()
    between: list[int] = []  # read right after each writer window closed (the run held there meanwhile)
    waiting: list[int] = []  # read by a reader that asked while the writer was at its COMMIT
    pending: list[threading.Thread] = []
    errors: list[BaseException] = []

    def read(into: list[int]) -> None:
        try:
            con = connect(str(db), read_only=True, lock_timeout_s=120)
            try:
                into.append(con.execute("select count(*) from articles").fetchone()[0])
            finally:
                con.close()
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            errors.append(e)

    def on_pause(event: tuple[str, int, str]) -> None:
        if event[0] == "commit":  # the writer holds the file: this reader has to wait for it
            t = threading.Thread(target=read, args=(waiting,))
            t.start()
            pending.append(t)
        else:  # "closed": nothing held; the waiting reader (if any) gets in now, before the next window
            for t in pending:
                t.join(180)
            pending.clear()
            read(between)

    run = probed_ingest(db, corpus, tmp_path, batch_size=2, pause_at=("commit", "closed"), on_pause=on_pause)
    for t in pending:
        t.join(180)
    assert run.returncode == 0 and run.finished, run.stderr
    assert not errors, errors
    batches = run.count("commit")
    assert len(waiting) == batches and len(between) == run.count("closed")
    assert between == sorted(between) and waiting == sorted(waiting)  # growing
    assert set(between) == {0, *range(2, 37, 2)}  # after each batch of 2, all of it; never half a batch
    assert set(waiting) <= set(between)


def test_a_killed_snapshot_leaves_the_previous_one_readable(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "src.duckdb"
    assert run_ingest(db, corpus).returncode == 0
    # make the source big enough that the copy takes a while
    con = connect(str(db))
    con.execute("create table core.ballast as select range as i, repeat('x', 200) as pad from range(3000000)")
    con.close()
    dest = tmp_path / "snaps" / "latest.duckdb"
    code = "import sys; from warehouse.db import snapshot; snapshot(sys.argv[1], sys.argv[2])"
    t = time.monotonic()
    first = subprocess.run([sys.executable, "-c", code, str(db), str(dest)], cwd=REPO, timeout=300)
    full = time.monotonic() - t
    assert first.returncode == 0
    size, inode = dest.stat().st_size, dest.stat().st_ino
    rng = random.Random(1122)
    delay = rng.uniform(0.2, 0.6) * full  # aim well into the copy; checked below, not assumed
    for _attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(dest)], cwd=REPO)
        partial = dest.parent / f".latest.duckdb.{proc.pid}.tmp"
        # the export's own progress: its temporary copy exists once it has attached it and started copying
        while not partial.exists() and proc.poll() is None:
            time.sleep(0.002)
        time.sleep(delay)
        # freeze it, then look: still copying (its temporary there, the old snapshot not yet replaced)?
        proc.send_signal(signal.SIGSTOP)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(proc.pid, os.WUNTRACED)
        mid_copy = partial.exists() and dest.stat().st_ino == inode
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if mid_copy:
            break
        delay /= 4  # it had finished (a new complete snapshot): the next try goes in sooner
        size, inode = dest.stat().st_size, dest.stat().st_ino
    assert mid_copy, "every export finished before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    assert dest.stat().st_size == size
    con = connect(str(dest), read_only=True)
    try:
        assert con.execute("select count(*) from articles").fetchone()[0] == 36
    finally:
        con.close()
    leftovers = [p.name for p in dest.parent.iterdir() if p.name != "latest.duckdb"]
    # a killed export may leave its own temporary file, never a partial file under the final name;
    # the next snapshot removes its leftovers
    assert all(n.startswith(".latest.duckdb.") for n in leftovers)


def test_a_changed_article_becomes_a_revision(tmp_path: Path) -> None:
    from flows.pipeline import run_monitor
    from newswatch.demo import serve_fixtures
    from tests.nwtest import seed_of

    db = str(tmp_path / "rev.duckdb")
    with serve_fixtures(port=0) as server:
        run_monitor(make_config(), db, extra_feeds=[server.feed_url], digest=False)
        before = counts(db)
        # the outlet corrects its article and the feed shows the new headline
        feed_body, ctype, mod = server.site.pages["/feeds/rotherham.xml"]
        path = next(p for p in server.site.pages if seed_of(server.base + p) == "004")
        page, pctype, pmod = server.site.pages[path]
        old_title = "Rotherham child abusers were"
        new_title = "CORRECTED: Rotherham child abusers were"
        assert old_title.encode() in page
        server.site.put(path, page.replace(old_title.encode(), new_title.encode())
                        .replace(b"Fourteen officers", b"Fifteen officers"), pctype, pmod)
        server.site.put("/feeds/rotherham.xml", feed_body.replace(old_title.encode(), new_title.encode()), ctype, mod)
        report = run_monitor(make_config(), db, extra_feeds=[server.feed_url], digest=False, force=True)
    assert report.counts["articles_revised"] == 1 and report.counts["articles_new"] == 0
    after = counts(db)
    assert after["core.articles"] == before["core.articles"]
    assert after["core.article_revisions"] == before["core.article_revisions"] + 1
    con = connect(db, read_only=True)
    try:
        title, revision, text = con.execute(
            "select title, revision, text from articles where title like 'CORRECTED%'").fetchone()
        figures = con.execute(
            "select value from figures f join articles a using (article_id) "
            "where a.revision = 2 and f.noun like '%officers%'").fetchall()
    finally:
        con.close()
    assert revision == 2 and "Fifteen officers" in text
    assert (15.0,) in figures and (14.0,) not in figures  # facts follow the new text, old ones are gone


def test_an_extractor_upgrade_recomputes_instead_of_mixing(tmp_path: Path) -> None:
    """Facts and fingerprints carry their version; a run recomputes what an older version made."""
    from flows.pipeline import reprocess_stale, run_monitor
    from newswatch.demo import serve_fixtures

    db = str(tmp_path / "up.duckdb")
    with serve_fixtures(port=0) as server:
        run_monitor(make_config(), db, extra_feeds=[server.feed_url], digest=False)
    before = counts(db)
    con = connect(db)
    try:
        groups_before = con.execute("select article_id, syndication_id, story_id from articles order by 1").fetchall()
        # pretend two articles were processed by an older release
        con.execute("update core.fact_runs set extractor = 'facts-0.9' where article_id in "
                    "(select article_id from core.articles order by article_id limit 2)")
        con.execute("update core.dedup_state set version = 'sh64-old' where article_id in "
                    "(select article_id from core.articles order by article_id limit 1)")
    finally:
        con.close()
    c = reprocess_stale(db, make_config())
    assert c["facts_recomputed"] == 2 and c["groups_recomputed"] == 1
    assert counts(db) == before
    con = connect(db, read_only=True)
    try:
        assert con.execute("select count(*) from core.fact_runs where extractor = 'facts-0.9'").fetchone()[0] == 0
        assert con.execute("select article_id, syndication_id, story_id from articles order by 1").fetchall() == groups_before
    finally:
        con.close()
    assert reprocess_stale(db, make_config()) == {}  # nothing left to do


def test_the_run_lock_can_wait_for_the_holder(tmp_path: Path) -> None:
    import threading

    from flows.pipeline import RunLockedError, run_lock

    db = str(tmp_path / "w.duckdb")
    held = threading.Event()
    release = threading.Event()
    letting_go = threading.Event()

    def holder() -> None:
        with run_lock(db):
            held.set()
            release.wait(30)
            letting_go.set()

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(30)
    with pytest.raises(RunLockedError):
        with run_lock(db, wait_s=0.2):
            pass
    threading.Timer(0.5, release.set).start()
    with run_lock(db, wait_s=60):
        assert letting_go.is_set()  # it waited for the holder instead of giving up or taking the lock beside it
    t.join(30)
