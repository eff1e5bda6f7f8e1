"""Bounded memory (issue 9 §2): a batch is cut when its page bodies reach `[run] batch_bytes`, so a run holds a few
batches of bodies whatever the page sizes, and the warehouse holds exactly the rows of a run without a budget.

Real article pages of ../shared/corpus/html, each padded to about 1.5 MB by a large HTML comment (trafilatura
still extracts the article), are served by a loopback server and run through `newswatch run` subprocesses with
workers = 1 and workers = 2. Memory itself is measured by bench/memory_bench.py, never here."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from flows.pipeline import PageJob, fetched_batches
from newswatch.models import FetchResult
from tests.nwtest import cli_run, requires_shared, shared_path
from tests.support.httpserver import Reply, ScriptedServer
from tests.test_runner_equivalence import differences, snapshot

# English news and blog pages of the corpus (any real page would do: the watch takes everything).
PAGES = ("theguardian.com.academics.html", "reuters.com.parasite.html", "salon.com.emissions.html",
         "phys.org.tool.html", "nature.com.telescope.html", "vice.com.amazon.html")
PADDED_BYTES = 1_500_000
BUDGET = 2 * 2**20  # 2 MiB: two padded pages reach it, one does not
BATCH_LINE = re.compile(r"batch (\d+): (\d+) page\(s\), ([\d.]+) MB of page bodies( \(cut at the byte budget\))?")


def padded(page: bytes, size: int) -> bytes:
    """The page with an HTML comment before </body> that brings it to `size` bytes."""
    filler = b"<!-- " + b"padding " * ((size - len(page)) // 8) + b"-->"
    i = page.lower().rfind(b"</body>")
    return page[:i] + filler + page[i:] if i >= 0 else page + filler


def serve(srv: ScriptedServer) -> str:
    """The padded pages and a feed listing them; returns the feed URL."""
    items = []
    for n, name in enumerate(PAGES):
        body = padded(shared_path(f"corpus/html/{name}").read_bytes(), PADDED_BYTES)
        assert len(body) < 5_000_000  # under the page cap: fetched whole
        srv.route(f"/p{n}.html", Reply(200, body=body, headers={"Content-Type": "text/html; charset=utf-8"}))
        items.append(f"<item><title>{html.escape(name)}</title><link>{srv.url(f'/p{n}.html')}</link>"
                     f"<guid>p{n}</guid></item>")
    srv.route("/feed.xml", Reply(200, headers={"Content-Type": "application/rss+xml"}, body=(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Padded</title>'
        f"{''.join(items)}</channel></rss>").encode()))
    return srv.url("/feed.xml")


def run(folder: Path, feed: str, run_table: str) -> tuple[str, str]:
    """A `newswatch -v run` subprocess into folder/nw.duckdb; returns (db path, stderr)."""
    folder.mkdir()
    cfg = folder / "nw.toml"
    # one request at a time: a batch is fetched a page at a time, so the byte budget cuts it page by page
    cfg.write_text(f'digest_dir = "{folder / "digests"}"\n[fetch]\nallow_private_networks = true\n'
                   f"per_host_delay_s = 0.0\nretries = 0\ntotal_concurrency = 1\n\n[run]\n{run_table}\n\n"
                   f'[[watches]]\nname = "all"\nquery = ""\nfeeds = ["{feed}"]\n', encoding="utf-8")
    db = str(folder / "nw.duckdb")
    return db, cli_run(cfg, db)


@requires_shared("corpus/html")
def test_batches_are_cut_by_bytes_and_the_warehouse_is_the_one_of_a_run_without_a_budget(tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        feed = serve(srv)
        ref_db, ref_log = run(tmp_path / "unbounded", feed, "workers = 1")
        bounded = {w: run(tmp_path / f"bounded{w}", feed, f"workers = {w}\nbatch_bytes = {BUDGET}") for w in (1, 2)}
    # without a budget worth the name (the 64 MiB default) the six pages are one batch
    assert [(int(n), bool(cut)) for _, n, _, cut in BATCH_LINE.findall(ref_log)] == [(6, False)], ref_log
    ref = snapshot(ref_db)
    assert len(ref["articles"]) == len(PAGES)  # every page extracted and stored, padding or not
    for workers, (db, log) in bounded.items():
        batches = BATCH_LINE.findall(log)
        # two padded pages reach 2 MiB: three batches of two, each cut at the budget but the last
        assert [int(n) for _, n, _, _ in batches] == [2, 2, 2], log
        assert [bool(cut) for *_, cut in batches[:2]] == [True, True], log
        assert all(float(mb) < 2 * PADDED_BYTES / 1e6 + 0.1 for _, _, mb, _ in batches), log
        assert len(re.findall(r"loading \d+ article\(s\)", log)) == 3, log  # three commits
        assert ("process(es) (pool)" in log) == (workers == 2), log
        got = snapshot(db)
        assert not differences(ref, got), "\n".join(differences(ref, got))


def _result(job: PageJob, size: int) -> FetchResult:
    return FetchResult(url=job.url, final_url=job.url, status="ok", body=b"x" * size)


@pytest.mark.parametrize("sizes", [
    [4_000_000] * 40,  # pages near the cap
    [30_000] * 250,  # ordinary pages: the page count cuts
    [10_000] * 20 + [4_900_000] * 30 + [0] * 5 + [2_000_000] * 17,  # small pages, then big ones, failures, mid-size
])
def test_a_batch_never_holds_more_than_the_budget_plus_one_fetch_step(sizes: list[int]) -> None:
    """fetched_batches asks each page once, in order, and every batch stays under batch_bytes + one fetch step
    (min_step pages at the cap), whatever the sizes: the first pages of a batch say nothing about the next."""
    jobs = [PageJob(f"https://example.org/{i}", ("w",)) for i in range(len(sizes))]
    asked: list[int] = []

    def fetch(chunk: list[PageJob]) -> list[tuple[PageJob, FetchResult]]:
        idx = [int(j.url.rsplit("/", 1)[1]) for j in chunk]
        asked.extend(idx)
        return [(j, _result(j, sizes[i])) for j, i in zip(chunk, idx, strict=True)]

    budget, cap, step, batch_size = 16 * 2**20, 5_000_000, 3, 100
    batches = list(fetched_batches(jobs, fetch, batch_size=batch_size, batch_bytes=budget, max_page_bytes=cap,
                                   min_step=step))
    assert asked == list(range(len(sizes)))
    assert [j for b in batches for j, _ in b] == jobs
    for b in batches:
        held = sum(len(r.body) for _, r in b)
        assert 0 < len(b) <= batch_size and held < budget + step * cap
    for b in batches[:-1]:  # a batch ends full, or at the budget
        assert len(b) == batch_size or sum(len(r.body) for _, r in b) >= budget
