"""What a request asks for: kinds, Accept and validator headers, the request target, Retry-After."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from extractors.netguard import Target
from newswatch.errors import BlockedError

KINDS = ("feed", "page", "robots")
_ACCEPT = {
    "feed": (
        "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
        "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
    ),
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(mime type lower case, charset lower case) from a Content-Type header value."""
    if not value:
        return None, None
    parts = value.split(";")
    mime = parts[0].strip().lower() or None
    charset = None
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip("'\"").lower() or None
    return mime, charset


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or invalid."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


def _request_target(url: str) -> bytes:
    """The percent-encoded path and query to send (httpx's URL rules); BlockedError if it cannot be encoded."""
    try:
        return httpx.URL(url).raw_path or b"/"
    except (httpx.InvalidURL, UnicodeError, ValueError) as e:
        raise BlockedError(f"{url}: not a valid URL ({e})") from None


def request_headers(
    target: Target, kind: str, etag: str | None, last_modified: str | None, user_agent: str
) -> list[tuple[bytes, bytes]]:
    """The request headers of one GET (Host with a non-default port, validators when we have them)."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != {"http": 80, "https": 443}[target.scheme]:
        host = f"{host}:{target.port}"
    headers = [
        (b"Host", host.encode("ascii")),
        (b"User-Agent", user_agent.encode("latin-1", "replace")),
        (b"Accept", _ACCEPT[kind].encode("ascii")),
        (b"Accept-Encoding", b"gzip, deflate"),
        (b"Connection", b"keep-alive"),
    ]
    if etag:
        headers.append((b"If-None-Match", etag.encode("latin-1", "replace")))
    if last_modified:
        headers.append((b"If-Modified-Since", last_modified.encode("latin-1", "replace")))
    return headers
