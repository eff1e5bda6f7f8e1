"""A whole run against a hostile web (RELIABILITY.md A-C through the pipeline): every failure is recorded in the
warehouse with its status, good articles still load, and the run completes. The stage-level cases are tested
in tests/net and tests/feeds; this checks that the pipeline keeps what they report."""

from __future__ import annotations

import html
from pathlib import Path

from flows.pipeline import run_monitor
from tests.nwtest import SEEDS, make_config
from tests.support.httpserver import Reply, ScriptedServer, gzip_bomb
from warehouse.db import connect

GOOD_PAGE = next((SEEDS / "fixtures" / "site" / "news.sky.com").rglob("*.html"))


def _feed(base: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "\n".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><guid>{g}</guid>"
        f"<description>Rotherham abuse inquiry: {html.escape(t)} (feed summary of the story)</description></item>"
        for g, t, link in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title><link>{base}/</link>'
            f"{entries}</channel></rss>").encode()


def test_one_run_survives_every_kind_of_bad_page_and_records_why(tmp_path: Path) -> None:
    with ScriptedServer() as srv, ScriptedServer() as second:
        base = srv.base_url
        good = GOOD_PAGE.read_text(encoding="utf-8").replace("__BASE__", base).encode()
        srv.route("/good", Reply(200, body=good, headers={"Content-Type": "text/html; charset=utf-8"}))
        srv.route("/pdf", Reply(200, body=b"%PDF-1.7\n" + b"\x00\x01binary" * 200,
                                headers={"Content-Type": "application/pdf"}))
        srv.route("/bomb", Reply(200, body=gzip_bomb(20_000_000),
                                 headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}))
        srv.route("/flaky", Reply(503, headers={"Retry-After": "0"}))
        srv.route("/missing", Reply(404, body=b"gone"))
        srv.route("/slow", Reply(200, body=b"<html>" + b"x" * 100, trickle=(1, 0.5),
                                 headers={"Content-Type": "text/html"}))
        srv.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/", status=302)
        items = [
            ("g1", "Rotherham: the good article", f"{base}/good"),
            ("g2", "Rotherham abuse: a PDF", f"{base}/pdf"),
            ("g3", "Rotherham abuse: a gzip bomb", f"{base}/bomb"),
            ("g4", "Rotherham abuse: server error", f"{base}/flaky"),
            ("g5", "Rotherham abuse: not found", f"{base}/missing"),
            ("g6", "Rotherham abuse: slow trickle", f"{base}/slow"),
            ("g7", "Rotherham abuse: redirect to metadata", f"{base}/to-metadata"),
            ("g8", "Rotherham abuse: script link", "javascript:alert(1)"),
        ]
        srv.route("/feed.xml", Reply(200, body=_feed(base, items), headers={"Content-Type": "application/rss+xml"}))
        # a second feed that is broken beyond repair, on another host: it must not stop the first
        second.route("/feed.xml", Reply(200, body=b"<rss><channel><item><title>trunc", headers={
            "Content-Type": "application/rss+xml"}))
        config = make_config(max_page_bytes=2_000_000, total_deadline_s=3.0, read_timeout_s=2.0,
                             per_host_concurrency=4)
        db = str(tmp_path / "hostile.duckdb")
        report = run_monitor(config, db, extra_feeds=[srv.url("/feed.xml"), second.url("/feed.xml")], digest=False)

    assert report.status == "succeeded"
    con = connect(db, read_only=True)
    try:
        arts = {r[0]: r[1] for r in con.execute("select title, fetch_status from articles").fetchall()}
        skips = con.execute("select url, stage, reason from skips").fetchall()
        run = con.execute("select status, skipped from runs").fetchone()
    finally:
        con.close()
    reasons = {(u.rsplit("/", 1)[-1], stage, reason) for u, stage, reason in skips}
    # the good article loads; pages that failed for good fall back to their feed summary
    good_title = next(t for t in arts if "investigated over Rotherham" in t)
    assert arts[good_title] == "ok"
    assert ("pdf", "fetch", "not_html") in reasons
    assert ("flaky", "fetch", "http_error") in reasons          # transient: retried next run, not an article
    assert ("slow", "fetch", "timeout") in reasons              # stopped by the total deadline
    assert not any(t.endswith("server error") or t.endswith("slow trickle") for t in arts)
    assert arts.get("Rotherham abuse: a gzip bomb") == "too_large"   # summary fallback, status kept
    assert arts.get("Rotherham abuse: not found") == "http_error"
    assert arts.get("Rotherham abuse: redirect to metadata") == "blocked"  # link-local: refused even here
    assert any(stage == "feed" and reason == "no_link" for _, stage, reason in reasons)  # javascript: link
    assert any(stage == "feed" for u, stage, _ in skips if second.base_url in u)  # the broken feed is recorded
    assert run == ("succeeded", len(skips))
