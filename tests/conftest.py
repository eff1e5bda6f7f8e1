"""Shared test fixtures: the loopback guard, the fixture server, demo configs and databases.

Every connection a test opens must go to loopback (or a Unix socket). The guard is installed for the whole
session, so even a broken SSRF guard under test can never send a packet to another address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("NEWSWATCH_LOCK_TIMEOUT", "5")
os.environ.pop("NEWSWATCH_DB", None)
os.environ.pop("NEWSWATCH_CONFIG", None)
# the warehouse backend is chosen per contract test (tests/support/backends.py); a developer shell's
# NEWSWATCH_WAREHOUSE_* must not move every other test onto DuckLake
os.environ.pop("NEWSWATCH_WAREHOUSE_BACKEND", None)
os.environ.pop("NEWSWATCH_WAREHOUSE_CATALOG", None)
os.environ.pop("NEWSWATCH_WAREHOUSE_DATA_PATH", None)

from tests.nwtest import make_config, missing_shared, run_demo, skip_unless_shared

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
    config.addinivalue_line("markers", "requires_shared(*paths): needs these paths under ../shared (skips without)")
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a skip mark (reported at the test's own line) before any fixture runs: a module-scoped fixture that
    # reads ../shared must not even start
    if os.environ.get("NEWSWATCH_REQUIRE_SHARED") == "1":
        return  # pytest_runtest_setup fails these tests instead
    for item in items:
        for mark in item.iter_markers("requires_shared"):
            reason = missing_shared(*mark.args)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
                break


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_shared"):
        skip_unless_shared(*mark.args)


@pytest.fixture
def fixture_server() -> Iterator:
    """The seed fixture site on a random loopback port (real headers, ETag/304, gzip)."""
    from newswatch.demo import serve_fixtures

    with serve_fixtures(port=0) as server:
        yield server


@pytest.fixture
def demo_config():
    return make_config()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo watch run twice against the fixture server into one real DuckDB file (shared by several tests)."""
    return run_demo(tmp_path_factory.mktemp("e2e"))


# ---- warehouse backends (tests/support/backends.py): contract modules run on each --------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """A throwaway PostgreSQL server for the session (started only when a test asks for it)."""
    from tests.support.postgres import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as e:
        if os.environ.get("NEWSWATCH_REQUIRE_POSTGRES") == "1":  # CI installs it: never skip there
            pytest.fail(f"NEWSWATCH_REQUIRE_POSTGRES=1 but {e}", pytrace=False)
        pytest.skip(str(e))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def warehouse_backend(request: pytest.FixtureRequest):
    """The backend a contract test runs on (parametrised by tests.support.backends.warehouse_contract)."""
    from tests.support.backends import WarehouseBackend

    name = getattr(request, "param", "duckdb")
    server = request.getfixturevalue("postgres_server") if name == "ducklake-postgres" else None
    return WarehouseBackend(name, server)


@pytest.fixture
def warehouse_env(request: pytest.FixtureRequest, warehouse_backend, tmp_path) -> Iterator:
    """The backend's environment for one test (the demo run's own when the test reads it)."""
    from tests.support.backends import backend_env

    if "demo_run" in request.fixturenames:
        env = request.getfixturevalue("demo_run").get("env") or warehouse_backend.env(tmp_path)
    else:
        env = warehouse_backend.env(tmp_path)
    with backend_env(env):
        yield warehouse_backend
