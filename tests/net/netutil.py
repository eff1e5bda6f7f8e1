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


# Literal hosts the guard must refuse (RELIABILITY.md B8), shared by the guard and Fetcher tests.
INTERNAL_LITERALS = [
    "127.0.0.1",
    "127.0.0.53",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7f.0.0.1",
    "0177.0.0.1",  # octal
    "0177.1",
    "127.1",  # short form
    "127.0.1",
    "127.0.0.1.",  # trailing dot
    "0.0.0.0",
    "0",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",  # IPv4-compatible
    "169.254.169.254",  # cloud metadata
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "198.18.0.1",  # benchmarking
    "198.19.255.254",
    "192.0.0.1",
    "192.0.2.1",  # TEST-NET
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[64:ff9b::7f00:1]",
    "[64:ff9b:1::1]",  # local-use NAT64
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[ff02::1]",
    "[2001:db8::1]",  # documentation
]
