"""Export every public view and core table to Parquet (hive layout, by month where a table has a date), written
beside the destination and swapped into place so that a killed export leaves the previous one intact."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from newswatch.errors import OutputError, UserError
from warehouse.db import remove_stale_temporaries, temporary_path

# The date a table is partitioned by: the first of these columns it has, else its first DATE/TIMESTAMP column.
DATE_PREFERENCE = ("published_at", "day", "first_seen_at", "first_at", "started_at", "fetched_at", "created_at",
                   "skipped_at", "first_reported_at", "detected_at", "assigned_at", "computed_at")
DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
PARTITION_COLUMN = "month"


@dataclass(frozen=True, slots=True)
class ExportedTable:
    name: str            # folder under the destination: a view name, or core.<table>
    rows: int
    partitioned_by: str | None  # the date column the month partition comes from


def export_targets(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(folder name, SQL relation) for every public view and every core table."""
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' "
        "AND database_name = current_database() ORDER BY view_name").fetchall()
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core' "
        "AND database_name = current_database() ORDER BY table_name").fetchall()
    return [(v, f'main."{v}"') for (v,) in views] + [(f"core.{t}", f'core."{t}"') for (t,) in tables]


def _date_column(con: duckdb.DuckDBPyConnection, relation: str) -> str | None:
    cols = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    dated = [c[0] for c in cols if c[1] in DATE_TYPES]
    for name in DATE_PREFERENCE:
        if name in dated:
            return name
    return dated[0] if dated else None


def _swap(new: Path, dest: Path) -> None:
    """Put `new` at `dest` in one step. Linux renameat2(RENAME_EXCHANGE) swaps two folders atomically; elsewhere
    the old folder is renamed aside first (a kill between the two renames leaves it beside dest, whole)."""
    if not dest.exists():
        os.replace(new, dest)
        return
    libc_name = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None) if libc_name else None
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(dest), rename_exchange) == 0:
            shutil.rmtree(new)  # now the previous export
            return
    old = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.old")
    os.replace(dest, old)
    os.replace(new, dest)
    shutil.rmtree(old)


def export_parquet(con: duckdb.DuckDBPyConnection, dest: str | os.PathLike[str]) -> list[ExportedTable]:
    """Write DEST/<name>/ for every public view and core table, in one read transaction (one consistent state).

    Tables with a date are written as DEST/<name>/month=YYYY-MM/*.parquet (hive partitioning; month=NULL for
    rows without the date); others as DEST/<name>/data.parquet. DEST is replaced whole, atomically.
    """
    dest_p = Path(dest)
    if dest_p.exists() and not dest_p.is_dir():
        raise UserError(f"export destination {dest_p} exists and is not a folder")
    if dest_p.exists() and any(dest_p.iterdir()) and not (dest_p / "_export.txt").exists():
        raise UserError(f"export destination {dest_p} is a folder that is not a newswatch export; "
                        "choose a new or empty folder")
    tmp = temporary_path(dest_p)   # a folder here: swapped into place whole by _swap
    try:
        dest_p.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(dest_p)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    except OSError as e:
        raise OutputError(f"cannot write {dest_p}: {e.strerror or e}") from None
    done: list[ExportedTable] = []
    try:
        con.execute("BEGIN")
        try:
            for name, relation in export_targets(con):
                out = tmp / name
                date_col = _date_column(con, relation)
                rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
                if date_col is None:
                    out.mkdir()
                    con.execute(f"COPY (SELECT * FROM {relation}) TO '{out / 'data.parquet'}' (FORMAT parquet)")
                else:
                    part = PARTITION_COLUMN
                    cols = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
                    while part in cols:
                        part = "_" + part
                    # strftime of a TIMESTAMPTZ follows the session time zone: partition by the UTC month
                    month = (f"strftime(timezone('UTC', \"{date_col}\"), '%Y-%m')" if "WITH TIME ZONE" in
                             _type(con, relation, date_col) else f"strftime(\"{date_col}\", '%Y-%m')")
                    con.execute(
                        f"COPY (SELECT *, {month} AS \"{part}\" FROM {relation}) TO '{out}' "
                        f"(FORMAT parquet, PARTITION_BY (\"{part}\"), WRITE_PARTITION_COLUMNS false)"
                    )
                    if rows == 0:
                        out.mkdir(exist_ok=True)
                        con.execute(f"COPY (SELECT * FROM {relation}) TO '{out / 'data.parquet'}' (FORMAT parquet)")
                done.append(ExportedTable(name, rows, date_col))
        finally:
            con.execute("COMMIT")
        (tmp / "_export.txt").write_text(
            "newswatch export: one folder per public view (name) and core table (core.name); "
            "month=YYYY-MM partitions where a table has a date.\n"
            + "".join(f"{t.name}\t{t.rows}\t{t.partitioned_by or ''}\n" for t in done),
            encoding="utf-8",
        )
        _swap(tmp, dest_p)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write {dest_p}: {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return done


def _type(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> str:
    for c in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall():
        if c[0] == column:
            return str(c[1])
    return ""
