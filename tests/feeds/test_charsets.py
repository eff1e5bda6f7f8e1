"""Charset conflicts (RELIABILITY.md C19): header vs <meta> vs bytes. Stored text is valid UTF-8 and
“Zürich” – café round-trips wherever the bytes allow it."""

from __future__ import annotations

import codecs

import pytest

from extractors.articles import decode_html, extract_article, sniff_meta_charset
from newswatch.models import Article, FetchResult

PHRASE = "“Zürich” – café"
PARA = "Die Polizei in “Zürich” – so das café am See – hat am Dienstag eine Untersuchung angekündigt. "


def html(meta: str | None = None, title: str = PHRASE) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return (f"<!DOCTYPE html><html lang='de'><head>{head}<title>{title}</title></head><body><article>"
            f"<h1>{title}</h1><p>{PARA * 8}</p><p>{PARA * 6}</p></article></body></html>")


@pytest.mark.parametrize(
    ("body_encoding", "header", "meta", "why"),
    [
        ("utf-8", "utf-8", None, "all agree"),
        ("utf-8", None, None, "nothing declared, UTF-8 detected"),
        ("cp1252", None, None, "nothing declared, cp1252 detected"),
        ("cp1252", None, "windows-1252", "meta only"),
        ("cp1252", "windows-1252", "utf-8", "header beats a wrong meta"),
        ("cp1252", "windows-1252", "iso-8859-2", "header beats a conflicting single-byte meta"),
        ("cp1252", None, "windows-1252", "meta beats detection"),
        ("utf-8", "utf-8", "windows-1252", "header beats a wrong meta (other way round)"),
        ("cp1252", "utf-8", "windows-1252", "header is wrong (bytes are not UTF-8): meta is next"),
        ("cp1252", "utf-8", None, "header is wrong, no meta: detection"),
        ("utf-8", "iso-8859-1", None, "latin-1 label on valid multi-byte UTF-8 is mislabelled UTF-8"),
        ("utf-8", "ascii", None, "ascii label on UTF-8"),
        ("utf-8-sig", "iso-8859-1", "windows-1252", "BOM beats header and meta"),
        ("utf-16", "iso-8859-1", None, "UTF-16 BOM beats header"),
        ("utf-8", "no-such-charset", None, "unknown label ignored"),
        ("utf-8", "utf-16", None, "utf-16 label on an ASCII-compatible body (no NULs) ignored"),
        ("utf-16-le", "utf-16-le", None, "BOM-less UTF-16 that really is UTF-16"),
    ],
)
def test_decode_round_trips(body_encoding: str, header: str | None, meta: str | None, why: str) -> None:
    body = html(meta).encode(body_encoding)
    text = decode_html(body, header)
    assert PHRASE in text, why
    text.encode("utf-8")  # storable


def test_iso_8859_1_label_means_windows_1252_as_in_browsers() -> None:
    # 0x93/0x94/0x96 are “ ” – in cp1252 and C1 controls in real ISO-8859-1: pages mean cp1252.
    assert PHRASE in decode_html(html().encode("cp1252"), "ISO-8859-1")


def test_invalid_bytes_are_replaced_not_fatal() -> None:
    good = html().encode("utf-8")
    broken = good[:200] + b"\xff\xfe\xc3" + good[200:]
    text = decode_html(broken, "utf-8")
    assert PHRASE in text and "\ufffd" in text
    text.encode("utf-8")


def test_nul_and_surrogates_never_reach_the_text() -> None:
    body = html().encode("utf-8").replace(b"<p>", b"<p>\x00\x00", 1)
    text = decode_html(body, "utf-8")
    assert "\x00" not in text
    assert decode_html(b"", None) == ""


def test_meta_sniffing_forms() -> None:
    assert sniff_meta_charset(b'<meta charset="windows-1252">') == "windows-1252"
    assert sniff_meta_charset(b"<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-15'>") == "ISO-8859-15"
    assert sniff_meta_charset(b"<p>charset=utf-8 in text</p>") is None


@pytest.mark.parametrize(("encoding", "header"), [("cp1252", "utf-8"), ("utf-8", "iso-8859-1"), ("utf-16", None)])
def test_article_title_and_text_round_trip(encoding: str, header: str | None) -> None:
    body = html().encode(encoding)
    if encoding == "utf-16":
        assert body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    r = FetchResult(url="https://zeitung.example.ch/a", final_url="https://zeitung.example.ch/a", status="ok",
                    http_status=200, content_type="text/html", charset=header, body=body)
    a = extract_article(r, watch="w")
    assert isinstance(a, Article), a
    assert PHRASE in a.title
    assert "“Zürich”" in a.text and "café" in a.text
    assert a.language == "de"


# ---- feeds: the same rules as pages (issue 8 §4) ----------------------------------------------------


def feed_xml(titles: list[str], declaration: str = "UTF-8", channel: str = f"Zürcher {PHRASE}") -> str:
    items = "".join(f"<item><title>{t}</title><link>https://zeitung.example.ch/{i}</link><guid>g{i}</guid></item>"
                    for i, t in enumerate(titles))
    return (f'<?xml version="1.0" encoding="{declaration}"?><rss version="2.0"><channel>'
            f"<title>{channel}</title>{items}</channel></rss>")


FEED_TITLES = [PHRASE, "Über die Brücke: Straßenbahn fährt wieder", "Gemeinderat berät über Budget"]


@pytest.mark.parametrize(
    "content_type", ["application/rss+xml; charset=utf-8", "application/rss+xml", None, "text/xml",
                     "application/rss+xml; charset=ISO-8859-1"],
)
def test_one_invalid_byte_in_a_utf8_feed_costs_one_character_not_the_feed(content_type: str | None) -> None:
    from extractors.feeds import parse_feed

    body = feed_xml(FEED_TITLES).encode("utf-8").replace("berät".encode(), b"ber\xfft")
    parsed = parse_feed(body, "https://zeitung.example.ch/feed", content_type)
    assert parsed.title == f"Zürcher {PHRASE}"
    assert [e.title for e in parsed.entries] == [FEED_TITLES[0], FEED_TITLES[1], "Gemeinderat ber\ufffdt über Budget"]
    assert any("1 invalid UTF-8 byte" in w for w in parsed.warnings), parsed.warnings


def test_feed_charset_conflicts_keep_their_rules() -> None:
    from extractors.feeds import parse_feed

    # cp1252 bytes declared UTF-8 (no valid multi-byte sequence): still read as cp1252, not as U+FFFD soup
    cp = parse_feed(feed_xml([PHRASE]).encode("cp1252"), "https://x.example/f", "application/rss+xml; charset=utf-8")
    assert [e.title for e in cp.entries] == [PHRASE]
    # a declared single-byte charset other than latin-1/cp1252 is taken at its word
    polish = "Łódź: żółć"
    body = feed_xml([polish], declaration="ISO-8859-2", channel="Gazeta").encode("iso-8859-2")
    assert [e.title for e in parse_feed(body, "https://x.example/f", "application/rss+xml").entries] == [polish]
    # UTF-16 is full of NUL bytes by design: nothing is stripped
    u16 = parse_feed(feed_xml([PHRASE], declaration="UTF-16").encode("utf-16"), "https://x.example/f")
    assert [e.title for e in u16.entries] == [PHRASE] and not any("NUL" in w for w in u16.warnings)


@pytest.mark.parametrize("where", ["<channel>", "<title>", "</item>"])
def test_a_stray_nul_byte_in_a_feed_is_removed_and_the_feed_parses(where: str) -> None:
    from extractors.feeds import parse_feed

    body = feed_xml(FEED_TITLES).encode("utf-8").replace(where.encode(), where.encode() + b"\x00", 1)
    assert body.index(b"\x00") < 1024
    parsed = parse_feed(body, "https://zeitung.example.ch/feed", "application/rss+xml")
    assert [e.title for e in parsed.entries] == FEED_TITLES
    assert parsed.warnings[0] == "1 NUL byte(s) removed"
    assert not any("not well-formed" in w for w in parsed.warnings), parsed.warnings
    js = parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "title": "J\x00", "items": '
                    b'[{"id": "1", "url": "https://x.example/1", "title": "A\x00 story"}]}',
                    "https://x.example/feed.json", "application/feed+json")
    assert [e.title for e in js.entries] == ["A story"]
