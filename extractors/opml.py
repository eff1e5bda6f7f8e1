"""OPML subscription lists in and out (`newswatch feeds import/export`), and feeds added to the user's TOML config.

Reading uses the standard library's expat with defusedxml's care: an OPML file never needs a DTD, so any
DOCTYPE, entity declaration or external entity reference refuses the whole file (no billion laughs, no XXE;
expat never fetches anything, and we do not give it the chance to expand an entity either). Size, nesting and
outline counts are capped. Feed URLs are kept only when they are http(s); the others are warnings.

Writing the config never loses a comment: `add_feeds_to_config_text` inserts the new URLs into the watch's
`feeds = [...]` array as text, then re-parses the result and checks that it is the old configuration with
exactly these feeds added to exactly that watch; anything else is a ConfigError and nothing is written.
"""

from __future__ import annotations

import re
import tomllib
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from extractors.urls import is_web_url
from newswatch.errors import ConfigError, SourceError

MAX_OPML_BYTES = 10_000_000
MAX_OUTLINES = 20_000
MAX_DEPTH = 50
MAX_TEXT_CHARS = 300
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription: the feed URL, its title, and the folders (outline texts) it sits in."""

    url: str
    title: str | None = None
    folders: tuple[str, ...] = ()
    html_url: str | None = None


@dataclass(frozen=True, slots=True)
class OpmlDocument:
    """A parsed OPML file: its title, its feeds (first occurrence of each URL), and what was skipped."""

    title: str | None
    feeds: tuple[OpmlFeed, ...]
    warnings: tuple[str, ...] = ()


class _Refused(Exception):
    pass


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(_CONTROL_RE.sub(" ", value).split())[:MAX_TEXT_CHARS]
    return value or None


def _web_url(value: str | None) -> str | None:
    if not value:
        return None
    url = value.strip()
    if len(url) > 2048 or _CONTROL_RE.search(url) or any(c.isspace() for c in url) or not is_web_url(url):
        return None
    return url


def parse_opml(data: bytes, name: str = "OPML file") -> OpmlDocument:
    """Parse an OPML file (1.0 or 2.0) into its feeds. Raises SourceError (one line naming the file) when
    the bytes are not OPML: not XML, another root element, a DTD or entities, too big or too deep."""
    if len(data) > MAX_OPML_BYTES:
        raise SourceError(f"{name}: larger than {MAX_OPML_BYTES // 1_000_000} MB; not read")
    parser = xml.parsers.expat.ParserCreate()
    state: dict[str, Any] = {"root": None, "stack": [], "feeds": [], "warnings": [], "seen": set(),
                             "title": None, "in_title": False, "title_parts": [], "outlines": 0}

    def refuse(*_args: object) -> None:
        raise _Refused("it declares a DTD or entities, which OPML never needs")

    def start(tag: str, attrs: dict[str, str]) -> None:
        stack: list[tuple[str, str | None]] = state["stack"]
        if state["root"] is None:
            state["root"] = tag
            if tag.lower() != "opml":
                raise _Refused(f"the root element is <{tag[:40]}>, not <opml>")
        if len(stack) >= MAX_DEPTH:
            raise _Refused(f"outlines nested deeper than {MAX_DEPTH}")
        low = {k.lower(): v for k, v in attrs.items()}  # xmlUrl, xmlurl, XMLURL: all seen in the wild
        label = None
        if tag == "outline":
            state["outlines"] += 1
            if state["outlines"] > MAX_OUTLINES:
                raise _Refused(f"more than {MAX_OUTLINES} outlines")
            label = _text(low.get("text") or low.get("title"))
            raw = low.get("xmlurl")
            if raw is not None:
                url = _web_url(raw)
                if url is None:
                    state["warnings"].append(f"outline {label or raw[:60]!r}: not an http(s) feed URL; skipped")
                elif url in state["seen"]:
                    state["warnings"].append(f"{url}: listed twice; kept once")
                else:
                    state["seen"].add(url)
                    folders = tuple(f for t, f in stack if t == "outline" and f)
                    state["feeds"].append(OpmlFeed(url, label, folders, _web_url(low.get("htmlurl"))))
            elif (low.get("type") or "").lower() == "include":
                state["warnings"].append(f"outline {label!r}: type=include (another OPML file) is not followed")
        elif tag == "title" and len(stack) == 2 and stack[-1][0] == "head":
            state["in_title"] = True
        stack.append((tag, label))

    def end(tag: str) -> None:
        state["stack"].pop()
        if tag == "title" and state["in_title"]:
            state["in_title"] = False
            state["title"] = _text("".join(state["title_parts"]))

    def chars(data: str) -> None:
        if state["in_title"] and sum(map(len, state["title_parts"])) < MAX_TEXT_CHARS:
            state["title_parts"].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        parser.Parse(data, True)
    except _Refused as e:
        raise SourceError(f"{name}: not an OPML file: {e}") from None
    except xml.parsers.expat.ExpatError as e:
        raise SourceError(f"{name}: not an OPML file: not well-formed XML ({e})") from None
    if state["root"] is None:
        raise SourceError(f"{name}: not an OPML file: no XML element in it")
    return OpmlDocument(state["title"], tuple(state["feeds"]), tuple(state["warnings"]))


def write_opml(watches: Sequence[tuple[str, Sequence[tuple[str, str | None]]]], title: str = "newswatch") -> bytes:
    """OPML 2.0 of the configured feeds: one folder outline per watch, one `type="rss"` outline per feed
    (text = the feed's title when known, else its URL). watches: [(watch name, [(feed URL, title), ...]), ...]."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             f"  <head><title>{escape(title)}</title></head>", "  <body>"]
    for watch, feeds in watches:
        lines.append(f"    <outline text={quoteattr(watch)} title={quoteattr(watch)}>")
        for url, feed_title in feeds:
            label = _text(feed_title) or url
            lines.append(f'      <outline type="rss" text={quoteattr(label)} title={quoteattr(label)} '
                         f"xmlUrl={quoteattr(url)}/>")
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


# ---- feeds into the user's config file ------------------------------------------------------------------------

_WATCH_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*watches[ \t]*\]\][ \t]*(#.*)?$")
_ANY_HEADER = re.compile(r"^[ \t]*\[")
_FEEDS_KEY = re.compile(r"^[ \t]*feeds[ \t]*=[ \t]*")
_NAME_KEY = re.compile(r"^[ \t]*name[ \t]*=")


def toml_feed_lines(feeds: Sequence[OpmlFeed], indent: str = "    ") -> list[str]:
    """One TOML array item per feed, its title as a comment (control characters removed: a comment ends at a
    line break, so a hostile title cannot add keys)."""
    out = []
    for f in feeds:
        comment = f"  # {_text(f.title)}" if _text(f.title) else ""
        out.append(f"{indent}{_toml_string(f.url)},{comment}")
    return out


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_end(text: str, start: int) -> tuple[int, int]:
    """(index of the closing ']', index just after the last value character) of the TOML array starting at
    text[start] == '['. Strings (basic, literal, multi-line) and comments are skipped; nested arrays counted."""
    depth = 0
    last_value = start + 1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            j = i + len(quote)
            while j < n:
                if c == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    break
                if not triple and text[j] == "\n":
                    raise ConfigError("an unterminated string in the feeds array")
                j += 1
            i = j + len(quote)
            last_value = i
            continue
        if c == "[":
            depth += 1
            if i != start:
                last_value = i + 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i, last_value
            last_value = i + 1
        elif not c.isspace():
            last_value = i + 1
        i += 1
    raise ConfigError("the feeds array is not closed")


def _watch_spans(lines: list[str]) -> list[tuple[int, int]]:
    spans = []
    starts = [i for i, ln in enumerate(lines) if _WATCH_HEADER.match(ln)]
    for s in starts:
        e = next((j for j in range(s + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        spans.append((s, e))
    return spans


def add_feeds_to_config_text(text: str, watch: str, feeds: Sequence[OpmlFeed], origin: str = "config") -> str:
    """The config text with these feed URLs appended to the watch's `feeds` array, everything else (comments,
    order, spacing) untouched. Verified by parsing: raises ConfigError when the result is not exactly the old
    configuration plus these feeds in this watch (an inline-table layout, say), so nothing is ever written
    that the user did not ask for."""
    before = tomllib.loads(text)
    if not feeds:
        return text
    lines = text.splitlines(keepends=True)
    target = None
    for s, e in _watch_spans(lines):
        body = "".join(lines[s + 1 : e])
        try:
            name = tomllib.loads(body).get("name")
        except tomllib.TOMLDecodeError:
            name = None
        if name == watch:
            target = (s, e)
            break
    if target is None:
        raise ConfigError(f"{origin}: no [[watches]] table named {watch!r} to add feeds to (only that layout is edited)")
    s, e = target
    offset = sum(len(ln) for ln in lines[: s + 1])
    span = "".join(lines[s + 1 : e])
    new_items = toml_feed_lines(feeds)
    m = next((m for m in (_FEEDS_KEY.match(ln) for ln in span.splitlines(keepends=True)) if m), None)
    if m is None:
        # no feeds key yet: a new array after the watch's name line (else right under the header), so before
        # any sub-table of the watch
        insert = "feeds = [\n" + "".join(item + "\n" for item in new_items) + "]\n"
        name_line = next((i for i in range(s + 1, e) if _NAME_KEY.match(lines[i])), None)
        pos = offset if name_line is None else sum(len(ln) for ln in lines[: name_line + 1])
        if not text[:pos].endswith("\n"):
            insert = "\n" + insert
        new_text = text[:pos] + insert + text[pos:]
    else:
        line_start = offset + span.index(m.group(0))
        bracket = line_start + len(m.group(0))
        if bracket >= len(text) or text[bracket] != "[":
            raise ConfigError(f"{origin}: watch {watch!r}: feeds is not an array written with [ ]")
        close, last = _array_end(text, bracket)
        has_values = text[bracket + 1 : last].strip() != ""
        needs_comma = has_values and not text[:last].endswith(",")
        if "\n" in text[bracket:close]:
            # multi-line: a comma after the last value if it lacks one, the new lines before the closing bracket
            head = text[:last] + ("," if needs_comma else "")
            value_line = text[text.rfind("\n", 0, last) + 1 : last]
            indent = value_line[: len(value_line) - len(value_line.lstrip(" \t"))] or "    "
            items = "".join(item + "\n" for item in toml_feed_lines(feeds, indent))
            line_begin = text.rfind("\n", 0, close) + 1
            if text[line_begin:close].strip() == "":  # "]" on a line of its own
                new_text = head + text[last:line_begin] + items + text[line_begin:]
            else:  # '"x"]': the bracket goes to a line of its own
                new_text = head + text[last:close].rstrip(" \t") + "\n" + items + text[close:]
        else:
            values = ", ".join(_toml_string(f.url) for f in feeds)
            sep = ", " if needs_comma else (" " if has_values else "")
            new_text = text[:last] + sep + values + text[last:]
    _verify(before, new_text, watch, [f.url for f in feeds], origin)
    return new_text


def _verify(before: dict[str, Any], new_text: str, watch: str, urls: list[str], origin: str) -> None:
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{origin}: adding the feeds would break the file ({e}); nothing written") from None
    expected = _with_feeds(before, watch, urls)
    if after != expected:
        raise ConfigError(f"{origin}: this layout cannot be edited safely; nothing written (add the lines by hand)")


def _with_feeds(data: dict[str, Any], watch: str, urls: list[str]) -> dict[str, Any]:
    out = dict(data)
    watches = []
    for w in data.get("watches", []):
        if isinstance(w, dict) and w.get("name") == watch:
            w = {**w, "feeds": [*w.get("feeds", []), *urls]}
        watches.append(w)
    out["watches"] = watches
    return out
