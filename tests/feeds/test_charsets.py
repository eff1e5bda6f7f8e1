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
