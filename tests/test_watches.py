"""Several watches on the same feeds (issue 12 §1): each page is fetched and extracted once, each watch applies its
own query and gets its own articles (watch_articles), off-topic skips and digest; a watch added later sees the
articles already stored without a refetch; a warehouse made before watch_articles keeps its articles."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from flows.pipeline import ingest_sources, run_monitor
from newswatch.config import load_config
from tests.nwtest import SEEDS
from tests.support.httpserver import Reply, ScriptedServer
from warehouse.db import connect

# The six fixture pages (five seed articles about Rotherham, one about bin collections), by a short name.
MANIFEST = json.loads((SEEDS / "fixtures" / "manifest.json").read_text(encoding="utf-8"))
PAGES = {
    "sky": next(p for p in MANIFEST if p.startswith("/news.sky.com/")),
    "gb": next(p for p in MANIFEST if p.startswith("/www.gbnews.com/")),
    "advertiser": next(p for p in MANIFEST if p.startswith("/www.rotherhamadvertiser.co.uk/")),
    "star": next(p for p in MANIFEST if "/senior-police-officers" in p),
    "bins": next(p for p in MANIFEST if "/sheffield-bin-collections" in p),
    "ypost": next(p for p in MANIFEST if p.startswith("/www.yorkshirepost.co.uk/")),
}
# Two feeds that overlap on two pages: every page is listed once or twice.
FEED_A = ("sky", "gb", "advertiser", "ypost")
FEED_B = ("gb", "ypost", "star", "bins")
# Measured on the extracted fixture texts: justice matches the five Rotherham pages, bins matches the bins page
# and the two that mention grooming gangs (so two articles belong to both watches).
JUSTICE = "(Rotherham OR IOPC) AND (abuse OR exploit*)"
BINS = "bins OR (grooming AND gangs)"
IN_JUSTICE = {"sky", "gb", "advertiser", "star", "ypost"}
IN_BINS = {"bins", "gb", "ypost"}


def _rss(base: str, names: tuple[str, ...], title: str) -> bytes:
    items = "\n".join(
        f"<item><title>{html.escape(n)} story</title><link>{base}{PAGES[n]}</link><guid>{n}</guid>"
        f"<description>Feed summary of {html.escape(n)}</description></item>"
        for n in names
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>{base}/</link>'
            f"{items}</channel></rss>").encode()


def serve_site(srv: ScriptedServer, feeds: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Route the fixture pages and the feeds (path -> page names) on srv; returns feed path -> URL."""
    base = srv.base_url
    for path in PAGES.values():
        body = (SEEDS / "fixtures" / MANIFEST[path]["file"]).read_text(encoding="utf-8").replace("__BASE__", base)
        srv.route(path, Reply(200, body=body.encode(), headers={"Content-Type": "text/html; charset=utf-8"}))
    for path, names in feeds.items():
        srv.route(path, Reply(200, body=_rss(base, names, path), headers={"Content-Type": "application/rss+xml"}))
    return {path: srv.url(path) for path in feeds}


def write_config(path: Path, watches: list[tuple[str, str, list[str]]], languages: str = "") -> Path:
    blocks = "".join(
        f'\n[[watches]]\nname = "{name}"\nquery = \'{query}\'\nfeeds = {json.dumps(feeds)}\n{languages}'
        for name, query, feeds in watches
    )
    path.write_text(textwrap.dedent(f"""
        digest_dir = "{path.parent / 'digests'}"
        [fetch]
        allow_private_networks = true
        per_host_delay_s = 0.0
        retries = 0
    """) + blocks)
    return path


def page_requests(srv: ScriptedServer) -> Counter:
    """GETs per page name (robots.txt and feeds left out)."""
    by_path = {p: n for n, p in PAGES.items()}
    return Counter(by_path[r.path] for r in srv.requests if r.path in by_path)


def name_of(url: str) -> str:
    return next(n for n, p in PAGES.items() if url.endswith(p))


def rows(db: str, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def members(db: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for watch, url in rows(db, "select w.watch, a.url from watch_articles w join articles a using (article_id)"):
        out.setdefault(watch, set()).add(name_of(url))
    return out


def test_two_watches_on_the_same_feeds_get_their_own_articles_skips_and_digests_with_one_fetch_per_page(
    tmp_path: Path,
) -> None:
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        feeds = [urls["/a.xml"], urls["/b.xml"]]
        cfg = load_config(str(write_config(tmp_path / "nw.toml", [("justice", JUSTICE, feeds), ("bins", BINS, feeds)])))
        db = str(tmp_path / "w.duckdb")
        out = tmp_path / "digests"
        report = run_monitor(cfg, db, out_dir=str(out))
        first = page_requests(srv)
        feed_polls = (len(srv.requests_for("/a.xml")), len(srv.requests_for("/b.xml")))
        again = run_monitor(cfg, db, out_dir=str(out), force=True)
        second = page_requests(srv)

    assert report.status == "succeeded", report.error
    # each page fetched (and so extracted) once although two watches list it, some of them through two feeds
    assert first == Counter({n: 1 for n in PAGES}), first
    assert feed_polls == (1, 1)
    assert second == first and again.counts["articles_new"] == 0
    # every page matched some watch, so all six are stored once
    assert len(rows(db, "select article_id from articles")) == 6
    assert members(db) == {"justice": IN_JUSTICE, "bins": IN_BINS}
    # the query terms found are recorded: why the article matched
    terms = dict(rows(db, "select a.url, w.matched_terms from watch_articles w join articles a using (article_id) "
                          "where w.watch = 'bins'"))
    assert {name_of(u): set(t) for u, t in terms.items()} == {
        "bins": {"bins"}, "gb": {"grooming", "gangs"}, "ypost": {"grooming", "gangs"}}
    # an article in two watches is listed with both in the articles view
    both = {name_of(u): w for u, w in rows(db, "select url, watches from articles")}
    assert both["gb"] == ["bins", "justice"] and both["sky"] == ["justice"] and both["bins"] == ["bins"]
    # off-topic skips carry the watch that judged the page
    off = Counter((w, name_of(u)) for u, w in rows(db, "select url, watch from skips where reason = 'off_topic'"))
    assert off == Counter({("justice", "bins"): 1, ("bins", "sky"): 1, ("bins", "advertiser"): 1, ("bins", "star"): 1})
    per_watch = {w: (m, o) for w, m, o in rows(db, "select watch, matched, off_topic from run_watches "
                                                  "where run_id = ?", [report.run_id])}
    assert per_watch == {"justice": (5, 1), "bins": (3, 3)}
    # the run's total counts a page once per watch that found it off topic
    assert rows(db, "select off_topic from runs where run_id = ?", [report.run_id]) == [(4,)]
    # each watch's digest carries its own articles, and was written to files through the real digest path
    told: dict[str, set[str]] = {}
    for watch, url in rows(db, "select d.watch, a.url from digest_articles d join articles a using (article_id)"):
        told.setdefault(watch, set()).add(name_of(url))
    assert told == {"justice": IN_JUSTICE, "bins": IN_BINS}
    assert {d.watch: d.status for d in report.digests} == {"justice": "written", "bins": "written"}
    assert {p.name.split("-", 1)[0] for p in out.glob("*.eml")} == {"justice", "bins"}
    assert all(d.status == "empty" for d in again.digests)


def test_a_watch_added_later_sees_the_stored_articles_that_match_it_without_a_refetch(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        feeds = [urls["/a.xml"], urls["/b.xml"]]
        db = str(tmp_path / "w.duckdb")
        one = load_config(str(write_config(tmp_path / "one.toml", [("justice", JUSTICE, feeds)])))
        run_monitor(one, db, digest=False)
        before = page_requests(srv)
        two = load_config(str(write_config(tmp_path / "two.toml", [("justice", JUSTICE, feeds), ("bins", BINS, feeds)])))
        report = run_monitor(two, db, digest=False)  # the feeds are not due: only the catch-up finds articles
        after = page_requests(srv)
        third = run_monitor(two, db, digest=False)

    assert after == before == Counter({n: 1 for n in PAGES})
    # the bins page matched no watch the first time, so it was never stored: a later watch cannot see it
    assert members(db) == {"justice": IN_JUSTICE, "bins": IN_BINS - {"bins"}}
    assert report.watch_counts[("bins", "judged_stored")] == 5 and report.watch_counts[("bins", "matched")] == 2
    assert report.watch_counts[("justice", "judged_stored")] == 0  # its query was already applied
    assert third.watch_counts[("bins", "judged_stored")] == 0  # done once per query, not every run


def test_a_page_stored_for_one_watch_is_judged_for_another_watch_whose_feed_lists_it_later(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        db = str(tmp_path / "w.duckdb")
        cfg = load_config(str(write_config(tmp_path / "nw.toml", [("justice", JUSTICE, [urls["/a.xml"]]),
                                                                  ("bins", BINS, [urls["/b.xml"]])])))
        run_monitor(cfg, db, watch_names=["justice"], digest=False)  # stores sky, gb, advertiser, ypost
        report = run_monitor(cfg, db, watch_names=["bins"], digest=False)  # b lists gb and ypost again
        fetched = page_requests(srv)

    assert fetched == Counter({n: 1 for n in PAGES})  # gb and ypost were not fetched again for bins
    assert report.counts["entries_known_elsewhere"] == 2
    assert members(db) == {"justice": {"sky", "gb", "advertiser", "ypost"}, "bins": IN_BINS}
    # the star page (feed b only) was judged by bins alone, off topic; justice never saw it
    off = {(w, name_of(u)) for u, w in rows(db, "select url, watch from skips where reason = 'off_topic'")}
    assert off == {("bins", "star")}


def test_a_warehouse_made_before_watch_articles_keeps_its_articles_in_their_watch(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        feeds = [urls["/a.xml"], urls["/b.xml"]]
        db = str(tmp_path / "old.duckdb")
        one = load_config(str(write_config(tmp_path / "one.toml", [("justice", JUSTICE, feeds)])))
        run_monitor(one, db, digest=False)
        # back to the schema state before watch_articles: no table, no backfill mark, no applied query
        con = connect(db)
        try:
            con.execute("DROP VIEW watch_articles")
            con.execute("DROP VIEW articles")
            con.execute("DROP VIEW figure_history")
            con.execute("DROP TABLE core.watch_articles")
            # (and an older schema: its hash differs, so the next writer applies warehouse/sql again)
            con.execute("DELETE FROM core.meta WHERE key IN ('watch_articles_backfilled', 'schema_hash') "
                        "OR key LIKE 'watch_query:%'")
        finally:
            con.close()
        connect(db).close()  # a writer's connection migrates (warehouse/sql/12_watches.sql backfills once)
        backfilled = rows(db, "select watch, matched_terms from watch_articles")
        two = load_config(str(write_config(tmp_path / "two.toml", [("justice", JUSTICE, feeds), ("bins", BINS, feeds)])))
        report = run_monitor(two, db, out_dir=str(tmp_path / "digests"))
        fetched = page_requests(srv)

    assert sorted(backfilled) == [("justice", None)] * 5
    assert members(db) == {"justice": IN_JUSTICE, "bins": IN_BINS - {"bins"}}
    assert fetched == Counter({n: 1 for n in PAGES})
    assert {d.watch: (d.status, d.items > 0) for d in report.digests} == {
        "justice": ("written", True), "bins": ("written", True)}


def test_ingest_applies_the_named_watch_query_only(tmp_path: Path) -> None:
    files = [SEEDS / "fixtures" / MANIFEST[PAGES[n]]["file"] for n in ("bins", "sky", "gb")]
    cfg = load_config(str(write_config(tmp_path / "nw.toml", [("justice", JUSTICE, []), ("bins", BINS, [])])))
    db = str(tmp_path / "i.duckdb")
    report = ingest_sources(cfg, db, cfg.watch("bins"), [str(f) for f in files])
    assert report.status == "succeeded"
    assert {w for (w,) in rows(db, "select distinct watch from watch_articles")} == {"bins"}
    assert len(rows(db, "select * from watch_articles")) == 2
    assert rows(db, "select watch, count(*) from skips where reason = 'off_topic' group by 1") == [("bins", 1)]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "2"})


def test_reprocess_judges_stored_articles_for_a_new_watch_and_unknown_watches_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    with ScriptedServer() as srv:
        urls = serve_site(srv, {"/a.xml": FEED_A, "/b.xml": FEED_B})
        feeds = [urls["/a.xml"], urls["/b.xml"]]
        run_monitor(load_config(str(write_config(tmp_path / "one.toml", [("justice", JUSTICE, feeds)]))), str(db),
                    digest=False)
        two = write_config(tmp_path / "two.toml", [("justice", JUSTICE, feeds), ("bins", BINS, feeds)])
    # no server needed: reprocess judges what is stored, it fetches nothing
    out = _cli("reprocess", "--config", str(two), "--db", str(db), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "watch bins: judged 5 stored article(s) it had not matched, 2 now match" in out.stdout, out.stdout
    assert members(str(db)) == {"justice": IN_JUSTICE, "bins": IN_BINS - {"bins"}}
    files = [SEEDS / "fixtures" / MANIFEST[PAGES["sky"]]["file"]]
    for args in (("run", "--config", str(two), "--db", str(db), "--watch", "nope"),
                 ("digest", "--config", str(two), "--db", str(db), "--watch", "nope"),
                 ("ingest", "--config", str(two), "--db", str(db), "--watch", "nope", str(files[0]))):
        bad = _cli(*args, cwd=tmp_path)
        assert bad.returncode == 2, (args, bad.stderr)
        assert bad.stderr.count("\n") == 1 and "nope" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
