"""A throwaway PostgreSQL server for tests: initdb into a temp dir, a random loopback port, stopped by pid.

Debian's `postgresql` package (installed by .ci/run when missing) puts the server binaries in
/usr/lib/postgresql/<version>/bin. initdb and postgres refuse to run as root, so as root the server runs as the
package's `postgres` user, in a temp dir it owns (pytest's own temp dirs are 0700 root). Nothing is left behind:
the server is stopped by its pid (SIGINT, PostgreSQL's "fast shutdown") and the dir removed.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why and what to install)."""


def _bin_dir() -> Path:
    # NEWSWATCH_POSTGRES_BIN names the directory of the server binaries outright (another install, or an empty
    # directory to see what a machine without PostgreSQL does: the tests skip, or fail under
    # NEWSWATCH_REQUIRE_POSTGRES=1)
    if forced := os.environ.get("NEWSWATCH_POSTGRES_BIN"):
        if (Path(forced) / "initdb").exists():
            return Path(forced)
        raise PostgresUnavailable(f"NEWSWATCH_POSTGRES_BIN={forced} has no initdb")
    versions = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p).parent.name.isdigit()]
    for candidate in sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, postgres) not found; "
                              "install Debian's postgresql package (.ci/run does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: `new_database()` gives each test its own empty database."""

    bin_dir: Path
    root: Path
    port: int
    process: subprocess.Popen
    user: str | None  # the OS user the server runs as (None: this process's user)
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60, check=False,
        )
        if out.returncode:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def new_database(self) -> str:
        """A fresh empty database; returns its postgresql:// URL."""
        name = f"nw_{os.getpid()}_{next(self._names)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, checkpoint, exit
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Start a server (raises PostgresUnavailable with the reason when it cannot)."""
    bin_dir = _bin_dir()
    user = None
    kw: dict = {}
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no `postgres` OS user to run the server "
                                      "(Debian's postgresql package creates it)") from None
        user = "postgres"
        kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    if user:
        os.chown(root, kw["user"], kw["group"])
    data = root / "data"
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        capture_output=True, text=True, timeout=120, check=False, cwd=root, **kw,
    )
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
    last_error = ""
    for _attempt in range(5):  # the random port may be taken between choosing and binding it
        port = _free_port()
        log = open(root / "server.log", "ab")  # noqa: SIM115 - the server writes it until it stops
        proc = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(root),
             # a test server: durability off, it is thrown away
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=100"],
            stdout=log, stderr=subprocess.STDOUT, cwd=root, **kw,
        )
        log.close()
        server = PostgresServer(bin_dir, root, port, proc, user)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            # asked on this server's own Unix socket (in root, nobody else's): over TCP another server that
            # holds the port (another test session's) would answer while this one fails to bind it and exits
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", str(root), "-p", str(port)],
                                   check=False, timeout=30)
            if ready.returncode == 0 and proc.poll() is None:
                return server
            time.sleep(0.2)
        last_error = " ".join((root / "server.log").read_text(errors="replace").strip().splitlines()[-1:])
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)
    raise PostgresUnavailable(f"the PostgreSQL server did not start: {last_error}")
