"""The seeds are unchanged and the fixture site is what seeds/build_fixtures.py builds from them."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from tests.nwtest import SEEDS, requires_shared, shared_path

# the five seed files as given in shared/seeds (they must stay byte-identical)
SEED_FILES = {
    "000_e794f4b94aea59e2.txt",
    "001_9b26fe86bbcc8c81.txt",
    "002_4746f8af3328c1be.txt",
    "003_e60e8bc3f713d679.txt",
    "004_7b0e6eb386b03915.txt",
}


def test_the_five_seeds_are_present() -> None:
    assert {p.name for p in SEEDS.glob("00*.txt")} == SEED_FILES


@requires_shared("seeds")  # CI clones have shared/ beside the repo; elsewhere say so rather than pass silently
def test_seeds_match_the_shared_originals_when_available() -> None:
    shared = shared_path("seeds")
    for p in SEEDS.glob("00*.txt"):
        assert hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256((shared / p.name).read_bytes()).digest()


def test_fixtures_are_up_to_date() -> None:
    p = subprocess.run([sys.executable, str(SEEDS / "build_fixtures.py"), "--check"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr


def test_fixture_server_sends_real_headers_and_honours_conditional_get(fixture_server) -> None:
    import httpx

    with httpx.Client(timeout=5) as c:
        r = c.get(fixture_server.feed_url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert r.headers["content-encoding"] == "gzip"
        assert "<rss" in r.text and fixture_server.base in r.text and "__BASE__" not in r.text
        again = c.get(fixture_server.feed_url, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert c.get(fixture_server.base + "/nope").status_code == 404
