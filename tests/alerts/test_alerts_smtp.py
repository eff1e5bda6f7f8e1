"""Delivery over a real aiosmtpd server scripted to fail (RELIABILITY E29), with the outbox in a real DuckDB file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from flows.digest_stage import run_digest

ROOT = Path(__file__).resolve().parents[2]
BASE = 0.5  # backoff base used in these tests; sleeps are recorded, not slept


class Sleeps:
    """Records the backoff delays instead of sleeping; optionally runs an action at the first one."""

    def __init__(self, on_first=None) -> None:
        self.delays: list[float] = []
        self.on_first = on_first

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.on_first is not None and len(self.delays) == 1:
            self.on_first()


def _two_stories(warehouse, now) -> None:
    warehouse.add(
        "a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=5)
    )
    warehouse.add("a2", title="Police chiefs face inquiry", source="The Star", copy_of="a1")
    warehouse.add(
        "b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=2)
    )


def _outbox(warehouse, digest_id):
    return warehouse.query(
        "SELECT state, attempts, last_error, sent_at IS NOT NULL FROM core.outbox WHERE digest_id = ?",
        [digest_id],
    )[0]


def test_sent_once_with_the_right_envelope_and_not_again(warehouse, make_config, smtp_server, now, tmp_path):
    _two_stories(warehouse, now)
    srv = smtp_server()
    cfg = make_config(smtp_port=srv.port, recipients=("desk@example.org", "editor@example.org"))
    sleeps = Sleeps()
    o = run_digest(
        warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps, backoff_base_s=BASE
    )

    assert o.status == "sent" and o.attempts == 1 and sleeps.delays == []
    assert len(srv.accepted) == 1
    msg = srv.accepted[0]
    assert msg["Message-ID"] == o.message_id == f"<digest-{o.digest_id}@newswatch.example>"
    assert srv.handler.envelopes == [("digest@newswatch.example", ["desk@example.org", "editor@example.org"])]
    assert msg.get_all("Bcc") is None
    # the files are written too, and they are the message that was sent
    assert Path(o.eml_path).read_bytes() == srv.handler.raw[0]
    assert _outbox(warehouse, o.digest_id) == ("sent", 1, None, True)
    assert warehouse.query("SELECT status, outbox_state, attempts FROM digests") == [("sent", "sent", 1)]

    again = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=1))
    assert again.status == "empty" and len(srv.accepted) == 1


def test_server_down_then_up_is_retried_with_backoff(warehouse, make_config, smtp_server, now, tmp_path):
    _two_stories(warehouse, now)
    srv = smtp_server(start=False)  # nothing listens on the port yet: connection refused
    sleeps = Sleeps(on_first=srv.start)  # the server comes up during the first backoff
    cfg = make_config(smtp_port=srv.port, retries=3)
    o = run_digest(
        warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps, backoff_base_s=BASE
    )
    assert o.status == "sent" and o.attempts == 2
    assert sleeps.delays == [BASE]
    assert len(srv.accepted) == 1
    state, attempts, last_error, sent = _outbox(warehouse, o.digest_id)
    assert (state, attempts, sent) == ("sent", 2, True)
    assert "refused" in last_error.lower() and "will retry" in last_error  # the earlier failure is kept


def test_421_then_ok(warehouse, make_config, smtp_server, now, tmp_path):
    _two_stories(warehouse, now)
    srv = smtp_server(["421 4.3.0 Service busy, try later", "ok"])
    sleeps = Sleeps()
    o = run_digest(
        warehouse.path,
        make_config(smtp_port=srv.port),
        "rotherham",
        out_dir=str(tmp_path),
        now=now,
        sleep=sleeps,
        backoff_base_s=BASE,
    )
    assert o.status == "sent" and o.attempts == 2 and sleeps.delays == [BASE]
    assert srv.handler.data_commands == 2 and len(srv.accepted) == 1
    assert "421" in _outbox(warehouse, o.digest_id)[2]


def test_connection_dropped_after_data_is_retried_and_delivered_once(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server(["drop", "ok"])
    o = run_digest(
        warehouse.path,
        make_config(smtp_port=srv.port),
        "rotherham",
        out_dir=str(tmp_path),
        now=now,
        sleep=Sleeps(),
        backoff_base_s=BASE,
    )
    assert o.status == "sent" and o.attempts == 2
    assert srv.handler.data_commands == 2 and len(srv.accepted) == 1
    assert "closed" in _outbox(warehouse, o.digest_id)[2]


def test_550_is_not_retried_and_the_digest_is_retried_next_run(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server(["550 5.1.1 Mailbox unavailable"])
    sleeps = Sleeps()
    cfg = make_config(smtp_port=srv.port)
    o = run_digest(
        warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps, backoff_base_s=BASE
    )
    assert o.status == "failed" and o.attempts == 1 and sleeps.delays == []
    assert "550 5.1.1 Mailbox unavailable" in o.detail and "not retried" in o.detail
    assert srv.handler.data_commands == 1 and srv.accepted == []
    assert Path(o.eml_path).exists()  # the files are written whatever the mail server says
    assert _outbox(warehouse, o.digest_id)[:2] == ("failed", 1)
    assert warehouse.query("SELECT status FROM digests") == [("failed",)]

    # next run (the mailbox is fixed): nothing new, so the same digest goes out under the same id
    again = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps)
    assert again.status == "sent" and again.digest_id == o.digest_id
    assert len(srv.accepted) == 1 and srv.accepted[0]["Message-ID"] == o.message_id
    assert _outbox(warehouse, o.digest_id)[:2] == ("sent", 2)


def test_transient_failures_give_up_after_retries_then_a_later_digest_supersedes(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server(["451 4.3.0 Local error"] * 3)
    sleeps = Sleeps()
    cfg = make_config(smtp_port=srv.port, retries=2)
    o = run_digest(
        warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps, backoff_base_s=BASE
    )
    assert o.status == "failed" and o.attempts == 3
    assert sleeps.delays == [BASE, 2 * BASE]  # exponential backoff
    assert "gave up after 3 tries" in o.detail
    assert _outbox(warehouse, o.digest_id)[:2] == ("failed", 3)

    # new coverage arrives; the next digest carries the undelivered articles and the new one
    warehouse.add("c1", title="Survivors meet the IOPC", source="BBC", published=now + timedelta(hours=1))
    later = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=2))
    assert (
        later.status == "sent" and later.digest_id != o.digest_id and later.items == 3 and later.articles == 4
    )
    assert dict(warehouse.query("SELECT digest_id, status FROM digests")) == {
        o.digest_id: "superseded",
        later.digest_id: "sent",
    }
    assert len(srv.accepted) == 1


def test_starttls_required_but_not_offered_is_a_permanent_error(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server()
    sleeps = Sleeps()
    cfg = make_config(smtp_port=srv.port, starttls=True)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps)
    assert o.status == "failed" and o.attempts == 1 and sleeps.delays == []
    assert "STARTTLS" in o.detail and srv.handler.data_commands == 0


def test_partly_refused_recipients_are_not_retried(warehouse, make_config, smtp_server, now, tmp_path):
    _two_stories(warehouse, now)
    srv = smtp_server()

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    srv.handler.handle_RCPT = handle_RCPT
    cfg = make_config(smtp_port=srv.port, recipients=("desk@example.org", "gone@example.org"))
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=Sleeps())
    assert o.status == "sent" and o.attempts == 1 and len(srv.accepted) == 1
    assert "gone@example.org: 550 5.1.1 No such user" in o.detail
    assert "gone@example.org" in _outbox(warehouse, o.digest_id)[2]


def test_the_database_is_free_while_talking_to_the_mail_server(
    warehouse, make_config, smtp_server, now, tmp_path
):
    """Another process opens the DuckDB file read-write in the middle of the SMTP session."""
    _two_stories(warehouse, now)
    srv = smtp_server()
    seen: list[int] = []
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    original = srv.handler.handle_DATA

    async def handle_DATA(server, session, envelope):
        seen.append(subprocess.run([sys.executable, "-c", code, warehouse.path], timeout=60).returncode)
        return await original(server, session, envelope)

    srv.handler.handle_DATA = handle_DATA
    o = run_digest(
        warehouse.path, make_config(smtp_port=srv.port), "rotherham", out_dir=str(tmp_path), now=now
    )
    assert o.status == "sent" and seen == [0]


CRASH = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from newswatch.config import parse_config
    from warehouse import digests
    from flows.digest_stage import run_digest

    db, port, out, now = sys.argv[1], int(sys.argv[2]), sys.argv[3], datetime.fromisoformat(sys.argv[4])
    cfg = parse_config(f'''
    [[watches]]
    name = "rotherham"
    recipients = ["desk@example.org"]
    [smtp]
    host = "127.0.0.1"
    port = {port}
    starttls = false
    sender = "digest@newswatch.example"
    ''')
    # the process dies after the server accepted the message and before the outbox says 'sent'
    digests.mark_sent = lambda *a, **k: os._exit(9)
    run_digest(db, cfg, "rotherham", out_dir=out, now=now)
    """
)


def test_crash_after_the_server_accepted_resends_with_the_same_message_id(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server()
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, warehouse.path, str(srv.port), str(tmp_path), now.isoformat()],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    assert len(srv.accepted) == 1
    ((digest_id, state, attempts),) = warehouse.query("SELECT digest_id, state, attempts FROM core.outbox")
    assert (state, attempts) == ("sending", 1)

    # the resend also happens with the database file free (another process opens it during DATA)
    seen: list[int] = []
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    original = srv.handler.handle_DATA

    async def handle_DATA(server, session, envelope):
        seen.append(subprocess.run([sys.executable, "-c", code, warehouse.path], timeout=60).returncode)
        return await original(server, session, envelope)

    srv.handler.handle_DATA = handle_DATA
    cfg = make_config(smtp_port=srv.port)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=1))
    assert seen == [0]
    # the documented crash window: sent a second time, byte for byte, with the same Message-ID
    assert o.status == "sent" and o.recovered == (digest_id,) and o.digest_id == digest_id
    assert len(srv.accepted) == 2 and srv.handler.raw[0] == srv.handler.raw[1]
    assert srv.accepted[0]["Message-ID"] == srv.accepted[1]["Message-ID"] == o.message_id
    assert _outbox(warehouse, digest_id)[:2] == ("sent", 2)
    # and never a third time
    assert run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now).status == "empty"
    assert len(srv.accepted) == 2


def _leave_unfinished(warehouse, digest_id: str, state: str) -> None:
    """The state a killed run leaves behind (the crash itself is exercised in the subprocess test above)."""
    warehouse.query(
        "UPDATE core.outbox SET state = ?, sent_at = NULL WHERE digest_id = ?", [state, digest_id]
    )
    warehouse.query("UPDATE core.digests SET status = ? WHERE digest_id = ?", [state, digest_id])


def test_unfinished_delivery_meeting_a_dead_server_waits_for_the_next_run(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server()
    first = run_digest(
        warehouse.path, make_config(smtp_port=srv.port), "rotherham", out_dir=str(tmp_path), now=now
    )
    _leave_unfinished(warehouse, first.digest_id, "sending")
    srv.stop()  # the server is gone now
    sleeps = Sleeps()
    cfg = make_config(smtp_port=srv.port, retries=1)
    o = run_digest(
        warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now, sleep=sleeps, backoff_base_s=BASE
    )
    # one retry budget for the leftover, and no second digest of the same articles in the same run
    assert o.status == "failed" and o.recovered == (first.digest_id,) and o.attempts == 2
    assert sleeps.delays == [BASE]
    assert warehouse.query("SELECT digest_id, status FROM digests") == [(first.digest_id, "failed")]


def test_pending_digest_after_the_mail_server_is_removed_counts_as_written(
    warehouse, make_config, smtp_server, now, tmp_path
):
    _two_stories(warehouse, now)
    srv = smtp_server()
    first = run_digest(
        warehouse.path, make_config(smtp_port=srv.port), "rotherham", out_dir=str(tmp_path), now=now
    )
    _leave_unfinished(warehouse, first.digest_id, "pending")
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "empty"
    assert warehouse.query("SELECT status, outbox_state FROM digests") == [("written", "failed")]
    assert "no longer configured" in _outbox(warehouse, first.digest_id)[2]
