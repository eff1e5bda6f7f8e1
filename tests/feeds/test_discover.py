"""Feed autodiscovery from a homepage (<link rel=alternate type=...>)."""

from __future__ import annotations

from extractors.feeds import discover_feeds

HOME = """<!DOCTYPE html><html><head>
<title>Northern Chronicle</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="News" href="/news/rss.xml">
<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">
<LINK REL="Alternate" TYPE="application/atom+xml" HREF="https://www.chronicle.example/atom.xml">
<link rel="alternate" type="application/feed+json" href="feed.json">
<link rel="alternate" type="application/rss+xml" href="/news/rss.xml">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="file:///etc/passwd">
<link rel="alternate" hreflang="de" href="/de/">
<link rel="alternate" type="text/html" href="/mobile/">
</head><body><a href="/other.rss">not announced in the head</a></body></html>"""


def test_discovers_rss_atom_json_in_order_absolute_and_deduplicated() -> None:
    assert discover_feeds(HOME, "https://www.chronicle.example/index.html") == [
        "https://www.chronicle.example/news/rss.xml",
        "https://www.chronicle.example/atom.xml",
        "https://www.chronicle.example/feed.json",
        "https://www.chronicle.example/comments/feed/",  # comment feeds last
    ]


def test_base_href_and_bytes_input() -> None:
    html = (b'<html><head><base href="https://cdn.chronicle.example/sub/">'
            b'<link rel="alternate" type="application/rss+xml" href="feed.xml"></head></html>')
    assert discover_feeds(html, "https://www.chronicle.example/") == ["https://cdn.chronicle.example/sub/feed.xml"]


def test_nothing_to_discover_and_garbage() -> None:
    assert discover_feeds("<html><head></head></html>", "https://x.example/") == []
    assert discover_feeds(b"\x00\xff\xfe garbage <link", "https://x.example/") == []
    assert discover_feeds("", "https://x.example/") == []
