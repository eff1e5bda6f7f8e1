"""Publication-date choice (extractors/dates.py through extract_article): the most reported bug class.

Each case is a realistic page where the naive answer is wrong: the crawl date, a "modified" stamp, a
sidebar date, a CMS that stamps "now" on everything, or a feed that does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.articles import article_from_file, extract_article
from extractors.dates import (
    BASE_CONFIDENCE,
    choose_date,
    parse_human,
    parse_iso,
    text_candidates,
    url_candidates,
)
from newswatch.models import Article, DateCandidate, FeedEntry, FetchResult

FETCHED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the crawl time in every case
SEEDS = Path(__file__).parents[2] / "seeds"
BODY = "\n".join(
    f"<p>{p}</p>"
    for p in (SEEDS / "000_e794f4b94aea59e2.txt").read_text(encoding="utf-8").split("\n")[1:]
    if p.strip()
)


def page(head: str = "", body_extra: str = "", sidebar: str = "") -> bytes:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Senior officers to be investigated | Chronicle</title>"
        f"{head}</head><body><main><article><h1>Senior officers to be investigated</h1>{body_extra}{BODY}"
        f"</article><aside>{sidebar}</aside></main></body></html>"
    ).encode()


def fetch(body: bytes, url: str = "https://chronicle.example/news/senior-officers") -> FetchResult:
    return FetchResult(url=url, final_url=url, status="ok", http_status=200, content_type="text/html",
                       charset="utf-8", body=body, fetched_at=FETCHED)


def entry(published: datetime | None, link: str = "https://chronicle.example/news/senior-officers") -> FeedEntry:
    return FeedEntry(feed_url="https://chronicle.example/feed", entry_key="k1", link=link,
                     title="Senior officers to be investigated", summary="", published_at=published)


def extract(body: bytes, url: str = "https://chronicle.example/news/senior-officers",
            published: datetime | None = None) -> Article:
    a = extract_article(fetch(body, url), watch="w", entry=entry(published, url) if published or True else None)
    assert isinstance(a, Article), a
    return a


def meta(prop: str, value: str) -> str:
    return f'<meta property="{prop}" content="{value}">'


def test_page_meta_beats_a_feed_that_stamps_the_crawl_time() -> None:
    a = extract(page(meta("article:published_time", "2018-07-10T09:00:00+01:00")), published=FETCHED)
    assert a.published_at == datetime(2018, 7, 10, 8, 0, tzinfo=UTC)
    assert a.published_origin == "page_meta"
    origins = {c.origin for c in a.date_candidates}
    assert {"page_meta", "feed"} <= origins  # the losing candidate is kept


def test_cms_stamping_now_loses_to_agreeing_feed_and_url() -> None:
    url = "https://chronicle.example/news/2018/07/10/senior-officers"
    a = extract(page(meta("article:published_time", FETCHED.isoformat())), url=url,
                published=datetime(2018, 7, 10, 8, 5, tzinfo=UTC))
    assert a.published_at == datetime(2018, 7, 10, 8, 5, tzinfo=UTC)
    assert a.published_origin == "feed"
    assert a.published_confidence is not None and a.published_confidence > BASE_CONFIDENCE["feed"]


def test_modified_date_is_not_a_publication_date() -> None:
    url = "https://chronicle.example/2018/07/10/senior-officers"
    a = extract(page(meta("article:modified_time", "2026-11-21T10:00:00Z")), url=url, published=None)
    assert a.published_at == datetime(2018, 7, 10, tzinfo=UTC)
    assert a.published_origin == "url"
    assert "page_modified" in {c.origin for c in a.date_candidates}


def test_only_a_modified_date_is_used_as_a_last_resort_with_low_confidence() -> None:
    a = extract(page(meta("article:modified_time", "2019-01-05T10:00:00Z")), published=None)
    assert a.published_origin == "page_modified"
    assert a.published_confidence is not None and a.published_confidence <= 0.3


@pytest.mark.parametrize("wrapper", ["aside", "div class='related-articles'", "section id='most-read'"])
def test_related_article_dates_are_not_taken(wrapper: str) -> None:
    tag = wrapper.split()[0]
    related = (f"<{wrapper}><h3>Related</h3><ul><li><a href='/a'>Council tax</a> "
               f"<time datetime='2021-03-01T10:00:00Z'>1 March 2021</time></li></ul></{tag}>")
    body = page(body_extra="").replace(b"</main>", related.encode() + b"</main>")
    a = extract(body, published=None)
    assert a.published_at is None or a.published_at.year != 2021, a.date_candidates


def test_byline_date_in_the_article_is_found_without_metadata() -> None:
    byline = "<p class='byline'>By Sam Journalist, <time datetime='2018-07-10'>10 July 2018</time></p>"
    a = extract(page(body_extra=byline), published=None)
    assert a.published_at is not None and a.published_at.date().isoformat() == "2018-07-10"


def test_sidebar_dates_and_crawl_date_are_not_taken() -> None:
    sidebar = (
        "<h3>Most read</h3><ul><li><a href='/a'>Council tax</a> <time datetime='2021-03-01'>1 March 2021</time></li>"
        f"<li><a href='/b'>Weather</a> <time datetime='{FETCHED.date()}'>today</time></li></ul>"
    )
    a = extract(page(sidebar=sidebar), published=None)
    assert a.published_at is None, a.date_candidates
    assert a.published_origin is None


def test_jsonld_date_published() -> None:
    ld = ('<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},'
          '{"@type":"NewsArticle","datePublished":"2018-07-10T10:30:00+01:00",'
          '"dateModified":"2026-11-20T00:00:00Z"}]}</script>')
    a = extract(page(ld), published=None)
    assert a.published_at == datetime(2018, 7, 10, 9, 30, tzinfo=UTC)
    assert a.published_origin == "page_meta"


def test_itemprop_and_time_pubdate() -> None:
    body_extra = '<p>By X, <time itemprop="datePublished" datetime="2017-03-04T05:06:07Z">4 March 2017</time></p>'
    a = extract(page(body_extra=body_extra), published=None)
    assert a.published_at == datetime(2017, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2099-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "0001-01-01", "not a date"])
def test_implausible_page_dates_are_ignored(bad: str) -> None:
    a = extract(page(meta("article:published_time", bad)), published=datetime(2018, 7, 10, tzinfo=UTC))
    assert a.published_origin == "feed"
    assert all(1990 <= c.value.year <= 2026 for c in a.date_candidates)


def test_feed_date_alone() -> None:
    a = extract(page(), published=datetime(2018, 7, 10, 8, 5, tzinfo=UTC))
    assert (a.published_at, a.published_origin) == (datetime(2018, 7, 10, 8, 5, tzinfo=UTC), "feed")


def test_seed_002_date_comes_from_the_text_marker() -> None:
    a = article_from_file(SEEDS / "002_4746f8af3328c1be.txt", watch="demo")
    assert isinstance(a, Article)
    assert a.published_at == datetime(2018, 7, 10, tzinfo=UTC)
    assert a.published_origin == "text"
    assert not a.text.lower().startswith("date")


# ---- unit level ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected", "conf"),
    [
        ("https://x.example/news/2018/07/10/story", datetime(2018, 7, 10, tzinfo=UTC), 0.85),
        ("https://x.example/2018-07-10-story", datetime(2018, 7, 10, tzinfo=UTC), 0.85),
        ("https://x.example/story-20180710.html", datetime(2018, 7, 10, tzinfo=UTC), 0.85),
        ("https://x.example/2018/07/story", datetime(2018, 7, 1, tzinfo=UTC), 0.4),
        ("https://x.example/story?id=20180710", None, None),  # numbers in the query are ids
        ("https://2018-07-10.example/story", None, None),  # nor in the host
        ("https://x.example/article/123456789", None, None),
        ("https://x.example/2018/13/45/story", None, None),
    ],
)
def test_url_dates(url: str, expected: datetime | None, conf: float | None) -> None:
    got = url_candidates(url)
    if expected is None:
        assert got == []
    else:
        assert got == [DateCandidate(expected, "url", conf)]


def test_parsers() -> None:
    assert parse_iso("2018-07-10T09:00:00+01:00") == datetime(2018, 7, 10, 8, tzinfo=UTC)
    assert parse_iso("2018-07-10T09:00:00Z") == datetime(2018, 7, 10, 9, tzinfo=UTC)
    assert parse_iso("2018-07-10") == datetime(2018, 7, 10, tzinfo=UTC)
    assert parse_iso("2018-02-30") is None
    assert parse_human("10 July 2018") == datetime(2018, 7, 10, tzinfo=UTC)
    assert parse_human("July 10th, 2018") == datetime(2018, 7, 10, tzinfo=UTC)
    assert parse_human("10. Juli 2018") == datetime(2018, 7, 10, tzinfo=UTC)
    assert text_candidates("Published 10 July 2018 by staff")[0].value == datetime(2018, 7, 10, tzinfo=UTC)
    assert text_candidates("By Sam Writer | 10 July 2018\nThe police watchdog said")[0].value.day == 10  # dateline
    long_first = "The report published by the inquiry on 10 July 2015 found that at least 1,400 children were abused."
    assert text_candidates(long_first + "\nmore") == []  # a date inside a sentence is about the story
    assert text_candidates("a\nb\nc\nd\n10 July 2018") == []  # only the top of the text
    event = "Am 10. Juli 2018 hat die Polizei in Rotherham nach monatelangen Ermittlungen drei Männer festgenommen."
    assert text_candidates(event) == []  # a story that starts with the date of an event
    assert text_candidates("Veröffentlicht am 10. Juli 2018\nText")[0].value == datetime(2018, 7, 10, tzinfo=UTC)


def test_choose_date_agreement_and_crawl_day_penalty() -> None:
    d1 = datetime(2018, 7, 10, 9, tzinfo=UTC)
    feed = DateCandidate(d1, "feed", 0.8)
    url = DateCandidate(d1.replace(hour=0), "url", 0.85)
    crawl = DateCandidate(FETCHED, "page_meta", 0.9)
    chosen, kept = choose_date([crawl, feed, url], fetched_at=FETCHED)
    # the day comes from feed + url agreeing (0.85 + 0.10); the value from the feed, which has a time of day
    assert chosen == DateCandidate(d1, "feed", 0.95)
    assert len(kept) == 3
    # without the fetch time there is no penalty, but the two agreeing origins still win
    chosen, _ = choose_date([crawl, feed, url])
    assert chosen is not None and chosen.value == d1
    # a lone page_meta beats a lone URL date; a URL date confirmed by anything beats it
    meta = DateCandidate(datetime(2019, 6, 17, 16, 28, tzinfo=UTC), "page_meta", 0.9)
    url17 = DateCandidate(datetime(2017, 7, 12, tzinfo=UTC), "url", 0.85)
    assert choose_date([meta, url17])[0] == meta
    extractor17 = DateCandidate(datetime(2017, 7, 12, tzinfo=UTC), "extractor", 0.35)
    chosen, _ = choose_date([meta, url17, extractor17])
    assert chosen is not None and chosen.value == url17.value and chosen.origin == "url"
    # a modified stamp on the publication day does not lend its time of day
    day_only = DateCandidate(datetime(2019, 6, 17, tzinfo=UTC), "page_meta", 0.9)
    mod_same_day = DateCandidate(datetime(2019, 6, 17, 18, tzinfo=UTC), "page_modified", 0.2)
    assert choose_date([mod_same_day, day_only])[0] == day_only
    # a modified date agreeing adds nothing
    mod = DateCandidate(datetime(2017, 7, 12, 10, tzinfo=UTC), "page_modified", 0.2)
    assert choose_date([meta, url17, mod])[0] == meta
    # a future date is dropped entirely
    chosen, kept = choose_date([DateCandidate(FETCHED + timedelta(days=30), "page_meta", 0.9)], now=FETCHED)
    assert chosen is None and kept == ()
    # naive datetimes are taken as UTC
    chosen, _ = choose_date([DateCandidate(datetime(2018, 7, 10), "feed", 0.8)])
    assert chosen is not None and chosen.value.tzinfo is UTC


def test_a_local_evening_date_is_not_moved_to_the_url_day() -> None:
    """Issue 10 §5: 2018-07-10T23:30-05:00 is 2018-07-11T04:30Z; the URL's /2018/07/10/ names the same local
    day and must agree with it, not win with 2018-07-10T00:00Z (28.5 h early)."""
    url = "https://chronicle.example/2018/07/10/senior-officers"
    head = "<meta property='article:published_time' content='2018-07-10T23:30:00-05:00'>"
    a = extract(page(head), url=url, published=None)
    # htmldate reads the page's local day (2018-07-10) too: with the URL that used to outvote the exact time
    assert a.published_at == datetime(2018, 7, 11, 4, 30, tzinfo=UTC)
    assert a.published_origin == "page_meta"


def test_an_rfc822_feed_date_keeps_its_time_beside_a_url_day() -> None:
    """A feed's 'Tue, 10 Jul 2018 23:30:00 -0500' (feedparser gives it in UTC: 04:30 the next day) keeps
    its time of day when the URL names the local day."""
    d = datetime(2018, 7, 11, 4, 30, tzinfo=UTC)
    chosen, _ = choose_date([DateCandidate(d, "feed", 0.8), DateCandidate(datetime(2018, 7, 10, tzinfo=UTC), "url", 0.85)])
    assert chosen is not None and chosen.value == d and chosen.origin == "feed"
    assert chosen.confidence == pytest.approx(0.95)  # the two origins agree on the day
    # a URL day far from the feed date still stands alone
    chosen, _ = choose_date([DateCandidate(d, "feed", 0.8), DateCandidate(datetime(2018, 7, 8, tzinfo=UTC), "url", 0.85)])
    assert chosen is not None and chosen.origin == "url"
