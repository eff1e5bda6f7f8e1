"""The `newswatch` command as a user runs it (a real subprocess): outputs, formats, and the error paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.nwtest import REPO, SEEDS

SEED_TXT = sorted(SEEDS.glob("00*.txt"))


def nw(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "newswatch.cli", *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


def assert_one_line_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def ingested_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    p = nw("ingest", "--db", str(db), "--watch", "seeds", *map(str, SEED_TXT))
    assert p.returncode == 0, p.stderr
    assert "articles new 5" in p.stdout
    return db


def test_ingest_text_files_uses_file_uris_and_first_line_titles(ingested_db: Path) -> None:
    p = nw("sql", "--db", str(ingested_db), "--format", "json", "select url, title, watch from articles order by url")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert [r["url"] for r in rows] == [f.resolve().as_uri() for f in SEED_TXT]
    assert rows[0]["title"].startswith("Senior South Yorkshire police officers to be investigated")
    assert {r["watch"] for r in rows} == {"seeds"}


def test_ingest_again_adds_nothing(ingested_db: Path, tmp_path: Path) -> None:
    before = nw("sql", "--db", str(ingested_db), "--format", "csv", "select count(*) as n from core.article_revisions")
    p = nw("ingest", "--db", str(ingested_db), "--watch", "seeds", *map(str, SEED_TXT))
    assert p.returncode == 0, p.stderr
    assert "articles new 0" in p.stdout and "unchanged 5" in p.stdout
    after = nw("sql", "--db", str(ingested_db), "--format", "csv", "select count(*) as n from core.article_revisions")
    assert before.stdout == after.stdout == "n\n5\n"


def test_ingest_a_folder_reads_text_and_html_files_and_skips_others(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    for f in SEED_TXT[:2]:
        (folder / f.name).write_bytes(f.read_bytes())
    page = next((SEEDS / "fixtures" / "site" / "www.gbnews.com").rglob("*.html"))
    (folder / "sub" / "page.html").write_text(page.read_text(encoding="utf-8").replace("__BASE__", "https://example.org"))
    (folder / "notes.md").write_text("# not an article\n")
    db = tmp_path / "f.duckdb"
    p = nw("ingest", "--db", str(db), str(folder))
    assert p.returncode == 0, p.stderr
    q = nw("sql", "--db", str(db), "--format", "json", "select source, title from articles order by title")
    rows = json.loads(q.stdout)
    assert len(rows) == 3
    assert {"source": "GB News", "title": "Senior officers ‘failed to protect children’ in Rotherham, police watchdog says"} in rows


def test_ingested_seeds_group_copies(ingested_db: Path) -> None:
    p = nw("sql", "--db", str(ingested_db), "--format", "json",
           "select url, syndication_id, story_id from articles order by url")
    rows = json.loads(p.stdout)
    synd = [r["syndication_id"] for r in rows]
    assert synd[1] == synd[2] and len(set(synd)) == 4


def test_sql_formats(ingested_db: Path) -> None:
    q = "select 1 as n, 'a,b' as s, NULL as z"
    table = nw("sql", "--db", str(ingested_db), q)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["n", "|", "s", "|", "z"]
    assert "NULL" in table.stdout and "(1 row)" in table.stdout
    csv_out = nw("sql", "--db", str(ingested_db), "--format", "csv", q)
    assert csv_out.stdout == 'n,s,z\n1,"a,b",\n'
    js = nw("sql", "--db", str(ingested_db), "--format", "json", q)
    assert json.loads(js.stdout) == [{"n": 1, "s": "a,b", "z": None}]
    empty = nw("sql", "--db", str(ingested_db), "--format", "json", "select 1 as n where false")
    assert json.loads(empty.stdout) == []


def test_sql_uses_newswatch_db_from_the_environment(ingested_db: Path, tmp_path: Path) -> None:
    p = nw("sql", "select count(*) from articles", cwd=tmp_path, env={"NEWSWATCH_DB": str(ingested_db)})
    assert p.returncode == 0, p.stderr
    assert " 5" in p.stdout or "5\n" in p.stdout


def test_bad_sql_is_one_line(ingested_db: Path) -> None:
    assert_one_line_error(nw("sql", "--db", str(ingested_db), "selec nothing"), "SQL error")


def test_sql_cannot_write(ingested_db: Path) -> None:
    assert_one_line_error(nw("sql", "--db", str(ingested_db), "delete from core.articles"), "SQL error")


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nw("sql", "--db", str(tmp_path / "nope.duckdb"), "select 1"), "does not exist")


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nw("run", "--config", str(tmp_path / "missing.toml"), "--db", str(tmp_path / "x.duckdb")),
                          "missing.toml", "does not exist")


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(textwrap.dedent("""
        [[watches]]
        name = "w"
        feedz = ["https://example.org/rss"]
    """))
    assert_one_line_error(nw("config", "check", "--config", str(cfg)), "feedz")
    cfg.write_text("[[watches]]\nname = 'w'\nfeeds = ['file:///etc/passwd']\n")
    assert_one_line_error(nw("config", "check", "--config", str(cfg)), "not an http(s) URL")
    cfg.write_text("this is not toml = = \n")
    assert_one_line_error(nw("config", "check", "--config", str(cfg)), "not valid TOML")


def test_unknown_watch_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nw("run", "--watch", "nope", "--db", str(tmp_path / "x.duckdb")), "no watch named 'nope'")


def test_missing_source_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(nw("ingest", "--db", str(tmp_path / "x.duckdb"), str(tmp_path / "missing.txt")),
                          "no such file")


def test_locked_database_is_one_line(ingested_db: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(30)",
         str(ingested_db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        # a writer (`newswatch sql` reads the read copy instead: it never waits for a run, see docs/trends.md)
        p = nw("reprocess", "--db", str(ingested_db))
        assert_one_line_error(p, "locked by another newswatch process")
        assert p.returncode == 75
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert nw("sql", "--db", str(ingested_db), "select 1").returncode == 0


def test_config_check_masks_the_smtp_password(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(textwrap.dedent("""
        [[watches]]
        name = "w"
        [smtp]
        host = "127.0.0.1"
        sender = "nw@example.org"
        username = "nw"
    """))
    p = nw("config", "check", "--config", str(cfg), env={"NEWSWATCH_SMTP_PASSWORD": "hunter2"})
    assert p.returncode == 0, p.stderr
    assert "hunter2" not in p.stdout
    assert json.loads(p.stdout)["smtp"]["password"] == "***"


def test_every_command_has_help() -> None:
    for cmd in (["run"], ["ingest"], ["sql"], ["digest"], ["reprocess"], ["snapshot"], ["config", "check"]):
        p = nw(*cmd, "--help")
        assert p.returncode == 0, cmd
        assert len(p.stdout.split("\n\n")[1].strip()) > 20, cmd  # a real description, not an empty stub
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for cmd in ("newswatch run", "newswatch ingest", "newswatch sql", "newswatch digest", "newswatch reprocess",
                "newswatch snapshot", "newswatch config check"):
        assert cmd in docs, f"{cmd} is not documented in docs/cli.md"


def test_snapshot_writes_a_readable_copy(ingested_db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "snap" / "copy.duckdb"
    p = nw("snapshot", "--db", str(ingested_db), str(dest))
    assert p.returncode == 0, p.stderr
    q = nw("sql", "--db", str(dest), "--format", "csv", "select count(*) as n from articles")
    assert q.stdout == "n\n5\n"
    assert [f.name for f in dest.parent.iterdir()] == ["copy.duckdb"]  # no temporary file left


def test_a_bad_watch_query_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "q.toml"
    cfg.write_text('[[watches]]\nname = "w"\nquery = \'(Rotherham AND\'\n')
    assert_one_line_error(nw("config", "check", "--config", str(cfg)), "watch 'w': query")


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder nothing can be written in. As root (the test machine) permission bits do not stop writes, so it is
    a path under a regular file, which cannot be created by anyone; otherwise a real chmod 0555 folder."""
    if os.geteuid() != 0:
        d = tmp_path / "read-only"
        d.mkdir()
        d.chmod(0o555)
        return d
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder\n")
    return blocker / "out"


@pytest.mark.parametrize("command", ["run", "ingest", "snapshot", "digest --out"])
def test_a_folder_that_cannot_be_written_is_one_line(command: str, ingested_db: Path, tmp_path: Path) -> None:
    ro = _unwritable_folder(tmp_path)
    args = {
        "run": ["run", "--no-digest", "--db", str(ro / "nw.duckdb")],
        "ingest": ["ingest", "--db", str(ro / "nw.duckdb"), str(SEED_TXT[0])],
        "snapshot": ["snapshot", "--db", str(ingested_db), str(ro / "copy.duckdb")],
        "digest --out": ["digest", "--db", str(ingested_db), "--watch", "seeds", "--out", str(ro)],
    }[command]
    p = nw(*args)
    assert_one_line_error(p, str(ro))
    assert p.returncode in (2, 3)


def test_sql_runs_every_shipped_example_from_a_file_with_its_title_as_heading(ingested_db: Path) -> None:
    examples = sorted((REPO / "warehouse" / "examples").glob("*.sql"))
    assert len(examples) >= 3
    for f in examples:
        title = f.read_text(encoding="utf-8").splitlines()[0].removeprefix("--").strip()
        p = nw("sql", "--db", str(ingested_db), "--file", str(f))
        assert p.returncode == 0, (f.name, p.stderr)
        assert p.stdout.splitlines()[0] == title, (f.name, p.stdout[:200])
        assert p.stdout.rstrip().endswith(("row)", "rows)")), f.name


def test_sql_reads_the_query_from_stdin_and_as_an_argument_starting_with_a_comment(ingested_db: Path) -> None:
    text = (REPO / "warehouse" / "examples" / "core_articles_by_source.sql").read_text(encoding="utf-8")
    full_env = {**os.environ, "NEWSWATCH_LOCK_TIMEOUT": "2"}
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "sql", "--db", str(ingested_db), "-"], input=text,
                       cwd=REPO, env=full_env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == text.splitlines()[0].removeprefix("--").strip()
    q = nw("sql", "--db", str(ingested_db), text)  # the README's "$(cat file)" form
    assert q.returncode == 0, q.stderr
    assert q.stdout == p.stdout
    assert_one_line_error(nw("sql", "--db", str(ingested_db), "--file", "missing.sql"), "no such query file")


def test_ingest_of_an_empty_folder_says_nothing_could_be_ingested(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    p = nw("ingest", "--db", str(tmp_path / "e.duckdb"), str(tmp_path / "empty"))
    assert p.returncode == 1, p.stdout + p.stderr
    assert_one_line_error(p, "nothing could be ingested", "no .txt, .html or feed file")


def test_ingest_of_unsupported_files_says_why_and_records_them_as_skips(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    db = tmp_path / "u.duckdb"
    p = nw("ingest", "--db", str(db), str(folder))
    assert p.returncode == 1, p.stdout + p.stderr
    assert_one_line_error(p, "nothing could be ingested", "2 file(s) of unsupported type (.docx, .pdf)")
    q = nw("sql", "--db", str(db), "--format", "json",
           "select s.url, s.reason, r.status from skips s join runs r using (run_id) order by s.url")
    rows = json.loads(q.stdout)
    assert [(r["url"].rsplit("/", 1)[-1], r["reason"], r["status"]) for r in rows] == [
        ("notes.docx", "unsupported", "failed"), ("report.pdf", "unsupported", "failed")]


def test_articles_ingested_without_a_config_can_be_digested_under_their_watch(tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    p = nw("ingest", "--db", str(db), *map(str, SEED_TXT[:2]))
    assert p.returncode == 0, p.stderr
    assert "newswatch digest --watch default" in p.stdout
    out = tmp_path / "out"
    d = nw("digest", "--db", str(db), "--watch", "default", "--out", str(out))
    assert d.returncode == 0, d.stderr
    assert "digest default: " in d.stdout and " written" in d.stdout
    assert sorted(f.suffix for f in out.iterdir()) == [".eml", ".html"]
    # a watch neither in the config nor in the warehouse is still an error that names what exists
    assert_one_line_error(nw("digest", "--db", str(db), "--watch", "nope"), "no watch named 'nope'",
                          "the database has articles for default")
