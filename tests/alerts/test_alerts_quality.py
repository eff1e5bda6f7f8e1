"""A digest people want to open: order by first report, no repeated headline, figures with separators, why it
matched, view/edit/unsubscribe links, and pages the fetch guard refused left out."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from alerts.highlight import split_marked
from alerts.render import render_digest
from flows.digest_stage import run_digest
from newswatch.config import parse_config
from newswatch.models import Digest, DigestArticle, DigestItem
from warehouse.digests import _summary


def _parts(eml_path: str | None) -> tuple[str, str, object]:
    assert eml_path
    msg = message_from_bytes(Path(eml_path).read_bytes(), policy=policy.default)
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content(), msg


def test_stories_are_ordered_by_first_report_not_by_a_late_copy(warehouse, make_config, now, tmp_path) -> None:
    # the 2018 story got a syndicated copy today; it used to lead the digest because of that copy
    warehouse.add("old", title="Officers to be investigated (2018)", source="Sky News",
                  published=datetime(2018, 7, 9, 8, 0, tzinfo=now.tzinfo))
    warehouse.add("oldcopy", title="Officers to be investigated", source="The Star", copy_of="old",
                  published=now - timedelta(minutes=30))
    warehouse.add("new", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=2))
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    text, _, _ = _parts(o.eml_path)
    assert text.index("Council apologises") < text.index("Officers to be investigated (2018)")
    assert warehouse.query("select title from digest_items order by position")[0] == ("Council apologises to survivors",)


def test_the_summary_does_not_repeat_the_headline(warehouse, make_config, now, tmp_path) -> None:
    title = "Senior officers failed to protect children, watchdog says"
    body = (f"{title}\nThe police watchdog has confirmed for the first time that senior officers failed "
            "to protect children in Rotherham from grooming gangs.")
    warehouse.add("a1", title=title + " | GB News", source="GB News", text=body)
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    text, _, _ = _parts(o.eml_path)
    assert text.count("Senior officers failed to protect children") == 1
    assert "The police watchdog has confirmed for the first time" in text
    # a sentence that merely starts like the headline is kept whole
    assert _summary("Police watchdog said on Monday that it will investigate.", title="Police watchdog") == (
        "Police watchdog said on Monday that it will investigate.")


def test_figure_conflicts_keep_thousands_separators_years_stay(warehouse, make_config, now, tmp_path) -> None:
    warehouse.add("a1", title="Abuse report", source="BBC", story="s", published=now - timedelta(hours=3))
    warehouse.add("a2", title="Abuse inquiry", source="Sky News", story="s", published=now - timedelta(hours=2))
    # the facts stage stores conflicting values as written ('1400 children'); the digest formats the figures
    con = "INSERT INTO core.fact_conflicts VALUES (?, ?, 'children abused', ?, ?, 'x', 0.9)"
    for args in (["c1", "figure", "a1", "1400 children"], ["c1", "figure", "a2", "1510 children"],
                 ["c2", "period", "a1", "1997-2013"], ["c2", "period", "a2", "1999-2011"]):
        warehouse.query(con, args)
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    text, _, _ = _parts(o.eml_path)
    facts = [ln.strip() for ln in text.splitlines() if "reports differ" in ln]
    assert any("1,400 children" in f and "1,510 children" in f for f in facts), facts
    assert any("1997-2013" in f for f in facts) and not any("1,997" in f for f in facts), facts


def test_the_watch_query_terms_are_marked_in_the_summary(warehouse, now, tmp_path) -> None:
    cfg = parse_config('[[watches]]\nname = "rotherham"\nquery = \'"child abuse" OR grooming* OR Zürich NOT cats\'\n',
                       origin="test")
    warehouse.add("a1", title="Inquiry opens", source="BBC",
                  text="The inquiry into child  abuse and grooming gangs in Zurich opened on Monday with evidence.")
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    text, html, _ = _parts(o.eml_path)
    assert '<mark style="background: #fff2a8;">child abuse</mark>' in html
    assert '<mark style="background: #fff2a8;">grooming</mark>' in html
    assert '<mark style="background: #fff2a8;">Zurich</mark>' in html  # accents folded like the query
    assert "Matched: child abuse, grooming, Zurich" in " ".join(text.split())


def test_split_marked_keeps_the_text_and_matches_whole_words() -> None:
    runs = split_marked("Rotherhams Rotherham, rother", ["rotherham", "NOT rother", "(empty query matches everything)"])
    assert "".join(r for r, _ in runs) == "Rotherhams Rotherham, rother"
    assert [r for r, hit in runs if hit] == ["Rotherham"]
    assert [r for r, hit in split_marked("abuse abused", ["abus*"]) if hit] == ["abuse", "abused"]
    assert split_marked("", ["x"]) == []


def _digest() -> Digest:
    a = DigestArticle("a1", "BBC", "Inquiry opens", "https://www.bbc.co.uk/news/a1", datetime(2026, 11, 22))
    item = DigestItem("s1", "Inquiry opens", a, (), 0, 1, "The inquiry opened.")
    return Digest("d1", "rotherham", datetime(2026, 11, 22, 7, 0).astimezone(), (item,), None)


def test_view_in_browser_edit_and_unsubscribe_links_when_configured() -> None:
    r = render_digest(
        _digest(),
        recipients=["desk@example.org"],
        unsubscribe_url="https://news.example.org/unsubscribe/{watch}",
        view_url="https://news.example.org/digests/{file}",
        edit_url="https://news.example.org/watches/{watch}/edit",
        file="rotherham-2026-11-22-d1.html",
    )
    assert '<a href="https://news.example.org/digests/rotherham-2026-11-22-d1.html">View in browser</a>' in r.html
    assert '<a href="https://news.example.org/watches/rotherham/edit">Edit this alert</a>' in r.html
    assert '<a href="https://news.example.org/unsubscribe/rotherham">Unsubscribe</a>' in r.html
    assert "View in browser: https://news.example.org/digests/rotherham-2026-11-22-d1.html" in r.text
    assert "Edit this alert: https://news.example.org/watches/rotherham/edit" in r.text
    msg = message_from_bytes(r.message, policy=policy.default)
    assert msg["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/rotherham>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # not configured, or refused by the link policy: no link at all
    plain = render_digest(_digest(), view_url="http://127.0.0.1:8080/{file}")
    assert "View in browser" not in plain.html and "Edit this alert" not in plain.html


def test_view_and_edit_links_reach_the_files_through_run_digest(warehouse, now, tmp_path) -> None:
    cfg = parse_config('view_url = "https://news.example.org/d/{file}"\nedit_url = "https://news.example.org/w/{watch}"\n'
                       '[[watches]]\nname = "rotherham"\n', origin="test")
    warehouse.add("a1", title="Inquiry opens", source="BBC")
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    _, html, _ = _parts(o.eml_path)
    assert f'href="https://news.example.org/d/{Path(o.html_path or "").name}"' in html
    assert 'href="https://news.example.org/w/rotherham"' in html


def test_a_page_the_guard_refused_is_not_news_but_stays_queryable(warehouse, make_config, now, tmp_path) -> None:
    warehouse.add("ok", title="Council apologises to survivors", source="ITV")
    warehouse.add("ssrf", title="Rotherham abuse: redirect to metadata", source="Feed",
                  url="http://169.254.169.254/latest/meta-data/")
    warehouse.query("update core.articles set fetch_status = 'blocked' where article_id = 'ssrf'")
    o = run_digest(warehouse.path, make_config(), "rotherham", out_dir=str(tmp_path), now=now)
    text, html, _ = _parts(o.eml_path)
    assert o.items == 1 and "redirect to metadata" not in text and "redirect to metadata" not in html
    assert warehouse.query("select fetch_status from articles where article_id = 'ssrf'") == [("blocked",)]
    assert warehouse.query("select count(*) from digest_articles where article_id = 'ssrf'") == [(0,)]
