"""Rendering hostile digests safely (RELIABILITY E26-E28) and golden digests of the seeds.

Golden files live in tests/alerts/golden/. Regenerate them only on purpose and review the diff:
    NEWSWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/alerts/test_alerts_render.py && git diff tests/alerts/golden
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from alerts.render import SUBJECT_MAX, RenderError, render_digest, safe_href
from flows.digest_stage import run_digest
from newswatch.models import Digest, DigestArticle, DigestItem, stable_id

GOLDEN = Path(__file__).with_name("golden")
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
WHEN = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def check_golden(name: str, content: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("NEWSWATCH_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return
    assert path.exists(), (
        f"golden file {path} is missing; create it with NEWSWATCH_UPDATE_GOLDEN=1 and review it"
    )
    expected = path.read_bytes()
    assert content.decode("utf-8") == expected.decode("utf-8"), (
        f"{name} differs from the golden file; if the change is intended, regenerate with "
        "NEWSWATCH_UPDATE_GOLDEN=1 and review `git diff tests/alerts/golden`"
    )


def article(
    aid: str, title: str, url: str, source: str = "Sky News", when: datetime | None = WHEN
) -> DigestArticle:
    return DigestArticle(article_id=aid, source=source, title=title, url=url, published_at=when)


def digest_of(*items: DigestItem, digest_id: str = "0123456789abcdef") -> Digest:
    return Digest(digest_id=digest_id, watch="rotherham", created_at=WHEN, items=items, since=None)


HOSTILE = digest_of(
    DigestItem(
        story_id="s1",
        title='<script>alert("t")</script> Police chiefs\r\nBcc: spy@evil.example',
        lead=article(
            "a1", '"><img src=x onerror=alert(1)>', "javascript:alert(document.cookie)", "Sky <b>News</b>"
        ),
        others=(
            article("a2", "Copy", "http://user:pass@evil.example/x", "Evil & Co"),
            article("a3", "Fine <i>report</i>", "https://bbc.example/a3?x=1&y=2", "BBC"),
            article("a4", "Data link", "data:text/html;base64,PHNjcmlwdD4=", "Data Co"),
        ),
        copies=1,
        outlets=4,
        summary="<iframe src=//evil.example></iframe> Summary & more",
        new_facts=("figure <changed>: children 1,400 -> 1,510",),
    )
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self.hrefs.extend(v or "" for k, v in attrs if k in ("href", "src"))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def header_block(data: bytes) -> list[str]:
    return data.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


# ---- E26: hostile titles and links ---------------------------------------------------------------------


def test_e26_html_escapes_markup_and_links_only_http(tmp_path):
    r = render_digest(HOSTILE, recipients=["desk@example.org"], unsubscribe_url="https://news.example.org/u")
    p = _Tags()
    p.feed(r.html)
    assert not {"script", "img", "iframe", "b", "i"} & set(p.tags), p.tags
    assert not any(k.startswith("on") for k, _ in p.attrs)
    assert p.hrefs, "the safe links must still be links"
    for href in p.hrefs:
        parts = urlsplit(href)
        assert parts.scheme in ("http", "https") and "@" not in parts.netloc, href
    assert "https://bbc.example/a3?x=1&amp;y=2" in r.html  # escaped inside the attribute, still a link
    text = "".join(p.text)
    # the hostile strings are shown as text, not executed or dropped
    assert '<script>alert("t")</script> Police chiefs Bcc: spy@evil.example' in text
    assert '"><img src=x onerror=alert(1)>' in text
    assert "javascript:" not in r.html and "user:pass" not in r.html and "data:text" not in r.html


def test_e26_text_part_is_plain_and_has_no_unsafe_links():
    r = render_digest(HOSTILE, recipients=["desk@example.org"])
    assert '1. <script>alert("t")</script> Police chiefs Bcc: spy@evil.example' in r.text
    assert "Summary & more" in r.text and "&amp;" not in r.text  # plain, not HTML-escaped
    assert "javascript:" not in r.text and "user:pass" not in r.text and "data:" not in r.text
    assert "(link not shown: scheme 'javascript' is not allowed (only http and https))" in r.text
    assert "(link not shown: scheme 'data' is not allowed (only http and https))" in r.text
    assert "\r" not in r.text and all(not line.startswith("Bcc:") for line in r.text.splitlines())


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "http://user:pass@evil.example/",
        "https://good.example\\@evil.example/",
        "//evil.example/no-scheme",
        "http:///no-host",
        "http://example.org:99999/",
        "https://example.org/a b",
        "https://example.org/\x00",
        "",
        None,
        # what the fetch guard refuses is never a link either (issue 8 §4): same policy, decided once
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://127.0.0.1:22/x",
        "http://[fe80::1]/x",
        "http://127.0.0.1/x",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://10.0.0.5/intranet",
        "http://[::ffff:127.0.0.1]/",
        "http://[2001:db8::1]:8080/p",
        "https://news.example.org:8443/x",
        "http://news.example.org:22/x",
    ],
)
def test_e26_safe_href_refuses(url):
    assert safe_href(url) is None


@pytest.mark.parametrize(
    "url",
    ["https://news.sky.com/story/x-1", "HTTP://Example.org/a?b=1&c=2#f", "http://[2606:4700::1111]/p",
     "https://news.example.org:443/x", "http://93.184.216.34/a"],
)
def test_e26_safe_href_accepts_web_links(url):
    assert safe_href(url) == url


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/iam/", "http://127.0.0.1:22/x", "http://[fe80::1]/x",
     "https://news.example.org:8443/x", "http://u:p@news.example.org/", "javascript:alert(1)"],
)
def test_digest_links_follow_the_fetch_guard(url):
    from extractors.netguard import check_url
    from newswatch.errors import BlockedError

    with pytest.raises(BlockedError):  # the fetcher refuses it (its default policy) ...
        check_url(url, allow_private=False)
    assert safe_href(url) is None  # ... so the digest does not link it


def test_refused_links_are_plain_text_with_the_reason_in_both_parts():
    # the links of issue 8 §4: refused by the fetch guard, they were clickable digest items
    refused = {
        "http://169.254.169.254/latest/meta-data/iam/": "169.254.169.254 is link-local",
        "http://127.0.0.1:22/x": "127.0.0.1 is loopback, a local address (the demo's pages are served there only while it runs)",
        "http://[fe80::1]/x": "fe80::1 is link-local",
        "https://news.example.org:8443/x": "port 8443 is not allowed (only 80 and 443)",
    }
    urls = list(refused)
    d = digest_of(
        DigestItem(
            story_id="s1",
            title="Metadata story",
            lead=article("a1", "Metadata story", urls[0]),
            others=tuple(article(f"a{i}", f"Other {i}", u, source=f"Outlet {i}") for i, u in enumerate(urls[1:], 2)),
            copies=0,
            outlets=4,
            summary="",
        ),
        DigestItem("s2", "Fine story", article("b1", "Fine story", "https://news.example.org/fine"), (), 0, 1, ""),
    )
    r = render_digest(d, recipients=["desk@example.org"], unsubscribe_url="http://127.0.0.1:8080/unsubscribe")
    p = _Tags()
    p.feed(r.html)
    assert p.hrefs == ["https://news.example.org/fine"]  # the one allowed link; no unsubscribe link either
    for url, reason in refused.items():
        assert url not in r.html and url not in r.text
        assert f"(link not shown: {reason})" in r.html.replace("&#39;", "'")
        assert f"(link not shown: {reason})" in r.text
    assert "https://news.example.org/fine" in r.text
    assert "127.0.0.1:8080" not in r.text and parse(r.message)["List-Unsubscribe"] is None


def test_the_demo_digest_says_its_loopback_links_are_not_shown(tmp_path):
    """The demo serves on 127.0.0.1 (allow_private_networks): its digest names the reason instead of linking."""
    url = "http://127.0.0.1:18731/news/rotherham-1.html"
    d = digest_of(DigestItem("s1", "Demo story", article("a1", "Demo story", url), (), 0, 1, "A summary."))
    r = render_digest(d, recipients=["desk@example.org"])
    assert "<a href" not in r.html and url not in r.html and url not in r.text
    note = "(link not shown: 127.0.0.1 is loopback, a local address (the demo&#39;s pages are served there only while it runs))"
    assert note in r.html
    assert note.replace("&#39;", "'") in r.text


# ---- E27: the Subject -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Police chiefs\r\nBcc: spy@evil.example",
        "Police chiefs\nBcc: spy@evil.example\n\nbody",
        "Zürich – café “quotes” 😀 Ротерем",
        "Very long " * 500,
        "Line\u2028separator and \u202eoverride",
    ],
)
def test_e27_one_bounded_encoded_subject_and_no_bcc(title):
    d = digest_of(
        DigestItem("s1", title, article("a1", title, "https://x.example/1"), (), 0, 1, "summary"),
    )
    r = render_digest(d, sender="digest@newswatch.example", recipients=["desk@example.org"])
    raw = r.message
    raw.decode("ascii")  # everything encoded (RFC 2047 / QP / base64): 7-bit clean
    headers = header_block(raw)
    assert not any(h.lower().startswith("bcc:") for h in headers)
    assert sum(1 for h in headers if h.lower().startswith("subject:")) == 1
    assert all(len(h) <= 78 for h in headers), [h for h in headers if len(h) > 78]
    msg = parse(raw)
    assert msg.get_all("Bcc") is None and len(msg.get_all("Subject")) == 1
    subject = str(msg["Subject"])
    assert subject == r.subject and len(subject) <= SUBJECT_MAX
    assert "\n" not in subject and "\r" not in subject and "\u2028" not in subject and "\u202e" not in subject
    assert subject.startswith("[rotherham] 1 new story: ")
    if not r.subject.isascii():
        start = [h.lower().startswith("subject:") for h in headers].index(True)
        folded = [headers[start]] + [h for h in headers[start + 1 :] if h[:1] in (" ", "\t")]
        assert "=?utf-8?" in " ".join(folded).lower()


def test_e27_non_ascii_subject_round_trips():
    title = "Zürich – café “quotes” Ротерем"
    d = digest_of(DigestItem("s1", title, article("a1", title, "https://x.example/1"), (), 0, 1, ""))
    r = render_digest(d, recipients=["desk@example.org"])
    assert str(parse(r.message)["Subject"]) == f"[rotherham] 1 new story: {title}"


@pytest.mark.parametrize(
    "bad",
    [
        "desk@example.org\r\nBcc: spy@evil.example",
        "a@b.example, spy@evil.example",
        "Name <a@b.example>",
        "nobody",
    ],
)
def test_e27_recipients_must_be_plain_addresses(bad):
    with pytest.raises(RenderError):
        render_digest(HOSTILE, recipients=[bad])


# ---- E28: structure and headers -------------------------------------------------------------------------


def test_e28_multipart_alternative_text_first_html_last_and_headers():
    r = render_digest(
        HOSTILE,
        sender="digest@newswatch.example",
        recipients=["desk@example.org", "editor@example.org"],
        unsubscribe_url="https://news.example.org/unsubscribe?w=rotherham",
    )
    msg = parse(r.message)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == r.text
    assert parts[1].get_content().replace("\r\n", "\n") == r.html
    assert msg["Message-ID"] == "<digest-0123456789abcdef@newswatch.example>" == r.message_id
    assert parsedate_to_datetime(msg["Date"]) == WHEN
    assert msg["From"].addresses[0].addr_spec == "digest@newswatch.example"
    assert [a.addr_spec for a in msg["To"].addresses] == ["desk@example.org", "editor@example.org"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == "<https://news.example.org/unsubscribe?w=rotherham>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Newswatch-Digest"] == "0123456789abcdef"


@pytest.mark.parametrize(
    ("url", "unsub", "post"),
    [
        (None, None, None),
        (
            "http://news.example.org/u",
            "<http://news.example.org/u>",
            None,
        ),  # one-click needs https (RFC 8058)
        ("javascript:alert(1)", None, None),
    ],
)
def test_e28_list_unsubscribe_only_for_web_urls(url, unsub, post):
    msg = parse(render_digest(HOSTILE, recipients=["d@example.org"], unsubscribe_url=url).message)
    assert msg["List-Unsubscribe"] == unsub and msg["List-Unsubscribe-Post"] == post


def test_e28_message_is_deterministic_per_digest_and_differs_between_digests():
    a = render_digest(HOSTILE, recipients=["d@example.org"]).message
    b = render_digest(HOSTILE, recipients=["d@example.org"]).message
    other = render_digest(
        Digest("fedcba9876543210", HOSTILE.watch, HOSTILE.created_at, HOSTILE.items, None),
        recipients=["d@example.org"],
    )
    assert a == b
    assert parse(other.message)["Message-ID"] != parse(a)["Message-ID"]


def test_e28_no_recipients_gives_an_undisclosed_group():
    msg = parse(render_digest(HOSTILE).message)
    assert str(msg["To"]) == "undisclosed-recipients:;"


def test_boundary_cannot_be_forged_by_a_title():
    forged = "==newswatch-0123456789abcdef=="
    d = digest_of(DigestItem("s1", forged, article("a1", forged, "https://x.example/1"), (), 0, 1, forged))
    msg = parse(render_digest(d, recipients=["d@example.org"]).message)
    assert msg.get_boundary() != forged
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert forged in next(iter(msg.iter_parts())).get_content()


# ---- golden digests -------------------------------------------------------------------------------------


def test_golden_hostile_digest():
    r = render_digest(
        HOSTILE,
        sender="digest@newswatch.example",
        recipients=["desk@example.org"],
        unsubscribe_url="https://news.example.org/unsubscribe?w=rotherham",
    )
    check_golden("hostile.txt", r.text.encode("utf-8"))
    check_golden("hostile.html", r.html.encode("utf-8"))


def test_golden_seed_digest(warehouse, make_config, tmp_path, load_seeds):
    load_seeds(warehouse)
    now = datetime(2024, 10, 4, 7, 0, tzinfo=UTC)
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "written" and o.items == 2 and o.articles == 5
    eml = Path(o.eml_path).read_bytes()
    msg = parse(eml)
    check_golden("seeds.eml", eml)
    check_golden("seeds.txt", msg.get_body(("plain",)).get_content().replace("\r\n", "\n").encode("utf-8"))
    check_golden("seeds.html", Path(o.html_path).read_bytes())
    assert Path(o.html_path).read_text(encoding="utf-8") == msg.get_body(("html",)).get_content().replace(
        "\r\n", "\n"
    )
    # an update a day later renders against the same golden style
    warehouse.add(
        "later",
        title="IOPC to publish full Operation Linden findings",
        source="BBC",
        story=stable_id(
            "https://www.gbnews.com/news/rotherham-grooming-gangs-senior-officers-failed-protect-children-iopc"
        ),
        published=now + timedelta(hours=20),
        text="The Independent Office for Police Conduct said it would publish its findings in full.",
    )
    upd = run_digest(
        warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now + timedelta(days=1)
    )
    assert upd.items == 1
    check_golden("seeds-update.html", Path(upd.html_path).read_bytes())
    check_golden(
        "seeds-update.txt",
        parse(Path(upd.eml_path).read_bytes())
        .get_body(("plain",))
        .get_content()
        .replace("\r\n", "\n")
        .encode(),
    )
