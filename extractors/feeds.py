"""Feed parsing: RSS/Atom (through feedparser, bytes only) and JSON Feed into ParsedFeed; feed autodiscovery.

The boundary around feedparser (lemon24/reader's habit): feedparser dicts never leave this module.
Everything in a feed is untrusted: titles and summaries become plain text (HTML stripped, NUL and lone
surrogates removed, length-capped), links are kept only when they are absolute http(s) URLs, dates
outside 1990..now+2 days become None. One bad entry is a warning; `parse_feed` never raises.

feedparser is given an in-memory stream, never a str/bytes "document": `feedparser.parse(x)` tries
`open(x)` first, so a body that happens to be a path (b"/etc/passwd") would be read from disk, and a
str URL would be fetched with urllib (no timeouts, no SSRF guard).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import feedparser

from extractors.dates import parse_iso, plausible
from extractors.sniff import SNIFF_BYTES, sniff
from newswatch.models import FeedEntry, FetchResult, ParsedFeed, stable_id

MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 5_000
MAX_URL_CHARS = 2_048
MAX_ENTRIES = 2_000  # a feed with more entries than this is truncated (with a warning)
MAX_WARNINGS = 50

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_WS_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextExtractor(HTMLParser):
    """Collect text of an HTML fragment, dropping script/style/template content."""

    _SKIP = {"script", "style", "template", "noscript", "iframe", "object", "svg", "head"}
    _BLOCK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def clean_string(value: str) -> str:
    """Remove NUL/control characters and lone surrogates (they break UTF-8 storage)."""
    value = _SURROGATE_RE.sub("", value)
    return _CONTROL_RE.sub("", value)


def plain_text(value: str | None, max_chars: int, *, multiline: bool = False) -> str:
    """HTML or text -> plain text: tags dropped (script/style content too), entities decoded, whitespace
    collapsed, control characters and lone surrogates removed, capped at max_chars (on a word boundary)."""
    if not value:
        return ""
    # Bound the work on hostile 1 MB titles before parsing.
    value = clean_string(value[: max_chars * 4 + 1000])
    if "<" in value:
        p = _TextExtractor()
        try:
            p.feed(value)
            p.close()
            value = "".join(p.parts)
        except Exception:  # noqa: BLE001 - HTMLParser can fail on odd input; fall back to a regex strip
            value = re.sub(r"<[^>]*>", " ", value)
    if "&" in value:
        value = unescape(value)
    value = clean_string(value)
    if multiline:
        lines = [_WS_RE.sub(" ", ln).strip() for ln in value.split("\n")]
        value = "\n".join(ln for ln in lines if ln)
    else:
        value = " ".join(value.split())
    if len(value) > max_chars:
        cut = value[:max_chars]
        space = cut.rfind(" ")
        value = (cut[:space] if space > max_chars * 0.8 else cut).rstrip() + "…"
    return value


def safe_link(raw: object, base: str | None) -> tuple[str | None, str | None]:
    """(absolute http(s) URL or None, warning or None). Relative links are resolved against base."""
    if not isinstance(raw, str) or not raw.strip():
        return None, None
    link = clean_string(raw).strip()
    # As browsers do (WHATWG URL): tabs/newlines inside a URL are removed, spaces are percent-encoded.
    link = re.sub(r"[\t\r\n]", "", link).replace(" ", "%20")
    if len(link) > MAX_URL_CHARS:
        return None, f"link longer than {MAX_URL_CHARS} characters dropped"
    try:
        if base and not urlsplit(link).scheme:
            link = urljoin(base, link)
        parts = urlsplit(link)
    except ValueError as e:
        return None, f"unparseable link dropped: {e}"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None, f"non-http(s) link dropped: {link[:60]!r}"
    return link, None


def body_hash(body: bytes) -> str:
    """sha256 hex of a response body: detects unchanged feeds whose validators lie."""
    return hashlib.sha256(body).hexdigest()


def _struct_to_dt(st: object) -> datetime | None:
    if not isinstance(st, time.struct_time | tuple):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(st), tz=UTC)  # type: ignore[arg-type]
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _checked_date(dt: datetime | None, what: str, warnings: list[str], now: datetime) -> datetime | None:
    if dt is None:
        return None
    if not plausible(dt, now):
        warnings.append(f"{what}: implausible date {dt.isoformat()} ignored")
        return None
    return dt


def _entry_key(guid: str | None, link: str | None, title: str) -> str:
    # guid first (the publisher's identity for the item); else the link and title together.
    if guid:
        return "g" + stable_id(guid)
    return "h" + stable_id(link or "", title)


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    if "json" in ct:
        return True
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _add_warning(warnings: list[str], msg: str) -> None:
    if len(warnings) < MAX_WARNINGS:
        warnings.append(msg)
    elif len(warnings) == MAX_WARNINGS:
        warnings.append("more warnings suppressed")


def _collect(
    feed_url: str,
    feed_title: str | None,
    raw_entries: list[dict],
    warnings: list[str],
    base: str,
    now: datetime,
) -> tuple[FeedEntry, ...]:
    """Build FeedEntry records from normalised dicts; duplicates (same key) collapse to the first."""
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    if len(raw_entries) > MAX_ENTRIES:
        _add_warning(warnings, f"feed has more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} kept")
        raw_entries = raw_entries[:MAX_ENTRIES]
    for pos, raw in enumerate(raw_entries):
        i = raw.get("index", pos)
        try:
            link, link_warning = safe_link(raw.get("link"), base)
            if link_warning:
                _add_warning(warnings, f"entry {i}: {link_warning}")
            title = plain_text(raw.get("title"), MAX_TITLE_CHARS)
            summary = plain_text(raw.get("summary"), MAX_SUMMARY_CHARS, multiline=True)
            guid_raw = raw.get("guid")
            guid = clean_string(guid_raw).strip()[:MAX_URL_CHARS] if isinstance(guid_raw, str) else None
            if not title and not link and not summary:
                _add_warning(warnings, f"entry {i}: no title, link or summary; dropped")
                continue
            if not title:
                title = plain_text(summary, 120) if summary else (link or "")
            published = _checked_date(raw.get("published"), f"entry {i}", warnings, now)
            key = _entry_key(guid or None, link, title)
            if key in seen:
                _add_warning(warnings, f"entry {i}: duplicate {'guid' if guid else 'link+title'}; collapsed")
                continue
            seen.add(key)
            author = plain_text(raw.get("author"), 200) or None
            entries.append(
                FeedEntry(
                    feed_url=feed_url,
                    entry_key=key,
                    link=link,
                    title=title,
                    summary=summary,
                    published_at=published,
                    author=author,
                    source=feed_title,
                )
            )
        except Exception as e:  # noqa: BLE001 - one bad entry is a warning, never a failed feed
            _add_warning(warnings, f"entry {i}: skipped ({type(e).__name__}: {str(e)[:100]})")
    return tuple(entries)


def _parse_json_feed(body: bytes, feed_url: str, base: str, now: datetime) -> ParsedFeed:
    warnings: list[str] = []
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as e:
        return ParsedFeed(feed_url, None, None, (), (f"not valid JSON: {str(e)[:120]}",), "json")
    if not isinstance(data, dict):
        return ParsedFeed(feed_url, None, None, (), ("JSON body is not a JSON Feed object",), "json")
    version = data.get("version")
    fmt = "json"
    if isinstance(version, str) and "jsonfeed.org/version/" in version:
        fmt = "json" + version.rstrip("/").rsplit("/", 1)[-1].replace(".", "")
    else:
        warnings.append("JSON body has no jsonfeed.org version; parsed as JSON Feed anyway")
    title = plain_text(data.get("title") if isinstance(data.get("title"), str) else None, MAX_TITLE_CHARS) or None
    home, _ = safe_link(data.get("home_page_url"), base)
    items = data.get("items")
    if not isinstance(items, list):
        warnings.append("JSON Feed has no items list")
        items = []
    raw_entries: list[dict] = []
    for i, item in enumerate(items[: MAX_ENTRIES + 1]):
        if not isinstance(item, dict):
            _add_warning(warnings, f"entry {i}: not an object; skipped")
            continue
        link = item.get("url") or item.get("external_url")
        summary = item.get("summary") or item.get("content_text") or item.get("content_html")
        author = item.get("author")
        authors = item.get("authors")
        if isinstance(authors, list) and authors and isinstance(authors[0], dict):
            author = authors[0]
        date_raw = item.get("date_published") or item.get("date_modified")
        published = parse_iso(date_raw) if isinstance(date_raw, str) else None
        if isinstance(date_raw, str) and date_raw and published is None:
            _add_warning(warnings, f"entry {i}: unparseable date {date_raw[:40]!r} ignored")
        gid = item.get("id")
        raw_entries.append(
            {
                "index": i,
                "guid": str(gid) if isinstance(gid, str | int) and not isinstance(gid, bool) else None,
                "link": link,
                "title": item.get("title") if isinstance(item.get("title"), str) else None,
                "summary": summary if isinstance(summary, str) else None,
                "published": published,
                "author": author.get("name") if isinstance(author, dict) else None,
            }
        )
    entries = _collect(feed_url, title, raw_entries, warnings, base, now)
    return ParsedFeed(feed_url, title, home, entries, tuple(warnings), fmt)


def _fp_get(d: object, key: str) -> object:
    # dict.get bypasses FeedParserDict's key aliases, whose fallbacks (updated_parsed -> published_parsed)
    # emit DeprecationWarnings; we read the real keys and apply our own fallback order.
    return dict.get(d, key) if isinstance(d, dict) else None  # type: ignore[arg-type]


def _fp_text(entry: object, key: str) -> str | None:
    v = _fp_get(entry, key)
    return v if isinstance(v, str) else None


_CHARREF_RE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _neutralise_charrefs(body: bytes) -> tuple[bytes, int]:
    """Replace character references feedparser cannot handle (NUL, surrogates, beyond U+10FFFF) by U+FFFD.

    feedparser 6.0.14's loose parser does chr(n).encode('utf-8') on every &#n; and a single &#xD800; in
    an entry raises UnicodeEncodeError out of feedparser.parse: the whole feed would be lost to one bad title.
    """
    bad = 0

    def fix(m: re.Match[bytes]) -> bytes:
        nonlocal bad
        n = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if n == 0 or 0xD800 <= n <= 0xDFFF or n > 0x10FFFF:
            bad += 1
            return b"&#xFFFD;"
        return m.group(0)

    if b"&#" not in body:
        return body, 0
    return _CHARREF_RE.sub(fix, body), bad


_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]{0,200}\?>")
_XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Labels under which a body that is really UTF-8 gets mis-decoded one byte at a time (RELIABILITY C19: a
# single-byte label on multi-byte UTF-8 is a mislabelled UTF-8 feed). Other labels (iso-8859-2, koi8-r,
# shift_jis ...) are taken at their word and left to feedparser.
_UTF8_OR_SINGLE_BYTE = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252"}
)


def _strip_nuls(body: bytes) -> tuple[bytes, int]:
    """Remove stray NUL bytes from an 8-bit feed (XML forbids them; feedparser would call it ill-formed).

    UTF-16/32 bodies are full of NULs by design: with a wide BOM, or NULs in more than a tenth of the
    first KiB, the body is left alone.
    """
    n = body.count(b"\x00")
    if not n or body.startswith(_WIDE_BOMS) or body[:1024].count(b"\x00") * 10 > len(body[:1024]):
        return body, 0
    return body.replace(b"\x00", b""), n


def _declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset the HTTP header names, else the XML declaration's encoding (lower case), else None."""
    m = _CHARSET_RE.search(content_type or "")
    if m:
        return m.group(1).lower()
    d = _XML_ENCODING_RE.match(body[:300])
    return d.group(1).decode("ascii").lower() if d else None


def _repair_utf8(body: bytes, content_type: str | None) -> tuple[bytes, int]:
    """A mostly-UTF-8 feed with a few invalid bytes, as clean UTF-8 with U+FFFD for each bad byte.

    Without this, feedparser meets one 0xFF in a UTF-8 feed, gives up on UTF-8 and decodes the WHOLE feed
    as iso-8859-2 or cp1252: every title becomes mojibake (â€œZĂźrichâ€). Pages already get this rule
    (extractors/articles.decode_html): when the bytes are mostly valid UTF-8 (at least two good multi-byte
    characters per bad byte), the bad bytes are the damage, not the encoding. A cp1252 feed declared as
    UTF-8 has no valid multi-byte sequences, so it still goes to feedparser's fallback as before.
    Returns (body, number of bytes replaced); the body is unchanged when the rule does not apply.
    """
    if body.startswith(_WIDE_BOMS):
        return body, 0
    declared = _declared_charset(body, content_type)
    if declared is not None and declared not in _UTF8_OR_SINGLE_BYTE:
        return body, 0
    try:
        body.decode("utf-8")
        return body, 0
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - body.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if broken <= 0 or non_ascii - broken < 2 * broken:
        return body, 0
    fixed = text.encode("utf-8")
    # The declaration may name a single-byte label; the bytes are now UTF-8 and must say so.
    fixed = _XML_DECL_RE.sub(b'<?xml version="1.0" encoding="utf-8"?>', fixed, count=1)
    return fixed, broken


def _reencoded(body: bytes) -> bytes:
    """The body as clean UTF-8 without its XML declaration (whose encoding attribute may be what broke).

    feedparser 6.0.14 raises UnicodeDecodeError out of parse() when the declaration's encoding name holds a
    non-UTF-8 byte; the fuzz test found it (tests/feeds/test_feed_fuzz.py).
    """
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if body.startswith(bom):
            text = body[len(bom) :].decode(enc, errors="replace")
            break
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("cp1252", errors="replace")
    raw = text.encode("utf-8", errors="replace")
    return _XML_DECL_RE.sub(b"", raw, count=1)


def _fp_call(body: bytes, headers: dict[str, str]) -> dict:
    # BytesIO: feedparser reads streams as-is and never opens paths or URLs for them (see module docstring).
    return feedparser.parse(io.BytesIO(body), response_headers=dict(headers), sanitize_html=True,
                            resolve_relative_uris=True)


_ITEM_RE = re.compile(rb"<(item|entry)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_TITLE_RE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.DOTALL | re.IGNORECASE)


def _fp_parse(body: bytes, headers: dict[str, str], warnings: list[str]) -> dict:
    """feedparser.parse with two fallbacks for inputs that make it raise instead of setting `bozo`.

    feedparser 6.0.14 raises out of parse() on some malformed input (found by tests/feeds/test_feed_fuzz.py):
    a non-UTF-8 byte in the XML declaration (UnicodeDecodeError), a namespace URI with U+2028 (ValueError in
    the strict parser), a stray </link> between items (KeyError 'links' in the loose parser).
    1. re-encode the body as clean UTF-8 without its declaration and parse again;
    2. salvage: parse each <item>/<entry> on its own inside a minimal envelope, so one broken entry costs
       only itself ("one bad entry is a warning").
    """
    try:
        return _fp_call(body, headers)
    except Exception as e:  # noqa: BLE001 - see docstring
        first = type(e).__name__
    utf8_headers = {**headers, "content-type": "application/xml; charset=utf-8"}
    clean = _reencoded(body)
    try:
        d = _fp_call(clean, utf8_headers)
        warnings.append(f"feed parser crashed ({first}); parsed again after re-encoding as UTF-8")
        return d
    except Exception:  # noqa: BLE001 - fall through to per-entry salvage
        pass
    warnings.append(f"feed parser crashed ({first}); entries parsed one by one")
    entries: list = []
    version = None
    for n, m in enumerate(_ITEM_RE.finditer(clean[:20_000_000])):
        if n >= MAX_ENTRIES:
            break
        chunk = m.group(0)
        if m.group(1).lower() == b"entry":
            envelope = b'<feed xmlns="http://www.w3.org/2005/Atom">' + chunk + b"</feed>"
        else:
            envelope = b'<rss version="2.0"><channel>' + chunk + b"</channel></rss>"
        try:
            one = _fp_call(envelope, utf8_headers)
        except Exception as e:  # noqa: BLE001 - this entry only
            _add_warning(warnings, f"entry {n}: unparseable ({type(e).__name__}); skipped")
            continue
        version = version or _fp_get(one, "version")
        entries.extend(_fp_get(one, "entries") or [])  # type: ignore[arg-type]
    head = clean[: (m.start() if (m := _ITEM_RE.search(clean[:20_000_000])) else 4096)]
    t = _TITLE_RE.search(head)
    title = t.group(1).decode("utf-8", "replace") if t else None
    return {"feed": {"title": title}, "entries": entries, "version": version, "bozo": False}


def _parse_xml_feed(body: bytes, feed_url: str, base: str, content_type: str | None, now: datetime) -> ParsedFeed:
    warnings: list[str] = []
    body, bad_refs = _neutralise_charrefs(body)
    if bad_refs:
        warnings.append(f"{bad_refs} invalid character reference(s) (NUL, surrogate) replaced by U+FFFD")
    # Without a content type feedparser flags every body as bozo; the HTTP layer already decided this is a feed.
    parser_type = content_type or "application/xml"
    body, bad_bytes = _repair_utf8(body, content_type)
    if bad_bytes:
        warnings.append(f"{bad_bytes} invalid UTF-8 byte(s) replaced by U+FFFD; the rest decoded as UTF-8")
        parser_type = parser_type.split(";", 1)[0].strip() + "; charset=utf-8"
    headers = {"content-location": base, "content-type": parser_type}
    d = _fp_parse(body, headers, warnings)
    if _fp_get(d, "bozo"):
        exc = _fp_get(d, "bozo_exception")
        kind = type(exc).__name__
        if kind == "NonXMLContentType":
            warnings.append(f"feed served as {content_type!r}, not an XML type; parsed anyway")
        elif kind in ("CharacterEncodingOverride", "CharacterEncodingUnknown"):
            warnings.append(f"feed charset declaration is wrong: {str(exc)[:160]}")
        else:
            warnings.append(f"feed not well-formed: {kind}: {str(exc)[:160]}")
    fmt = _fp_get(d, "version") or None
    feed = _fp_get(d, "feed") or {}
    title = plain_text(_fp_text(feed, "title"), MAX_TITLE_CHARS) or None
    home, _ = safe_link(_fp_text(feed, "link"), base)
    raw_entries: list[dict] = []
    for i, e in enumerate((_fp_get(d, "entries") or [])[: MAX_ENTRIES + 1]):  # type: ignore[index]
        published = None
        for key in ("published_parsed", "updated_parsed", "created_parsed"):
            if _fp_get(e, key):
                published = _struct_to_dt(_fp_get(e, key))
                break
        if published is None:
            for key in ("published", "updated"):
                raw = _fp_text(e, key)
                if raw:
                    _add_warning(warnings, f"entry {i}: unparseable date {raw[:40]!r} ignored")
                    break
        summary = _fp_text(e, "summary")
        if not summary:
            content = _fp_get(e, "content")
            if isinstance(content, list) and content and isinstance(content[0], dict):
                summary = content[0].get("value")
        raw_entries.append(
            {
                "index": i,
                "guid": _fp_text(e, "id"),
                "link": _fp_text(e, "link"),
                "title": _fp_text(e, "title"),
                "summary": summary,
                "published": published,
                "author": _fp_text(e, "author"),
            }
        )
    entries = _collect(feed_url, title, raw_entries, warnings, base, now)
    if not entries and not fmt:
        if sniff(body[:SNIFF_BYTES]).html:
            announced = discover_feeds(body, base)[:3]
            warnings.append(
                "not a feed: the body is an HTML page"
                + (f" that announces {', '.join(announced)}; use that URL" if announced
                   else " announcing no feed")
            )
        elif not body.strip():
            warnings.append("empty body")
        else:
            warnings.append("not a recognised feed format")
    # The publisher's polling hints, carried as written; warehouse/feeds.py validates and clamps them.
    return ParsedFeed(feed_url, title, home, entries, tuple(warnings), fmt, ttl=_fp_text(feed, "ttl"),
                      update_period=_fp_text(feed, "sy_updateperiod"),
                      update_frequency=_fp_text(feed, "sy_updatefrequency"))


def parse_feed(
    body: bytes,
    feed_url: str,
    content_type: str | None = None,
    *,
    base_url: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse an RSS/Atom/JSON Feed body. Never raises for bad input: problems are in ParsedFeed.warnings.

    feed_url is the feed's identity (as configured; it goes into every FeedEntry). base_url is where the body
    really came from (FetchResult.final_url after redirects), used to resolve relative links; default feed_url.
    """
    now = now or datetime.now(UTC)
    base = base_url or feed_url
    if not isinstance(body, bytes | bytearray | memoryview):
        return ParsedFeed(feed_url, None, None, (), ("feed body is not bytes",), None)
    body, nuls = _strip_nuls(bytes(body))
    try:
        if _looks_like_json(body, content_type):
            parsed = _parse_json_feed(body, feed_url, base, now)
        else:
            parsed = _parse_xml_feed(body, feed_url, base, content_type, now)
        if nuls:
            # a stray NUL is damage to report, not a reason to lose the feed
            parsed = replace(parsed, warnings=(f"{nuls} NUL byte(s) removed", *parsed.warnings))
        return parsed
    except Exception as e:  # noqa: BLE001 - a parser bug must not fail the run; it is recorded on the feed
        return ParsedFeed(feed_url, None, None, (), (f"feed could not be parsed: {type(e).__name__}: {e}",), None)


# ---- autodiscovery ---------------------------------------------------------------------------------

_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
}


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str]] = []  # (type, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and a.get("href"):
            self.base = a["href"]
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            ftype = a.get("type", "").lower().split(";")[0].strip()
            if "alternate" in rels and ftype in _FEED_TYPES and a.get("href"):
                self.links.append((ftype, a["href"]))
            elif "feed" in rels and a.get("href"):
                self.links.append((ftype, a["href"]))


def discover_feeds(html: bytes | str, base_url: str) -> list[str]:
    """Feed URLs announced by an HTML page (<link rel=alternate type=rss/atom/json feed>), absolute, http(s)
    only, in page order, without duplicates. Comment feeds are listed last."""
    if isinstance(html, bytes | bytearray):
        html = bytes(html[:2_000_000]).decode("utf-8", errors="replace")
    finder = _LinkFinder()
    try:
        finder.feed(html[:2_000_000])
        finder.close()
    except Exception:  # noqa: BLE001 - a broken page simply announces no feeds
        pass
    base = base_url
    if finder.base:
        resolved, _ = safe_link(finder.base, base_url)
        base = resolved or base_url
    out: list[str] = []
    comments: list[str] = []
    for _ftype, href in finder.links:
        link, _ = safe_link(href, base)
        if link and link not in out and link not in comments:
            (comments if "comment" in link.lower() else out).append(link)
    return out + comments


def parse_fetched_feed(result: FetchResult, feed_url: str, *, now: datetime | None = None) -> ParsedFeed:
    """parse_feed on a fetched body, with the response's Content-Type as sent: the Fetcher keeps the MIME type
    and the charset parameter apart (FetchResult.content_type / .charset), and a feed whose charset is only in
    the header (`text/xml; charset=iso-8859-2`, no XML declaration) decodes right only when both reach the parser."""
    header = result.content_type
    if header and result.charset:
        header = f"{header}; charset={result.charset}"
    return parse_feed(result.body, feed_url, header, base_url=result.final_url, now=now)

