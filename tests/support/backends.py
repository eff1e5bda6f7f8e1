"""The warehouse backends the contract tests run on: the DuckDB file, DuckLake with a local DuckDB catalog file,
and DuckLake with its catalog in a real PostgreSQL server (tests/support/postgres.py).

A contract test module says `pytestmark = warehouse_contract()`: each of its tests then runs once per backend,
with the backend's environment (warehouse/db.py reads NEWSWATCH_WAREHOUSE_*) set for the test and for the
`newswatch` processes it starts. Nothing is set outside those tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer

BACKENDS = ("duckdb", "ducklake", "ducklake-postgres")
ENV_NAMES = ("NEWSWATCH_WAREHOUSE_BACKEND", "NEWSWATCH_WAREHOUSE_CATALOG", "NEWSWATCH_WAREHOUSE_DATA_PATH")


@dataclass
class WarehouseBackend:
    name: str
    server: PostgresServer | None = None

    def env(self, tmp: Path) -> dict[str, str]:
        """The environment for warehouses made under tmp (a fresh PostgreSQL database for each call)."""
        if self.name == "duckdb":
            return {"NEWSWATCH_WAREHOUSE_BACKEND": "duckdb"}
        if self.name == "ducklake":  # the catalog is the db path, its data beside it
            return {"NEWSWATCH_WAREHOUSE_BACKEND": "ducklake"}
        assert self.server is not None
        return {
            "NEWSWATCH_WAREHOUSE_BACKEND": "ducklake",
            "NEWSWATCH_WAREHOUSE_CATALOG": self.server.new_database(),
            "NEWSWATCH_WAREHOUSE_DATA_PATH": str(tmp / "lake-data"),
        }


@contextmanager
def backend_env(env: dict[str, str]) -> Iterator[None]:
    """Set exactly these NEWSWATCH_WAREHOUSE_* variables for the block, then restore what was there."""
    saved = {k: os.environ.get(k) for k in ENV_NAMES}
    for k in ENV_NAMES:
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def warehouse_contract(*backends: str) -> list[pytest.MarkDecorator]:
    """Marks for a contract module: every test runs on each backend (default: all three). A module whose tests
    each write one warehouse can take all; a PostgreSQL database is made per test."""
    names = backends or BACKENDS
    return [
        pytest.mark.parametrize("warehouse_backend", names, indirect=True),
        pytest.mark.usefixtures("warehouse_env"),
    ]
