"""Pages to Articles: charset decoding, trafilatura text and metadata, canonical URL, dates, paywall/empty detection.

`extract_article` turns one FetchResult (already fetched by extractors.http) into an Article or an explicit
Skip. Nothing here does network I/O. trafilatura documents and lxml trees never leave this module.

Fetch status of the Article (see newswatch.models.FETCH_STATUSES):
    ok          trafilatura found at least MIN_WORDS words
    paywalled   a paywall / bot-wall marker and little text: the feed summary is used as text
    empty_text  little or no text and no marker: the feed summary is used as text
    <fetch status> (timeout, error, blocked, too_large, http_error, gone): the page was never usable;
                the feed summary is used as text (not_modified and not_html are always Skips)
When the summary is not usable either (fewer than MIN_SUMMARY_WORDS words) the result is a Skip.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree

from extractors.dates import (
    choose_date,
    extractor_candidate,
    page_meta_candidates,
    strip_text_date_marker,
    text_candidates,
    url_candidates,
)
from extractors.facts.language import detect_language
from extractors.feeds import MAX_TITLE_CHARS, clean_string, plain_text, safe_link
from extractors.sniff import is_html_page
from extractors.urls import canonicalize_url
from newswatch.models import Article, DateCandidate, FeedEntry, FetchResult, Skip, stable_id

EXTRACTOR = f"trafilatura-{trafilatura.__version__}"
MIN_WORDS = 40  # fewer extracted words than this is not an article body (teaser, error page, wall)
MIN_SUMMARY_WORDS = 12  # a feed summary shorter than this is not worth keeping as a fallback text
PAYWALL_MAX_WORDS = 250  # a paywall marker with more text than this is a metered page that gave us the text
MAX_TEXT_CHARS = 500_000

# ---- charsets --------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
# WHATWG: these labels mean windows-1252 in browsers, and real pages rely on it (0x80-0x9f = €, “, ” ...).
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252",
                   "us-ascii": "cp1252", "iso8859-1": "cp1252", "l1": "cp1252", "x-user-defined": "cp1252"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _has_utf8_multibyte(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(b >= 0x80 for b in body)


def sniff_meta_charset(body: bytes) -> str | None:
    """The charset named by <meta charset> or <meta http-equiv=content-type> in the first 4 KiB."""
    m = _META_CHARSET_RE.search(body[:4096])
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(body: bytes, header_charset: str | None) -> str:
    """Bytes to text. BOM > HTTP header charset > <meta charset> > detection; invalid bytes replaced.

    One exception to the order: a single-byte declaration (latin-1/cp1252/ascii) on a body that is valid
    UTF-8 with multi-byte sequences is UTF-8 mislabelled (valid UTF-8 almost never happens by accident),
    so "Zürich" – café comes out right instead of as mojibake. A declared charset that fails to decode
    strictly gives way to the next source before falling back to replacement characters.
    NUL bytes and lone surrogates are removed so the text can be stored as UTF-8.
    """
    if not body:
        return ""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return clean_string(body[len(bom) :].decode(enc, errors="replace"))
    declared = [c for c in (_codec(header_charset), _codec(sniff_meta_charset(body))) if c]
    utf8_ok = _has_utf8_multibyte(body)
    for enc in declared:
        if enc in ("cp1252", "iso8859-15", "ascii") and utf8_ok:
            return clean_string(body.decode("utf-8"))
        if enc.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:512]:
            continue  # "charset=utf-16" on an ASCII-compatible body (no NULs) would decode to CJK garbage
        try:
            return clean_string(body.decode(enc))
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return clean_string(body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Nothing decodes cleanly. Mostly-UTF-8 with a few broken bytes (a truncated body, one bad paste) stays
    # UTF-8 with replacement characters; otherwise a declared-but-wrong charset gives way to detection.
    lenient = body.decode("utf-8", errors="replace")
    broken = lenient.count("\ufffd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 127) - broken
    if multibyte >= 2 * broken:
        return clean_string(lenient)
    guess = _detect(body)
    if guess:
        return clean_string(body.decode(guess, errors="replace"))
    return clean_string(body.decode("cp1252", errors="replace"))


def _detect(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes  # trafilatura's own dependency
    except ImportError:  # pragma: no cover - always installed with trafilatura
        return None
    best = from_bytes(body[:200_000]).best()
    enc = _codec(best.encoding) if best is not None else None
    # charset_normalizer often names a Latin-1 cousin of what browsers would use; WHATWG says cp1252.
    return "cp1252" if enc in ("latin_1", "iso8859-15", "cp1250") and _decodes(body, "cp1252") else enc


def _decodes(body: bytes, enc: str) -> bool:
    try:
        body.decode(enc)
    except UnicodeDecodeError:
        return False
    return True


# ---- URLs ------------------------------------------------------------------------------------------


def _site(host: str) -> str:
    """The registrable domain of a host, by the public suffix list (tld): news.example.co.uk and example.co.uk
    are one site, but two police forces under police.uk, two blogspot.com blogs or two github.io pages are
    not (taking the last two or three labels made each of those one site). An IP address is its own site; a
    suffix the list does not know (localhost, .example, .test) keeps the last two labels."""
    from tld import get_fld

    host = host.lower().rstrip(".").removeprefix("www.")
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        return host
    return get_fld(host, fix_protocol=True, fail_silently=True) or ".".join(host.split(".")[-2:])


_AMP_CACHES = ("cdn.ampproject.org", "ampproject.net", "bing-amp.com")


def _is_amp_cache(host: str | None) -> bool:
    # An AMP cache serves publishers' pages from its own host; their canonical link is the publisher's URL.
    host = (host or "").lower()
    return any(host == c or host.endswith("." + c) for c in _AMP_CACHES)


def _canonical(tree: etree._Element | None, final_url: str) -> str:
    base = canonicalize_url(final_url)
    if tree is None:
        return base
    hrefs = [h for h in tree.xpath("//link[@rel='canonical']/@href")[:3]]
    hrefs += [h for h in tree.xpath("//meta[@property='og:url']/@content")[:1]]
    final_parts = urlsplit(base)
    for href in hrefs:
        link, _ = safe_link(str(href), final_url)
        if not link:
            continue
        cand = canonicalize_url(link)
        cp = urlsplit(cand)
        if _site(cp.hostname or "") != _site(final_parts.hostname or "") and not _is_amp_cache(final_parts.hostname):
            continue  # a canonical on another site is either syndication or an attack: keep our own URL
        if cp.path in ("", "/") and final_parts.path not in ("", "/"):
            continue  # CMS bug: every page declares the homepage as canonical
        return cand
    return base


# ---- paywalls and bot walls ------------------------------------------------------------------------

_PAYWALL_MARKERS = (
    '"isaccessibleforfree": false',
    '"isaccessibleforfree":false',
    '"isaccessibleforfree": "false"',
    '"isaccessibleforfree":"false"',
    "subscribe to continue reading",
    "subscribe to read",
    "this article is for subscribers",
    "subscriber-only",
    "subscribers only",
    'class="paywall',
    'id="paywall',
    "piano-paywall",
    "jetzt weiterlesen mit",
    "nur für abonnenten",
)
# Bot walls replace the whole page: nothing in it (title, dates, site name) describes the article.
_BOTWALL_MARKERS = (
    "<title>just a moment...</title>",
    "attention required! | cloudflare",
    "cf-browser-verification",
    "enable javascript and cookies to continue",
    "please verify you are a human",
    "are you a robot",
    "<title>access denied</title>",
    "captcha-delivery",
    "px-captcha",
)


def wall_marker(html_text: str) -> tuple[str, str] | None:
    """('paywall' | 'botwall', marker) for the first paywall or bot-wall marker in the page, else None."""
    low = html_text[:300_000].lower()
    for marker in _BOTWALL_MARKERS:
        if marker in low:
            return "botwall", marker
    for marker in _PAYWALL_MARKERS:
        if marker in low:
            return "paywall", marker
    return None


# ---- extraction ------------------------------------------------------------------------------------


def _is_html(result: FetchResult) -> bool:
    return is_html_page(result.body, result.content_type, result.charset)


def _parse_tree(text: str) -> etree._Element | None:
    if not text.strip():
        return None
    try:
        parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
        return lxml.html.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


_FURNITURE_RE = re.compile(
    r"(?:^|[\s_-])(?:sidebar|related|related-?posts|recommended|most-?read|most-?popular|trending|teaser-?list|"
    r"more-?stories|read-?more|newsletter)(?:$|[\s_-])",
    re.IGNORECASE,
)


def _prune_page_furniture(tree: etree._Element) -> None:
    """Drop sidebars, navigation, page-level headers/footers and related-article lists (in place).

    Never drops an element holding the page's main content (an <article>, <main> or <h1> inside, or more
    than a third of the page's text): wrappers like "content-sidebar-wrap" are common.
    """
    total = len(tree.text_content()) or 1
    doomed = []
    for el in tree.iter("aside", "nav", "footer", "header", "div", "section", "ul"):
        tag = el.tag
        if tag in ("footer", "header") and any(a.tag in ("article", "main") for a in el.iterancestors()):
            continue  # an article's own header/footer holds its byline and dateline
        if tag in ("div", "section", "ul"):
            marker = f"{el.get('class') or ''} {el.get('id') or ''}"
            if not marker.strip() or not _FURNITURE_RE.search(marker):
                continue
        if el.find(".//article") is not None or el.find(".//main") is not None or el.find(".//h1") is not None:
            continue
        if len(el.text_content()) > total / 3:
            continue
        doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)


def _page_date_without_furniture(tree: etree._Element, url: str, fetched_at: datetime) -> str | None:
    """htmldate's publication date for the page minus its furniture (on a copy; the text extraction is untouched).

    htmldate (inside trafilatura) reads every <time> of the page: "Most read: ... 20 November" in a sidebar
    is the classic wrong publication date. Running it on a pruned copy keeps its good guesses (bylines,
    visible datelines) and loses the sidebar ones.
    """
    import copy

    from htmldate import find_date  # trafilatura's own dependency

    pruned = copy.deepcopy(tree)
    _prune_page_furniture(pruned)
    try:
        return find_date(pruned, extensive_search=False, original_date=True, url=None,
                         max_date=fetched_at.strftime("%Y-%m-%d"))
    except Exception:  # noqa: BLE001 - a date finder failure only loses one weak candidate
        return None


def _meta(tree: etree._Element | None, *keys: str) -> str | None:
    if tree is None:
        return None
    for key in keys:
        for attr in ("property", "name"):
            vals = tree.xpath(f"//meta[@{attr}='{key}']/@content")
            if vals and str(vals[0]).strip():
                return str(vals[0]).strip()
    return None


def _jsonld_publisher(tree: etree._Element | None) -> str | None:
    """publisher.name of the page's JSON-LD article object: the outlet as the publisher names itself.

    og:site_name is sometimes a section ("U.S." on reuters.com) and trafilatura's site name sometimes a
    host ("salon.com"); the structured publisher is the most deliberate of the three.
    """
    if tree is None:
        return None
    import json

    for script in tree.xpath("//script[@type='application/ld+json']")[:10]:
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        seen = 0
        while stack and seen < 200:
            obj = stack.pop(0)
            seen += 1
            if isinstance(obj, list):
                stack.extend(obj[:50])
            elif isinstance(obj, dict):
                pub = obj.get("publisher")
                if isinstance(pub, list) and pub:
                    pub = pub[0]
                if isinstance(pub, dict) and isinstance(pub.get("name"), str) and pub["name"].strip():
                    return pub["name"]
                stack.extend(v for v in obj.values() if isinstance(v, dict | list))
    return None


def _host_source(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.") or "unknown"


def _usable_summary(entry: FeedEntry | None) -> str | None:
    if entry is None or not entry.summary:
        return None
    if len(entry.summary.split()) < MIN_SUMMARY_WORDS:
        return None
    return entry.summary


def _fallback(
    result: FetchResult,
    *,
    status: str,
    stage: str,
    watch: str,
    entry: FeedEntry | None,
    feed_title: str | None,
    detail: str,
) -> Article | Skip:
    """Page text unusable: the feed summary becomes the text when it is usable, else a Skip."""
    summary = _usable_summary(entry)
    url = result.final_url or result.url
    if summary is None or entry is None:
        return Skip(url=url, stage=stage, reason=status, detail=detail)
    canonical = canonicalize_url(url)
    cands = [DateCandidate(entry.published_at, "feed", 0.8)] if entry.published_at else []
    cands += url_candidates(canonical)
    chosen, kept = choose_date(cands, fetched_at=result.fetched_at)
    return Article(
        article_id=stable_id(canonical),
        url=url,
        canonical_url=canonical,
        source=feed_title or entry.source or _host_source(url),
        title=entry.title or plain_text(summary, 120),
        text=summary,
        raw_text=summary,
        published_at=chosen.value if chosen else None,
        fetched_at=result.fetched_at,
        watch=watch,
        author=entry.author,
        published_origin=chosen.origin if chosen else None,
        published_confidence=chosen.confidence if chosen else None,
        date_candidates=kept,
        fetch_status=status,
        feed_url=entry.feed_url,
        summary=summary,
        extractor="feed-summary",
    )


def extract_article(
    result: FetchResult,
    *,
    watch: str,
    entry: FeedEntry | None = None,
    feed_title: str | None = None,
) -> Article | Skip:
    """One fetched page -> Article (text, title, author, source, language, chosen date with candidates) or Skip."""
    url = result.final_url or result.url
    if result.status in ("not_modified", "not_html"):
        # not_html: a PDF or an image is not an article, whatever the feed says about it
        return Skip(url=url, stage="fetch", reason=result.status, detail=result.detail)
    if result.status != "ok":
        return _fallback(result, status=result.status, stage="fetch", watch=watch, entry=entry,
                         feed_title=feed_title, detail=result.detail or f"fetch status {result.status}")
    if not _is_html(result):
        return Skip(url=url, stage="extract", reason="not_html",
                    detail=f"content type {result.content_type or 'unknown'}")
    html_text = decode_html(result.body, result.charset)
    try:
        return _extract_from_html(html_text, url=url, fetched_at=result.fetched_at, watch=watch, entry=entry,
                                  feed_title=feed_title, result=result)
    except Exception as e:  # noqa: BLE001 - one hostile page never fails a run; the reason is recorded
        return Skip(url=url, stage="extract", reason="extractor_error", detail=f"{type(e).__name__}: {e}"[:200])


def _extract_from_html(
    html_text: str,
    *,
    url: str,
    fetched_at: datetime,
    watch: str,
    entry: FeedEntry | None,
    feed_title: str | None,
    result: FetchResult | None,
    default_source: str | None = None,
    canonical_override: str | None = None,
) -> Article | Skip:
    tree = _parse_tree(html_text)
    canonical = canonical_override or _canonical(tree, url)
    meta_cands = page_meta_candidates(tree, fetched_at) if tree is not None else []
    doc = None
    extractor_date = _page_date_without_furniture(tree, url, fetched_at) if tree is not None else None
    if tree is not None:
        try:
            doc = trafilatura.bare_extraction(
                tree,
                url=url,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                # extensive_search=False: no guessing from the body text, which is where crawl/sidebar dates come from
                date_extraction_params={"extensive_search": False, "original_date": True,
                                        "max_date": fetched_at.strftime("%Y-%m-%d")},
            )
        except Exception as e:  # noqa: BLE001 - trafilatura on hostile HTML: record, don't crash the run
            return Skip(url=url, stage="extract", reason="extractor_error", detail=f"{type(e).__name__}: {e}"[:200])
    text = clean_string(getattr(doc, "text", None) or "")[:MAX_TEXT_CHARS].strip() if doc is not None else ""
    wall = wall_marker(html_text)
    words = len(text.split())
    status = "ok"
    extractor = EXTRACTOR
    # A paywall marker with a long text is a metered page that served the article: keep it.
    if words < MIN_WORDS or (wall and wall[1].startswith('"isaccessible') and words < PAYWALL_MAX_WORDS):
        status = "paywalled" if wall else "empty_text"
        detail = f"{words} words extracted" + (f"; {wall[0]} marker {wall[1]!r}" if wall else "")
        if result is None:
            return Skip(url=url, stage="extract", reason=status, detail=detail)
        if wall and wall[0] == "botwall":
            # Nothing on a bot-wall page describes the article: use the feed entry alone.
            return _fallback(result, status=status, stage="extract", watch=watch, entry=entry,
                             feed_title=feed_title, detail=detail)
        summary = _usable_summary(entry)
        if summary is None:
            return Skip(url=url, stage="extract", reason=status, detail=detail + "; no usable feed summary")
        text = summary  # the page's metadata (title, site, canonical, dates) is still good; only the text is not
        extractor = "feed-summary"

    title = plain_text(getattr(doc, "title", None), MAX_TITLE_CHARS) or (entry.title if entry else "") \
        or plain_text(_meta(tree, "og:title"), MAX_TITLE_CHARS) or plain_text(text, 120)
    site = plain_text(_jsonld_publisher(tree), 200) or plain_text(_meta(tree, "og:site_name"), 200) or None
    named = plain_text(getattr(doc, "sitename", None), 200) or None
    if named and " " not in named and "." in named:
        named = None  # trafilatura's fallback is the host name: a feed title is a better outlet name
    source = site or named or feed_title or (entry.source if entry else None) or default_source \
        or _host_source(url)
    author = plain_text(getattr(doc, "author", None), 200) or (entry.author if entry else None)
    language = None
    if tree is not None:
        lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
        if lang and re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?", lang.strip()):
            language = lang.strip().split("-")[0].split("_")[0].lower()
    language = language or (getattr(doc, "language", None) or None)
    # the text says which language it is in: <html lang> is missing or wrong on about a fifth of real pages
    language = detect_language(text)[0] or language

    cands: list[DateCandidate] = list(meta_cands)
    if entry is not None and entry.published_at is not None:
        cands.append(DateCandidate(entry.published_at, "feed", 0.8))
    cands += url_candidates(canonical) or url_candidates(url)
    cands += text_candidates(text, fetched_at)
    extracted = extractor_candidate(extractor_date, fetched_at if result is not None else None)
    modified_days = {c.value.date() for c in meta_cands if c.origin == "page_modified"}
    # htmldate falls back to the modified date; that one is already a (weak) candidate of its own.
    cands += [c for c in extracted if c.value.date() not in modified_days]
    chosen, kept = choose_date(cands, fetched_at=fetched_at if result is not None else None)

    return Article(
        article_id=stable_id(canonical),
        url=url,
        canonical_url=canonical,
        source=source,
        title=title,
        text=text,
        raw_text=text,
        published_at=chosen.value if chosen else None,
        fetched_at=fetched_at,
        watch=watch,
        author=author,
        language=language,
        published_origin=chosen.origin if chosen else None,
        published_confidence=chosen.confidence if chosen else None,
        date_candidates=kept,
        fetch_status=status,
        feed_url=entry.feed_url if entry else None,
        summary=entry.summary if entry and entry.summary else None,
        extractor=extractor,
    )


# ---- local files -----------------------------------------------------------------------------------

_TITLE_MAX_WORDS = 30


def _split_txt(raw: str) -> tuple[str | None, str]:
    """(title or None, body) of a .txt: the first non-empty line is the title unless it reads as a paragraph."""
    lines = raw.split("\n")
    idx = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if idx is None:
        return None, ""
    first = lines[idx].strip()
    body = "\n".join(lines[idx + 1 :]).strip()
    looks_like_paragraph = (
        len(first.split()) > _TITLE_MAX_WORDS or len(first) > 300 or bool(text_candidates(first)) or not body
    )
    if looks_like_paragraph:
        return None, "\n".join(lines[idx:]).strip()
    return first, body


def _title_from_text(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    m = re.match(r"(.{20,}?[.!?])\s", first)
    sentence = m.group(1) if m else first
    return plain_text(sentence, 150)


def keep_languages(articles: Sequence[Article], languages: Sequence[str]) -> tuple[list[Article], list[Skip]]:
    """Articles in one of the watch's languages (all when the list is empty); the others as skips
    (`language`). An article whose language is unknown (too short to tell) is kept."""
    if not languages:
        return list(articles), []
    wanted = {lang.casefold() for lang in languages}
    kept, skipped = [], []
    for a in articles:
        if a.language is None or a.language.casefold() in wanted:
            kept.append(a)
        else:
            skipped.append(Skip(a.url, "topic", "language",
                                f"{a.title[:80]!r} is in {a.language!r}, not in {sorted(wanted)}"))
    return kept, skipped


def article_from_file(path: Path, *, watch: str) -> Article | Skip:
    """Local ingest: .txt (first non-empty line is the title) or .html/.htm (extracted like a page)."""
    path = Path(path)
    try:
        resolved = path.resolve()
        url = resolved.as_uri()
    except (OSError, ValueError) as e:
        return Skip(url=str(path), stage="extract", reason="unreadable", detail=str(e)[:200])
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".html", ".htm"):
        return Skip(url=url, stage="extract", reason="unsupported_file", detail=f"{suffix or 'no suffix'}; "
                    "use .txt, .html or .htm")
    try:
        data = resolved.read_bytes()
    except OSError as e:
        return Skip(url=url, stage="extract", reason="unreadable", detail=str(e)[:200])
    fetched_at = datetime.now(UTC)
    if suffix in (".html", ".htm"):
        return _extract_from_html(decode_html(data, None), url=url, fetched_at=fetched_at, watch=watch,
                                  entry=None, feed_title=None, result=None, default_source="local file",
                                  canonical_override=url)
    raw = decode_html(data, "utf-8").replace("\r\n", "\n").replace("\r", "\n")
    title, body = _split_txt(raw)
    cands = text_candidates(body if title is None else body, fetched_at)
    text = strip_text_date_marker(body).strip()
    if not text:
        return Skip(url=url, stage="extract", reason="empty_text", detail="file has no text")
    title = plain_text(title, MAX_TITLE_CHARS) if title else _title_from_text(text)
    chosen, kept = choose_date(cands)
    return Article(
        article_id=stable_id(url),
        url=url,
        canonical_url=url,
        source="local file",
        title=title,
        text=text,
        raw_text=text,
        published_at=chosen.value if chosen else None,
        fetched_at=fetched_at,
        watch=watch,
        language=detect_language(text)[0],
        published_origin=chosen.origin if chosen else None,
        published_confidence=chosen.confidence if chosen else None,
        date_candidates=kept,
        fetch_status="ok" if len(text.split()) >= MIN_WORDS else "empty_text",
        extractor="plain-text",
    )
