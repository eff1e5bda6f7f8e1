"""URL canonicalisation (one article via two feeds is fetched once) and the web-URL test."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from extractors.urls import canonicalize_url, is_web_url
from tests.nwtest import requires_shared

CORPUS = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "corpus" / "html")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/News", "http://example.com/News"),  # path case is kept
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=abc&gclid=def&mc_cid=1&mc_eid=2", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?at_medium=RSS&at_campaign=KARANGA", "https://example.com/a"),  # BBC
        ("https://example.com/news/story/amp", "https://example.com/news/story"),
        ("https://example.com/news/story/amp/", "https://example.com/news/story/"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        ("https://example.com/news/story?amp", "https://example.com/news/story"),
        ("https://example.com/news/story.amp", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/a?outputType=amp", "https://example.com/a"),
        ("https://example.com/a?outputType=print", "https://example.com/a?outputType=print"),
        ("https://example.com/%7Ejoe/a%2fb", "https://example.com/~joe/a%2Fb"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
        ("https://example.com/a?q=caf%C3%A9", "https://example.com/a?q=caf%C3%A9"),
        (
            "https://example.com/a?page=2&ref=nav",
            "https://example.com/a?page=2&ref=nav",
        ),  # content params stay
        ("https://example.com/amplifier", "https://example.com/amplifier"),  # not an AMP form
        ("https://example.com/camp/", "https://example.com/camp/"),
    ],
)
def test_canonical_forms(url, canonical):
    assert canonicalize_url(url) == canonical


def test_two_feeds_one_article():
    a = "https://www.example.co.uk/news/uk-england-south-yorkshire-123?at_medium=RSS&at_campaign=KARANGA"
    b = "https://WWW.example.co.uk:443/news/uk-england-south-yorkshire-123/amp?utm_source=twitter#top"
    assert canonicalize_url(a) == canonicalize_url(b)


@pytest.mark.parametrize("url", ["mailto:a@b.c", "javascript:alert(1)", "not a url", "", "/relative/path"])
def test_non_web_strings_pass_through(url):
    assert canonicalize_url(url) == url.strip()


def _corpus_links(limit: int = 3000) -> list[str]:
    links: list[str] = []
    for p in sorted(CORPUS.glob("*.html"))[:60]:
        text = p.read_text(encoding="utf-8", errors="replace")
        links += [html.unescape(u) for u in re.findall(r'href="(https?://[^"]+)"', text)]
    return links[:limit]


@requires_shared("corpus/html")
def test_idempotent_on_real_links():
    links = _corpus_links()
    assert len(links) > 500, "the corpus should give plenty of real links"
    for u in links:
        c = canonicalize_url(u)
        assert canonicalize_url(c) == c, u
        assert is_web_url(c), u
        assert "#" not in c
        assert "utm_" not in c.lower()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/a", True),
        ("http://example.com", True),
        ("HTTPS://EXAMPLE.COM/", True),
        ("http://127.0.0.1:8080/x", True),  # a web URL; whether it may be fetched is the guard's call
        ("ftp://example.com/", False),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://user:pw@example.com/", False),
        ("https://@example.com/", False),
        ("https:///path", False),
        ("https://example.com:99999/", False),
        ("//example.com/a", False),
        ("", False),
        ("data:text/html,x", False),
    ],
)
def test_is_web_url(url, ok):
    assert is_web_url(url) is ok
