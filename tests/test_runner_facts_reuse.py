"""The runner's facts reuse: syndicated copies (in the same batch as their original, or in a later one) take the
NER spans of the paragraphs they share, and the facts tables are those a run without reuse makes, row by row, with
the pages extracted in the main process (workers = 1) and in the worker pool (workers = 2)."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import extractors.facts.nlp as nlp_module
from flows import pipeline
from newswatch.config import load_config
from tests.support.httpserver import Reply, ScriptedServer
from tests.test_runner_equivalence import PER_RUN, differences
from tests.test_watches import write_config
from warehouse.db import connect

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
OUTLETS = ("Northern Echo", "Doncaster Free Press", "Wire Agency")


def seeds() -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each seed article."""
    out = []
    for p in sorted(SEEDS.glob("[0-9][0-9][0-9]_*.txt")):
        lines = [x.strip() for x in p.read_text(encoding="utf-8").split("\n")]
        lines = [x for x in lines if x]
        out.append((lines[0], lines[1:]))
    return out


def edited(pars: list[str], k: int) -> list[str]:
    """A syndicated copy: an outlet credit as a new lede, one paragraph dropped, one figure changed."""
    out = [f"LONDON ({OUTLETS[k % len(OUTLETS)]}) - This report was first published by a wire agency today."]
    out += pars[:2] + pars[3:]
    for i in range(3, len(out)):
        m = re.search(r"\b\d+\b", out[i])
        if m:
            out[i] = out[i][: m.start()] + str(int(m.group()) + 7 + k) + out[i][m.end() :]
            break
    return out


def page(title: str, pars: list[str]) -> bytes:
    body = "".join(f"<p>{html.escape(x)}</p>\n" for x in pars)
    return (f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body><article>"
            f"<h1>{html.escape(title)}</h1>\n{body}</article></body></html>").encode()


class CountingNlp:
    """The real pipeline, counting the characters NER is given in this process."""

    def __init__(self, nlp):
        self.nlp, self.chars = nlp, 0

    def pipe(self, texts, **kw):
        texts = list(texts)
        self.chars += sum(len(t) for t in texts)
        return self.nlp.pipe(texts, **kw)


def serve(srv: ScriptedServer) -> str:
    """Five originals and two copies of each of the first three, in an order that puts copies in the batch of
    their original and in later batches (batch size 3); returns the feed URL."""
    arts = seeds()
    order: list[tuple[str, str, list[str]]] = []
    for n, (title, pars) in enumerate(arts):
        order.append((f"/orig{n}", title, pars))
        if n < 3:
            order.append((f"/copy{n}a", title, edited(pars, n)))
    for n, (title, pars) in enumerate(arts[:3]):
        order.append((f"/copy{n}b", title, edited(pars, n + 3)))
    for path, title, pars in order:
        srv.route(path, Reply(200, body=page(title, pars), headers={"Content-Type": "text/html; charset=utf-8"}))
    # a publication time per entry: otherwise the fetch time (wall clock) stands in, in many views
    items = "".join(f"<item><title>{html.escape(t)}</title><link>{srv.url(p)}</link><guid>{p}</guid>"
                    f"<pubDate>Tue, 10 Jul 2018 {8 + k:02d}:00:00 GMT</pubDate></item>"
                    for k, (p, t, _) in enumerate(order))
    srv.route("/feed.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>').encode()))
    return srv.url("/feed.xml")


# Every table the facts stage writes per article (the cross-article links, aliases and quote clusters, read
# syndication groups, whose assignment is not part of this comparison).
FACTS_TABLES = ("core.fact_runs", "core.entity_mentions", "core.figures", "core.periods", "core.quotes",
                "core.article_aliases")


def facts_rows(db: str) -> dict[str, Counter]:
    """The rows of each facts table (a multiset), per-run columns (extracted_at) left out."""
    con = connect(db, read_only=True)
    try:
        out = {}
        for t in FACTS_TABLES:
            schema, name = t.split(".")
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, name]).fetchall() if r[0] not in PER_RUN]
            assert cols, t
            select = ", ".join(f'"{c}"' for c in cols)
            out[t] = Counter(tuple(r) for r in con.execute(f"SELECT {select} FROM {t}").fetchall())
        return out
    finally:
        con.close()


def run(tmp_path: Path, name: str, feed: str, workers: int, monkeypatch, reuse: bool) -> tuple[str, int]:
    """One run of the fixture into its own DuckDB file: (path, characters NER was given in this process)."""
    (tmp_path / name).mkdir()
    cfg = write_config(tmp_path / name / "nw.toml", [("wire", "", [feed])])
    cfg.write_text(cfg.read_text() + f"\n[run]\nworkers = {workers}\n")
    counting = CountingNlp(nlp_module.load_nlp())
    with monkeypatch.context() as m:
        m.setattr(pipeline, "FACTS_CACHE_TEXTS", pipeline.FACTS_CACHE_TEXTS if reuse else 0)
        m.setattr(nlp_module, "load_nlp", lambda full=False: counting)
        db = str(tmp_path / f"{name}.duckdb")
        report = pipeline.run_monitor(load_config(str(cfg)), db, digest=False, batch_size=3)
    assert report.status == "succeeded", report.error
    assert report.counts["articles_new"] == 11
    return db, counting.chars


def test_copies_reuse_spans_and_the_warehouse_is_that_of_a_run_without_reuse(tmp_path, monkeypatch, caplog):
    with ScriptedServer() as srv:
        feed = serve(srv)
        off, chars_off = run(tmp_path, "off", feed, 1, monkeypatch, reuse=False)
        on, chars_on = run(tmp_path, "on", feed, 1, monkeypatch, reuse=True)
        with caplog.at_level("INFO", logger="flows.workers"):
            pool, _ = run(tmp_path, "pool", feed, 2, monkeypatch, reuse=True)
    a, b, c = facts_rows(off), facts_rows(on), facts_rows(pool)
    assert not differences(a, b), "\n".join(differences(a, b))
    assert not differences(a, c), "\n".join(differences(a, c))
    # the comparison saw facts of every article
    assert len(a["core.fact_runs"]) == 11 and len(a["core.entity_mentions"]) > 100 and len(a["core.quotes"]) > 10
    assert len(a["core.figures"]) > 10 and len(a["core.periods"]) > 10
    # in the main process NER saw less text with reuse: six copies ran only on what they changed
    assert 0 < chars_on < 0.8 * chars_off, (chars_on, chars_off)
    # in the pool, copies of this batch and of earlier batches both found their original
    planned = [tuple(map(int, re.findall(r"(\d+) (?:copies )?of texts", r.getMessage())))
               for r in caplog.records if "copies of texts" in r.getMessage()]
    assert sum(x[0] for x in planned) > 0 and sum(x[1] for x in planned) > 0, planned


def test_plan_copies_sends_each_copy_with_its_original():
    """plan_copies (main process): a text with a known original is run first with it; a copy of a text of the
    same batch waits for that text; unrelated texts run first with nothing."""
    from extractors.facts import NerSpans, SpanCache
    from flows.workers import plan_copies

    arts = seeds()
    texts = ["\n\n".join(p) for _, p in arts]
    copies = ["\n\n".join(edited(p, 1)) for _, p in arts]
    cache = SpanCache()
    cache.add(texts[0], NerSpans("p", "en"))
    first, later = plan_copies([("c0", copies[0]), ("o1", texts[1]), ("c1", copies[1]), ("o2", texts[2])], cache)
    assert [t for t, _ in first[0]] == [texts[0]]
    assert first[1] == [] and first[3] == []
    assert later == {2: 1}
