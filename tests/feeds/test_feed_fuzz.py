"""Mutation fuzzing of parse_feed and extract_article: random byte edits of the golden feeds and fixture
pages (fixed seed, so a failure is reproducible). Nothing may raise; every record must be storable."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from extractors.articles import extract_article
from extractors.feeds import parse_feed
from newswatch.models import Article, FetchResult, Skip

pytestmark = pytest.mark.timeout(120)

DATA = Path(__file__).parent / "data"
FEEDS = sorted(p for p in (DATA / "feeds").iterdir() if not p.name.endswith(".expected.json"))
PAGES = sorted((DATA / "pages").glob("*.html"))
NASTY = [b"\x00", b"&#xD800;", b"&#0;", b"<![CDATA[", b"]]>", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;",
         b"\xff\xfe", b"\xc3", b"<script>", b"javascript:", b"<", b">", b"\"", b"&", b"\r\n", b"\xe2\x80\xa8",
         b"<item>", b"</item>", b"<entry>", b"{", b"}", b"[", b"]", b'"id":', b"9999", b"-0001"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op < 0.35:
            buf[pos:pos] = rng.choice(NASTY)
        elif op < 0.6 and buf:
            del buf[pos : pos + rng.randint(1, 40)]
        elif op < 0.8 and buf:
            buf[pos : pos + 1] = bytes([rng.randrange(256)])
        else:
            buf = buf[: pos]  # truncate
    return bytes(buf)


def check_text(value: str | None) -> None:
    if value is not None:
        value.encode("utf-8")
        assert "\x00" not in value


def test_parse_feed_never_raises_on_mutations() -> None:
    rng = random.Random(20261122)
    for i in range(1500):
        src = FEEDS[i % len(FEEDS)]
        body = mutate(src.read_bytes(), rng)
        parsed = parse_feed(body, "https://fuzz.example/feed", rng.choice([None, "application/rss+xml",
                                                                          "application/feed+json", "text/html"]))
        # "could not be parsed" means an exception escaped the parser and the whole feed was lost
        assert not any(w.startswith("feed could not be parsed") for w in parsed.warnings), (i, parsed.warnings)
        keys = [e.entry_key for e in parsed.entries]
        assert len(keys) == len(set(keys))
        for e in parsed.entries:
            check_text(e.title), check_text(e.summary), check_text(e.author)
            assert e.link is None or e.link.startswith(("http://", "https://"))


def test_extract_article_never_raises_on_mutations() -> None:
    rng = random.Random(7)
    for i in range(60):
        src = PAGES[i % len(PAGES)]
        body = mutate(src.read_bytes(), rng)
        r = FetchResult(url="https://fuzz.example/a", final_url="https://fuzz.example/a", status="ok",
                        http_status=200, content_type=rng.choice(["text/html", None]),
                        charset=rng.choice([None, "utf-8", "iso-8859-1", "bogus"]), body=body)
        out = extract_article(r, watch="fuzz")
        assert isinstance(out, Article | Skip)
        assert not (isinstance(out, Skip) and out.reason == "extractor_error"), out
        if isinstance(out, Article):
            check_text(out.title), check_text(out.text), check_text(out.source)
            assert out.canonical_url.startswith(("http://", "https://"))
