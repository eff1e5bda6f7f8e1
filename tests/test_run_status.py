"""Failures are reported as failures: run statuses (succeeded, partial, failed), exit codes, the summary's reasons
per feed and next poll times, `newswatch digest` after SMTP failures (a real aiosmtpd server), and the Prefect
flows' final states (Prefect's test harness)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.nwtest import REPO, SEEDS
from tests.support.httpserver import Reply, ScriptedServer
from warehouse.db import connect

SEED_TXT = sorted(SEEDS.glob("00*.txt"))
GOOD_PAGE_DIR = SEEDS / "fixtures" / "site" / "news.sky.com"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def nw(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "10"})


def refused_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _feed(base: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
                      f"<description>Rotherham abuse: {t}</description></item>" for t, link in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Gazette</title><link>{base}/</link>'
            f"{entries}</channel></rss>").encode()


def _config(tmp_path: Path, feeds: list[str], smtp: dict | None = None, recipients: tuple[str, ...] = ()) -> Path:
    cfg = tmp_path / "newswatch.toml"
    smtp_block = ""
    if smtp:
        smtp_block = "[smtp]\n" + "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {str(v).lower()}"
                                             for k, v in smtp.items())
    cfg.write_text(textwrap.dedent(f"""
        digest_dir = "{tmp_path / 'digests'}"
        [fetch]
        allow_private_networks = true
        per_host_delay_s = 0.0
        retries = 0
        connect_timeout_s = 2.0
        """) + smtp_block + textwrap.dedent(f"""
        [[watches]]
        name = "rotherham"
        query = '(Rotherham OR IOPC) AND (abuse OR exploit*)'
        feeds = {feeds!r}
        recipients = {list(recipients)!r}
        """))
    return cfg


@pytest.fixture
def site() -> Iterator[ScriptedServer]:
    """A good feed with one article, a 404 feed and an HTML page that is no feed."""
    with ScriptedServer() as srv:
        base = srv.base_url
        page = next(GOOD_PAGE_DIR.rglob("*.html")).read_text(encoding="utf-8").replace("__BASE__", base).encode()
        srv.route("/article", Reply(200, body=page, headers=HTML))
        srv.route("/good.xml", Reply(200, body=_feed(base, [("Rotherham abuse report", f"{base}/article")]),
                                     headers=RSS))
        srv.route("/login", Reply(200, body=b"<!doctype html><html><body><form>Sign in</form></body></html>",
                                  headers=HTML))
        yield srv


def _runs(db: Path) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        return con.execute("select status, error from runs order by started_at").fetchall()
    finally:
        con.close()


def test_a_run_where_every_feed_failed_is_failed_and_names_each_feed_and_reason(site: ScriptedServer,
                                                                              tmp_path: Path) -> None:
    refused = f"http://127.0.0.1:{refused_port()}/feed.xml"
    feeds = [site.url("/missing.xml"), site.url("/login"), refused]
    db = tmp_path / "nw.duckdb"
    p = nw("run", "--config", str(_config(tmp_path, feeds)), "--db", str(db), "--no-digest")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.splitlines()[0].endswith(": failed"), p.stdout
    failed = dict(ln.strip().removeprefix("feed failed: ").split(": ", 1)
                  for ln in p.stdout.splitlines() if ln.strip().startswith("feed failed:"))
    assert failed[site.url("/missing.xml")] == "HTTP 404"
    assert failed[site.url("/login")].startswith("not a feed")
    # the host is down: not blamed on robots.txt
    assert "connection refused" in failed[refused] and "robots" not in failed[refused]
    err = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("newswatch: error: run ") and "no feed could be polled" in err[0]
    assert "Traceback" not in p.stderr
    status, error = _runs(db)[-1]
    assert status == "failed" and "no feed could be polled" in error and "connection refused" in error


def test_some_feeds_failing_is_partial_with_a_warning_and_exit_0(site: ScriptedServer, tmp_path: Path) -> None:
    feeds = [site.url("/good.xml"), site.url("/missing.xml")]
    db = tmp_path / "nw.duckdb"
    p = nw("run", "--config", str(_config(tmp_path, feeds)), "--db", str(db), "--no-digest")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].endswith(": partial"), p.stdout
    assert f"feed failed: {site.url('/missing.xml')}: HTTP 404" in p.stdout
    assert "newswatch: warning: run " in p.stderr and "1 of 2 feed(s) failed" in p.stderr
    assert _runs(db)[-1][0] == "partial"


def test_feeds_not_due_are_listed_with_their_next_poll_time(site: ScriptedServer, tmp_path: Path) -> None:
    cfg, db = _config(tmp_path, [site.url("/good.xml")]), tmp_path / "nw.duckdb"
    first = nw("run", "--config", str(cfg), "--db", str(db), "--no-digest")
    assert first.returncode == 0 and ": succeeded" in first.stdout.splitlines()[0], first.stdout + first.stderr
    con = connect(db, read_only=True)
    try:
        next_poll = con.execute("select next_poll_at from core.feed_state").fetchone()[0]
    finally:
        con.close()
    again = nw("run", "--config", str(cfg), "--db", str(db), "--no-digest")
    assert again.returncode == 0 and ": succeeded" in again.stdout.splitlines()[0], again.stdout
    from datetime import UTC

    when = next_poll.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert f"feed not due: {site.url('/good.xml')}: next poll {when} UTC" in again.stdout


# ---- digests ----------------------------------------------------------------------------------------------


class _Handler:
    """aiosmtpd handler answering each DATA with the next scripted reply ('ok' accepts)."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        action = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if action == "ok":
            self.accepted += 1
            return "250 2.0.0 OK queued"
        return action


def _smtp(script: list[str]) -> tuple[Any, _Handler, int]:
    from aiosmtpd.controller import Controller

    handler = _Handler(script)
    port = refused_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, handler, port


def _smtp_config(tmp_path: Path, port: int) -> Path:
    return _config(tmp_path, [], smtp={"host": "127.0.0.1", "port": port, "starttls": False, "sender":
                                      "newswatch@example.org", "retries": 1, "timeout_s": 5.0},
                   recipients=("desk@example.org",))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the five seed articles under the watch 'rotherham'."""
    tmp = tmp_path_factory.mktemp("digest")
    db = tmp / "nw.duckdb"
    p = nw("ingest", "--config", str(_config(tmp, [])), "--db", str(db), *map(str, SEED_TXT))
    assert p.returncode == 0, p.stderr
    return db


def _digest(db: Path, cfg: Path) -> subprocess.CompletedProcess:
    return nw("digest", "--config", str(cfg), "--db", str(db), "--out", str(cfg.parent / "out"))


def test_digest_exits_non_zero_after_a_550_after_retries_and_with_the_server_down(seeded: Path,
                                                                                tmp_path: Path) -> None:
    ctl, handler, port = _smtp(["550 5.1.1 Mailbox unavailable"])
    try:
        p = _digest(seeded, _smtp_config(tmp_path, port))
        assert p.returncode == 1, p.stdout + p.stderr
        assert "failed" in p.stdout and "550 5.1.1" in p.stderr and "not delivered" in p.stderr
        handler.script[:] = ["451 4.3.0 try again later"]  # transient every time: retries run out
        p = _digest(seeded, _smtp_config(tmp_path, port))
        assert p.returncode == 1, p.stdout + p.stderr
        assert "451 4.3.0" in p.stderr
    finally:
        ctl.stop()
    p = _digest(seeded, _smtp_config(tmp_path, refused_port()))  # nothing listens: the mail server is down
    assert p.returncode == 1, p.stdout + p.stderr
    assert "refused" in p.stderr.lower() and "Traceback" not in p.stderr
    ctl, handler, port = _smtp(["ok"])
    try:
        p = _digest(seeded, _smtp_config(tmp_path, port))
    finally:
        ctl.stop()
    assert p.returncode == 0, p.stdout + p.stderr
    assert handler.accepted == 1 and " sent" in p.stdout


# ---- Prefect flow states ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=600):  # 148 s seen at load 17
        yield


@pytest.mark.timeout(1200)  # a hang guard over the harness start (module setup counts here)
@pytest.mark.prefect
def test_prefect_flows_fail_when_the_run_or_the_delivery_failed(prefect_server: None, site: ScriptedServer,
                                                                tmp_path: Path) -> None:
    from flows.monitor import digest, monitor

    db = tmp_path / "flow.duckdb"
    down = _config(tmp_path, [f"http://127.0.0.1:{refused_port()}/feed.xml"])
    state = monitor(config_path=str(down), db_path=str(db), return_state=True)
    assert state.is_failed() and "no feed could be polled" in (state.message or "")
    partial = _config(tmp_path, [site.url("/good.xml"), site.url("/missing.xml")])
    state = monitor(config_path=str(partial), db_path=str(db), return_state=True)
    assert state.is_completed() and state.result()["status"] == "partial"
    state = digest(config_path=str(_smtp_config(tmp_path, refused_port())), db_path=str(db), return_state=True)
    assert state.is_failed() and "not delivered" in (state.message or "")
    assert _runs(db)[0][0] == "failed"


def test_a_prefect_termination_signal_records_the_run_interrupted(tmp_path: Path) -> None:
    """Prefect turns SIGTERM to a flow-run process into TerminationSignal; the run row must say interrupted
    (it said `failed | TerminationSignal`), and Prefect's exception goes on up for Prefect to report."""
    import signal

    from prefect.exceptions import TerminationSignal

    from flows import pipeline

    db = str(tmp_path / "t.duckdb")
    report = pipeline.RunReport(run_id=pipeline.begin_run(db, "run", ["w"]), db_path=db)
    with pytest.raises(TerminationSignal), pipeline.recorded(report):
        raise TerminationSignal(signal.SIGTERM)
    assert _runs(Path(db)) == [("interrupted", "interrupted by SIGTERM")]
