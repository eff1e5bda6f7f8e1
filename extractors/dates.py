"""Publication dates: collect every candidate (feed, page metadata, URL, text) and choose one with a confidence.

Wrong dates are the most reported bug class of article extractors (newspaper4k, trafilatura/htmldate):
the crawl date, a "last modified" stamp or a date from a sidebar wins over the real publication date.
So nothing here guesses silently. Each source gives `DateCandidate`s with an origin and a base
confidence; `choose_date` drops implausible values (before 1990, after the fetch time plus two days),
picks the best-supported *day* (origins that agree on a day add up), then the most precise candidate of
that day. The choice and all candidates are stored with the article.

Base confidences (the policy, documented in docs/feeds.md):

    page_meta  0.90  structured publication date: article:published_time, JSON-LD datePublished,
                     itemprop=datePublished, <meta name=date|pubdate|dc.date...>
    url        0.85  /2018/07/10/ or 2018-07-10 in the URL path (0.40 when only year/month): set once at
                     publication and never changed, unlike metadata that CMSs rewrite on republishing
    feed       0.80  the entry's published/updated date in the feed
    text       0.50  an explicit "date 2018-07-10" / "Published 10 July 2018" marker at the top of the text,
                     or a short dateline in its first three lines
    extractor  0.35  trafilatura/htmldate's guess, run on the page without its sidebars, navigation and
                     related-article lists (whose <time> elements are the classic wrong date); dropped when it
                     is the crawl day or the modified date. It wins only when nothing better exists.
    page_modified 0.20  article:modified_time / dateModified: a last resort only

Agreement bonus: +0.10 per further origin naming the same calendar day (UTC; a date written without a time,
like a URL's, names a local day and agrees with a timed candidate inside that day in any time zone), capped at 1.0; so a URL
date confirmed by the feed or by htmldate beats a lone page_meta date (a republished page keeps its old
URL). Crawl-day penalty: -0.15 for the fetch day when a strong candidate names an earlier day (pages and
feeds that stamp "now" on everything). htmldate's guess equal to the crawl day is
dropped outright: it is its fallback when it finds nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from newswatch.models import DateCandidate

MIN_YEAR = 1990
FUTURE_SLACK = timedelta(days=2)

BASE_CONFIDENCE = {
    "page_meta": 0.90,
    "feed": 0.80,
    "url": 0.85,
    "url_month": 0.40,
    "extractor": 0.35,
    "text": 0.50,
    "page_modified": 0.20,
}
AGREEMENT_BONUS = 0.10
CRAWL_DAY_PENALTY = 0.15

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan", "januar", "janvier"),
            ("february", "feb", "februar", "février", "fevrier"),
            ("march", "mar", "märz", "maerz", "mars"),
            ("april", "apr", "avril"),
            ("may", "mai"),
            ("june", "jun", "juni", "juin"),
            ("july", "jul", "juli", "juillet"),
            ("august", "aug", "août", "aout"),
            ("september", "sep", "sept", "septembre"),
            ("october", "oct", "oktober", "okt", "octobre"),
            ("november", "nov", "novembre"),
            ("december", "dec", "dezember", "dez", "décembre", "decembre"),
        ]
    )
    for m in names
}


def plausible(value: datetime, now: datetime | None = None) -> bool:
    """True when value is between 1990-01-01 and now + 2 days (both UTC-aware)."""
    now = now or datetime.now(UTC)
    return value.year >= MIN_YEAR and value <= now + FUTURE_SLACK


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_iso(text: str | None) -> datetime | None:
    """Parse ISO-8601-like dates ("2018-07-10", "2018-07-10T09:30:00+01:00", "...Z"); None if not one."""
    if not text:
        return None
    m = _ISO_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        try:
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
        except ValueError:
            return None
        return (dt - sign * offset).replace(tzinfo=UTC)
    return dt.replace(tzinfo=UTC)


_HUMAN_RE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-zäéû]{3,10})\.?,?\s+(\d{4})\b"  # 10 July 2018, 10. Juli 2018
    r"|\b([A-Za-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b"  # July 10, 2018
)


def parse_human(text: str) -> datetime | None:
    """Parse '10 July 2018', 'July 10, 2018', '10. Juli 2018' (English/German/French month names)."""
    m = _HUMAN_RE.search(text)
    if not m:
        return None
    if m.group(1):
        d, mon, y = m.group(1), m.group(2), m.group(3)
    else:
        mon, d, y = m.group(4), m.group(5), m.group(6)
    month = _MONTHS.get(mon.lower())
    if not month:
        return None
    try:
        return datetime(int(y), month, int(d), tzinfo=UTC)
    except ValueError:
        return None


# /2018/07/10/, /2018-07-10-, /20180710/ ; the month-only form /2018/07/ is weaker.
_URL_DAY_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?!\d)")
_URL_COMPACT_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_URL_MONTH_RE = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/")


def url_candidates(url: str, now: datetime | None = None) -> list[DateCandidate]:
    """Dates written in the URL path (not the host or query, where numbers are usually ids)."""
    from urllib.parse import urlsplit

    try:
        path = urlsplit(url).path
    except ValueError:
        return []
    for rx in (_URL_DAY_RE, _URL_COMPACT_RE):
        m = rx.search(path)
        if m:
            try:
                dt = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
            except ValueError:
                continue
            if plausible(dt, now):
                return [DateCandidate(dt, "url", BASE_CONFIDENCE["url"])]
    m = _URL_MONTH_RE.search(path)
    if m:
        dt = datetime(int(m.group(1)), int(m.group(2)), 1, tzinfo=UTC)
        if plausible(dt, now):
            return [DateCandidate(dt, "url", BASE_CONFIDENCE["url_month"])]
    return []


_TEXT_MARKER_RE = re.compile(
    r"^\s*(?:date|published|posted|veröffentlicht|datum)?\s*:?\s*(?:on\s+)?"
    r"(\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)",
    re.IGNORECASE,
)
_TEXT_HUMAN_MARKER_RE = re.compile(
    r"^\s*(?:published|posted|date|veröffentlicht|datum)\s*:?\s*(?:on\s+)?", re.IGNORECASE
)


def text_candidates(text: str, now: datetime | None = None) -> list[DateCandidate]:
    """A date at the very top of the text: an explicit marker ("date 2018-07-10 ...", "Published 10 July 2018")
    or a short dateline among the first three lines ("By Sam Writer | 10 July 2018"). Dates further down
    are about the story (a report "of 10 July 2015"), not its publication."""
    head = text[:300]
    m = _TEXT_MARKER_RE.match(head)
    dt: datetime | None = None
    if m:
        dt = parse_iso(m.group(1))
    else:
        hm = _TEXT_HUMAN_MARKER_RE.match(head)
        if hm:
            dt = parse_human(head[hm.end() : hm.end() + 40])
    if dt is None:
        for line in text.split("\n", 3)[:3]:
            if len(line) <= 80 and len(line.split()) <= 12:  # a dateline, not a sentence
                iso = re.search(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)", line)
                dt = parse_iso(iso.group(0)) if iso else parse_human(line)
                if dt is not None:
                    break
    if dt and plausible(dt, now):
        return [DateCandidate(dt, "text", BASE_CONFIDENCE["text"])]
    return []


def strip_text_date_marker(text: str) -> str:
    """Remove a leading 'date 2018-07-10 ' marker (seed 002 starts that way) from a text body."""
    m = re.match(r"^\s*date\s+\d{4}-\d{1,2}-\d{1,2}\s+", text, re.IGNORECASE)
    return text[m.end() :] if m else text


# ---- page metadata ---------------------------------------------------------------------------------

_PUBLISHED_META = {
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "article.published",
    "originalpublicationdate",
}
_MODIFIED_META = {"article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified"}


def _jsonld_dates(obj: object, out: list[tuple[str, str]], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(obj, dict):
        for key in ("datePublished", "dateCreated", "dateModified"):
            v = obj.get(key)
            if isinstance(v, str):
                out.append((key, v))
        for v in obj.values():
            if isinstance(v, dict | list):
                _jsonld_dates(v, out, depth + 1)
    elif isinstance(obj, list):
        for v in obj[:50]:
            _jsonld_dates(v, out, depth + 1)


def page_meta_candidates(tree: object, now: datetime | None = None) -> list[DateCandidate]:
    """Publication dates declared in the page head: meta tags, JSON-LD, itemprop, <time pubdate>.

    `tree` is an lxml.html element. The first published date of each kind is kept; modified dates
    are kept as weak `page_modified` candidates.
    """
    published: list[datetime] = []
    modified: list[datetime] = []

    def add(raw: str | None, bucket: list[datetime]) -> None:
        dt = parse_iso(raw) if raw else None
        if dt is None and raw:
            dt = parse_human(raw)
        if dt is not None and plausible(dt, now):
            bucket.append(dt)

    xpath = getattr(tree, "xpath", None)
    if xpath is None:
        return []
    for meta in xpath("//meta[@content]")[:500]:
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _PUBLISHED_META:
            add(meta.get("content"), published)
        elif key in _MODIFIED_META:
            add(meta.get("content"), modified)
    for el in xpath("//*[@itemprop='datePublished']")[:5]:
        add(el.get("datetime") or el.get("content") or (el.text or ""), published)
    for script in xpath("//script[@type='application/ld+json']")[:10]:
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        found: list[tuple[str, str]] = []
        _jsonld_dates(data, found)
        for key, raw in found:
            add(raw, modified if key == "dateModified" else published)
    for el in xpath("//time[@pubdate or @datetime][1]")[:1]:
        if el.get("pubdate") is not None:
            add(el.get("datetime"), published)
    out: list[DateCandidate] = []
    if published:
        # The most precise (with a time) among the earliest day wins: pages often list related-article dates later.
        out.append(DateCandidate(min(published), "page_meta", BASE_CONFIDENCE["page_meta"]))
    if modified:
        out.append(DateCandidate(max(modified), "page_modified", BASE_CONFIDENCE["page_modified"]))
    return out


def extractor_candidate(raw: str | None, fetched_at: datetime | None, now: datetime | None = None) -> list[DateCandidate]:
    """trafilatura/htmldate's date string ('2018-07-10'). Dropped when it is just the crawl day."""
    dt = parse_iso(raw)
    if dt is None or not plausible(dt, now):
        return []
    if fetched_at is not None and dt.date() == to_utc(fetched_at).date():
        # htmldate falls back to today's date when it finds nothing: that is the crawl date, not a publication date.
        return []
    return [DateCandidate(dt, "extractor", BASE_CONFIDENCE["extractor"])]


def _has_time(value: datetime) -> bool:
    v = to_utc(value)
    return (v.hour, v.minute, v.second) != (0, 0, 0)


def _day_of_date_only(c: DateCandidate, timed: list[DateCandidate]) -> date:
    """The UTC day a date-only candidate (a URL's /2018/07/10/) votes for.

    A date written without a time is a local calendar day, whose UTC span depends on the publisher's time
    zone: 2018-07-10 in UTC-5 runs to 2018-07-11T05:00Z. So a day joins the UTC day of a timed candidate that
    falls inside that calendar day in some time zone (UTC-12 to UTC+14: from 14 h before its UTC midnight to
    12 h after its UTC end), preferring one on the same UTC day, then the most confident. Comparing UTC days
    instead made a page stamped 2018-07-10T23:30-05:00 lose to its URL and get 2018-07-10T00:00Z (28.5 h
    early), and an RFC 822 feed date of the evening lose its time the same way."""
    d = to_utc(c.value).date()
    start = datetime(d.year, d.month, d.day, tzinfo=UTC)
    near = [t for t in timed if start - timedelta(hours=14) <= to_utc(t.value) < start + timedelta(hours=36)]
    if not near or any(to_utc(t.value).date() == d for t in near):
        return d
    return to_utc(max(near, key=lambda t: t.confidence).value).date()


def choose_date(
    candidates: Iterable[DateCandidate],
    *,
    fetched_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[DateCandidate | None, tuple[DateCandidate, ...]]:
    """Pick the publication date. Returns (chosen candidate with its final confidence, all plausible ones).

    First the *day* (UTC) is chosen: a day scores the best base confidence among its candidates plus
    AGREEMENT_BONUS for every further origin naming it (page_modified adds nothing), minus
    CRAWL_DAY_PENALTY when it is the crawl day (fetched_at) while a strong candidate (base >= 0.7) names an
    earlier day: CMSs and feeds that stamp "now" on every item are the classic wrong-date bug. Ties go to the
    day named first. Then, within that day, the most confident candidate *with a time of day* gives the value
    and origin (a URL says only "2018-07-10"; the feed agreeing on that day says "08:05"), else the most
    confident one. The returned confidence is the day's score.
    """
    kept = tuple(c for c in candidates if plausible(to_utc(c.value), now))
    if not kept:
        return None, kept
    crawl_day = to_utc(fetched_at).date() if fetched_at is not None else None
    days: dict[date, list[DateCandidate]] = {}
    timed = [c for c in kept if _has_time(c.value)]
    for c in timed:
        days.setdefault(to_utc(c.value).date(), []).append(c)
    for c in kept:
        if not _has_time(c.value):
            days.setdefault(_day_of_date_only(c, timed), []).append(c)
    best_day: date | None = None
    best_score = -1.0
    for day, group in days.items():
        origins = {c.origin for c in group} - {"page_modified"}
        score = max(c.confidence for c in group) + AGREEMENT_BONUS * max(0, len(origins) - 1)
        if crawl_day is not None and day == crawl_day and any(
            o.confidence >= 0.7 and to_utc(o.value).date() < day for o in kept
        ):
            score -= CRAWL_DAY_PENALTY
        score = max(0.0, min(1.0, score))
        if score > best_score:
            best_day, best_score = day, score
    assert best_day is not None
    # A modified stamp never supplies the value: on the publication day its time is the edit's, not the story's.
    group = sorted(days[best_day], key=lambda c: (c.origin == "page_modified", not _has_time(c.value), -c.confidence))
    pick = group[0]
    return DateCandidate(to_utc(pick.value), pick.origin, round(best_score, 3)), kept
