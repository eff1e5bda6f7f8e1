"""The Fetcher on real web pages: the 110 corpus pages served with real headers come back byte-identical.

Half the pages are served gzip, some chunked, with the charset a real server would declare; a few are
served with misleading headers to check the sniffing does not reject real HTML.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extractors.http import Fetcher
from tests.net.netutil import fast_settings
from tests.nwtest import requires_shared
from tests.support.httpserver import Reply, ScriptedServer

pytestmark = pytest.mark.timeout(60)

CORPUS = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "corpus" / "html")
PAGES = sorted(CORPUS.glob("*.html"))


def _declared_charset(raw: bytes) -> str | None:
    head = raw[:4096].lower()
    for marker in (b'charset="', b"charset='", b"charset="):
        i = head.find(marker)
        if i >= 0:
            rest = head[i + len(marker) : i + len(marker) + 20]
            return (
                rest.split(b'"')[0]
                .split(b"'")[0]
                .split(b";")[0]
                .split(b">")[0]
                .strip()
                .decode("ascii", "replace")
            )
    return None


@requires_shared("corpus/html")
def test_corpus_pages_round_trip():
    assert len(PAGES) >= 100
    with ScriptedServer() as srv:
        expected: dict[str, tuple[bytes, str | None]] = {}
        for i, p in enumerate(PAGES):
            raw = p.read_bytes()
            charset = _declared_charset(raw)
            ctype = "text/html" + (f"; charset={charset}" if charset else "")
            if i % 10 == 9:
                ctype = "application/octet-stream"  # misconfigured server: sniffing must accept real HTML
            srv.route(
                f"/{p.name}",
                Reply(200, body=raw, headers={"Content-Type": ctype}, gzip=i % 2 == 0, chunked=i % 3 == 0),
            )
            expected[srv.url(f"/{p.name}")] = (raw, charset)
        with Fetcher(fast_settings(per_host_concurrency=4, total_concurrency=4)) as f:
            results = f.fetch_many(list(expected))
    bad = [(r.url, r.status, r.detail) for r in results if r.status != "ok"]
    assert bad == []
    for r in results:
        raw, charset = expected[r.url]
        assert r.body == raw, r.url
        if charset and "octet" not in (r.content_type or ""):
            assert r.charset == charset.lower()
