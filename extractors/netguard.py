"""The SSRF guard: the URL policy (newswatch/urlpolicy.py) plus DNS resolution, for the fetcher.

Policy (RELIABILITY.md B8-B12): the static checks (scheme, userinfo, port, IP literals in any spelling) live in
newswatch/urlpolicy.py, so the digest renderer applies the very same rules to the links it shows. This module adds
what needs the network:
- a host is resolved once per request and refused if ANY of its addresses is not globally routable:
  loopback, private, link-local, CGNAT 100.64/10, benchmarking 198.18/15, multicast, reserved,
  unspecified, and IPv6 forms that embed such an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
  IPv4-compatible ::a.b.c.d, 6to4 2002::/16, NAT64 64:ff9b::/96);
- the caller connects to the checked addresses only (extractors/http/transport.py pins them), so DNS rebinding
  between check and connect cannot work.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from newswatch.errors import BlockedError, TransientError
from newswatch.urlpolicy import (
    ALLOWED_SCHEMES,
    DEFAULT_PORTS,
    IPAddress,
    Target,
    check_url,
    ip_refusal,
    parse_ip_literal,
    parse_ipv4_loose,
)

__all__ = [
    "ALLOWED_SCHEMES",
    "DEFAULT_PORTS",
    "IPAddress",
    "ResolutionError",
    "Resolver",
    "Target",
    "check_url",
    "ip_refusal",
    "parse_ip_literal",
    "parse_ipv4_loose",
    "resolve_checked",
    "system_resolver",
]

Resolver = Callable[[str, int], list[str]]


class ResolutionError(TransientError):
    """The host name could not be resolved (NXDOMAIN, SERVFAIL, no answer, too slow): try again next run."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve a host name with the system resolver: every TCP address, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out:
            out.append(addr)
    return out


def resolve_checked(target: Target, resolver: Resolver, *, allow_private: bool) -> list[str]:
    """Resolve the target once and check every address. Returns the addresses to connect to, in order.

    Raises BlockedError when any address is refused (a mixed public/private answer is refused as a
    whole: the attacker controls which one a later connection would use), ResolutionError when the
    name does not resolve.
    """
    if target.literal is not None:
        return [str(target.literal)]
    try:
        answers = resolver(target.host, target.port)
    except (OSError, UnicodeError) as e:
        raise ResolutionError(f"{target.url}: cannot resolve {target.host}: {e}") from None
    if not answers:
        raise ResolutionError(f"{target.url}: {target.host} has no addresses")
    checked: list[str] = []
    for a in answers:
        try:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
        except ValueError:
            raise BlockedError(f"{target.url}: resolver returned a non-address {a!r}") from None
        if "%" in a:
            raise BlockedError(f"{target.url}: {target.host} resolves to scoped address {a}")
        reason = ip_refusal(ip, allow_private=allow_private)
        if reason is not None:
            raise BlockedError(f"{target.url}: {target.host} resolves to {reason}")
        checked.append(str(ip))
    return checked
