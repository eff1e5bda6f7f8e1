"""A run's poll reads the feed states in a fixed number of queries, however many feeds it polls, new ones
included (a feed never polled used to cost a state query of its own in record_poll: 1,000 new feeds, 1,000
queries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import pipeline
from tests.nwtest import make_config
from tests.support.httpserver import Reply, ScriptedServer
from warehouse import feeds as feed_store
from warehouse.db import session

EMPTY_FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title>'
              b'<link>https://example.org/</link></channel></rss>')


def _state_queries(tmp_path: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(get_feed_states calls, feeds recorded) for a first poll of n new feeds."""
    real = feed_store.get_feed_states
    calls: list[int] = []

    def counting(con, urls):  # the real function, counted
        calls.append(len(urls))
        return real(con, urls)

    config = make_config()
    db = str(tmp_path / f"nw{n}.duckdb")
    with ScriptedServer() as srv:
        urls = []
        for i in range(n):
            srv.route(f"/f{i}.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=EMPTY_FEED))
            urls.append(srv.url(f"/f{i}.xml"))
        run_id = pipeline.begin_run(db, "run", ["w"])
        monkeypatch.setattr(feed_store, "get_feed_states", counting)
        try:
            pipeline.poll_feeds(db, run_id, {u: ("w",) for u in urls}, config.fetch, disable_after=5, force=True)
        finally:
            monkeypatch.setattr(feed_store, "get_feed_states", real)
        with session(db) as con:
            recorded = len(real(con, urls))
    return len(calls), recorded


def test_the_state_queries_of_a_first_poll_do_not_grow_with_the_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    few, recorded_few = _state_queries(tmp_path, 2, monkeypatch)
    many, recorded_many = _state_queries(tmp_path, 8, monkeypatch)
    assert (recorded_few, recorded_many) == (2, 8)  # every feed's first poll was recorded
    assert few == many, (few, many)
