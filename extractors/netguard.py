"""The SSRF guard: which URLs, ports and IP addresses newswatch may connect to, and DNS resolution.

Policy (RELIABILITY.md B8-B12):
- only http and https; no user:password@; ports 80 and 443 only, unless private networks are allowed
  (the demo and the tests serve on random loopback ports, so that setting also allows explicit ports);
- a host is resolved once per request and refused if ANY of its addresses is not globally routable:
  loopback, private, link-local, CGNAT 100.64/10, benchmarking 198.18/15, multicast, reserved,
  unspecified, and IPv6 forms that embed such an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
  IPv4-compatible ::a.b.c.d, 6to4 2002::/16, NAT64 64:ff9b::/96);
- numeric hosts are parsed the way resolvers parse them (2130706433, 0x7f000001, 0177.0.0.1, 127.1 are
  all 127.0.0.1), so a spelling trick cannot hide an address from the check;
- the caller connects to the checked addresses only (extractors/http.py pins them), so DNS rebinding
  between check and connect cannot work.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from newswatch.errors import BlockedError, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_V4_RESERVED = ipaddress.ip_network("240.0.0.0/4")  # includes 255.255.255.255 broadcast
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_V4_COMPAT = ipaddress.ip_network("::/96")


class ResolutionError(TransientError):
    """The host name could not be resolved (NXDOMAIN, SERVFAIL, no answer, too slow): try again next run."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the static checks: what to resolve and where to connect."""

    url: str
    scheme: str
    host: str  # lower case, IDNA (as the HTTP layer will see it), no brackets
    port: int
    literal: IPAddress | None  # set when the host is an IP address in any spelling


def _parse_v4_part(part: str) -> int | None:
    p = part.lower()
    try:
        if p.startswith("0x"):
            return int(p[2:] or "0", 16)
        if len(p) > 1 and p.startswith("0"):
            return int(p[1:], 8)
        if p.isdigit():
            return int(p, 10)
    except ValueError:
        return None
    return None


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    last = parts[-1].lower()
    if last.isdigit():
        return True
    return last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:])


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """Parse an IPv4 address in any spelling inet_aton accepts (decimal, hex, octal, 1-4 parts).

    Returns None when the host is not numeric. Raises BlockedError when it looks numeric (its last
    label is a number, as in the WHATWG URL rules) but is not a valid address, because resolvers
    disagree about such strings.
    """
    if not host or not _ends_in_number(host):
        return None
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    nums = [_parse_v4_part(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in nums):
        raise BlockedError(f"host {host!r} looks like an IPv4 address but is not a valid one")
    values = [n for n in nums if n is not None]
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise BlockedError(f"host {host!r} is an out-of-range IPv4 address")
    addr = 0
    for v in values[:-1]:
        addr = addr * 256 + v
    addr = addr * 256 ** (5 - len(values)) + values[-1]
    return ipaddress.IPv4Address(addr)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The IP address a host string denotes (IPv6 with or without brackets, IPv4 in any spelling), or None."""
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        if "%" in h:
            raise BlockedError(f"host {host!r}: IPv6 zone identifiers are not allowed")
        try:
            return ipaddress.IPv6Address(h)
        except ValueError:
            raise BlockedError(f"host {host!r} is not a valid IPv6 address") from None
    return parse_ipv4_loose(h)


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _SIXTOFOUR and ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _V4_COMPAT and int(ip) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _describe(ip: IPAddress) -> str:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared address space (CGNAT 100.64/10)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _V4_RESERVED:
        return "reserved"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    return "not globally routable"


def ip_refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why newswatch must not connect to this address, or None when it may.

    With allow_private, loopback/private/CGNAT unicast addresses are allowed; multicast, unspecified,
    reserved and link-local addresses never are. Link-local stays refused because it holds cloud metadata
    endpoints (169.254.169.254, fd00:ec2::254 aside) and is never where a news site lives: a test or demo
    setting must not open the classic SSRF target.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        emb = _embedded_v4(ip)
        if emb is not None:
            form, v4 = emb
            inner = ip_refusal(v4, allow_private=allow_private)
            if inner is not None:
                return f"{ip} is {form} for {v4}: {inner}"
            if ip in _NAT64 or ip in _SIXTOFOUR:
                return None  # a translation prefix carrying a public IPv4 address
        if ip in _NAT64_LOCAL and not allow_private:
            return f"{ip} is local-use NAT64"
    never = ip.is_multicast or ip.is_unspecified or ip.is_link_local
    if isinstance(ip, ipaddress.IPv4Address):
        never = never or ip in _V4_RESERVED
    if never:
        return f"{ip} is {_describe(ip)}"
    if allow_private:
        return None
    if not ip.is_global:
        return f"{ip} is {_describe(ip)}"
    return None


def check_url(url: str, *, allow_private: bool) -> Target:
    """Static checks on a URL (scheme, userinfo, host, port, literal address). Raises BlockedError."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        # CR/LF/TAB/NUL: header injection and parser differentials (WHATWG strips tabs, others do not)
        raise BlockedError(f"{url!r}: control characters in URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise BlockedError(f"{url}: not a valid URL ({e})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedError(f"{url}: scheme {scheme or '(none)'!r} is not allowed (only http and https)")
    if "@" in parts.netloc:
        raise BlockedError(f"{url}: URLs with user:password@ are not allowed")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise BlockedError(f"{url}: no host")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif port not in DEFAULT_PORTS.values() and not allow_private:
        raise BlockedError(f"{url}: port {port} is not allowed (only 80 and 443)")
    literal = parse_ip_literal(raw_host)
    if literal is not None:
        reason = ip_refusal(literal, allow_private=allow_private)
        if reason is not None:
            raise BlockedError(f"{url}: {reason}")
        host = str(literal)
    else:
        host = raw_host.lower().rstrip(".")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise BlockedError(f"{url}: host {raw_host!r} is not a valid domain name") from None
        if not all(c.isalnum() or c in "-._" for c in host):
            raise BlockedError(f"{url}: host {raw_host!r} has characters a domain name cannot have")
        labels = host.split(".")
        if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            raise BlockedError(f"{url}: host {raw_host!r} is not a valid domain name (label length)")
    return Target(url=url, scheme=scheme, host=host, port=port, literal=literal)


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
