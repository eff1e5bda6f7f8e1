"""Helpers shared by the network tests: fast settings, a recording connect guard, a pinned resolver."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from newswatch.config import FetchSettings


def fast_settings(**overrides: object) -> FetchSettings:
    """Settings for loopback tests: private networks allowed, no politeness delay, tiny backoff."""
    base: dict[str, object] = {
        "allow_private_networks": True,
        "per_host_delay_s": 0.0,
        "backoff_base_s": 0.01,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "total_deadline_s": 5.0,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


@dataclass
class ConnectLog:
    """Every socket connect a test made (address tuples); non-loopback ones were refused, never sent."""

    attempts: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)


@contextmanager
def recording_connect_guard(
    nat: dict[tuple[str, int], tuple[str, int]] | None = None,
) -> Iterator[ConnectLog]:
    """Record every TCP connect; refuse (ECONNREFUSED, no packet sent) anything that is not loopback.

    The session-wide guard in tests/conftest.py fails the test on a non-loopback connect; this one records
    the address the client tried, so a test can assert *which* address the pinned connection used.
    `nat` maps a pretend public address to a loopback server, a test-only "internet": the client's
    guard sees a public address, the packets stay on loopback.
    """
    log = ConnectLog()
    previous = socket.socket.connect
    nat = nat or {}

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host, port = str(address[0]), int(address[1])
            log.attempts.append((host, port))
            if (host, port) in nat:
                return previous(self, nat[(host, port)])
            ip = ipaddress.ip_address(host.split("%", 1)[0])
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            if not ip.is_loopback:
                log.refused.append((host, port))
                raise ConnectionRefusedError(111, f"test guard refused non-loopback {host}")
        return previous(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield log
    finally:
        socket.socket.connect = previous  # type: ignore[method-assign]


def static_resolver(
    answers: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[[str, int], list[str]]:
    """A DNS stand-in: host -> addresses. Unknown hosts fail like NXDOMAIN. Appends each lookup to calls."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answers[host])

    return resolve
