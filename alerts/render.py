"""Digest rendering: Digest record -> subject, plain text, HTML and the MIME message (pure, golden-tested).

Everything shown comes from feeds and pages, so it is hostile input (RELIABILITY.md E26-E28):
- HTML is rendered by Jinja2 with autoescape on; a link is an <a href> only when safe_href() accepts it, and
  safe_href() is the fetcher's own URL policy (newswatch/urlpolicy.py: http/https, ports 80/443, no
  credentials, no loopback/private/link-local IP literals) plus no whitespace or control characters. Every
  href goes through it, the unsubscribe link too. Otherwise the title is plain text followed by
  "(link not shown: <reason>)" and the URL is not shown, so no client can turn it into a link either.
  The demo serves on loopback, so its digest shows every link that way: honest about what a reader can open.
- The plain-text part has control characters removed and whitespace collapsed (no forged lines).
- The Subject is one line (CR/LF and controls removed), at most SUBJECT_MAX characters, RFC 2047 encoded
  by the email package when not ASCII. Recipients are parsed as addresses; anything else is refused.
- The message is multipart/alternative, text first and HTML last, with a deterministic Message-ID and
  MIME boundary derived from digest_id, so rendering the same digest twice gives the same bytes.
- With an attention chart (DigestChart, a PNG made by the caller), the HTML part becomes multipart/related:
  the HTML, then the image/png part whose Content-ID the <img src="cid:..."> names (RFC 2392/2387). The
  HTML written to a file (RenderedDigest.html) names the PNG by its file name instead, to be written next
  to it; the plain-text part says the chart is in the HTML version and gives its one-line description.
"""

from __future__ import annotations

import email.policy
import functools
import re
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import jinja2

from alerts.highlight import split_marked
from newswatch.models import Digest, DigestArticle, DigestItem
from newswatch.urlpolicy import link_refusal

SUBJECT_MAX = 120
TITLE_MAX = 300
DEFAULT_SENDER = "newswatch@localhost"
TEMPLATES = Path(__file__).with_name("templates")

# C0/C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides that can forge lines
# or reorder text in a subject or a text body.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


CHART_WIDTH = 600  # CSS pixels the chart is shown at (mail clients ignore max-width; 600 is the usual column)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RenderError(ValueError):
    """A digest cannot be rendered as asked (e.g. a recipient that is not an email address)."""


@dataclass(frozen=True, slots=True)
class DigestChart:
    """An attention chart for the HTML digest: the PNG, its file name next to the .html file, what it shows."""

    png: bytes
    file: str  # e.g. <watch>-<date>-<digest_id>.png: the written .html names it by this relative path
    caption: str  # shown above the image
    alt: str  # the image's alt text, and the line the plain-text part gives instead of the image


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; RenderError when the bytes are not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise RenderError("the attention chart is not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        raise RenderError("the attention chart PNG has no pixels")
    return width, height


def chart_cid(digest_id: str, sender: str) -> str:
    """The chart part's Content-ID (without <>): unique per digest, in the sender's domain like the Message-ID."""
    return f"chart-{digest_id}@{message_domain(sender)}"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """A rendered digest: the parts and the complete message."""

    digest_id: str
    subject: str  # one line, bounded, before RFC 2047 encoding
    message_id: str
    text: str
    html: str
    message: bytes  # the .eml (CRLF line ends, ASCII only)
    recipients: tuple[str, ...]
    sender: str
    chat_title: str = ""  # for webhook/chat channels (alerts/channels.py): the subject
    chat_body: str = ""  # a short plain-text list of the items with their links


def clean_line(value: str | None, limit: int = TITLE_MAX) -> str:
    """One line of plain text: controls and line breaks removed, whitespace collapsed, length bounded."""
    text = unicodedata.normalize("NFC", value or "")
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def safe_href(url: str | None) -> str | None:
    """The URL if it may become a clickable link under the fetcher's URL policy (newswatch/urlpolicy.py)."""
    if url is None or link_refusal(url) is not None or _CONTROL.search(url):
        return None
    return url


def url_note(url: str | None) -> str:
    """'' for a link that is shown, else 'link not shown: <why>' (never the URL itself)."""
    if safe_href(url) is not None:
        return ""
    reason = link_refusal(url) or "address contains control characters"
    if " is loopback" in reason or " is private" in reason:
        # the demo serves its pages on 127.0.0.1 only while it runs: say so rather than print a dead link
        reason += ", a local address (the demo's pages are served there only while it runs)"
    return f"link not shown: {reason}"


def message_domain(sender: str) -> str:
    """The domain used in Message-ID and List-Id: the sender's domain, else a reserved one."""
    domain = sender.rpartition("@")[2].strip().rstrip(">").lower()
    domain = re.sub(r"[^a-z0-9.-]", "", domain).strip(".-")
    return domain or "newswatch.invalid"


def message_id_for(digest_id: str, sender: str) -> str:
    """The Message-ID of a digest: the same for every (re)send, so clients can deduplicate."""
    return f"<digest-{digest_id}@{message_domain(sender)}>"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def headline(digest: Digest, spikes: int = 0) -> str:
    """'2 new stories, 1 update' (', 1 spike') for a digest."""
    updates = sum(1 for i in digest.items if i.is_update)
    new = len(digest.items) - updates
    parts = []
    if new:
        parts.append(_plural(new, "new story", "new stories"))
    if updates:
        parts.append(_plural(updates, "update", "updates"))
    if spikes:
        parts.append(_plural(spikes, "attention spike", "attention spikes"))
    return ", ".join(parts) or "nothing new"


def make_subject(digest: Digest, spikes: Sequence[str] = ()) -> str:
    """The Subject: '[watch] 2 new stories, 1 update: <first title>', one line, at most SUBJECT_MAX chars."""
    first = clean_line(digest.items[0].title) if digest.items else clean_line(spikes[0]) if spikes else ""
    subject = f"[{clean_line(digest.watch, 60)}] {headline(digest, len(spikes))}"
    if first:
        subject += f": {first}"
    return clean_line(subject, SUBJECT_MAX)


def _check_address(addr: str) -> str:
    """A bare address (local@domain) or refuse it: no display names, no header syntax smuggled in."""
    if _CONTROL.search(addr) or any(c in addr for c in ',;<>"()[]\\') or addr.count("@") != 1:
        raise RenderError(f"recipient {addr!r} is not a plain email address (local@domain)")
    local, _, domain = addr.strip().partition("@")
    try:
        Address(username=local, domain=domain)
    except (ValueError, IndexError) as e:
        raise RenderError(f"recipient {addr!r} is not a valid email address: {e}") from None
    return f"{local}@{domain}"


def _fmt_date(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else ""


def _article_view(a: DigestArticle) -> dict[str, object]:
    return {
        "title": clean_line(a.title) or "(untitled)",
        "source": clean_line(a.source, 120) or "unknown source",
        "date": _fmt_date(a.published_at),
        "href": safe_href(a.url),
        "url_note": url_note(a.url),
    }


def link_for(template: str | None, *, watch: str, digest_id: str, file: str = "") -> str | None:
    """A configured link template ({watch}, {digest_id}, {file} replaced) if it passes safe_href(), else None."""
    if not template:
        return None
    url = template.replace("{watch}", watch).replace("{digest_id}", digest_id).replace("{file}", file)
    return safe_href(url)


def _item_view(item: DigestItem, copy_of: Mapping[str, str], terms: Sequence[str] = ()) -> dict[str, object]:
    # DigestItem convention: others[:copies] are syndicated copies, the rest other coverage. copy_of tells
    # which text each copy repeats; a copy without an entry is folded under the lead.
    copies = item.others[: item.copies]
    coverage = item.others[item.copies :]
    shown = {a.article_id for a in coverage}

    def copies_of(article_id: str, *, lead: bool) -> list[dict[str, object]]:
        return [
            _article_view(c)
            for c in copies
            if copy_of.get(c.article_id) == article_id or (lead and copy_of.get(c.article_id) not in shown)
        ]

    coverage_views = []
    for a in coverage:
        view = _article_view(a)
        view["copies"] = copies_of(a.article_id, lead=False)
        coverage_views.append(view)
    title = clean_line(item.title) or clean_line(item.lead.title) or "(untitled)"
    lead = _article_view(item.lead)
    summary = clean_line(item.summary, 600)
    runs = split_marked(summary, terms)
    # each term once, as the text first writes it ("IOPC", "Rotherham")
    firsts: dict[str, str] = {}
    for r, hit in runs:
        if hit:
            firsts.setdefault(" ".join(r.split()).casefold(), " ".join(r.split()))
    matched = list(firsts.values())
    return {
        "title": title,
        # shown separately when the item's title is not the lead's own (updates, hand-built digests)
        "lead_title_differs": lead["title"] != title,
        "is_update": item.is_update,
        "lead": lead,
        "summary": summary,
        # why it matched: the watch's query terms, marked in the HTML summary and listed in the text part
        "summary_runs": [{"text": r, "mark": hit} for r, hit in runs],
        "matched": matched,
        "copies": copies_of(item.lead.article_id, lead=True),
        "coverage": coverage_views,
        "facts": [clean_line(f, 300) for f in item.new_facts],
        "outlets": item.outlets,
    }


def _boundary(digest_id: str, *bodies: str) -> str:
    """A MIME boundary derived from digest_id (reproducible bytes) that occurs in no body.

    Titles are attacker-controlled and digest ids predictable, so a body could carry the obvious boundary.
    """
    n = 0
    while True:
        boundary = f"==newswatch-{digest_id}{'-' + str(n) if n else ''}=="
        if not any(boundary in b for b in bodies):
            return boundary
        n += 1


def _env(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_parts(
    digest: Digest,
    *,
    description: str = "",
    unsubscribe_url: str | None = None,
    held_back: int = 0,
    copy_of: Mapping[str, str] | None = None,
    terms: Sequence[str] = (),
    spikes: Sequence[str] = (),
    view_url: str | None = None,
    edit_url: str | None = None,
    file: str = "",
    chart: DigestChart | None = None,
    chart_src: str | None = None,
) -> tuple[str, str]:
    """The plain-text and HTML bodies of a digest (copy_of: copy article_id -> article shown for its text).

    terms: the watch query's term labels to mark in summaries; spikes: attention-spike lines;
    view_url / edit_url: link templates ({watch}, {digest_id}, {file} = the .html file name);
    chart: the attention chart, shown from chart_src (default: its file name, relative to the .html file).
    """
    links = {"watch": digest.watch, "digest_id": digest.digest_id, "file": file}
    chart_view = None
    if chart is not None:
        width, height = png_size(chart.png)
        shown_w = min(CHART_WIDTH, width)
        chart_view = {
            "src": chart_src or quote(chart.file),
            "caption": clean_line(chart.caption, 300),
            "alt": clean_line(chart.alt, 300),
            "width": shown_w,
            "height": max(1, round(height * shown_w / width)),
        }
    context = {
        "watch": clean_line(digest.watch, 60),
        "description": clean_line(description, 300),
        "headline": headline(digest, len(spikes)),
        "date": _fmt_date(digest.created_at),
        "since": _fmt_date(digest.since),
        "items": [_item_view(i, copy_of or {}, terms) for i in digest.items],
        "spikes": [clean_line(s, 300) for s in spikes],
        "held_back": held_back,
        "unsubscribe": link_for(unsubscribe_url, **links),
        "view": link_for(view_url, **links),
        "edit": link_for(edit_url, **links),
        "digest_id": digest.digest_id,
        "chart": chart_view,
    }
    text = _env(autoescape=False).get_template("digest.txt.j2").render(context)
    html = _env(autoescape=True).get_template("digest.html.j2").render(context)
    return text, html


def render_digest(
    digest: Digest,
    *,
    sender: str | None = None,
    recipients: tuple[str, ...] | list[str] = (),
    description: str = "",
    unsubscribe_url: str | None = None,
    held_back: int = 0,
    copy_of: Mapping[str, str] | None = None,
    terms: Sequence[str] = (),
    spikes: Sequence[str] = (),
    view_url: str | None = None,
    edit_url: str | None = None,
    file: str = "",
    chart: DigestChart | None = None,
) -> RenderedDigest:
    """Render a digest to a complete multipart/alternative message (deterministic bytes).

    copy_of maps each folded copy's article_id to the article shown for its text, so "also ran in" sits
    under the right headline; without it every copy is folded under the item's lead. chart: an attention
    chart, inline in the message by Content-ID; RenderedDigest.html names it by chart.file instead.
    """
    sender_addr = _check_address(sender or DEFAULT_SENDER)
    rcpts = tuple(_check_address(r) for r in recipients)
    bodies = functools.partial(
        render_parts, digest, description=description, unsubscribe_url=unsubscribe_url, held_back=held_back,
        copy_of=copy_of, terms=terms, spikes=spikes, view_url=view_url, edit_url=edit_url, file=file, chart=chart,
    )
    text, html = bodies()
    cid = chart_cid(digest.digest_id, sender_addr)
    # the message's HTML differs only in where the image comes from: its own part, by Content-ID
    mail_html = bodies(chart_src=f"cid:{cid}")[1] if chart else html
    subject = make_subject(digest, spikes)
    msg_id = message_id_for(digest.digest_id, sender_addr)
    domain = message_domain(sender_addr)

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = Address(display_name="newswatch", addr_spec=sender_addr)
    msg["To"] = ", ".join(rcpts) if rcpts else "undisclosed-recipients:;"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(digest.created_at.astimezone(UTC))
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders must not answer
    msg["Precedence"] = "bulk"
    list_label = re.sub(r"[^A-Za-z0-9-]", "-", digest.watch)[:60].strip("-") or "watch"
    msg["List-Id"] = f"newswatch digest {list_label} <{list_label}.digest.{domain}>"
    unsubscribe = link_for(unsubscribe_url, watch=digest.watch, digest_id=digest.digest_id, file=file)
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        if unsubscribe.lower().startswith("https:"):
            # RFC 8058 one-click: only with an https URI
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Newswatch-Digest"] = digest.digest_id
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        mail_html, subtype="html", charset="utf-8", cte="quoted-printable"
    )  # last part = preferred (RFC 2046)
    if chart is not None:
        html_part = list(msg.iter_parts())[-1]
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{cid}>",
                              disposition="inline", filename=chart.file)
        html_part.set_param("type", "text/html")  # RFC 2387: the type of the root part
        html_part.set_boundary(_boundary(digest.digest_id + "-related", text, mail_html))
    msg.set_boundary(_boundary(digest.digest_id, text, mail_html))
    data = msg.as_bytes(policy=email.policy.SMTP)
    return RenderedDigest(
        digest_id=digest.digest_id,
        subject=subject,
        message_id=msg_id,
        text=text,
        html=html,
        message=data,
        recipients=rcpts,
        sender=sender_addr,
        chat_title=subject,
        chat_body=chat_body(digest, spikes=spikes, held_back=held_back),
    )


CHAT_MAX = 4000  # Slack/Teams/Matrix all take this much text in one message


def chat_body(digest: Digest, *, spikes: Sequence[str] = (), held_back: int = 0) -> str:
    """The message for a webhook or chat channel: one line per item and its link (plain text, bounded)."""
    lines = [clean_line(s, 300) for s in spikes]
    for n, item in enumerate(digest.items, start=1):
        title = clean_line(item.title) or clean_line(item.lead.title) or "(untitled)"
        src = clean_line(item.lead.source, 120) or "unknown source"
        date = _fmt_date(item.lead.published_at)
        lines.append(f"{n}. {'Update: ' if item.is_update else ''}{title} ({src}{', ' + date if date else ''})")
        href = safe_href(item.lead.url)
        lines.append(f"   {href}" if href else f"   ({url_note(item.lead.url)})")
        lines.extend(f"   * {clean_line(f, 300)}" for f in item.new_facts)
    if held_back:
        lines.append(f"{held_back} more {'story' if held_back == 1 else 'stories'} in the next digest.")
    body = "\n".join(lines)
    return body if len(body) <= CHAT_MAX else body[: CHAT_MAX - 1].rstrip() + "…"
