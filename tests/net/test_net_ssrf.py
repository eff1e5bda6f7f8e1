"""The SSRF guard inside the Fetcher: nothing refused is ever connected to, the checked address is the connected one.

RELIABILITY.md B8-B13. DNS is mocked through the Fetcher's resolver parameter (the only mock); every
socket connect is recorded, and non-loopback connects are refused before a packet leaves. A test-only
NAT maps a pretend public address to a loopback server so redirects *from the public web* can be tested.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from extractors.http import Fetcher
from newswatch.config import Config, FetchSettings, parse_config
from newswatch.errors import ConfigError
from tests.net.netutil import INTERNAL_LITERALS, fast_settings, recording_connect_guard, static_resolver
from tests.support.httpserver import Reply, ScriptedServer

pytestmark = pytest.mark.timeout(30)

PUBLIC_IP = "93.184.216.34"
HTML = "<html><body><p>public page</p></body></html>"


def guarded_settings(**kw: object) -> FetchSettings:
    """Production defaults for the guard (private networks refused), fast timing for tests."""
    return fast_settings(allow_private_networks=False, **kw)


@pytest.fixture
def srv():
    with ScriptedServer() as s:
        s.route("/secret", Reply(200, body=b"internal secret"))
        yield s


@pytest.fixture
def no_system_dns(monkeypatch):
    """Fail the test if anything asks the system resolver about a name (only the injected resolver may)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        asked.append(str(host))
        try:
            ipaddress.ip_address(str(host))  # numeric: socket.create_connection parses, no DNS query
        except ValueError:
            raise AssertionError(f"system resolver asked about {host!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_guard_is_on_by_default():
    assert FetchSettings().allow_private_networks is False


# ---- B8 literal internal addresses -----------------------------------------------------------


@pytest.mark.parametrize("host", INTERNAL_LITERALS)
def test_literal_internal_addresses_are_blocked_before_any_connect(host, no_system_dns):
    with recording_connect_guard() as log, Fetcher(guarded_settings()) as f:
        r = f.fetch(f"http://{host}/latest/meta-data/")
    assert r.status == "blocked", (host, r.detail)
    assert r.detail
    assert log.attempts == []


def test_loopback_server_is_unreachable_with_the_guard_on(srv):
    with recording_connect_guard() as log, Fetcher(guarded_settings()) as f:
        r = f.fetch(srv.url("/secret"))
    assert r.status == "blocked"
    assert log.attempts == []
    assert srv.requests == []


# ---- B9 names resolving to internal addresses ------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["10.1.2.3"],
        ["169.254.169.254"],
        [PUBLIC_IP, "192.168.0.10"],
        ["::1"],
        [PUBLIC_IP, "fd00::1"],
    ],
)
def test_names_resolving_to_internal_are_blocked(answers, no_system_dns):
    calls: list[str] = []
    resolver = static_resolver({"evil.example": answers}, calls)
    with recording_connect_guard() as log, Fetcher(guarded_settings(), resolver=resolver) as f:
        r = f.fetch("http://evil.example/page")
    assert r.status == "blocked"
    assert "evil.example resolves to" in r.detail
    assert log.attempts == []
    assert calls == ["evil.example"]  # and robots.txt was not requested from a refused host


def test_unresolvable_name_is_an_error_to_retry_next_run(no_system_dns):
    with recording_connect_guard() as log, Fetcher(guarded_settings(), resolver=static_resolver({})) as f:
        r = f.fetch("http://nxdomain.example/")
    assert r.status == "error"
    assert "cannot resolve nxdomain.example" in r.detail
    assert "retry next run" in r.detail
    assert log.attempts == []


def test_slow_dns_is_a_timeout_within_the_connect_limit(no_system_dns):
    import threading

    release = threading.Event()
    resolver_returned = threading.Event()

    def slow(host: str, port: int) -> list[str]:
        release.wait(20)  # released by the test only after fetch() returned
        resolver_returned.set()
        return [PUBLIC_IP]

    with (
        recording_connect_guard() as log,
        Fetcher(guarded_settings(connect_timeout_s=0.3), resolver=slow) as f,
    ):
        t0 = time.monotonic()
        r = f.fetch("http://slow-dns.example/")
        took = time.monotonic() - t0
        # No clock upper bound: fetch() must have given up while the resolver was still blocked. A
        # fetcher that waited for the resolver (timeout applied after the fact) would return only
        # after the resolver did, so this flag would be set; one with no DNS timeout would get the
        # address and not report "timeout".
        returned_before_resolver = not resolver_returned.is_set()
        release.set()
    assert r.status == "timeout"
    assert "resolving slow-dns.example took longer than 0.3s" in r.detail
    assert returned_before_resolver
    assert took >= 0.25  # it did wait its connect limit
    assert log.attempts == []


# ---- B10 DNS rebinding: one resolution, connect to the checked address -------------------------


def test_connection_goes_to_the_checked_address_and_host_header_is_kept(srv, no_system_dns):
    calls: list[str] = []
    resolver = static_resolver({"news.example": ["127.0.0.1"]}, calls)
    srv.route("/a", Reply(200, body=HTML, headers={"Content-Type": "text/html"}))
    with recording_connect_guard() as log, Fetcher(fast_settings(obey_robots=False), resolver=resolver) as f:
        r = f.fetch(f"http://news.example:{srv.port}/a")
    assert r.status == "ok", r.detail
    assert calls == ["news.example"]  # resolved exactly once for the request
    assert log.attempts == [("127.0.0.1", srv.port)]
    assert srv.requests_for("/a")[0].header("host") == f"news.example:{srv.port}"
    # only the injected resolver was asked, never the system one (no_system_dns would have failed)


def test_dns_rebinding_cannot_redirect_the_connection(no_system_dns):
    """First answer public (passes the check), every later answer internal: the connection uses the first."""
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    with (
        recording_connect_guard() as log,
        Fetcher(guarded_settings(obey_robots=False, retries=0), resolver=rebinding) as f,
    ):
        first = f.fetch("http://rebind.example/x")
        second = f.fetch("http://rebind.example/x")
    # the first request connected to the public address that was checked (refused by the test guard,
    # so it is an error), never to 127.0.0.1
    assert log.attempts == [(PUBLIC_IP, 80)]
    assert first.status == "error"
    assert calls == ["rebind.example", "rebind.example"]
    # the second request resolved again, saw the internal answer and was blocked before connecting
    assert second.status == "blocked"
    assert "127.0.0.1" in second.detail


def test_retries_reuse_the_checked_address(srv, no_system_dns):
    srv.route("/flaky", Reply(503), Reply(503), Reply(200, body=HTML))
    answers = iter([["127.0.0.1"]] + [["10.9.9.9"]] * 5)
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    with (
        recording_connect_guard() as log,
        Fetcher(fast_settings(obey_robots=False, retries=2), resolver=resolver) as f,
    ):
        r = f.fetch(f"http://flaky.example:{srv.port}/flaky")
    assert r.status == "ok"
    assert r.attempts == 3
    assert calls == ["flaky.example"]
    assert {a for a in log.attempts} == {("127.0.0.1", srv.port)}


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl CLI to make a test certificate"
)
def test_https_uses_the_host_name_for_sni_and_certificate(tmp_path: Path, monkeypatch, no_system_dns):
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=news.example",
            "-addext", "subjectAltName=DNS:news.example",
        ],
        check=True,
        capture_output=True,
        timeout=20,
    )  # fmt: skip
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our test CA
    with ScriptedServer(tls=server_ctx) as tls_srv:
        tls_srv.route("/a", Reply(200, body=HTML, headers={"Content-Type": "text/html"}))
        resolver = static_resolver({"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
        with (
            recording_connect_guard() as log,
            Fetcher(fast_settings(obey_robots=False), resolver=resolver) as f,
        ):
            ok = f.fetch(f"https://news.example:{tls_srv.port}/a")
            wrong = f.fetch(f"https://other.example:{tls_srv.port}/a")
    assert ok.status == "ok", ok.detail
    assert ok.body == HTML.encode()
    assert tls_srv.sni[0] == "news.example"  # SNI carries the name although we connected to 127.0.0.1
    assert log.attempts[0] == ("127.0.0.1", tls_srv.port)
    # the certificate is checked against the URL's host name, not the pinned address
    assert wrong.status == "error"
    assert "TLS" in wrong.detail or "CERTIFICATE" in wrong.detail
    assert wrong.attempts == 1


# ---- B11 redirects: every hop re-checked -------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/secret",
        "http://2130706433:{port}/secret",
        "http://[::ffff:127.0.0.1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example/secret",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "javascript:alert(1)",
        "ftp://public.example/x",
        "http://user:pw@public.example/x",
        "http://public.example:8080/x",
    ],
)
def test_redirect_to_internal_or_odd_scheme_is_blocked(srv, location, no_system_dns):
    srv.route("/start", Reply(302, headers={"Location": location.format(port=srv.port)}))
    resolver = static_resolver({"public.example": [PUBLIC_IP], "internal.example": ["10.0.0.7"]})
    nat = {(PUBLIC_IP, 80): ("127.0.0.1", srv.port)}  # "the internet" is our loopback server
    with (
        recording_connect_guard(nat=nat) as log,
        Fetcher(guarded_settings(obey_robots=False), resolver=resolver) as f,
    ):
        r = f.fetch("http://public.example/start")
    assert r.status == "blocked", r.detail
    assert [q.path for q in srv.requests] == ["/start"]  # the internal target was never requested
    assert all(a == (PUBLIC_IP, 80) for a in log.attempts)


def test_public_redirect_chain_works_through_the_guard(srv, no_system_dns):
    srv.redirect("/start", "http://www.public.example/final", 301)
    srv.route("/final", Reply(200, body=HTML, headers={"Content-Type": "text/html"}))
    resolver = static_resolver({"public.example": [PUBLIC_IP], "www.public.example": [PUBLIC_IP]})
    nat = {(PUBLIC_IP, 80): ("127.0.0.1", srv.port)}
    with recording_connect_guard(nat=nat), Fetcher(guarded_settings(), resolver=resolver) as f:
        r = f.fetch("http://public.example/start")
    assert r.status == "ok", r.detail
    assert r.permanent_redirect == "http://www.public.example/final"
    hosts = [q.header("host") for q in srv.requests]
    assert "public.example" in hosts and "www.public.example" in hosts


# ---- B12 schemes, ports, userinfo --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/html,<script>",
        "http://user:pass@public.example/",
        "http://public.example:8080/",
        "https://public.example:22/",
        "ftp://public.example/",
    ],
)
def test_refused_schemes_ports_userinfo(url, no_system_dns):
    calls: list[str] = []
    with (
        recording_connect_guard() as log,
        Fetcher(guarded_settings(), resolver=static_resolver({}, calls)) as f,
    ):
        r = f.fetch(url)
    assert r.status == "blocked"
    assert log.attempts == []
    assert calls == []  # refused before resolution


def test_allow_private_networks_opens_loopback_and_explicit_ports(srv):
    srv.route("/a", Reply(200, body=HTML))
    with Fetcher(fast_settings(allow_private_networks=True)) as f:
        assert f.fetch(srv.url("/a")).status == "ok"
        assert f.fetch(f"http://u:p@127.0.0.1:{srv.port}/a").status == "blocked"  # userinfo still refused
        assert f.fetch("http://0.0.0.0:1/").status == "blocked"  # unspecified never allowed


def test_env_switch_is_read_through_config(monkeypatch):
    cfg = parse_config('[[watches]]\nname = "w"\n')
    monkeypatch.delenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", raising=False)
    assert cfg.effective_fetch().allow_private_networks is False
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_NETWORKS", "1")
    assert cfg.effective_fetch().allow_private_networks is True


# ---- B13 config validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "feed",
    [
        "file:///etc/passwd",
        "/var/feeds/local.xml",
        "feeds/local.xml",
        "ftp://example.com/feed",
        "gopher://x/",
        "",
    ],
)
def test_local_or_non_web_feed_urls_are_refused_by_config(feed):
    with pytest.raises(ConfigError, match="feeds"):
        parse_config(f'[[watches]]\nname = "w"\nfeeds = ["{feed}"]\n')


def test_web_feed_urls_are_accepted_by_config():
    cfg = parse_config(
        '[[watches]]\nname = "w"\nfeeds = ["https://example.com/feed.xml", "http://e.com/rss"]\n'
    )
    assert isinstance(cfg, Config)
    assert cfg.watches[0].feeds == ["https://example.com/feed.xml", "http://e.com/rss"]


def test_unknown_fetch_setting_is_refused():
    with pytest.raises(ConfigError, match="fetch"):
        parse_config('[[watches]]\nname = "w"\n[fetch]\nallow_private = true\n')


# ---- malformed and hostile URL strings ---------------------------------------------------------

WEIRD_URLS = [
    "http://example.com/\x00",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/?q=\r\nHost: evil",
    "http://127.0.0.1\tfoo/",
    "http://exa%mple.com/",
    "http://[::1/",
    "http://a..b/",
    "http://.../",
    "http://" + "a" * 64 + ".com/",
    "http://" + "a." * 130 + "com/",
    "http://evil.example\\@127.0.0.1/",
    "http://ex ample.com/",
    "http:example.com/x",
    "http:/example.com",
    "http://1.2.3.4.5/",
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://[::1]:80@evil.example/",
    "http://evil.example#@127.0.0.1/",
    "http://evil.example?@127.0.0.1/",
    "http://127.0.0.1%2f@evil.example/",
    "http://0x7f.0.0.1/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://localhost/",
    "http://localhost./",
    "http://%31%32%37.0.0.1/",
    "http://①②⑦.0.0.1/",
]


@pytest.mark.parametrize("url", WEIRD_URLS)
def test_weird_urls_never_raise_and_never_reach_an_unchecked_address(url):
    public = {"evil.example": [PUBLIC_IP], "example.com": [PUBLIC_IP], "localhost": ["127.0.0.1"]}
    with (
        recording_connect_guard() as log,
        Fetcher(guarded_settings(obey_robots=False, retries=0), resolver=static_resolver(public)) as f,
    ):
        r = f.fetch(url)
    assert r.status in ("blocked", "error"), (url, r.status, r.detail)
    assert not r.detail.startswith("internal error"), r.detail
    assert all(a[0] in (PUBLIC_IP, "::ffff:" + PUBLIC_IP) for a in log.attempts), log.attempts
