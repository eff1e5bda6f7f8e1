"""The URL policy, decided once: which URLs newswatch may fetch and which links a digest may render.

Pure (stdlib only, no network), so both the fetcher's SSRF guard (extractors/netguard.py, which adds DNS
resolution and pinning) and the digest renderer (alerts/render.py) use the same rules:
- only http and https; no user name or password in the URL; ports 80 and 443 only, unless private networks
  are allowed (the demo and the tests serve on random loopback ports, so that setting also allows any port);
- a host that is an IP address in any spelling resolvers accept (2130706433, 0x7f000001, 0177.0.0.1 and 127.1
  are all 127.0.0.1; IPv6 forms embedding IPv4) is refused when it is not globally routable: loopback,
  private, link-local, CGNAT 100.64/10, benchmarking, multicast, reserved, unspecified (RELIABILITY B8-B12);
- a digest link follows the fetcher's default policy (private networks NOT allowed) whatever the config says:
  a digest is read later, on another machine, where 127.0.0.1 or 10.0.0.5 is not the host that was fetched
  (and 169.254.169.254 is the reader's own cloud metadata endpoint).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from newswatch.errors import BlockedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_V4_RESERVED = ipaddress.ip_network("240.0.0.0/4")  # includes 255.255.255.255 broadcast
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_V4_COMPAT = ipaddress.ip_network("::/96")


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
        raise BlockedError(f"{url}: URLs with a user name or password are not allowed")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise BlockedError(f"{url}: no host")
    # The address before the port: "127.0.0.1 is loopback" says more than "port 8080 is not allowed".
    literal = parse_ip_literal(raw_host)
    if literal is not None:
        reason = ip_refusal(literal, allow_private=allow_private)
        if reason is not None:
            raise BlockedError(f"{url}: {reason}")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif port not in DEFAULT_PORTS.values() and not allow_private:
        raise BlockedError(f"{url}: port {port} is not allowed (only 80 and 443)")
    if literal is not None:
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


MAX_LINK_CHARS = 2048


def link_refusal(url: str | None) -> str | None:
    """Why a digest must not render this URL as a link (a short reason, without the URL), or None when it may.

    The fetcher's checks with private networks not allowed (see the module docstring), plus what only matters
    to a mail client: no whitespace or backslashes (clients and browsers disagree on where such a URL ends)
    and at most MAX_LINK_CHARS characters.
    """
    if not url:
        return "no address"
    if len(url) > MAX_LINK_CHARS:
        return f"address longer than {MAX_LINK_CHARS} characters"
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url) or "\\" in url:
        return "address contains spaces, control characters or backslashes"
    try:
        check_url(url, allow_private=False)
    except BlockedError as e:
        reason = str(e)
        return reason[len(url) + 2 :] if reason.startswith(url + ": ") else reason
    return None
