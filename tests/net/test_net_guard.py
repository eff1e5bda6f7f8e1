"""The SSRF guard as pure functions: URL checks, address classes, odd IPv4 spellings, resolution (RELIABILITY B8, B9, B12)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from extractors.netguard import (
    ResolutionError,
    check_url,
    ip_refusal,
    parse_ip_literal,
    parse_ipv4_loose,
    resolve_checked,
    system_resolver,
)
from newswatch.errors import BlockedError, TransientError
from tests.net.netutil import INTERNAL_LITERALS, static_resolver


@pytest.mark.parametrize("host", INTERNAL_LITERALS)
def test_internal_literals_are_blocked(host):
    with pytest.raises(BlockedError):
        check_url(f"http://{host}/latest/meta-data/", allow_private=False)


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "93.184.216.34", "[2606:4700::1111]", "[2002:808:808::]", "[64:ff9b::808:808]"]
)
def test_public_literals_pass(host):
    t = check_url(f"https://{host}/x", allow_private=False)
    assert t.literal is not None
    assert t.port == 443


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("3232235521", "192.168.0.1"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_odd_ipv4_spellings_parse_like_inet_aton(spelling, expected):
    assert str(parse_ipv4_loose(spelling)) == expected


def test_odd_spellings_agree_with_the_system_parser():
    # glibc inet_aton is what getaddrinfo uses for numeric hosts: our parser must agree with it.
    for s in ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "1.2.3", "017700000001"]:
        assert str(parse_ipv4_loose(s)) == socket.inet_ntoa(socket.inet_aton(s)), s


@pytest.mark.parametrize("host", ["example.com", "news.bbc.co.uk", "a-b.example", "xn--bcher-kva.example"])
def test_names_are_not_literals(host):
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize("host", ["1.2.3.256", "1.2.3.4.5", "0x1g.1", "999999999999", "1.2.3.09"])
def test_invalid_numeric_hosts_are_refused(host):
    with pytest.raises(BlockedError):
        check_url(f"http://{host}/", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "ftp://example.com/x",
        "data:text/html,hi",
        "//example.com/x",
        "/relative",
        "http://",
        "http://user:pass@example.com/",
        "http://user@example.com/",
        "https://example.com:8080/",
        "http://example.com:22/",
        "http://example.com:99999/",
        "http://[fe80::1%25eth0]/",
        "http://exa mple.com/",
    ],
)
def test_refused_urls(url):
    with pytest.raises(BlockedError):
        check_url(url, allow_private=False)


def test_explicit_port_allowed_only_with_private_networks():
    assert check_url("http://example.com:8080/", allow_private=True).port == 8080
    assert check_url("http://example.com:80/", allow_private=False).port == 80
    assert check_url("https://example.com:443/", allow_private=False).port == 443
    # userinfo and schemes stay refused even then
    with pytest.raises(BlockedError):
        check_url("http://u:p@127.0.0.1:8080/", allow_private=True)
    with pytest.raises(BlockedError):
        check_url("file:///etc/passwd", allow_private=True)


def test_allow_private_allows_loopback_and_private_but_not_multicast_unspecified_or_link_local():
    for a in ["127.0.0.1", "10.0.0.1", "192.168.1.1", "::1", "fd00::1", "100.64.0.1", "::ffff:127.0.0.1"]:
        assert ip_refusal(ipaddress.ip_address(a), allow_private=True) is None, a
    # link-local holds cloud metadata endpoints: refused even when private networks are allowed
    for a in ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1", "169.254.169.254",
              "fe80::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"]:
        assert ip_refusal(ipaddress.ip_address(a), allow_private=True) is not None, a


def test_refusal_reasons_name_the_range():
    assert "loopback" in ip_refusal(ipaddress.ip_address("127.0.0.1"), allow_private=False)
    assert "CGNAT" in ip_refusal(ipaddress.ip_address("100.64.0.1"), allow_private=False)
    assert "link-local" in ip_refusal(ipaddress.ip_address("169.254.169.254"), allow_private=False)
    r = ip_refusal(ipaddress.ip_address("2002:7f00:1::"), allow_private=False)
    assert "6to4" in r and "127.0.0.1" in r
    r = ip_refusal(ipaddress.ip_address("64:ff9b::a9fe:a9fe"), allow_private=False)
    assert "NAT64" in r and "169.254.169.254" in r


def test_idn_host_is_encoded():
    t = check_url("https://Bücher.example/x", allow_private=False)
    assert t.host == "xn--bcher-kva.example"


# ---- resolution (B9) ---------------------------------------------------------------------------


def test_hostname_resolving_to_internal_is_blocked():
    t = check_url("http://internal.example/", allow_private=False)
    with pytest.raises(BlockedError, match="loopback"):
        resolve_checked(t, static_resolver({"internal.example": ["127.0.0.1"]}), allow_private=False)


@pytest.mark.parametrize(
    "answers",
    [
        ["93.184.216.34", "10.0.0.5"],  # mixed answer: one public, one private
        ["10.0.0.5", "93.184.216.34"],
        ["2606:2800:220:1::1", "::1"],
        ["93.184.216.34", "::ffff:169.254.169.254"],
        ["93.184.216.34", "64:ff9b::a9fe:a9fe"],
    ],
)
def test_mixed_answers_are_blocked_as_a_whole(answers):
    t = check_url("http://mixed.example/", allow_private=False)
    with pytest.raises(BlockedError):
        resolve_checked(t, static_resolver({"mixed.example": answers}), allow_private=False)


def test_all_public_answers_are_returned_in_order():
    t = check_url("http://pub.example/", allow_private=False)
    ips = resolve_checked(
        t, static_resolver({"pub.example": ["93.184.216.34", "2606:2800:220:1::1"]}), allow_private=False
    )
    assert ips == ["93.184.216.34", "2606:2800:220:1::1"]


def test_resolution_failures_are_transient_not_blocked():
    t = check_url("http://nxdomain.example/", allow_private=False)
    with pytest.raises(ResolutionError, match="cannot resolve"):
        resolve_checked(t, static_resolver({}), allow_private=False)
    with pytest.raises(ResolutionError, match="no addresses"):
        resolve_checked(t, static_resolver({"nxdomain.example": []}), allow_private=False)
    assert issubclass(ResolutionError, TransientError)
    with pytest.raises(BlockedError, match="non-address"):
        resolve_checked(t, static_resolver({"nxdomain.example": ["not-an-ip"]}), allow_private=False)


def test_literal_is_not_resolved():
    calls: list[str] = []
    t = check_url("http://8.8.8.8/", allow_private=False)
    assert resolve_checked(t, static_resolver({}, calls), allow_private=False) == ["8.8.8.8"]
    assert calls == []


def test_system_resolver_on_localhost():
    assert "127.0.0.1" in system_resolver("localhost", 80) or "::1" in system_resolver("localhost", 80)


def test_the_guard_and_the_digest_share_one_url_policy():
    # issue 8 §4: decided once, in the kernel; the fetcher's static checks are the policy module's own
    from newswatch import urlpolicy

    assert check_url is urlpolicy.check_url and ip_refusal is urlpolicy.ip_refusal
    assert urlpolicy.link_refusal("http://169.254.169.254/latest/meta-data/") == "169.254.169.254 is link-local"
    assert urlpolicy.link_refusal("https://news.example.org/a") is None
