"""extract_article / article_from_file on realistic pages (tests/feeds/data/pages, modelled on real news pages
with the seed text): metadata, canonical URLs, paywalls, bot walls, empty pages, summary fallback, non-HTML."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.articles import article_from_file, extract_article
from extractors.urls import canonicalize_url
from newswatch.models import Article, FeedEntry, FetchResult, Skip, stable_id

PAGES = Path(__file__).parent / "data" / "pages"
SEEDS = Path(__file__).parents[2] / "seeds"
URL = "https://www.northern-chronicle.example/news/crime/2018/07/10/senior-officers-investigated?utm_source=rss"
CANONICAL = "https://www.northern-chronicle.example/news/crime/2018/07/10/senior-officers-investigated"
FETCHED = datetime(2026, 11, 22, 12, tzinfo=UTC)
SUMMARY = ("The police watchdog is set to announce an investigation into the senior command team at South "
           "Yorkshire Police over their failure to prevent widespread child abuse in Rotherham.")


def fetched(body: bytes, url: str = URL, *, status: str = "ok", content_type: str | None = "text/html",
            charset: str | None = "utf-8", detail: str = "") -> FetchResult:
    return FetchResult(url=url, final_url=url, status=status, http_status=200 if status == "ok" else None,
                       content_type=content_type, charset=charset, body=body, detail=detail, fetched_at=FETCHED)


def entry(summary: str = SUMMARY, link: str = URL) -> FeedEntry:
    return FeedEntry(feed_url="https://www.northern-chronicle.example/feed.xml", entry_key="gabc", link=link,
                     title="Senior officers to be investigated (feed title)", summary=summary,
                     published_at=datetime(2018, 7, 10, 8, 5, tzinfo=UTC), author="Feed Author",
                     source="Northern Chronicle – Crime")


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_full_news_page() -> None:
    a = extract_article(fetched(page("news_full.html")), watch="demo", entry=entry(), feed_title="NC feed")
    assert isinstance(a, Article)
    assert a.fetch_status == "ok"
    assert a.title == "Senior South Yorkshire police officers to be investigated over Rotherham child abuse failings"
    assert a.source == "Northern Chronicle"  # og:site_name beats the feed title
    assert a.author == "Sam Journalist"
    assert a.language == "en"
    assert a.canonical_url == CANONICAL and a.article_id == stable_id(CANONICAL)
    assert a.url == URL
    assert a.text == a.raw_text
    assert "scale and scope of what was going on in Rotherham" in a.text
    for boilerplate in ("Most read", "Council tax", "All rights reserved", "Home News Sport"):
        assert boilerplate not in a.text
    assert a.word_count > 500
    assert a.published_at == datetime(2018, 7, 10, 8, tzinfo=UTC) and a.published_origin == "page_meta"
    assert a.feed_url == "https://www.northern-chronicle.example/feed.xml"
    assert a.extractor.startswith("trafilatura-")


def test_paywall_falls_back_to_the_feed_summary_keeping_page_metadata() -> None:
    a = extract_article(fetched(page("paywalled.html")), watch="demo", entry=entry(), feed_title="NC feed")
    assert isinstance(a, Article)
    assert a.fetch_status == "paywalled"
    assert a.text == SUMMARY and a.extractor == "feed-summary"
    assert a.source == "The Paywalled Times"
    assert a.published_at == datetime(2018, 7, 10, 8, tzinfo=UTC)


def test_paywall_without_usable_summary_is_a_skip() -> None:
    out = extract_article(fetched(page("paywalled.html")), watch="demo", entry=entry(summary="Read more"))
    assert isinstance(out, Skip)
    assert (out.stage, out.reason) == ("extract", "paywalled")
    assert "isaccessibleforfree" in out.detail


def test_bot_wall_uses_the_feed_entry_not_the_wall_page() -> None:
    a = extract_article(fetched(page("botwall.html")), watch="demo", entry=entry(), feed_title="NC feed")
    assert isinstance(a, Article)
    assert a.fetch_status == "paywalled"
    assert a.title == "Senior officers to be investigated (feed title)"  # not "Just a moment..."
    assert a.source == "NC feed"
    assert a.text == SUMMARY
    out = extract_article(fetched(page("botwall.html")), watch="demo")
    assert isinstance(out, Skip) and out.reason == "paywalled" and "botwall" in out.detail


def test_page_without_text_is_empty_text() -> None:
    a = extract_article(fetched(page("video_only.html")), watch="demo", entry=entry())
    assert isinstance(a, Article) and a.fetch_status == "empty_text" and a.text == SUMMARY
    out = extract_article(fetched(page("video_only.html")), watch="demo")
    assert isinstance(out, Skip) and (out.stage, out.reason) == ("extract", "empty_text")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html"),  # binary labelled as HTML
        (b"\x00\x01\x02\x03binary" * 100, "text/html"),
        (b'{"json": true}', "application/json"),
        (b"GIF89a....", "image/gif"),
    ],
)
def test_non_html_is_skipped_before_extraction(body: bytes, content_type: str) -> None:
    out = extract_article(fetched(body, content_type=content_type), watch="demo", entry=entry())
    assert isinstance(out, Skip) and (out.stage, out.reason) == ("extract", "not_html")


def test_a_stray_nul_in_a_page_is_stripped_not_a_reason_to_skip_it() -> None:
    # issue 8 §4: the fetcher passes such a page on (extractors/sniff.py); extraction skipped it as not_html
    body = page("news_full.html").replace(b"<title>", b"<title>\x00", 1)
    assert body.index(b"\x00") < 1024
    a = extract_article(fetched(body), watch="demo", entry=entry())
    assert isinstance(a, Article) and a.fetch_status == "ok" and "\x00" not in a.title + a.text
    assert "scale and scope of what was going on in Rotherham" in a.text


def test_a_pdf_after_leading_whitespace_is_still_not_html() -> None:
    out = extract_article(fetched(b"\r\n  %PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), watch="demo", entry=entry())
    assert isinstance(out, Skip) and (out.stage, out.reason) == ("extract", "not_html")


@pytest.mark.parametrize("status", ["timeout", "error", "too_large", "blocked", "http_error"])
def test_failed_fetch_falls_back_to_summary_or_skips(status: str) -> None:
    a = extract_article(fetched(b"", status=status, detail="boom"), watch="demo", entry=entry(),
                        feed_title="NC feed")
    assert isinstance(a, Article) and a.fetch_status == status and a.text == SUMMARY
    assert a.published_origin == "feed"
    out = extract_article(fetched(b"", status=status, detail="boom"), watch="demo")
    assert isinstance(out, Skip) and (out.stage, out.reason, out.detail) == ("fetch", status, "boom")


@pytest.mark.parametrize("status", ["not_modified", "not_html"])
def test_not_modified_and_not_html_from_the_fetcher_are_skips_even_with_a_summary(status: str) -> None:
    out = extract_article(fetched(b"%PDF", status=status), watch="demo", entry=entry())
    assert isinstance(out, Skip) and (out.stage, out.reason) == ("fetch", status)


def _with_head(head: str, url: str = "https://www.chronicle.example/news/story-1?x=1#frag") -> Article:
    body = page("news_full.html").decode("utf-8")
    start, end = body.index('<link rel="canonical"'), body.index('<meta property="article:published_time"')
    body = body[:start] + head + body[end:]
    a = extract_article(fetched(body.encode(), url=url), watch="demo")
    assert isinstance(a, Article)
    return a


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<link rel="canonical" href="https://www.chronicle.example/news/story-1">',
         "https://www.chronicle.example/news/story-1"),
        ('<link rel="canonical" href="/news/story-1">', "https://www.chronicle.example/news/story-1"),
        ('<link rel="canonical" href="https://m.chronicle.example/news/story-1">',
         "https://m.chronicle.example/news/story-1"),  # same site, other host
        ('<meta property="og:url" content="https://www.chronicle.example/news/story-1">',
         "https://www.chronicle.example/news/story-1"),
        # refused: another site, the homepage, a script link; our own URL (without fragment) is kept
        ('<link rel="canonical" href="https://evil.example.net/news/story-1">',
         "https://www.chronicle.example/news/story-1?x=1"),
        ('<link rel="canonical" href="https://www.chronicle.example/">', "https://www.chronicle.example/news/story-1?x=1"),
        ('<link rel="canonical" href="javascript:alert(1)">', "https://www.chronicle.example/news/story-1?x=1"),
    ],
)
def test_canonical_url_rules(head: str, expected: str) -> None:
    a = _with_head(head)
    assert a.canonical_url == expected
    assert a.article_id == stable_id(expected)


def test_amp_cache_page_takes_the_publishers_canonical() -> None:
    amp = "https://www-chronicle-example.cdn.ampproject.org/c/s/www.chronicle.example/news/story-1.amp"
    a = _with_head('<link rel="canonical" href="https://www.chronicle.example/news/story-1">', url=amp)
    assert a.canonical_url == "https://www.chronicle.example/news/story-1"


def test_article_ids_use_the_one_canonical_url_function() -> None:
    # extractors.urls.canonicalize_url is the only normaliser (tests/feeds/test_canonical_url.py has its rules)
    assert canonicalize_url("HTTPS://WWW.Example.COM:443/a?b=1#c") == "https://www.example.com/a?b=1"
    assert canonicalize_url("http://example.com") == "http://example.com/"
    assert canonicalize_url("http://example.com:8080/x") == "http://example.com:8080/x"
    a = _with_head('<link rel="canonical" href="https://www.chronicle.example/news/story-1?b=2&a=1&utm_source=x">')
    assert a.canonical_url == "https://www.chronicle.example/news/story-1?a=1&b=2"


def test_source_falls_back_to_feed_title_then_host() -> None:
    body = page("news_full.html").replace(b'<meta property="og:site_name" content="Northern Chronicle">', b"")
    body = body.replace(b'"publisher": {"@type": "Organization", "name": "Northern Chronicle"}', b'"x": 1')
    body = body.replace(b" | Northern Chronicle</title>", b"</title>")
    a = extract_article(fetched(body), watch="demo", feed_title="NC feed")
    assert isinstance(a, Article) and a.source == "NC feed"
    a = extract_article(fetched(body), watch="demo")
    assert isinstance(a, Article) and a.source == "northern-chronicle.example"


def test_jsonld_publisher_beats_a_section_in_og_site_name() -> None:
    body = page("news_full.html").replace(b'content="Northern Chronicle">', b'content="U.S.">')
    assert b'content="U.S."' in body
    a = extract_article(fetched(body), watch="demo")
    assert isinstance(a, Article) and a.source == "Northern Chronicle"
    body = body.replace(b'"publisher": {"@type": "Organization", "name": "Northern Chronicle"}', b'"x": 1')
    a = extract_article(fetched(body), watch="demo")
    assert isinstance(a, Article) and a.source == "U.S."


def test_hostile_markup_gives_plain_text_title_and_finishes() -> None:
    title = '<script>alert(1)</script>"><img src=x onerror=alert(2)>Officers investigated'
    nested = "<div>" * 5000 + "deep" + "</div>" * 5000
    body = page("news_full.html").replace(b"<title>", b"<title>" + title.encode(), 1).replace(
        b"<footer>", nested.encode() + b"<footer>"
    )
    t0 = time.perf_counter()
    a = extract_article(fetched(body), watch="demo")
    assert time.perf_counter() - t0 < 10
    assert isinstance(a, Article)
    assert "<" not in a.title and "onerror" not in a.title


# ---- local files -------------------------------------------------------------------------------------


def test_seed_files() -> None:
    titles = {}
    for p in sorted(SEEDS.glob("*.txt")):
        a = article_from_file(p, watch="demo")
        assert isinstance(a, Article), a
        assert a.url == p.resolve().as_uri() and a.article_id == stable_id(a.url)
        assert a.source == "local file" and a.fetch_status == "ok" and a.word_count > 400
        assert a.title and a.title not in a.text[: len(a.title) + 2] or p.name.startswith("002")
        titles[p.name[:3]] = a.title
    assert titles["000"] == ("Senior South Yorkshire police officers to be investigated over Rotherham "
                             "child abuse failings")
    # seed 002 has no title line: the title is its first sentence, without the "date ..." marker
    assert titles["002"].startswith("The actions of South Yorkshire Police's former senior command team")
    assert len(titles["002"]) <= 151


def test_local_html_file(tmp_path: Path) -> None:
    p = tmp_path / "story.html"
    p.write_bytes(page("news_full.html"))
    a = article_from_file(p, watch="demo")
    assert isinstance(a, Article)
    assert a.url == p.resolve().as_uri() == a.canonical_url  # not the canonical link of the page
    assert a.source == "Northern Chronicle"  # the HTML names its site
    plain = tmp_path / "plain.htm"
    plain.write_bytes(b"<html><body><article>" + b"<p>Rotherham police investigation continues today.</p>" * 20
                      + b"</article></body></html>")
    b = article_from_file(plain, watch="demo")
    assert isinstance(b, Article) and b.source == "local file"


def test_local_file_problems(tmp_path: Path) -> None:
    missing = article_from_file(tmp_path / "nope.txt", watch="demo")
    assert isinstance(missing, Skip) and missing.reason == "unreadable"
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    out = article_from_file(pdf, watch="demo")
    assert isinstance(out, Skip) and out.reason == "unsupported_file"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n", encoding="utf-8")
    out = article_from_file(empty, watch="demo")
    assert isinstance(out, Skip) and out.reason == "empty_text"
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes("Title line\r\n\r\nBody “Zürich” – café.\r\n".encode("cp1252"))
    a = article_from_file(crlf, watch="demo")
    assert isinstance(a, Article) and a.title == "Title line" and a.text == "Body “Zürich” – café."
    assert a.fetch_status == "empty_text"  # too short to be an article body, but kept for local ingest


@pytest.mark.parametrize(
    ("page_url", "canonical", "kept"),
    [
        # one site: a subdomain of a registrable domain under a two-label public suffix
        ("https://www.example.co.uk/news/story-1", "https://news.example.co.uk/news/story-1", True),
        # issue 10 §5: two forces under police.uk, two blogspot.com blogs, two github.io pages are different sites
        ("https://www.south-yorkshire.police.uk/news/story-1", "https://www.met.police.uk/news/story-1", False),
        ("https://alice.blogspot.com/2018/07/story-1.html", "https://bob.blogspot.com/2018/07/story-1.html", False),
        ("https://alice.github.io/news/story-1", "https://mallory.github.io/news/story-1", False),
    ],
)
def test_same_site_follows_the_public_suffix_list(page_url: str, canonical: str, kept: bool) -> None:
    a = _with_head(f'<link rel="canonical" href="{canonical}">', url=page_url)
    assert a.canonical_url == (canonical if kept else page_url)
