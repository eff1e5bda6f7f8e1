"""`[run] workers` unset: a run with at least AUTO_POOL_MIN_PAGES pages to fetch uses the worker pool on every core
(at most 4), a smaller run stays in the main process (issue 9 §3, "both cores busy" without a setting).
Real `newswatch run` subprocesses against a loopback site."""

from __future__ import annotations

import html
from pathlib import Path

from newswatch.config import (
    AUTO_POOL_MIN_PAGES,
    MAX_DEFAULT_WORKERS,
    RunSettings,
    default_workers,
    suggested_workers,
)
from tests.nwtest import cli_run
from tests.support.httpserver import Reply, ScriptedServer
from tests.test_watches import write_config
from warehouse.db import connect

WORDS = ("council", "river", "bridge", "school", "harbour", "library", "market", "station", "museum", "park")


def test_the_default_follows_the_pages_to_fetch():
    assert 1 <= suggested_workers() <= MAX_DEFAULT_WORKERS
    assert default_workers() == 1  # the count unknown: one process
    assert default_workers(0) == default_workers(AUTO_POOL_MIN_PAGES - 1) == 1
    assert default_workers(AUTO_POOL_MIN_PAGES) == default_workers(10_000) == suggested_workers()
    assert RunSettings().effective_workers(AUTO_POOL_MIN_PAGES) == suggested_workers()
    assert RunSettings(workers=1).effective_workers(10_000) == 1  # a setting always wins
    assert RunSettings(workers=3).effective_workers(2) == 3


def _page(i: int) -> bytes:
    a, b = WORDS[i % len(WORDS)], WORDS[(i // len(WORDS)) % len(WORDS)]
    paras = "".join(
        f"<p>Residents of Town {i} met on Tuesday to discuss the {a} and the {b}, paragraph {k}. The plan for the "
        f"{a} was presented by the mayor, who said work would start in spring and cost {i * 10 + k} thousand.</p>"
        for k in range(4)
    )
    return (f"<html><head><title>Town {i}: the {a} and the {b}</title></head><body><article>"
            f"<h1>Town {i}: the {a} and the {b}</h1>{paras}</article></body></html>").encode()


def _feed(srv: ScriptedServer, name: str, pages: range) -> str:
    items = "".join(f"<item><title>Town {i}</title><link>{html.escape(srv.url(f'/{name}/{i}.html'))}</link>"
                    f"<guid>{name}-{i}</guid></item>" for i in pages)
    for i in pages:
        srv.route(f"/{name}/{i}.html", Reply(200, body=_page(i), headers={"Content-Type": "text/html; charset=utf-8"}))
    srv.route(f"/{name}.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>').encode()))
    return srv.url(f"/{name}.xml")


def _run(folder: Path, feed: str) -> tuple[str, str]:
    folder.mkdir()
    cfg = write_config(folder / "nw.toml", [("all", "", [feed])])  # no [run] table: workers unset
    db = str(folder / "nw.duckdb")
    return db, cli_run(cfg, db)


def _stored(db: str) -> int:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM core.articles").fetchone()[0]
    finally:
        con.close()


def test_a_large_run_uses_the_pool_and_a_small_one_does_not(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        big = _feed(srv, "big", range(AUTO_POOL_MIN_PAGES))
        small = _feed(srv, "small", range(1000, 1003))
        big_db, big_log = _run(tmp_path / "big", big)
        small_db, small_log = _run(tmp_path / "small", small)
    pool = f"{suggested_workers()} process(es) (pool)"
    if suggested_workers() > 1:
        assert pool in big_log, big_log
    else:  # a one-core machine has no pool to start
        assert "(pool)" not in big_log, big_log
    assert "(pool)" not in small_log, small_log
    assert _stored(big_db) == AUTO_POOL_MIN_PAGES and _stored(small_db) == 3
