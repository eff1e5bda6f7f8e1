"""The one sniffer: extractors/sniff.py answers the HTML/binary questions the fetcher, the page extractor and the
pipeline ask, and agrees with the copies those still carry until they call it."""

from __future__ import annotations

import pytest

from extractors.sniff import binary_mime, is_html_answer, is_html_page
from newswatch.models import FetchResult

CASES = [
    (b"<html><body>x</body></html>", "text/html", None),
    (b"  \n%PDF-1.7 binary", "text/html", None),
    (b"%PDF-1.7", None, None),
    (b"<!doctype html><p>x", None, None),
    (b"<p>x\x00y</p>" + b"z" * 500, "text/html", None),
    (b"\x00" * 600, "text/plain", None),
    (b"<rss/>", "application/rss+xml", None),
    (b"<html/>", "application/xml; charset=utf-8", "utf-8"),
    (b"\xff\xfe<\x00h\x00", "text/html", "utf-16"),
    (b"GIF89a", "image/gif", None),
    (b"plain words", "text/plain", None),
]


@pytest.mark.parametrize(("body", "ctype", "charset"), CASES)
def test_is_html_page_matches_the_page_extractor(body: bytes, ctype: str | None, charset: str | None) -> None:
    import extractors.articles as articles

    _is_html = getattr(articles, "_is_html", None)
    if _is_html is None:
        pytest.skip("extractors/articles.py has no copy of its own any more (it calls sniff.is_html_page)")
    r = FetchResult(url="http://x/", final_url="http://x/", status="ok", body=body,
                    content_type=ctype.split(";")[0] if ctype else None, charset=charset)
    assert is_html_page(r.body, r.content_type, r.charset) is _is_html(r)


@pytest.mark.parametrize(("body", "ctype", "charset"), CASES)
def test_is_html_answer_matches_the_pipeline(body: bytes, ctype: str | None, charset: str | None) -> None:
    import flows.pipeline as pipeline

    _looks_like_html = getattr(pipeline, "_looks_like_html", None)
    if _looks_like_html is None:
        pytest.skip("flows/pipeline.py has no copy of its own any more (it calls sniff.is_html_answer)")
    r = FetchResult(url="http://x/", final_url="http://x/", status="ok", body=body, content_type=ctype)
    assert is_html_answer(r.content_type, r.body) is _looks_like_html(r)


@pytest.mark.parametrize(
    ("mime", "binary"),
    [("application/pdf", True), ("image/svg+xml", False), ("image/png", True), ("text/html", False),
     ("application/atom+xml", False), ("font/woff2", True), (None, False), ("application/octet-stream", False)],
)
def test_binary_mime(mime: str | None, binary: bool) -> None:
    assert binary_mime(mime) is binary
