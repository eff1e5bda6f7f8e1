"""The only module that opens DuckDB: connecting (with lock retry), schema setup, bulk inserts.

DuckDB lets one process hold a file read-write and then no other process can open it, not even
read-only. So writers keep their windows short and retry with backoff when the lock is held;
readers use `connect(path, read_only=True)`, which retries the same way. See docs/schema.md,
"Querying while the pipeline runs".

Readers that must never wait or fail during a run use `connect_reader`: it opens the read copy
(`<db>.read.duckdb`, published by `publish_read_copy` after each stored batch) while a writer holds the file.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from newswatch.errors import WarehouseError, WarehouseLockedError

DEFAULT_DB = "newswatch.duckdb"
SCHEMA_VERSION = "1"

log = logging.getLogger(__name__)


def default_db_path() -> str:
    return os.environ.get("NEWSWATCH_DB") or DEFAULT_DB


@functools.lru_cache(maxsize=1)
def _schema_files() -> tuple[tuple[str, str], ...]:
    sql_dir = resources.files("warehouse").joinpath("sql")
    files = sorted((p.name, p) for p in sql_dir.iterdir() if p.name.endswith(".sql"))
    return tuple((name, p.read_text(encoding="utf-8")) for name, p in files)


def schema_hash() -> str:
    """Hash of every schema file: stored in core.meta so that an unchanged schema is not re-applied."""
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for name, sql in _schema_files():
        h.update(name.encode() + b"\0" + sql.encode() + b"\0")
    return h.hexdigest()


def _is_lock_error(e: Exception) -> bool:
    msg = str(e)
    return "Could not set lock" in msg or "Conflicting lock" in msg


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
    apply_schema: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to lock_timeout_s (default $NEWSWATCH_LOCK_TIMEOUT or 30) for another
    process's lock to go.

    Raises WarehouseLockedError (one clear line) when the lock does not go, WarehouseError for a
    file that is not a DuckDB database.
    """
    if lock_timeout_s is None:
        lock_timeout_s = float(os.environ.get("NEWSWATCH_LOCK_TIMEOUT", "30"))
    p = Path(path or default_db_path())
    if read_only and not p.exists():
        raise WarehouseError(f"database {p} does not exist; run `newswatch run` or `newswatch ingest` first")
    if not read_only and p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(p), read_only=read_only)
            break
        except duckdb.IOException as e:
            if not _is_lock_error(e):
                raise WarehouseError(f"database {p} cannot be opened: {str(e).splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"database {p} is locked by another newswatch process (waited {lock_timeout_s:.0f}s); "
                    "try again when it finishes"
                ) from None
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
        except duckdb.Error as e:
            raise WarehouseError(f"database {p} cannot be opened: {str(e).splitlines()[0]}") from None
    _quiet(con)
    if apply_schema and not read_only:
        ensure_schema(con)
    return con


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # no progress bar: DuckDB draws it on the terminal over the CLI's own output during long statements
    con.execute("SET enable_progress_bar = false")
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> None:
    """Run every warehouse/sql/*.sql file in name order (they are idempotent) in one transaction.

    Skipped when core.meta records the same schema hash (applying every file costs ~100 ms per connect,
    and the pipeline opens short writer windows often).
    """
    digest = schema_hash()
    if not force:
        try:
            row = con.execute("SELECT value FROM core.meta WHERE key = 'schema_hash'").fetchone()
        except duckdb.CatalogException:
            row = None
        if row is not None and row[0] == digest:
            return
    con.execute("BEGIN")
    try:
        for name, sql in _schema_files():
            try:
                con.execute(sql)
            except duckdb.Error as e:
                raise WarehouseError(f"schema file {name} failed: {e}") from e
        con.execute(
            "INSERT OR REPLACE INTO core.meta VALUES ('schema_version', ?), ('schema_hash', ?)",
            [SCHEMA_VERSION, digest],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# Connections with an open transaction() block, and how deep: an inner block joins the outer transaction
# (DuckDB has no nested transactions, and a failed BEGIN would abort the open one).
_open_transactions: dict[int, int] = {}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on error. Inside another transaction() on the same connection, the block
    becomes part of the outer transaction, so a caller can make several stages' writes all-or-nothing."""
    key = id(con)
    depth = _open_transactions.get(key, 0)
    if depth:
        _open_transactions[key] = depth + 1
        try:
            yield con
        finally:
            _open_transactions[key] = depth
        return
    con.execute("BEGIN")
    _open_transactions[key] = 1
    try:
        yield con
    except BaseException:
        _open_transactions.pop(key, None)
        con.execute("ROLLBACK")
        raise
    _open_transactions.pop(key, None)
    con.execute("COMMIT")


@contextmanager
def session(path: str | os.PathLike[str] | None = None, **kw: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed on exit (writers: keep these windows short)."""
    con = connect(path, **kw)
    try:
        yield con
    finally:
        con.close()


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    columns: Iterable[str] | None = None,
    mode: str = "INSERT",
) -> int:
    """Bulk insert dicts through Arrow (about 60k rows/s here, against ~800/s for executemany).

    mode is 'INSERT', 'INSERT OR REPLACE' or 'INSERT OR IGNORE'. Column types come from the table.
    """
    if not rows:
        return 0
    cols = list(columns) if columns is not None else list(rows[0].keys())
    data = {c: [r.get(c) for r in rows] for c in cols}
    import pyarrow as pa  # here, not at the top: readers (`newswatch trends`) then start without it (~0.3 s)

    tbl = pa.table(data)  # noqa: F841 - referenced by name in the SQL below
    col_list = ", ".join(f'"{c}"' for c in cols)
    con.execute(f"{mode} INTO {table} ({col_list}) SELECT {col_list} FROM tbl")
    return len(rows)


def snapshot(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Write a consistent copy of the warehouse for long-running readers.

    The copy is written under a temporary name in the destination folder and renamed into place only when
    complete, so a killed export never leaves a half-written file under the final name and the previous
    snapshot stays readable.
    """
    dest_p = Path(dest)
    dest_p.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(dest_p) as tmp:
        con = connect(src, read_only=True)
        try:
            src_name = con.execute("SELECT current_database()").fetchone()[0]
            con.execute(f"ATTACH '{tmp}' AS nw_snapshot (READ_WRITE)")
            con.execute(f'COPY FROM DATABASE "{src_name}" TO nw_snapshot')
            con.execute("DETACH nw_snapshot")
        finally:
            con.close()
    return dest_p


# ---- temporaries of killed writers ------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(dest: str | os.PathLike[str]) -> list[Path]:
    """Remove `.<name>.<pid>.tmp` files (and their .wal) or folders beside dest left by killed writers.

    The pid in the name says whose it is: a live process's temporary is its copy in progress and stays (a pid
    reused by an unrelated process only delays the cleanup until that process ends).
    """
    dest_p = Path(dest)
    pattern = re.compile(rf"^\.{re.escape(dest_p.name)}\.(\d+)\.tmp(\.wal)?$")
    removed = []
    try:
        entries = list(dest_p.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue
        removed.append(entry)
    return removed


def temporary_path(dest: str | os.PathLike[str]) -> Path:
    """`.<name>.<pid>.tmp` beside dest: the name remove_stale_temporaries recognises once this process is gone."""
    dest_p = Path(dest)
    return dest_p.with_name(f".{dest_p.name}.{os.getpid()}.tmp")


@contextmanager
def replaced_atomically(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file path beside dest, renamed onto dest when the block succeeds; on any error the
    temporary (and its .wal) is removed and dest is untouched. Killed writers' temporaries are removed first."""
    dest_p = Path(dest)
    tmp = temporary_path(dest_p)
    leftovers = (tmp, Path(f"{tmp}.wal"))
    remove_stale_temporaries(dest_p)
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, dest_p)
    except BaseException:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise


# ---- the read copy: readers never wait for, or fail on, a running writer ---------------------------------

# Publishing copies the whole file, so its cost grows with the warehouse (measured in docs/benchmarks.md).
# A publish is skipped while the time since the previous one is under READ_COPY_COST_FACTOR times what that one
# cost: the copy then takes at most ~1/READ_COPY_COST_FACTOR of a run's time. The trend refresh is throttled
# the same way. What was skipped is done when the process exits, so a run ends with both fresh; published_at and
# trends_refreshed_at (the freshness view) say how fresh.
READ_COPY_COST_FACTOR = 10.0
_last_publish: dict[str, tuple[float, float]] = {}  # db path -> (monotonic time of the last publish, its cost)
_last_refresh: dict[str, tuple[float, float]] = {}  # db path -> (monotonic time of the last trend refresh, its cost)
_pending_publish: set[str] = set()


def read_copy_path(path: str | os.PathLike[str] | None = None) -> Path:
    """`newswatch.duckdb` -> `newswatch.read.duckdb` (other names get `.read.duckdb` appended)."""
    p = Path(path or default_db_path())
    stem = p.name[: -len(".duckdb")] if p.name.endswith(".duckdb") else p.name
    return p.with_name(f"{stem}.read.duckdb")


def publish_read_copy(
    db_path: str | os.PathLike[str], *, force: bool = False, lock_timeout_s: float | None = None
) -> Path | None:
    """Refresh the trend tables, then copy the warehouse to its read copy under a temporary name, stamp it, and
    rename it into place.

    Call it after a committed transaction with no connection of this process open on db_path. A shared
    (read-only) lock is held on the live file during the copy, so no writer can change it midway; readers of the
    read copy never take a lock that a writer needs. Never fails the caller: a failed publish is logged and the
    previous copy stays. Set NEWSWATCH_READ_COPY=0 to turn the copy off (the trend tables are still refreshed).
    """
    src = Path(db_path)
    key = str(src.resolve())
    if not _pending_publish:
        atexit.register(_publish_pending)
    # at exit, once more: what was written after the last call (cross-article linking, a skipped copy) is included
    _pending_publish.add(key)
    # the trend refresh is throttled like the copy: at a million articles a batch's refresh took seconds
    if force or not _throttled(_last_refresh, key):
        t_refresh = time.monotonic()
        refresh_trends(src, lock_timeout_s=lock_timeout_s)
        _last_refresh[key] = (time.monotonic(), time.monotonic() - t_refresh)
    if os.environ.get("NEWSWATCH_READ_COPY", "1") == "0" or (not force and _throttled(_last_publish, key)):
        return None
    t0 = time.monotonic()
    dest = read_copy_path(src)
    try:
        with replaced_atomically(dest) as tmp:
            con = connect(src, read_only=True, lock_timeout_s=lock_timeout_s)
            try:
                # A plain file copy (sequential I/O) is several times faster than COPY FROM DATABASE, which
                # re-inserts every row and rebuilds every index.
                shutil.copyfile(src, tmp)
                wal = Path(f"{src}.wal")
                if wal.exists():
                    shutil.copyfile(wal, f"{tmp}.wal")
            finally:
                con.close()
            stamp = duckdb.connect(str(tmp))
            try:
                stamp.execute(
                    "INSERT OR REPLACE INTO core.meta VALUES ('read_copy_published_at', ?), ('read_copy_source', ?)",
                    [datetime.now(UTC).isoformat(), key],
                )
                stamp.execute("CHECKPOINT")
            finally:
                stamp.close()
    except (OSError, duckdb.Error, WarehouseError) as e:
        log.warning("read copy of %s not published: %s", src, str(e).splitlines()[0] if str(e) else e)
        return None
    _last_publish[key] = (time.monotonic(), time.monotonic() - t0)
    return dest


def _throttled(last: dict[str, tuple[float, float]], key: str) -> bool:
    """True while the time since the previous call (of last's kind) is under READ_COPY_COST_FACTOR times its cost."""
    prev = last.get(key)
    return prev is not None and time.monotonic() - prev[0] < READ_COPY_COST_FACTOR * prev[1]


def _publish_pending() -> None:
    for key in sorted(_pending_publish):
        try:
            if Path(key).exists():  # at exit, do not wait long for another process's lock
                publish_read_copy(key, force=True, lock_timeout_s=5)
        except Exception:  # noqa: BLE001 - at exit there is no one to tell but the log
            log.exception("read copy of %s not published at exit", key)
    _pending_publish.clear()


def refresh_trends(db_path: str | os.PathLike[str], *, lock_timeout_s: float | None = None) -> dict[str, int] | None:
    """Bring the trend tables behind the trend views up to date (warehouse/trends.py), in one short writer
    window. Never fails the caller: a failure is logged and the next call catches up."""
    from warehouse.trends import refresh_aggregates  # trends.py imports this module

    try:
        with session(db_path, lock_timeout_s=lock_timeout_s) as con, transaction(con):
            return refresh_aggregates(con, schema_hash())
    except (duckdb.Error, WarehouseError) as e:
        log.warning("trend tables of %s not refreshed: %s", db_path, str(e).splitlines()[0] if str(e) else e)
        return None


def _schema_current(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        row = con.execute("SELECT value FROM core.meta WHERE key = 'schema_hash'").fetchone()
    except duckdb.CatalogException:
        return False
    return row is not None and row[0] == schema_hash()


def connect_reader(
    path: str | os.PathLike[str] | None = None, *, lock_timeout_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection that does not wait for a run: the live file when it is free, else its read copy
    (the `freshness` view says how fresh that is), else (no read copy yet) the live file after waiting like
    connect(). A live file made by an older version gets the current schema (views) first, in a short writer
    window.
    """
    p = Path(path or default_db_path())
    if not p.exists():
        raise WarehouseError(f"database {p} does not exist; run `newswatch run` or `newswatch ingest` first")
    con, live = _open_live_or_copy(p, lock_timeout_s)
    if not live or (_schema_current(con) and _trends_built(con)):
        return con
    con.close()
    try:
        connect(p, lock_timeout_s=0).close()
        refresh_trends(p, lock_timeout_s=0)  # a warehouse from before the trend tables: build them once
    except WarehouseError:
        pass  # a run has the file now (and applies the schema itself), or it cannot be written: read what is there
    return _open_live_or_copy(p, lock_timeout_s)[0]


def _trends_built(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT value FROM core.meta WHERE key = 'trends_version'").fetchone()
    return row is not None and row[0] == schema_hash()


def _open_live_or_copy(p: Path, lock_timeout_s: float | None) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """(connection, True) on the live file, (connection, False) on the read copy."""
    try:
        return _quiet(duckdb.connect(str(p), read_only=True)), True
    except duckdb.IOException as e:
        if not _is_lock_error(e):
            raise WarehouseError(f"database {p} cannot be opened: {str(e).splitlines()[0]}") from None
    except duckdb.Error as e:
        raise WarehouseError(f"database {p} cannot be opened: {str(e).splitlines()[0]}") from None
    copy = read_copy_path(p)
    if copy.exists():
        try:
            return _quiet(duckdb.connect(str(copy), read_only=True)), False
        except duckdb.Error:
            pass  # an unreadable copy: wait for the live file instead
    return connect(p, read_only=True, lock_timeout_s=lock_timeout_s), True
