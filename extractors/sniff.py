"""Body sniffing, decided once: is the start of a body a binary format, an HTML page, or other text.

The fetcher refuses binary bodies whatever their Content-Type says (extractors/http.py), and the feed parser
explains a "feed" that is really an HTML page (extractors/feeds.py); both ask this module.
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
