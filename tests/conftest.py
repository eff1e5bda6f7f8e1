"""Shared test fixtures: the loopback guard, the fixture server, demo configs and databases.

Every connection a test opens must go to loopback (or a Unix socket). The guard is installed for the whole
session, so even a broken SSRF guard under test can never send a packet to another address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("NEWSWATCH_LOCK_TIMEOUT", "5")
os.environ.pop("NEWSWATCH_DB", None)
os.environ.pop("NEWSWATCH_CONFIG", None)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NonLoopbackConnection(AssertionError):
    pass


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        raise NonLoopbackConnection(f"test tried to connect to unresolved host {host!r}") from None
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        raise NonLoopbackConnection(f"test tried to connect to non-loopback address {host!r}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def fixture_server() -> Iterator:
    """The seed fixture site on a random loopback port (real headers, ETag/304, gzip)."""
    from newswatch.demo import serve_fixtures

    with serve_fixtures(port=0) as server:
        yield server


def make_config(**fetch_overrides: object):
    """The bundled demo config, without its own server (tests pass the fixture server's feed)."""
    from newswatch.config import load_config

    cfg = load_config(None)
    fetch = cfg.fetch.model_copy(update={"per_host_delay_s": 0.0, "retries": 0, **fetch_overrides})
    return cfg.model_copy(update={"demo": cfg.demo.model_copy(update={"serve_seeds": False}), "fetch": fetch})


@pytest.fixture
def demo_config():
    return make_config()


def seed_of(url: str) -> str | None:
    """Map a fixture URL back to its seed number ('000'...'004'), None for other pages."""
    import json

    manifest = json.loads((SEEDS / "fixtures" / "manifest.json").read_text(encoding="utf-8"))
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    info = manifest.get(path)
    return info["seed"][:3] if info and info["seed"] else None
