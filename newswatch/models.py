"""Records passed between pipeline stages.

Every stage takes and returns these frozen records; library objects (feedparser dicts, trafilatura
documents, DuckDB rows, spaCy docs) are converted at the edge of the module that uses the library.
Datetimes are timezone-aware UTC. Ids are content hashes so that reruns produce the same keys.

    FeedEntry -> FetchResult -> Article -> (Fingerprint, Facts) -> DigestItem
    Skip(url, stage, reason) wherever a stage drops something, so a run can say why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


def stable_id(*parts: str, length: int = 16) -> str:
    """A short, deterministic content-hash id from string parts (sha256, hex)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


def utcnow() -> datetime:
    return datetime.now(UTC)


# Fetch statuses, shared by feeds and pages. Stored verbatim in the warehouse.
FETCH_STATUSES = (
    "ok",
    "not_modified",
    "too_large",
    "not_html",
    "blocked",  # SSRF guard, robots.txt, or a refused scheme/port
    "paywalled",
    "timeout",
    "error",
    "empty_text",
    "gone",  # 410, feed disabled
    "http_error",
)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP request (after redirects), successful or not."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: str  # one of FETCH_STATUSES
    http_status: int | None = None
    content_type: str | None = None
    charset: str | None = None
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    permanent_redirect: str | None = None  # set when a 301/308 moved the resource
    retry_after_s: float | None = None
    detail: str = ""  # human-readable reason for a non-ok status
    fetched_at: datetime = field(default_factory=utcnow)
    elapsed_s: float = 0.0
    attempts: int = 1
    cache_control: str | None = None  # Cache-Control response header, as sent (feeds: the poll schedule reads it)
    expires: str | None = None  # Expires response header, as sent
    transient: bool = False  # worth trying again next run; set by the fetcher (table in docs/fetching.md)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of an RSS/Atom/JSON feed, as we keep it."""

    feed_url: str
    entry_key: str  # stable key: guid if present, else hash(link, title)
    link: str | None
    title: str
    summary: str  # plain text
    published_at: datetime | None
    author: str | None = None
    source: str | None = None  # feed title


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    feed_url: str
    title: str | None
    link: str | None
    entries: tuple[FeedEntry, ...]
    warnings: tuple[str, ...] = ()  # feedparser "bozo" and per-entry problems
    format: str | None = None  # rss20, atom10, json...
    # the publisher's polling hints, as written (untrusted; warehouse/feeds.py validates them)
    ttl: str | None = None  # RSS <ttl>: minutes the feed may be cached
    update_period: str | None = None  # sy:updatePeriod: hourly, daily, weekly, monthly, yearly
    update_frequency: str | None = None  # sy:updateFrequency: updates per period (default 1)


@dataclass(frozen=True, slots=True)
class DateCandidate:
    value: datetime
    origin: str  # 'feed', 'page_meta', 'url', 'text'
    confidence: float  # 0..1


@dataclass(frozen=True, slots=True)
class Article:
    """An extracted article. `text` is the cleaned body used by every later stage; `raw_text` as extracted."""

    article_id: str  # stable_id(canonical_url) for web pages, stable_id(file uri) for local files
    url: str
    canonical_url: str
    source: str  # outlet name: og:site_name, else feed title, else host
    title: str
    text: str
    raw_text: str
    published_at: datetime | None
    fetched_at: datetime
    watch: str
    author: str | None = None
    language: str | None = None
    published_origin: str | None = None  # which DateCandidate won
    published_confidence: float | None = None
    date_candidates: tuple[DateCandidate, ...] = ()
    fetch_status: str = "ok"
    feed_url: str | None = None
    summary: str | None = None
    extractor: str = "trafilatura-2.3.1"

    @property
    def content_hash(self) -> str:
        return stable_id(self.title, self.text, length=32)

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class Skip:
    """Something a stage dropped, and why. Stored in the warehouse for every run."""

    url: str
    stage: str  # 'feed', 'fetch', 'extract', 'topic', 'dedup', 'facts', 'load', 'digest'
    reason: str  # short machine-readable reason, e.g. 'too_large', 'off_topic'
    detail: str = ""
    watch: str | None = None  # the watch that dropped it (topic skips are per watch); None when no watch did


@dataclass(frozen=True, slots=True)
class WatchMatch:
    """A watch's query matched an article: a row of watch_articles (an article can belong to several watches)."""

    watch: str
    article_id: str
    terms: tuple[str, ...] = ()  # the query terms found in the article (why it matched)


# ---- facts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityMention:
    article_id: str
    entity: str  # canonical name
    entity_type: str  # PERSON, ORG, GPE, ...
    surface: str  # as written
    start: int  # character offset in Article.text
    end: int


@dataclass(frozen=True, slots=True)
class Figure:
    article_id: str
    value: float
    noun: str  # counted noun phrase, e.g. 'children'
    qualifier: str | None  # 'at least', 'around', 'more than', 'up to', ...
    currency: str | None  # ISO 4217, e.g. 'GBP'
    surface: str  # as written: 'at least 1,400 children'
    sentence: str
    unit: str | None = None  # e.g. 'percent', 'years'


@dataclass(frozen=True, slots=True)
class Period:
    article_id: str
    start_year: int
    end_year: int
    surface: str
    sentence: str


@dataclass(frozen=True, slots=True)
class Quote:
    article_id: str
    quote: str  # the quoted words, normalised quotes/whitespace
    speaker: str | None  # canonical entity name or role ('a South Yorkshire Police spokeswoman')
    speaker_surface: str | None
    speaker_type: str | None  # PERSON, ORG, ROLE
    sentence: str

    @property
    def quote_id(self) -> str:
        # the same quote in several copies is one quote
        norm = " ".join("".join(ch.lower() for ch in self.quote if ch.isalnum() or ch.isspace()).split())
        return stable_id(norm)


@dataclass(frozen=True, slots=True)
class Alias:
    alias: str
    entity: str
    entity_type: str
    origin: str  # 'acronym', 'title', 'surname', 'variant', 'user'
    article_id: str | None = None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    article_id: str
    entities: tuple[EntityMention, ...] = ()
    figures: tuple[Figure, ...] = ()
    periods: tuple[Period, ...] = ()
    quotes: tuple[Quote, ...] = ()
    aliases: tuple[Alias, ...] = ()
    extractor: str = ""
    language: str | None = None  # detected from the text (extractors/facts/language.py)
    skipped: str | None = None  # why no facts were extracted (e.g. no model for the language), else None


# ---- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestArticle:
    article_id: str
    source: str
    title: str
    url: str  # http(s) only; anything else is rendered as plain text
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story in a digest: the story, its lead article, and the copies and new coverage since last time."""

    story_id: str
    title: str
    lead: DigestArticle
    others: tuple[DigestArticle, ...]  # other coverage and syndicated copies, grouped
    copies: int  # syndicated copies folded into this item
    outlets: int
    summary: str  # short plain text
    new_facts: tuple[str, ...] = ()  # e.g. 'figure changed: children 1,400 -> 1,510'
    is_update: bool = False  # story was in an earlier digest; this item carries only what is new


@dataclass(frozen=True, slots=True)
class Digest:
    digest_id: str  # stable_id(watch, sorted item keys): same content -> same id -> same Message-ID
    watch: str
    created_at: datetime
    items: tuple[DigestItem, ...]
    since: datetime | None
