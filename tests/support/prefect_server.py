"""A real local Prefect server and worker for tests: `prefect` subprocesses on loopback, stopped by process id.

    with PrefectServer.start(tmp_path / "prefect-home") as server:   # `prefect server start` on a free port
        server.cli("work-pool", "create", "newswatch", "--type", "process")
        worker = server.spawn("worker", "start", "--pool", "newswatch", env={...})
        server.wait_for(lambda: ..., "what we wait for", timeout_s=180)
        server.api("GET", f"/flow_runs/{run_id}")

Every service runs in its own session (process group). Stopping it signals the group (SIGINT, then SIGTERM),
waits, then SIGKILLs the group and every descendant found under /proc, because Prefect starts flow runs (and
some server services) in sessions of their own, which a signal to the group would miss. Waits poll a condition
up to a generous bound: nothing here depends on how fast the machine is, only on a ceiling.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["PrefectServer", "Service", "free_port"]

PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None when it is gone (start time guards against pid reuse)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces and parentheses
    if fields[0] == "Z":
        return None
    return int(fields[1]), fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Every live process below root (any session), pid -> start time."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))):
            children.setdefault(st[0], []).append(int(entry.name))
            starts[int(entry.name)] = st[1]
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = starts[pid]
            todo.extend(children.get(pid, []))
    return found


@dataclass
class Service:
    """One long-running `prefect ...` subprocess in its own session, with its output in a log file."""

    name: str
    proc: subprocess.Popen
    log: Path
    seen: dict[int, str] = field(default_factory=dict)  # descendants met while stopping: pid -> start time

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self, tail: int = 6000) -> str:
        try:
            return self.log.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGINT the group (a worker ignores SIGTERM while it shuts down gracefully, Ctrl-C ends it at once), then
        SIGTERM, each with up to grace_s to exit; then SIGKILL the group and every descendant still alive."""
        seen = self.seen
        for sig in (signal.SIGINT, signal.SIGTERM):
            if not self.alive():
                break
            seen.update(_descendants(self.proc.pid))
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace_s
            while self.alive() and time.monotonic() < deadline:
                seen.update(_descendants(self.proc.pid))
                time.sleep(0.2)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid, started in seen.items():
            st = _stat(pid)
            if st and st[1] == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc.wait(timeout=30)

    def left_running(self) -> list[int]:
        """Processes of this service still alive (after stop(): none, or stop() failed)."""
        own = [] if self.proc.poll() is not None else [self.proc.pid]
        return own + [pid for pid, started in self.seen.items() if (st := _stat(pid)) and st[1] == started]


class PrefectServer:
    """`prefect server start` on a free loopback port with its own PREFECT_HOME; runs CLI commands against it."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.services: list[Service] = []
        # Nothing Prefect-related from the caller's environment (a profile, another server's database URL):
        # this server and its clients see only the settings below.
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",  # the dashboard is not under test; building it only costs start-up time
            "PREFECT_CLI_PROMPT": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    @classmethod
    @contextmanager
    def start(cls, home: Path, timeout_s: float = 240.0) -> Iterator[PrefectServer]:
        """Start the server, wait for /api/health, yield; stop every service it spawned (workers first) after."""
        home.mkdir(parents=True, exist_ok=True)
        server = cls(home, free_port())
        try:
            proc = server.spawn("server", "start", "--host", "127.0.0.1", "--port", str(server.port))
            server.wait_for(server.healthy, "the Prefect server to answer /api/health", timeout_s, watch=proc)
            yield server
        finally:
            for service in reversed(server.services):  # workers before the server they talk to
                service.stop()

    def spawn(self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Service:
        """Start `prefect ARGS` in a new session; its output goes to a log file under PREFECT_HOME."""
        log = self.home / f"{args[0]}-{len(self.services)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*PREFECT, *args], env={**self.env, **(env or {})}, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        service = Service(" ".join(args[:2]), proc, log)
        self.services.append(service)
        return service

    def cli(self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout_s: float = 240.0) -> str:
        """Run `prefect ARGS` to completion; its output, or an AssertionError with the output when it fails."""
        done = subprocess.run([*PREFECT, *args], env={**self.env, **(env or {})}, cwd=cwd, capture_output=True,
                              text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
        out = done.stdout + done.stderr
        assert done.returncode == 0, f"prefect {' '.join(args)} exited {done.returncode}:\n{out[-6000:]}"
        return out

    def api(self, method: str, path: str, json: Any = None) -> Any:
        """One call to the server's REST API (path below /api): the JSON answer, None for an empty one."""
        r = httpx.request(method, self.api_url + path, json=json, timeout=60)
        r.raise_for_status()
        return r.json() if r.content else None

    def healthy(self) -> bool:
        try:
            return httpx.get(self.api_url + "/health", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_for(self, condition: Callable[[], Any], what: str, timeout_s: float,
                 watch: Service | None = None, every_s: float = 1.0) -> Any:
        """Poll condition() until it returns something truthy (returned), up to timeout_s; fail with what we
        waited for and the logs (or at once when the watched service died)."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = condition()
            if value:
                return value
            if watch is not None and not watch.alive():
                raise AssertionError(f"{watch.name} exited {watch.proc.returncode} while waiting for {what}:\n"
                                     f"{watch.output()}")
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {s.name} ---\n{s.output(3000)}" for s in self.services)
                raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what}\n{logs}")
            time.sleep(every_s)

    def deployment_id(self, name: str) -> str:
        """The id of deployment 'flow-name/deployment-name'."""
        return self.api("GET", f"/deployments/name/{name}")["id"]

    def flow_runs(self, deployment_id: str, state_types: list[str] | None = None) -> list[dict]:
        """The deployment's flow runs (optionally only those in the given state types), earliest first."""
        flt: dict[str, Any] = {"deployments": {"id": {"any_": [deployment_id]}},
                               "sort": "EXPECTED_START_TIME_ASC", "limit": 50}
        if state_types:
            flt["flow_runs"] = {"state": {"type": {"any_": state_types}}}
        return self.api("POST", "/flow_runs/filter", json=flt)
