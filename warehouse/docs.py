"""Generates docs/schema.md from the database itself: view/column comments (COMMENT ON in warehouse/sql)
and the example queries in warehouse/examples. `python -m warehouse.docs > docs/schema.md`.

A test regenerates the document and compares it with the committed one, so the doc cannot drift from
the schema, and checks that every public column has a description.
"""

from __future__ import annotations

import sys
import tempfile
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.db import connect

# Contract views first, in this order; any other public view follows alphabetically.
CONTRACT_ORDER = ("articles", "entity_mentions", "figures", "periods", "quotes", "runs")

INTRO = """# Warehouse schema

newswatch loads everything into one DuckDB file (default `./newswatch.duckdb`, or `--db`, or `$NEWSWATCH_DB`).
The **public views** below are the SQL contract: their names and columns are relied on by users and tests
(columns may be added, never renamed or dropped). The tables behind them live in schema `core` and may change
between versions.

This file is generated from the database (`make docs`, i.e. `python -m warehouse.docs > docs/schema.md`);
the descriptions are the `COMMENT ON` statements in `warehouse/sql/*.sql`. A test fails when they disagree.

Query it with `newswatch sql "select ..."` (`--format table|csv|json`), or from any DuckDB client through the
read copy: `duckdb -readonly newswatch.read.duckdb`.

## Querying while the pipeline runs

DuckDB lets one process hold the file read-write, and while it does no other process can open it, not even
read-only. After each stored batch the pipeline therefore publishes a read copy, `newswatch.read.duckdb`
(copied under a temporary name and renamed into place; `SELECT * FROM freshness` says when). `newswatch sql`,
`trends` and `export` read the live file when it is free and the read copy while a run holds it, so a query
during a run never waits or fails; other clients should open the read copy (docs/trends.md). For long analyses,
`newswatch snapshot copy.duckdb` writes a consistent copy of your own under a temporary name and renames
it into place, so a killed export never leaves a half-written file under the final name.
"""


def _examples() -> list[tuple[str, str, str]]:
    """(file name, title, sql) for each warehouse/examples/*.sql, in name order."""
    out = []
    ex_dir = resources.files("warehouse").joinpath("examples")
    for p in sorted(ex_dir.iterdir(), key=lambda p: p.name):
        if not p.name.endswith(".sql"):
            continue
        text = p.read_text(encoding="utf-8").strip()
        first, _, rest = text.partition("\n")
        title = first.lstrip("-").strip()
        out.append((p.name, title, rest.strip()))
    return out


def public_views(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    rows = con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' "
        "AND database_name = current_database()"
    ).fetchall()
    order = {n: i for i, n in enumerate(CONTRACT_ORDER)}
    return sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))


def columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[tuple[str, str, str | None]]:
    return con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "AND database_name = current_database() ORDER BY column_index",
        [schema, name],
    ).fetchall()


def _cell(s: str | None) -> str:
    return (s or "").replace("|", "\\|").replace("\n", " ")


def render(con: duckdb.DuckDBPyConnection) -> str:
    parts = [INTRO, "## Public views\n"]
    views = public_views(con)
    parts.append(" ".join(f"[`{v}`](#{v})" for v, _ in views) + "\n")
    for view, comment in views:
        parts.append(f"### {view}\n")
        if comment:
            parts.append(comment.strip() + "\n")
        parts.append("| column | type | description |\n| --- | --- | --- |")
        for col, typ, ccomment in columns(con, "main", view):
            parts.append(f"| `{col}` | {typ} | {_cell(ccomment)} |")
        parts.append("")
    parts.append("## Example queries\n")
    parts.append("Each of these runs in the test suite against the demo database (`make run`).\n")
    for name, title, sql in _examples():
        parts.append(f"### {title}\n\n<!-- warehouse/examples/{name} -->\n```sql\n{sql}\n```\n")
    parts.append("## Internal tables (schema `core`)\n")
    parts.append("Not part of the contract; listed so that the views above can be read.\n")
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'core' "
        "AND database_name = current_database() ORDER BY table_name"
    ).fetchall()
    for table, comment in tables:
        cols = ", ".join(f"`{c}` {t}" for c, t, _ in columns(con, "core", table))
        parts.append(f"- **core.{table}**{': ' + _cell(comment) if comment else ''} — {cols}")
    return "\n".join(parts).rstrip() + "\n"


def render_fresh() -> str:
    """Render from a brand-new database built by the schema files."""
    with tempfile.TemporaryDirectory() as d:
        con = connect(str(Path(d) / "schema.duckdb"))
        try:
            return render(con)
        finally:
            con.close()


if __name__ == "__main__":
    sys.stdout.write(render_fresh())
