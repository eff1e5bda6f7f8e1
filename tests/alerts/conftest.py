"""Fixtures for the alert tests: a loopback-only socket guard, scripted aiosmtpd servers, a real DuckDB warehouse."""

from __future__ import annotations

import ipaddress
import json
import socket
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from newswatch.config import Config, parse_config
from newswatch.models import stable_id
from warehouse.db import connect, insert_rows

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


# ---- network guard ---------------------------------------------------------------------------------------


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # AF_UNIX paths (asyncio self-pipes) stay local


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No packet leaves the machine even if the code under test is wrong: connect() refuses other addresses."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to connect to non-loopback address {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to connect to non-loopback address {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def free_port() -> int:
    """A port free right now on 127.0.0.1 (aiosmtpd cannot bind port 0 and report it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- scripted SMTP server --------------------------------------------------------------------------------


class ScriptedHandler:
    """aiosmtpd handler: each DATA takes the next action: 'ok', 'drop' (close without a reply) or a reply line."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.accepted: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_commands = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        action = self.script.pop(0) if self.script else "ok"
        if action == "drop":
            # the connection dies after DATA and before any reply: the message is NOT accepted
            server.transport.abort()
            return "451 never sent"
        if action != "ok":
            return action
        raw = envelope.original_content or envelope.content
        self.raw.append(raw)
        self.accepted.append(message_from_bytes(raw, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 OK queued"


@dataclass
class SmtpServer:
    port: int
    handler: ScriptedHandler
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def accepted(self) -> list[EmailMessage]:
        return self.handler.accepted


@dataclass
class SmtpFactory:
    servers: list[SmtpServer] = field(default_factory=list)

    def __call__(self, script: list[str] | None = None, *, start: bool = True) -> SmtpServer:
        srv = SmtpServer(port=free_port(), handler=ScriptedHandler(script or []))
        self.servers.append(srv)
        return srv.start() if start else srv


@pytest.fixture
def smtp_server() -> Iterator[SmtpFactory]:
    """Factory: smtp_server(['421 4.3.0 busy', 'ok']) starts a real aiosmtpd server on 127.0.0.1."""
    factory = SmtpFactory()
    yield factory
    for srv in factory.servers:
        srv.stop()


# ---- warehouse -------------------------------------------------------------------------------------------


class Warehouse:
    """A real DuckDB file in tmp_path with helpers to add articles the way the loader and dedup stage do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        con = connect(self.path)
        con.close()

    def add(
        self,
        article_id: str,
        *,
        title: str,
        source: str,
        story: str | None = None,
        copy_of: str | None = None,
        watch: str = "rotherham",
        url: str | None = None,
        published: datetime | None = None,
        text: str = "",
    ) -> None:
        """Insert one article into core.articles, its group into core.article_groups, and its watch's match into
        core.watch_articles."""
        published = published or NOW - timedelta(hours=1)
        text = text or f"{title}. Reported by {source}. " * 5
        row = {
            "article_id": article_id,
            "watch": watch,
            "url": url
            if url is not None
            else f"https://{source.lower().replace(' ', '')}.example/{article_id}",
            "canonical_url": f"https://example.org/{article_id}",
            "source": source,
            "title": title,
            "published_at": published,
            "fetched_at": published + timedelta(minutes=5),
            "first_seen_at": published + timedelta(minutes=5),
            "fetch_status": "ok",
            "text": text,
            "raw_text": text,
            "word_count": len(text.split()),
            "content_hash": article_id,
        }
        group = {
            "article_id": article_id,
            "syndication_id": copy_of or article_id,
            "story_id": story or copy_of or article_id,
            "assigned_at": datetime.now(UTC),  # when dedup grouped it (the trend refresh reads it), not when published
        }
        con = connect(self.path, apply_schema=False)  # the schema was applied when the file was created
        try:
            insert_rows(con, "core.articles", [row])
            insert_rows(con, "core.article_groups", [group], mode="INSERT OR REPLACE")
            # the watch's articles are those its query matched (core.watch_articles, 12_watches.sql)
            insert_rows(con, "core.watch_articles",
                        [{"watch": watch, "article_id": article_id, "matched_at": row["first_seen_at"]}],
                        mode="INSERT OR REPLACE")
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = connect(self.path, apply_schema=False)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def _load_seeds(warehouse: Warehouse) -> None:
    """The five seeds as the pipeline would store them: 001/002 copies; 000-002 one story, 003-004 another."""
    meta = {s["file"]: s for s in tomllib.loads((SEEDS / "seeds.toml").read_text(encoding="utf-8"))["seed"]}
    ids: dict[str, str] = {}
    for f in sorted(meta):
        m = meta[f]
        raw = (SEEDS / f).read_text(encoding="utf-8")
        if "strip_prefix" in m:
            raw = raw.removeprefix(m["strip_prefix"])
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        title = m.get("title") or lines[0].strip()
        body = "\n\n".join(lines if "title" in m else lines[1:])
        url = f"https://{m['host']}{m['path']}"
        ids[f[:3]] = stable_id(url)
        group = {
            "000": {},
            "001": {"story": "000"},
            "002": {"copy_of": "001"},
            "003": {},
            "004": {"story": "003"},
        }[f[:3]]
        warehouse.add(
            ids[f[:3]],
            title=title,
            source=m["site"],
            url=url,
            published=datetime.fromisoformat(m["published"]).astimezone(UTC),
            text=body,
            copy_of=ids.get(group.get("copy_of", ""), None),
            story=ids.get(group.get("story", ""), None) or (ids["000"] if f[:3] == "002" else None),
        )


@pytest.fixture
def load_seeds() -> Any:
    """load_seeds(warehouse): the five seed articles, grouped as dedup groups them (golden and Chromium tests)."""
    return _load_seeds


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "nw.duckdb")


@pytest.fixture
def new_warehouse() -> Any:
    """Factory for further independent warehouses: new_warehouse(path)."""
    return Warehouse


def _make_config(
    *,
    smtp_port: int | None = None,
    recipients: tuple[str, ...] = ("desk@example.org",),
    retries: int = 3,
    unsubscribe_url: str | None = "https://news.example.org/unsubscribe?w=rotherham",
    max_items: int = 20,
    starttls: bool = False,
) -> Config:
    """A config with one watch 'rotherham', optionally pointing at a loopback SMTP server."""
    rcpt = ", ".join(json.dumps(r) for r in recipients)  # JSON string escapes are valid TOML
    text = f"""
unsubscribe_url = {'"' + unsubscribe_url + '"' if unsubscribe_url else '""'}

[[watches]]
name = "rotherham"
description = "Rotherham child sexual exploitation and the IOPC investigation of South Yorkshire Police"
recipients = [{rcpt}]
max_items = {max_items}
"""
    if not unsubscribe_url:
        text = text.replace('unsubscribe_url = ""\n', "")
    if smtp_port is not None:
        text += f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
starttls = {"true" if starttls else "false"}
sender = "digest@newswatch.example"
timeout_s = 5
retries = {retries}
"""
    return parse_config(text, origin="test config")


@pytest.fixture
def make_config() -> Any:
    """Factory for a test config (see _make_config)."""
    return _make_config


@pytest.fixture
def now() -> datetime:
    """The fixed clock of the alert tests."""
    return NOW
