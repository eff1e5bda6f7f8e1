"""Body and Content-Type sniffing, decided once: is a response a binary format, an HTML page, or other text.

The fetcher refuses binary types and bodies whatever their Content-Type says (extractors/http/body.py), the page
extractor asks whether a fetched page is HTML (`is_html_page`), and the feed parser and autodiscovery explain a
"feed" that is really an HTML page (`sniff(...).html`, `is_html_answer`); all ask this module.
"""

from __future__ import annotations

from dataclasses import dataclass

SNIFF_BYTES = 1024  # how much of a body the verdict looks at

# Magic numbers of binary formats, found in bodies whatever their Content-Type says.
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "RIFF media"),
    (b"ID3", "MP3 audio"),
    (b"\x00\x00\x00", "binary media"),
    (b"OggS", "Ogg media"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"wOFF", "web font"),
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

# Content types that can never be a page or a feed: the fetcher refuses them from the header, before the body.
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/msword",
        "application/x-shockwave-flash",
        "application/java-archive",
        "application/x-msdownload",
        "application/wasm",
        "application/postscript",
        "application/epub+zip",
    }
)
# Content types a page is extracted from (a missing type too); XML and plain text are tried, since some
# servers send HTML under them.
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
_HTML_MARKERS = (b"<html", b"<!doctype html")


@dataclass(frozen=True, slots=True)
class Sniff:
    """What the first bytes of a body look like."""

    binary: str | None  # the binary format ("PDF", "gzip data", "binary data (NUL bytes)"), None for text
    html: bool  # text with an <html> tag or an HTML doctype in the first KiB


def sniff(head: bytes, charset: str | None = None) -> Sniff:
    """Sniff the first bytes of a body (at least SNIFF_BYTES when there are that many); charset from the header."""
    what = _binary(head, charset)
    low = head[:SNIFF_BYTES].lower()
    return Sniff(binary=what, html=what is None and any(m in low for m in _HTML_MARKERS))


def _binary(head: bytes, charset: str | None) -> str | None:
    if head.startswith(_BOMS):
        return None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if charset and charset.replace("-", "").startswith(("utf16", "utf32")):
        return None  # UTF-16 text without a BOM is full of NUL bytes
    nuls = head[:SNIFF_BYTES].count(b"\x00")
    if not nuls:
        return None
    # A stray NUL or two in a body that starts like markup or JSON is damage the parsers strip (a feed with
    # one NUL must not fail, nor count towards disabling it); binary data has NULs everywhere.
    starts_as_text = head[:SNIFF_BYTES].lstrip(b" \t\r\n")[:1] in (b"<", b"{", b"[")
    if starts_as_text and nuls * 100 <= len(head[:SNIFF_BYTES]):
        return None
    return "binary data (NUL bytes)"


def binary_mime(mime: str | None) -> bool:
    """A Content-Type (lower case, without parameters) that can never be a page or a feed."""
    if mime is None:
        return False
    if mime.endswith("+xml") or mime.endswith("+json"):
        return False
    return mime.startswith(_BINARY_PREFIXES) or mime in _BINARY_TYPES


def is_html_page(body: bytes, content_type: str | None, charset: str | None = None) -> bool:
    """May a fetched page be extracted as HTML? Not when its body starts like a binary format, else by its type.

    The body's leading whitespace does not hide a PDF; a stray NUL in a text page is damage the HTML decoder
    strips, as the fetcher decided when it passed the page on.
    """
    if sniff(body[: 2 * SNIFF_BYTES].lstrip(), charset).binary is not None:
        return False
    ct = (content_type or "").split(";")[0].strip().lower()
    return not ct or ct in HTML_TYPES


def is_html_answer(content_type: str | None, body: bytes) -> bool:
    """A 'feed' URL that answered with an HTML page: by its Content-Type, or by the body sniffer."""
    return "html" in (content_type or "").lower() or sniff(body[:SNIFF_BYTES]).html
