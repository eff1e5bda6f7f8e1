"""The only module that opens DuckDB: connecting (with lock retry), schema setup, bulk inserts.

DuckDB lets one process hold a file read-write and then no other process can open it, not even
read-only. So writers keep their windows short and retry with backoff when the lock is held;
readers use `connect(path, read_only=True)`, which retries the same way. See docs/schema.md,
"Querying while the pipeline runs".

Readers that must never wait or fail during a run use `connect_reader`: it opens the read copy
(`<db>.read.duckdb`, published by `publish_read_copy` after each stored batch) while a writer holds the file.

Two backends, and this is the only module that knows which one is in use (`current_backend`):
- `duckdb` (the default): the one DuckDB file above.
- `ducklake`: a DuckLake catalog (a PostgreSQL database, or a local DuckDB catalog file) with its data as Parquet
  files under a data path. The same schema files, upserts and public views run on both: DuckLake has no
  PRIMARY KEY, UNIQUE or index, so `_lake_schema` strips them from the schema files and every upsert is a
  `MERGE INTO` on the key columns declared there (`upsert`). With a PostgreSQL catalog several processes write
  at once (DuckLake snapshots; a conflicting commit is retried by `retrying`) and readers never wait.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from newswatch.errors import WarehouseError, WarehouseLockedError

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_DB = "newswatch.duckdb"
SCHEMA_VERSION = "1"

log = logging.getLogger(__name__)


def default_db_path() -> str:
    return os.environ.get("NEWSWATCH_DB") or DEFAULT_DB


# ---- backends -------------------------------------------------------------------------------------------

# The backend is process-wide and passed to child processes through the environment: `use_backend` (called with
# the config's [warehouse] section) sets these, and a test sets them to run the same code on another backend.
BACKEND_ENV = "NEWSWATCH_WAREHOUSE_BACKEND"
CATALOG_ENV = "NEWSWATCH_WAREHOUSE_CATALOG"
DATA_PATH_ENV = "NEWSWATCH_WAREHOUSE_DATA_PATH"
BACKENDS = ("duckdb", "ducklake")
LAKE_ALIAS = "nw"  # the attached DuckLake catalog's name; `USE nw` makes core.* and the public views resolve there


@dataclass(frozen=True, slots=True)
class Backend:
    """Where the warehouse lives: `duckdb` (the db path is the DuckDB file) or `ducklake` (catalog + data_path)."""

    kind: str = "duckdb"
    catalog: str | None = None  # postgresql://... or a DuckDB catalog file; None: the db path
    data_path: str | None = None  # Parquet files; None: `<catalog file>.files/` beside a local catalog

    @property
    def lake(self) -> bool:
        return self.kind == "ducklake"

    @property
    def postgres(self) -> bool:
        return self.lake and (self.catalog or "").startswith(("postgresql:", "postgres:"))

    @property
    def concurrent_writers(self) -> bool:
        """True when several processes may write at once (a DuckDB file, or a DuckDB catalog file, has one
        writer process at a time; a PostgreSQL catalog takes many)."""
        return self.postgres


def current_backend() -> Backend:
    kind = os.environ.get(BACKEND_ENV) or "duckdb"
    if kind not in BACKENDS:
        raise WarehouseError(f"warehouse backend {kind!r} is unknown; use one of: {', '.join(BACKENDS)}")
    if kind == "duckdb":
        return Backend()
    return Backend(kind, os.environ.get(CATALOG_ENV) or None, os.environ.get(DATA_PATH_ENV) or None)


def use_backend(kind: str = "duckdb", catalog: str | None = None, data_path: str | None = None) -> None:
    """Make this process (and the processes it starts) use this backend."""
    if kind not in BACKENDS:
        raise WarehouseError(f"warehouse backend {kind!r} is unknown; use one of: {', '.join(BACKENDS)}")
    for name, value in ((BACKEND_ENV, kind), (CATALOG_ENV, catalog), (DATA_PATH_ENV, data_path)):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)


def exists(path: str | os.PathLike[str] | None = None) -> bool:
    """Whether the warehouse has been created (a file for DuckDB and local catalogs; the catalog's core.meta
    for PostgreSQL, where nothing is on local disk)."""
    b = current_backend()
    if not b.postgres:
        return _local_catalog(Path(path or default_db_path()), b).exists()
    try:
        con = _open_lake(Path(path or default_db_path()), b, read_only=True, lock_timeout_s=0)
    except WarehouseError:
        return False
    try:
        return _schema_hash_in(con) is not None
    finally:
        con.close()


def _local_catalog(p: Path, b: Backend) -> Path:
    if not b.lake or not b.catalog:
        return p
    return Path(b.catalog)


def _extension(name: str) -> str:
    """The DuckDB extension file shipped by the duckdb-extension-<name> wheel: loaded from disk, never
    downloaded (CI and workers may have no route to extensions.duckdb.org)."""
    import importlib

    try:
        pkg = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise WarehouseError(
            f"the ducklake backend needs the duckdb-extension-{name} package ({duckdb.__version__}); "
            "pip install it from the lock file"
        ) from None
    root = Path(next(iter(pkg.__path__)))
    found = sorted(root.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise WarehouseError(f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__} under {root}")
    entry = _ENTRYPOINT_NAMES.get(name, name)
    if entry == name:
        return str(found[0])
    # DuckDB calls `<file name>_duckdb_cpp_init`, and the wheel names postgres_scanner's file postgres.duckdb_extension:
    # load it through a link with the name DuckDB expects
    link = _extension_links_dir() / f"{entry}.duckdb_extension"
    if not link.exists():
        link.symlink_to(found[0])
    return str(link)


_ENTRYPOINT_NAMES = {"postgres": "postgres_scanner"}


@functools.lru_cache(maxsize=1)
def _extension_links_dir() -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="newswatch-duckdb-ext-"))
    atexit.register(shutil.rmtree, d, True)
    return d


def exit_work_pending() -> bool:
    """Whether this module registered work for the process's exit (a read copy to publish, extension links
    to remove): a command may end the process without finalisation only when it did not."""
    return bool(_pending_publish) or _extension_links_dir.cache_info().currsize > 0


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# One in-memory DuckDB per PostgreSQL catalog and process, with the extensions loaded and the catalog attached
# once; connect() hands out cursors of it. Loading the two extensions and reading the catalog cost ~2.7 s per
# fresh instance here (under load), and the pipeline opens a short writer window per batch. A PostgreSQL
# catalog holds no lock, so keeping it attached blocks no other process; a local catalog file is attached per
# connection instead, so that closing the connection frees the file for other processes as with the DuckDB file.
_lake_instances: dict[tuple[str, str, str], duckdb.DuckDBPyConnection] = {}  # (catalog, data path, lake name)
_lake_instances_lock = threading.Lock()


def _open_lake(p: Path, b: Backend, *, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the DuckLake catalog attached as `nw` and selected."""
    if b.postgres:
        key = (b.catalog or "", b.data_path or "", lake_name(p))
        with _lake_instances_lock:
            base = _lake_instances.get(key)
            if base is None:
                base = _attach_lake(p, b, read_only=False, lock_timeout_s=lock_timeout_s)
                _lake_instances[key] = base
        cur = base.cursor()
        cur.execute(f"USE {LAKE_ALIAS}")
        return cur
    return _attach_lake(p, b, read_only=read_only, lock_timeout_s=lock_timeout_s)


def _attach_lake(p: Path, b: Backend, *, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    catalog = b.catalog or str(p)
    options = []
    if b.postgres:
        # libpq takes a postgresql:// URI as its connection string
        spec = "postgres:" + catalog.removeprefix("postgres:")
        if not b.data_path:
            raise WarehouseError("the ducklake backend with a PostgreSQL catalog needs [warehouse] data_path")
        # several warehouses share one PostgreSQL database: each has its own metadata schema and data folder
        data = str(Path(b.data_path) / lake_name(p)) if "://" not in b.data_path else f"{b.data_path}/{lake_name(p)}"
        options.append(f"METADATA_SCHEMA {_sql_str(lake_name(p))}")
    else:
        local = _local_catalog(p, b)
        spec = str(local)
        data = b.data_path or f"{local}.files"
        if read_only and not local.exists():
            raise WarehouseError(f"database {local} does not exist; run `newswatch run` or `newswatch ingest` first")
        if not read_only:
            local.parent.mkdir(parents=True, exist_ok=True)
    if not read_only and "://" not in data:
        Path(data).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.execute(f"LOAD {_sql_str(_extension('ducklake'))}")
        if spec.startswith("postgres:"):
            con.execute(f"LOAD {_sql_str(_extension('postgres'))}")
    except duckdb.Error as e:
        con.close()
        raise WarehouseError(f"DuckLake extensions cannot be loaded: {str(e).splitlines()[0]}") from None
    options += [f"DATA_PATH {_sql_str(data)}"] + (["READ_ONLY"] if read_only else [])
    attach = f"ATTACH {_sql_str('ducklake:' + spec)} AS {LAKE_ALIAS} ({', '.join(options)})"
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            con.execute(attach)
            break
        except duckdb.Error as e:
            if not _is_lock_error(e):
                con.close()
                raise WarehouseError(
                    f"warehouse catalog {_redacted(catalog)} cannot be opened: {str(e).splitlines()[0]}"
                ) from None
            if time.monotonic() >= deadline:
                con.close()
                raise WarehouseLockedError(
                    f"warehouse catalog {_redacted(catalog)} is locked by another newswatch process "
                    f"(waited {lock_timeout_s:.0f}s); try again when it finishes"
                ) from None
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
    con.execute(f"USE {LAKE_ALIAS}")
    return con


def lake_name(path: str | os.PathLike[str]) -> str:
    """The warehouse's name inside a shared PostgreSQL catalog: the db file's stem (`newswatch.duckdb` ->
    `newswatch`), as a PostgreSQL identifier."""
    stem = Path(path).name.removesuffix(".duckdb").removesuffix(".ducklake")
    return re.sub(r"[^a-z0-9_]", "_", stem.lower()) or "newswatch"


def _redacted(catalog: str) -> str:
    """The catalog without a password (postgresql://user:secret@host -> postgresql://user:***@host)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", re.sub(r"(password=)\S+", r"\1***", catalog))


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


# Conflicting DuckLake commits (two writers changed the same table's rows) fail with a TransactionException that
# names the conflict; the whole transaction is then done again on the new snapshot.
_CONFLICT_MARKERS = ("conflict", "Conflict")
T = TypeVar("T")


def is_conflict(e: BaseException) -> bool:
    return isinstance(e, duckdb.Error) and any(m in str(e) for m in _CONFLICT_MARKERS) and (
        "ransaction" in str(e) or "commit" in str(e).lower()
    )


def retrying(work: Callable[[], T], *, attempts: int = 8, what: str = "warehouse write") -> T:
    """Run work() (one whole transaction) again when its commit conflicts with another writer's, with jittered
    backoff. DuckLake already retries commits that do not touch the same rows; these are the ones that did."""
    import random

    for attempt in range(attempts):
        try:
            return work()
        except duckdb.Error as e:
            if not is_conflict(e) or attempt == attempts - 1:
                raise
            log.info("%s conflicted with another writer (attempt %d): %s", what, attempt + 1, str(e).splitlines()[0])
            time.sleep(random.uniform(0.02, 0.1) * (2**attempt))
    raise AssertionError("unreachable")


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
    b = current_backend()
    if b.lake:
        con = _quiet(_open_lake(p, b, read_only=read_only, lock_timeout_s=lock_timeout_s))
        if apply_schema and not read_only:
            ensure_schema(con)
        return con
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
    if not force and _schema_hash_in(con) == digest:
        return
    lake = is_lake(con)

    def apply() -> None:
        con.execute("BEGIN")
        try:
            for name, sql in _schema_files():
                try:
                    con.execute(_lake_schema(sql) if lake else sql)
                except duckdb.Error as e:
                    if is_conflict(e):
                        raise
                    raise WarehouseError(f"schema file {name} failed: {e}") from e
            upsert(con, "core.meta", [("schema_version", SCHEMA_VERSION), ("schema_hash", digest)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # two writers starting at once on a fresh lake both create the tables: the loser sees them on its retry
    retrying(apply, what="schema setup")


def apply_sql(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Run one schema file's text on this connection's backend (DuckLake gets `_lake_schema` of it)."""
    con.execute(_lake_schema(sql) if is_lake(con) else sql)


def _schema_hash_in(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute("SELECT value FROM core.meta WHERE key = 'schema_hash'").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def _lake_schema(sql: str) -> str:
    """A schema file as DuckLake takes it: no PRIMARY KEY (the keys stay declared for `upsert`, which reads them
    from the original text), no index, no list default, and no column comments (DuckLake cannot comment on a
    view's columns; the view comments stay)."""
    sql = re.sub(r"(?m)^\s*PRIMARY KEY\s*\([^)]*\)[ \t]*\n", "", sql)
    # the comma of the column before a removed table constraint (a comment may sit between them)
    sql = re.sub(r",([ \t]*(?:--[^\n]*)?\n\s*)\)", r"\1)", sql)
    sql = re.sub(r"\s+PRIMARY KEY\b", "", sql)
    sql = re.sub(r"(?s)CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;", "", sql)
    sql = re.sub(r"\s+DEFAULT\s+\[\]", "", sql)
    return re.sub(r"(?s)COMMENT ON COLUMN\s[^;']*?\sIS\s+'(?:[^']|'')*'\s*;", "", sql)


@functools.lru_cache(maxsize=1)
def primary_keys() -> dict[str, tuple[str, ...]]:
    """Key columns of every core table, as the schema files declare them (`core.meta` -> ('key',))."""
    keys: dict[str, tuple[str, ...]] = {}
    table_re = re.compile(r"(?is)CREATE TABLE IF NOT EXISTS\s+([\w.]+)\s*\((.*?)\n\);")
    for _name, sql in _schema_files():
        for m in table_re.finditer(sql):
            body = re.sub(r"--[^\n]*", "", m.group(2))
            cons = re.search(r"PRIMARY KEY\s*\(([^)]*)\)", body)
            if cons:
                keys[m.group(1)] = tuple(c.strip() for c in cons.group(1).split(","))
                continue
            inline = re.findall(r"(?m)^\s*(\w+)\s+[^,\n]*\bPRIMARY KEY\b", body)
            if inline:
                keys[m.group(1)] = tuple(inline)
    return keys


_table_columns: dict[str, tuple[str, ...]] = {}


def _columns_of(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    # cached: every warehouse a process writes has the current schema (connect applies it)
    cols = _table_columns.get(table)
    if cols is None:
        schema, name = table.split(".", 1)
        cols = tuple(
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, name],
            ).fetchall()
        )
        if not cols:
            raise WarehouseError(f"table {table} does not exist")
        _table_columns[table] = cols
    return cols


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Sequence[Any]] | pa.Table | None = None,
    *,
    columns: Sequence[str] | None = None,
    source: str | None = None,
    params: Sequence[Any] | None = None,
    update: Mapping[str, str] | None = None,
    ignore: bool = False,
) -> None:
    """Insert rows, or update the stored row with the same primary key: INSERT OR REPLACE on both backends.

    One `MERGE INTO` on the key columns declared in the schema files (DuckLake has no key for INSERT OR REPLACE
    or ON CONFLICT; on a DuckDB file MERGE was as fast here: 13 ms against 42 ms for INSERT OR REPLACE of one
    row into 2M). The rows are either `rows` (tuples in `columns` order, default every column of the table; or an
    Arrow table whose column names are the table's) or `source`, a SELECT with `params` whose output columns are `columns`. `update` maps a column to the SQL
    expression it is set to when the key exists, with `s.` the new row and `t.` the stored one (default: every
    non-key column from the new row); `ignore=True` keeps the stored row (INSERT OR IGNORE).
    """
    if hasattr(rows, "num_rows"):  # an Arrow table (pyarrow is imported by writers only: readers start faster)
        if rows.num_rows == 0:
            return
        name = f"_nw_upsert_{id(rows)}"
        con.register(name, rows)
        try:
            cols = ", ".join(f'"{c}"' for c in rows.column_names)
            upsert(con, table, columns=rows.column_names, source=f"SELECT {cols} FROM {name}", update=update,
                   ignore=ignore)
        finally:
            con.unregister(name)
        return
    cols = tuple(columns) if columns is not None else _columns_of(con, table)
    keys = primary_keys().get(table)
    if not keys:
        raise WarehouseError(f"table {table} has no primary key to upsert on")
    col_list = ", ".join(f'"{c}"' for c in cols)
    if source is None:
        if not rows:
            return
        one = "(" + ", ".join("?" for _ in cols) + ")"
        source = f"SELECT * FROM (VALUES {', '.join(one for _ in rows)}) AS v({col_list})"
        params = [value for row in rows for value in row]
    if ignore:  # INSERT OR IGNORE keeps one of several new rows with the same key
        source = f"SELECT DISTINCT ON ({', '.join(keys)}) * FROM ({source})"
    on = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    sql = f"MERGE INTO {table} AS t USING ({source}) AS s ON ({on}) "
    if not ignore:
        sets = dict(update) if update is not None else {c: f's."{c}"' for c in cols if c not in keys}
        if sets:
            sql += "WHEN MATCHED THEN UPDATE SET " + ", ".join(f'"{c}" = {e}' for c, e in sets.items()) + " "
    sql += f"WHEN NOT MATCHED THEN INSERT ({col_list}) VALUES ({', '.join(f's.{c}' for c in col_list.split(', '))})"
    con.execute(sql, list(params or []))


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
    """A connection that is closed on exit (writers: keep these windows short).

    On a catalog that takes several writer processes, a writer session holds the write lock (`write_lock`) so
    that writer windows take turns while everything between them (fetching, extraction, facts) runs at once.
    """
    lock = (
        write_lock(path)
        if not kw.get("read_only") and current_backend().concurrent_writers
        else contextlib.nullcontext()
    )
    with lock:
        con = connect(path, **kw)
        try:
            yield con
        finally:
            con.close()


@contextmanager
def duckdb_threads(con: duckdb.DuckDBPyConnection, n: int) -> Iterator[None]:
    """Run the block with DuckDB's `threads` at n, then put the previous value back: the setting belongs to the
    database instance, which another connection of this process to the same file shares."""
    before = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute(f"SET threads = {int(n)}")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(before)}")


def concurrent_writers() -> bool:
    """Whether several processes may write this process's warehouse at once (then run locks can be per watch)."""
    return current_backend().concurrent_writers


@contextmanager
def write_lock(
    path: str | os.PathLike[str] | None = None, *, timeout_s: float | None = None
) -> Iterator[None]:
    """An OS lock (`<db>.write-lock`) around one writer window on a shared DuckLake catalog.

    DuckLake has no primary key: two writers that upsert the same article at once would each insert it (inserts
    never conflict), and two that update or delete in one table conflict at commit even on different rows
    (measured: "Transaction conflict - attempting to delete from table ... but another transaction has deleted
    from it"). Taking turns for the short writer windows avoids both on one machine; a commit that still
    conflicts (a writer on another machine) is retried by `retrying` where the whole transaction can be redone.
    """
    import fcntl

    if timeout_s is None:
        timeout_s = float(os.environ.get("NEWSWATCH_LOCK_TIMEOUT", "30"))
    lock_path = f"{os.path.abspath(path or default_db_path())}.write-lock"
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        f"warehouse {path} is being written by another newswatch process (waited "
                        f"{timeout_s:.0f}s); try again when it finishes"
                    ) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.5)
        yield
    finally:
        os.close(fd)


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    columns: Iterable[str] | None = None,
    mode: str = "INSERT",
) -> int:
    """Bulk insert dicts through Arrow (about 60k rows/s here, against ~800/s for executemany).

    mode is 'INSERT', 'INSERT OR REPLACE' or 'INSERT OR IGNORE' (both done by `upsert`). Column types come
    from the table.
    """
    if not rows:
        return 0
    cols = list(columns) if columns is not None else list(rows[0].keys())
    data = {c: [r.get(c) for r in rows] for c in cols}
    import pyarrow as pa  # here, not at the top: readers (`newswatch trends`) then start without it (~0.3 s)

    insert_arrow(con, table, pa.table(data), mode=mode)
    return len(rows)


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, *, mode: str = "INSERT") -> None:
    """Insert an Arrow table (its column names are the table's); mode as for insert_rows."""
    if data.num_rows == 0:
        return
    if mode in ("INSERT OR REPLACE", "INSERT OR IGNORE"):
        upsert(con, table, data, ignore=mode == "INSERT OR IGNORE")
        return
    if mode != "INSERT":
        raise ValueError(f"unknown insert mode {mode!r}")
    name = f"_nw_rows_{id(data)}"
    con.register(name, data)
    try:
        col_list = ", ".join(f'"{c}"' for c in data.column_names)
        con.execute(f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {name}")
    finally:
        con.unregister(name)


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
# trends_refreshed_at (the freshness view) say how fresh. 30, not 10: in a 2,000-page run the publishes and
# refreshes at 10 were 14 of the main process's 110 s of load stage, the stage that bounds a run's speed.
READ_COPY_COST_FACTOR = 30.0
_last_publish: dict[str, tuple[float, float]] = {}  # db path -> (monotonic time of the last publish, its cost)
_last_refresh: dict[str, tuple[float, float]] = {}  # db path -> (monotonic time of the last trend refresh, its cost)
_pending_publish: dict[str, Backend] = {}  # resolved path -> the backend it was written with


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
    _pending_publish[key] = current_backend()  # at exit the environment may name another backend
    # the trend refresh is throttled like the copy: at a million articles a batch's refresh took seconds
    if force or not _throttled(_last_refresh, key):
        t_refresh = time.monotonic()
        refresh_trends(src, lock_timeout_s=lock_timeout_s)
        _last_refresh[key] = (time.monotonic(), time.monotonic() - t_refresh)
    if os.environ.get("NEWSWATCH_READ_COPY", "1") == "0" or (not force and _throttled(_last_publish, key)):
        return None
    if current_backend().lake:
        return None  # DuckLake readers read the live catalog at its last snapshot: no copy to publish
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
                upsert(
                    stamp,
                    "core.meta",
                    [("read_copy_published_at", datetime.now(UTC).isoformat()), ("read_copy_source", key)],
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
    """At exit: publish each warehouse written since its last copy, under the backend it was written with (a
    process that switched backends must not open a DuckLake catalog file as a plain DuckDB warehouse)."""
    saved = current_backend()
    try:
        for key, backend in sorted(_pending_publish.items()):
            use_backend(backend.kind, backend.catalog, backend.data_path)
            try:
                if exists(key):  # at exit, do not wait long for another process's lock
                    publish_read_copy(key, force=True, lock_timeout_s=5)
            except Exception:  # noqa: BLE001 - at exit there is no one to tell but the log
                log.exception("read copy of %s not published at exit", key)
    finally:
        use_backend(saved.kind, saved.catalog, saved.data_path)
        _pending_publish.clear()


def refresh_trends(db_path: str | os.PathLike[str], *, lock_timeout_s: float | None = None) -> dict[str, int] | None:
    """Bring the trend tables behind the trend views up to date (warehouse/trends.py), in one short writer
    window. Never fails the caller: a failure is logged and the next call catches up."""
    from warehouse.trends import refresh_aggregates  # trends.py imports this module

    def refresh() -> dict[str, int]:
        with session(db_path, lock_timeout_s=lock_timeout_s) as con, transaction(con):
            return refresh_aggregates(con, schema_hash())

    try:
        return retrying(refresh, what="trend refresh")
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
    if current_backend().lake:
        # a PostgreSQL catalog never makes a reader wait; a local catalog file waits like connect()
        con = connect(p, read_only=True, lock_timeout_s=lock_timeout_s)
        if _schema_current(con) and _trends_built(con):
            return con
        con.close()
        try:
            connect(p, lock_timeout_s=0).close()
            refresh_trends(p, lock_timeout_s=0)
        except WarehouseError:
            pass  # a writer has the catalog file now and applies the schema itself
        return connect(p, read_only=True, lock_timeout_s=lock_timeout_s)
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
