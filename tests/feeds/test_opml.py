"""OPML in and out (extractors/opml.py): parsing real-world shapes, refusing what is not OPML (and DTDs/entities,
checked against a loopback canary), writing, and adding feeds to a TOML config without losing a comment."""

from __future__ import annotations

import tomllib

import pytest

from extractors.opml import OpmlFeed, add_feeds_to_config_text, parse_opml, toml_feed_lines, write_opml
from newswatch.config import parse_config
from newswatch.errors import ConfigError, SourceError
from tests.support.httpserver import Reply, ScriptedServer

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions from a feed reader</title></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="BBC News" title="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"
               htmlUrl="https://www.bbc.co.uk/news"/>
      <outline text="UK">
        <outline type="rss" text="Yorkshire Post" xmlurl="https://www.yorkshirepost.co.uk/rss"/>
      </outline>
    </outline>
    <outline type="rss" text="Top level &amp; co" XMLURL="http://example.org/feed.xml"/>
    <outline type="rss" text="again" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
    <outline type="rss" text="gopher" xmlUrl="gopher://example.org/feed"/>
    <outline type="rss" text="relative" xmlUrl="/feed.xml"/>
    <outline type="include" text="more" url="https://example.org/more.opml"/>
    <outline text="just a note"/>
  </body>
</opml>
"""


def test_a_feed_reader_export_is_parsed_with_folders_and_warnings():
    doc = parse_opml(READER_EXPORT, "subs.opml")
    assert doc.title == "Subscriptions from a feed reader"
    assert doc.feeds == (
        OpmlFeed("https://feeds.bbci.co.uk/news/rss.xml", "BBC News", ("News",), "https://www.bbc.co.uk/news"),
        OpmlFeed("https://www.yorkshirepost.co.uk/rss", "Yorkshire Post", ("News", "UK")),
        OpmlFeed("http://example.org/feed.xml", "Top level & co", ()),
    )
    w = "\n".join(doc.warnings)
    assert "listed twice" in w and "gopher" in w and "'relative'" in w and "type=include" in w
    assert len(doc.warnings) == 4


def test_feed_urls_the_fetcher_would_refuse_are_skipped_with_a_warning():
    # the same web-URL rule as everywhere else (extractors/urls.is_web_url): no user:password@, a valid port
    doc = parse_opml(b'<opml version="2.0"><body>'
                     b'<outline text="creds" xmlUrl="https://user:secret@example.org/feed"/>'
                     b'<outline text="port" xmlUrl="https://example.org:99999/feed"/>'
                     b'<outline text="no host" xmlUrl="https:///feed"/>'
                     b'<outline text="ok" xmlUrl="https://example.org/feed"/></body></opml>')
    assert [f.url for f in doc.feeds] == ["https://example.org/feed"]
    assert [w.split(":", 1)[0] for w in doc.warnings] == ["outline 'creds'", "outline 'port'", "outline 'no host'"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"<html><body><p>a page</p></body></html>", "root element is <html>"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element is <rss>"),
        (b"url,title\nhttps://a/,A\n", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b'<opml version="2.0"><body><outline xmlUrl="https://a/"', "not well-formed XML"),
        (b"\xff\xfe\x00\x00garbage", "not well-formed XML"),
    ],
)
def test_what_is_not_opml_is_one_clear_error(data, needle):
    with pytest.raises(SourceError) as e:
        parse_opml(data, "subs.opml")
    msg = str(e.value)
    assert msg.startswith("subs.opml: not an OPML file") and needle in msg and "\n" not in msg


def test_entity_bombs_are_refused_at_once():
    bomb = b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    ) + b']><opml version="2.0"><body><outline text="&i;" xmlUrl="https://a/"/></body></opml>'
    with pytest.raises(SourceError, match="DTD or entities"):
        parse_opml(bomb)


def test_external_entities_are_refused_and_never_fetched():
    with ScriptedServer() as canary:
        canary.route("/evil.dtd", Reply(200, body=b'<!ENTITY x "pwned">'))
        for doc in (
            f'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "{canary.url("/evil.dtd")}"><opml><body/></opml>',
            f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "{canary.url("/evil.dtd")}">]>'
            '<opml><body><outline text="&x;" xmlUrl="https://a/"/></body></opml>',
            '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<opml><body><outline text="&x;" xmlUrl="https://a/"/></body></opml>',
        ):
            with pytest.raises(SourceError, match="DTD or entities"):
                parse_opml(doc.encode())
        assert canary.requests_for("/evil.dtd") == []


def test_size_depth_and_count_are_capped():
    deep = b"<opml><body>" + b"<outline text='x'>" * 60 + b"</outline>" * 60 + b"</body></opml>"
    with pytest.raises(SourceError, match="nested deeper"):
        parse_opml(deep)
    many = b"<opml><body>" + b"".join(
        f'<outline xmlUrl="https://e.org/{i}"/>'.encode() for i in range(20_001)) + b"</body></opml>"
    with pytest.raises(SourceError, match="more than 20000 outlines"):
        parse_opml(many)
    with pytest.raises(SourceError, match="larger than"):
        parse_opml(b" " * 10_000_001)


def test_write_then_parse_round_trips_with_hostile_titles():
    feeds = [("https://a.example/rss?x=1&y=2", 'Quotes " & <tags>'), ("https://b.example/feed", None)]
    data = write_opml([("justice", feeds), ("climate", [])])
    doc = parse_opml(data)
    assert [(f.url, f.title, f.folders) for f in doc.feeds] == [
        ("https://a.example/rss?x=1&y=2", 'Quotes " & <tags>', ("justice",)),
        ("https://b.example/feed", "https://b.example/feed", ("justice",)),
    ]
    assert doc.warnings == ()


# ---- feeds into the user's config file -------------------------------------------------------------------

CONFIG = """\
# newswatch config: my comments must survive
[[watches]]
name = "justice"   # the main one
query = "police OR court"
feeds = [
    "https://a.example/rss",  # A, with a ] and a # in the comment
    "https://b.example/rss#]"   # B: no trailing comma, a ] inside the string
]

[[watches]]
name = "climate"
feeds = ["https://c.example/feed"]

[[watches]]
name = "empty"
query = "x"

[watches.aliases]
"IPCC" = "Intergovernmental Panel on Climate Change"

[fetch]
retries = 1  # keep it gentle
"""
NEW = [OpmlFeed("https://n.example/1", "New\nname = \"injected\""), OpmlFeed("https://n.example/2")]


@pytest.mark.parametrize("watch", ["justice", "climate", "empty"])
def test_feeds_are_added_to_one_watch_and_every_comment_survives(watch):
    out = add_feeds_to_config_text(CONFIG, watch, NEW)
    before, after = parse_config(CONFIG), parse_config(out)
    for w_before, w_after in zip(before.watches, after.watches, strict=True):
        extra = ["https://n.example/1", "https://n.example/2"] if w_before.name == watch else []
        assert w_after.feeds == w_before.feeds + extra
        assert w_after.model_copy(update={"feeds": []}) == w_before.model_copy(update={"feeds": []})
    assert after.fetch == before.fetch
    for comment in ("# newswatch config: my comments must survive", "# the main one", "# keep it gentle",
                    "# A, with a ] and a # in the comment", "# B: no trailing comma, a ] inside the string"):
        assert comment in out  # every comment is still there, word for word
    assert out.startswith(CONFIG.split("feeds = [")[0])  # and everything before the first change, byte for byte
    assert out.count("injected") == (1 if watch != "climate" else 0)  # a title is a comment, never a key


def test_other_array_layouts():
    def add(text):
        return tomllib.loads(add_feeds_to_config_text(text, "a", NEW))["watches"][0]["feeds"]

    new = ["https://n.example/1", "https://n.example/2"]
    assert add('[[watches]]\nname = "a"\nfeeds = []\n') == new
    assert add('[[watches]]\nname = "a"\nfeeds = [\n]\n') == new
    assert add('[[watches]]\nname = "a"\nfeeds = [\n  "https://x/",\n  "https://y/"]\n') == ["https://x/", "https://y/", *new]
    assert add('[[watches]]\nname = "a"\nfeeds = ["https://x/",]\n') == ["https://x/", *new]
    assert add("[[watches]]\nname = 'a'\nfeeds = [ 'https://x/' ]  # trailing comment\n") == ["https://x/", *new]


def test_layouts_that_cannot_be_edited_safely_are_refused():
    with pytest.raises(ConfigError, match="no \\[\\[watches\\]\\] table named 'a'"):
        add_feeds_to_config_text('watches = [{name = "a", feeds = []}]\n', "a", NEW)
    with pytest.raises(ConfigError, match="not an array"):
        add_feeds_to_config_text('[[watches]]\nname = "a"\nfeeds = """x"""\n', "a", NEW)


def test_toml_lines_escape_urls_and_strip_titles():
    lines = toml_feed_lines([OpmlFeed('https://a/?q="x"\\', "T\x00i\ttle\r\n# more")])
    assert lines == ['    "https://a/?q=\\"x\\"\\\\",  # T i tle # more']
    assert tomllib.loads("f = [\n" + "\n".join(lines) + "\n]\n")["f"] == ['https://a/?q="x"\\']
