"""`newswatch feeds` as a user runs it (real subprocesses, a real DuckDB file, a loopback feed server): list,
enable, disable, check, import, export, and the bad-input paths (one line, non-zero exit, nothing changed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.opml import parse_opml
from newswatch.config import load_config
from newswatch.models import FetchResult
from tests.support.httpserver import Reply, ScriptedServer
from warehouse.db import connect
from warehouse.feeds import get_feed_states, record_poll

REPO = Path(__file__).parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)


def nw(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "2", "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "1",
                "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("NEWSWATCH_CONFIG", None)
    full_env.pop("NEWSWATCH_DB", None)
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)


def one_line_error(p: subprocess.CompletedProcess, *needles: str) -> str:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def rss(now: datetime = NOW) -> bytes:
    items = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title><link>https://news.example.org/{i}</link>"
        f"<pubDate>{(now - timedelta(hours=i)):%a, %d %b %Y %H:%M:%S GMT}</pubDate></item>" for i in range(3)
    )
    return (f'<rss version="2.0"><channel><title>Loopback News</title><ttl>180</ttl>{items}</channel></rss>').encode()


@pytest.fixture()
def srv() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        s.route("/justice.xml", Reply(200, body=rss(), headers={"Content-Type": "application/rss+xml",
                                                                 "Cache-Control": "max-age=600"}))
        s.route("/climate.xml", Reply(200, body=rss(), headers={"Content-Type": "application/rss+xml"}))
        s.route("/page.html", Reply(200, body=b"<!doctype html><html><head><title>x</title></head><body>hi</body>"
                                                b"</html>", headers={"Content-Type": "text/html"}))
        yield s


@pytest.fixture()
def site(tmp_path: Path, srv: ScriptedServer) -> dict:
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(textwrap.dedent(f"""\
        # two watches sharing one feed
        [[watches]]
        name = "justice"  # courts and police
        query = "police"
        feeds = [
            "{srv.url('/justice.xml')}",  # the justice feed
            "{srv.url('/shared.xml')}"
        ]

        [[watches]]
        name = "climate"
        feeds = ["{srv.url('/climate.xml')}", "{srv.url('/shared.xml')}"]
        """), encoding="utf-8")
    return {"dir": tmp_path, "config": cfg, "db": tmp_path / "nw.duckdb", "srv": srv}


def _record(db: Path, url: str, result: FetchResult) -> None:
    con = connect(db)
    try:
        record_poll(con, feed_url=url, watch="justice", result=result, parsed=None, new_entries=0, run_id="r1",
                    disable_after=10, now=NOW)
    finally:
        con.close()


def _feed_state_rows(db: Path) -> list:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT * FROM core.feed_state ORDER BY feed_url").fetchall()
    finally:
        con.close()


def _args(site: dict, *args: str) -> list[str]:
    return [*args, "--config", str(site["config"]), "--db", str(site["db"])]


# ---- list -------------------------------------------------------------------------------------------------


def test_list_before_any_run_shows_every_configured_feed(site: dict) -> None:
    p = nw("feeds", "list", "--config", str(site["config"]), "--db", str(site["db"]), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    header = [c.strip() for c in p.stdout.splitlines()[0].split(" | ")]
    assert header == ["watch", "feed_url", "health", "last_poll", "next_poll", "failures", "disabled_reason"]
    assert p.stdout.count("never_polled") == 4 and "(4 rows)" in p.stdout
    assert not site["db"].exists()  # listing never creates a warehouse


def test_list_formats_and_watch_filter_show_health_and_schedule(site: dict) -> None:
    srv = site["srv"]
    gone = srv.url("/shared.xml")
    _record(site["db"], gone, FetchResult(url=gone, final_url=gone, status="gone", http_status=410))
    ok_url = srv.url("/justice.xml")
    _record(site["db"], ok_url, FetchResult(url=ok_url, final_url=ok_url, status="not_modified", http_status=304,
                                            cache_control="max-age=7200"))
    p = nw("feeds", "list", *_args(site, "--format", "json", "--watch", "justice"), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    rows = {r["feed_url"]: r for r in json.loads(p.stdout)}
    assert set(rows) == {ok_url, gone}
    assert rows[gone]["health"] == "disabled" and rows[gone]["disabled_reason"].startswith("HTTP 410 Gone")
    assert rows[gone]["failures"] == 1
    assert rows[ok_url]["health"] == "quiet" and rows[ok_url]["interval_source"] == "http_cache"
    assert rows[ok_url]["poll_interval_s"] == 7200
    assert datetime.fromisoformat(rows[ok_url]["next_poll"]) == NOW + timedelta(hours=2)
    c = nw("feeds", "list", *_args(site, "--format", "csv"), cwd=site["dir"])
    header = c.stdout.splitlines()[0].split(",")
    assert header[:7] == ["watch", "feed_url", "health", "last_poll", "next_poll", "failures", "disabled_reason"]
    assert len(c.stdout.splitlines()) == 5  # the shared feed once per watch
    t = nw("feeds", "list", *_args(site), cwd=site["dir"])
    assert "HTTP 410 Gone" in t.stdout and "disabled" in t.stdout


def test_list_an_unknown_watch_is_one_line(site: dict) -> None:
    one_line_error(nw("feeds", "list", *_args(site, "--watch", "sport"), cwd=site["dir"]), "no watch named 'sport'")


# ---- enable / disable ----------------------------------------------------------------------------------------


def test_disable_then_enable_by_hand(site: dict) -> None:
    url = site["srv"].url("/climate.xml")
    p = nw("feeds", "disable", *_args(site, url, "--reason", "too noisy"), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    st = get_feed_states(connect(site["db"], read_only=True), [url])[url]
    assert st.disabled and st.disabled_reason.endswith(": too noisy") and "by hand" in st.disabled_reason
    again = nw("feeds", "disable", *_args(site, url), cwd=site["dir"])
    assert again.returncode == 0 and "already disabled" in again.stdout
    p = nw("feeds", "enable", *_args(site, url), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    assert "enabled (was disabled: disabled by hand" in p.stdout
    con = connect(site["db"], read_only=True)
    try:
        st = get_feed_states(con, [url])[url]
    finally:
        con.close()
    assert not st.disabled and st.next_poll_at is None and st.consecutive_failures == 0


def test_enable_after_410_makes_the_feed_due_again(site: dict) -> None:
    url = site["srv"].url("/shared.xml")
    _record(site["db"], url, FetchResult(url=url, final_url=url, status="gone", http_status=410))
    p = nw("feeds", "enable", *_args(site, url), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    assert "HTTP 410 Gone" in p.stdout
    assert nw("feeds", "enable", *_args(site, url), cwd=site["dir"]).stdout.strip().endswith("(nothing changed)")


def test_enable_accepts_the_address_a_feed_moved_to(site: dict) -> None:
    url, moved = site["srv"].url("/climate.xml"), site["srv"].url("/new/climate.xml")
    _record(site["db"], url, FetchResult(url=url, final_url=moved, status="timeout", permanent_redirect=moved))
    p = nw("feeds", "disable", *_args(site, moved), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    assert f"feed {url} disabled" in p.stdout  # the configured URL, the key users know


@pytest.mark.parametrize("command", ["enable", "disable"])
def test_a_feed_in_no_watch_is_one_line_and_nothing_changes(site: dict, command: str) -> None:
    url = site["srv"].url("/justice.xml")
    _record(site["db"], url, FetchResult(url=url, final_url=url, status="gone", http_status=410))
    before = _feed_state_rows(site["db"])
    p = nw("feeds", command, *_args(site, "https://elsewhere.example/feed.xml"), cwd=site["dir"])
    one_line_error(p, "https://elsewhere.example/feed.xml is in no watch", "nothing changed")
    assert p.returncode == 2
    assert _feed_state_rows(site["db"]) == before


# ---- check ---------------------------------------------------------------------------------------------------


def test_check_polls_once_prints_and_stores_nothing(site: dict) -> None:
    url = site["srv"].url("/justice.xml")
    p = nw("feeds", "check", "--config", str(site["config"]), url, cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith(f"feed {url}: ok (HTTP 200, application/rss+xml")
    assert "format rss20, title 'Loopback News', 3 entries, 0 warning(s)" in out
    assert "the feed asks: ttl 180 -> every 3 h" in out
    assert "Story 0  https://news.example.org/0" in out
    assert "next poll after a first poll like this one: in 3 h (feed_hint)" in out
    assert len(site["srv"].requests_for("/justice.xml")) == 1
    assert not site["db"].exists() and not (site["dir"] / "newswatch.duckdb").exists()


@pytest.mark.parametrize(("path", "needle"), [("/missing.xml", "http_error (HTTP 404)"), ("/page.html", "not a feed")])
def test_check_a_broken_feed_prints_why_and_exits_non_zero(site: dict, path: str, needle: str) -> None:
    p = nw("feeds", "check", "--config", str(site["config"]), site["srv"].url(path), cwd=site["dir"])
    one_line_error(p, needle)


# ---- import / export ---------------------------------------------------------------------------------------

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>reader</title></head><body>
  <outline text="News">
    <outline type="rss" text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
    <outline type="rss" text="Already there" xmlUrl="{existing}"/>
    <outline type="rss" text="Star" xmlUrl="https://www.thestar.co.uk/rss"/>
  </outline>
</body></opml>
"""


def test_import_prints_the_lines_to_add_and_changes_nothing(site: dict) -> None:
    opml = site["dir"] / "subs.opml"
    opml.write_text(OPML.format(existing=site["srv"].url("/justice.xml")), encoding="utf-8")
    before = site["config"].read_bytes()
    p = nw("feeds", "import", "--config", str(site["config"]), "--watch", "justice", str(opml), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    assert "2 feed(s) of" in p.stdout and "(1 already in it)" in p.stdout
    assert '    "https://feeds.bbci.co.uk/news/rss.xml",  # BBC' in p.stdout.splitlines()
    assert site["config"].read_bytes() == before


def test_import_write_edits_the_config_keeping_comments(site: dict) -> None:
    opml = site["dir"] / "subs.opml"
    opml.write_text(OPML.format(existing=site["srv"].url("/justice.xml")), encoding="utf-8")
    before = site["config"].read_text(encoding="utf-8")
    args = ("feeds", "import", "--config", str(site["config"]), "--watch", "justice", "--write", str(opml))
    p = nw(*args, cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    after = site["config"].read_text(encoding="utf-8")
    for comment in ("# two watches sharing one feed", "# courts and police", "# the justice feed"):
        assert comment in after
    assert Path(f"{site['config']}.bak").read_text(encoding="utf-8") == before
    cfg = load_config(site["config"])
    assert cfg.watch("justice").feeds[-2:] == ["https://feeds.bbci.co.uk/news/rss.xml", "https://www.thestar.co.uk/rss"]
    assert cfg.watch("climate").feeds == load_config(Path(f"{site['config']}.bak")).watch("climate").feeds
    again = nw(*args, cwd=site["dir"])
    assert again.returncode == 0 and "already in watch 'justice'; nothing to add" in again.stdout
    assert site["config"].read_text(encoding="utf-8") == after


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("<html><body>my subscriptions</body></html>", "not an OPML file: the root element is <html>"),
        ("https://a.example/feed\nhttps://b.example/feed\n", "not an OPML file: not well-formed XML"),
        ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "y">]><opml/>', "not an OPML file: it declares a DTD"),
        ('<opml version="2.0"><body><outline text="folder"/></body></opml>', "no feed outlines"),
    ],
)
def test_import_of_what_is_not_opml_is_one_line_and_changes_nothing(site: dict, content: str, needle: str) -> None:
    bad = site["dir"] / "subs.opml"
    bad.write_text(content, encoding="utf-8")
    before = site["config"].read_bytes()
    p = nw("feeds", "import", "--config", str(site["config"]), "--watch", "justice", "--write", str(bad),
           cwd=site["dir"])
    one_line_error(p, needle)
    assert site["config"].read_bytes() == before and not Path(f"{site['config']}.bak").exists()


def test_import_needs_a_watch_when_there_are_several_and_a_file_to_write(site: dict) -> None:
    opml = site["dir"] / "subs.opml"
    opml.write_text(OPML.format(existing="https://x.example/"), encoding="utf-8")
    one_line_error(nw("feeds", "import", "--config", str(site["config"]), str(opml), cwd=site["dir"]),
                   "several watches (justice, climate); name one with --watch")
    one_line_error(nw("feeds", "import", "--write", str(opml), cwd=site["dir"]), "--write needs a config file")
    one_line_error(nw("feeds", "import", "--config", str(site["config"]), "--watch", "x", str(opml), cwd=site["dir"]),
                   "no watch named 'x'")
    one_line_error(nw("feeds", "import", "--config", str(site["config"]), str(site["dir"] / "none.opml"),
                      cwd=site["dir"]), "none.opml: cannot be read")


def test_export_round_trips_through_import(site: dict) -> None:
    url = site["srv"].url("/justice.xml")
    con = connect(site["db"])
    try:
        from extractors.feeds import parse_feed

        r = FetchResult(url=url, final_url=url, status="ok", http_status=200, body=rss(),
                        content_type="application/rss+xml")
        record_poll(con, feed_url=url, watch="justice", result=r, parsed=parse_feed(r.body, url, r.content_type),
                    new_entries=3, run_id="r1", disable_after=10, now=NOW)
    finally:
        con.close()
    out = site["dir"] / "export.opml"
    p = nw("feeds", "export", *_args(site, "--out", str(out)), cwd=site["dir"])
    assert p.returncode == 0, p.stderr
    assert "wrote 4 feed(s) of 2 watch(es)" in p.stdout
    doc = parse_opml(out.read_bytes())
    assert [(f.url, f.title, f.folders) for f in doc.feeds] == [
        (url, "Loopback News", ("justice",)),
        (site["srv"].url("/shared.xml"), site["srv"].url("/shared.xml"), ("justice",)),
        (site["srv"].url("/climate.xml"), site["srv"].url("/climate.xml"), ("climate",)),
    ]  # the shared feed appears once: OPML readers key subscriptions by URL
    assert "listed twice" in doc.warnings[0]
    stdout = nw("feeds", "export", *_args(site, "--watch", "climate"), cwd=site["dir"])
    assert parse_opml(stdout.stdout.encode()).feeds[0].url == site["srv"].url("/climate.xml")


# ---- help and docs -----------------------------------------------------------------------------------------

COMMANDS = ("list", "enable", "disable", "check", "import", "export")


def test_every_feeds_command_has_help_and_is_documented() -> None:
    docs = (REPO / "docs" / "feeds.md").read_text(encoding="utf-8")
    for cmd in COMMANDS:
        p = nw("feeds", cmd, "--help", cwd=REPO)
        assert p.returncode == 0, (cmd, p.stderr)
        assert len(p.stdout.split("\n\n")[1].strip()) > 20, cmd
        assert f"newswatch feeds {cmd}" in docs, f"newswatch feeds {cmd} is not documented in docs/feeds.md"


def test_feeds_is_documented_in_docs_cli_md() -> None:
    # issue 12 "done when": `newswatch feeds` is documented in docs/cli.md (owned by the CLI's owner)
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "newswatch feeds" in docs


def test_import_into_a_single_watch_without_feeds_prints_a_whole_array(tmp_path: Path) -> None:
    cfg = tmp_path / "one.toml"
    cfg.write_text('[[watches]]\nname = "solo"  # nothing yet\n', encoding="utf-8")
    opml = tmp_path / "subs.opml"
    opml.write_text(OPML.format(existing="https://x.example/feed"), encoding="utf-8")
    p = nw("feeds", "import", "--config", str(cfg), str(opml), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    body = p.stdout.split("\n", 1)[1]
    assert body.startswith("feeds = [\n") and body.rstrip().endswith("]")
    w = nw("feeds", "import", "--config", str(cfg), "--write", str(opml), cwd=tmp_path)
    assert w.returncode == 0, w.stderr
    assert load_config(cfg).watch("solo").feeds == [
        "https://feeds.bbci.co.uk/news/rss.xml", "https://x.example/feed", "https://www.thestar.co.uk/rss"]
    assert "# nothing yet" in cfg.read_text(encoding="utf-8")
