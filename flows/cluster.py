"""Work spread over a Dask cluster: each batch's page extraction and facts run in chunks on Dask workers.

`[run] runner = "dask"` gives the runner (flows.pipeline.run_batches) Stages whose `extract` and `facts` cut the
batch into chunks (flows.workers.chunks, two per worker thread), submit them to the cluster and put the results
back together in input order (pipeline.merge_extracted, facts concatenated). In the Prefect monitor flow each
chunk is a Prefect task run submitted through prefect-dask's DaskTaskRunner (extract-chunk, facts-chunk); without
Prefect (benchmarks, library callers) the chunks are plain functions on a distributed.Client.

Everything else stays in the run's process, the writer: polling and fetching (the run's one Fetcher keeps
robots.txt, per-host spacing and Retry-After pauses for every host; fetching waits on the network, not on a
core), matching, and every warehouse write, committed batch after batch in order. Workers get records
(pages and their fetch results, article ids and texts) and return records; they never open the warehouse, so a
Dask run stores exactly what a local run stores (tests/test_dask.py). The facts stage here takes no `reuse` span
cache (it lives in the run's process): every text's NER runs in full on a worker, which gives the same facts.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from flows import pipeline, workers
from newswatch.config import Config, RunSettings
from newswatch.errors import TransientError

log = logging.getLogger(__name__)

# Chunks per worker thread and batch: a long page (or text) on one worker does not leave the others idle.
CHUNKS_PER_WORKER = 2
# How long a run waits for a remote scheduler to have at least one worker before it gives up (writing nothing).
WAIT_FOR_WORKERS_S = 120.0


class DaskUnavailable(TransientError):
    """The Dask scheduler cannot be reached, has no worker, or the run's LocalCluster cannot start."""


@dataclass(frozen=True, slots=True)
class Done:
    """A chunk's result and where it ran."""

    value: Any
    worker: str  # the Dask worker's address ("" outside a worker)
    pid: int


@dataclass
class WorkLog:
    """Where a run's chunks ran: (stage, worker address, pid) -> chunks. The flow logs it and returns it."""

    chunks: Counter = field(default_factory=Counter)

    def rows(self) -> list[dict]:
        return [{"stage": s, "worker": w, "pid": p, "chunks": n} for (s, w, p), n in sorted(self.chunks.items())]


def _here() -> tuple[str, int]:
    from distributed import get_worker

    try:
        return get_worker().address, os.getpid()
    except ValueError:  # not on a Dask worker (a plain call)
        return "", os.getpid()


class _Opaque:
    """A chunk's records, handed to Prefect as one value: Prefect walks task parameters (looking for futures)
    and rebuilds the collections it walks; a batch of pages is not worth walking."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence) -> None:
        self.items = items


def extract_chunk(fetched: _Opaque) -> Done:
    """pipeline.extract_batch of (page, fetch result) pairs, on a worker: records in, records out."""
    return Done(workers.extract_chunk(list(fetched.items)), *_here())


def facts_chunk(items: _Opaque, aliases: Mapping[str, str] | None,
                languages: Mapping[str, str | None] | None = None) -> Done:
    """Facts of (article id, cleaned text) pairs on a worker, one process (the cluster is the parallelism),
    in each article's stored language."""
    return Done(workers.facts_chunk(list(items.items), aliases, languages), *_here())


def _extract_task(fetched: _Opaque) -> Done:
    from prefect import get_run_logger

    done = extract_chunk(fetched)
    get_run_logger().info("extracted %d page(s) on Dask worker %s (pid %d)", len(fetched.items), done.worker, done.pid)
    return done


def _facts_task(items: _Opaque, aliases: Mapping[str, str] | None,
                languages: Mapping[str, str | None] | None = None) -> Done:
    from prefect import get_run_logger

    done = facts_chunk(items, aliases, languages)
    get_run_logger().info("facts of %d article(s) on Dask worker %s (pid %d)", len(items.items), done.worker, done.pid)
    return done


_TASKS: dict[str, Any] = {}


def prefect_tasks() -> dict[str, Any]:
    """The chunk functions as Prefect tasks (made once; prefect is imported only by the flow path)."""
    if not _TASKS:
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        # NO_CACHE: chunk arguments (page bodies) are never hashed or persisted; no retries: parsing is
        # deterministic, and a lost worker is retried by Dask itself on another worker
        _TASKS["extract"] = task(_extract_task, name="extract-chunk", cache_policy=NO_CACHE)
        _TASKS["facts"] = task(_facts_task, name="facts-chunk", cache_policy=NO_CACHE)
    return _TASKS


def local_cluster_kwargs(run: RunSettings) -> dict:
    """The LocalCluster a dask run starts when no address is given: worker processes with one thread each
    (spaCy and trafilatura hold the GIL), on loopback. The scheduler's HTTP server (health routes; the dashboard
    needs bokeh, not installed) takes a free port: the default 8787 may be another cluster's."""
    return {"n_workers": run.dask_workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
            "dashboard_address": ":0"}


Submit = Callable[[str, tuple], Any]  # (stage, args) -> a future with .result()


class _OnDask:
    """The extract and facts stages on a cluster: chunks submitted at once, results taken in order."""

    def __init__(self, submit: Submit, threads: Callable[[], int], work: WorkLog) -> None:
        self._submit, self._threads, self.work = submit, threads, work

    def _run(self, stage: str, parts: list[tuple]) -> list:
        futures = [self._submit(stage, args) for args in parts]
        out = []
        for f in futures:
            done: Done = f.result()
            self.work.chunks[(stage, done.worker, done.pid)] += 1
            out.append(done.value)
        return out

    def _parts(self, items: Sequence) -> list:
        return workers.chunks(items, CHUNKS_PER_WORKER * max(1, self._threads()))

    def extract(self, fetched: Sequence[tuple[pipeline.PageJob, Any]]) -> pipeline.Extracted:
        if not fetched:
            return pipeline.extract_batch([])
        parts = self._parts(list(fetched))
        log.info("extracting %d page(s) in %d chunk(s) on Dask", len(fetched), len(parts))
        return pipeline.merge_extracted(self._run("extract", [(_Opaque(c),) for c in parts]))

    def facts(self, articles: Sequence, aliases: Mapping[str, str] | None = None, reuse: Any = None) -> list:
        # reuse (the run's SpanCache) is not sent to the workers: each computes its texts in full, the same facts
        items = [(a.article_id, a.text) for a in articles]
        if not items:
            return []
        parts = self._parts(items)
        log.info("facts: %d article(s), %d words, %d chunk(s) on Dask", len(items),
                 sum(a.word_count for a in articles), len(parts))
        langs = pipeline.languages_of(articles)
        return [f for value in self._run("facts", [(_Opaque(c), aliases, workers.chunk_languages(c, langs))
                                                   for c in parts]) for f in value]


def _where(run: RunSettings) -> str:
    return f"the Dask scheduler at {run.dask_address}" if run.dask_address else "a local Dask cluster"


def _unavailable(run: RunSettings, e: BaseException) -> DaskUnavailable:
    why = " ".join(str(e).split()) or type(e).__name__
    if run.dask_address:
        return DaskUnavailable(f"cannot reach the Dask scheduler at {run.dask_address}: {why}; start one with "
                               f"`dask scheduler` and `dask worker {run.dask_address}`, or leave [run] dask_address "
                               "empty for a LocalCluster")
    return DaskUnavailable(f"cannot start a local Dask cluster of {run.dask_workers} worker(s): {why}")


def _ready(run: RunSettings, client: Any) -> None:
    """Fail now, before the run writes anything, when the cluster has no worker (tasks would wait forever)."""
    if not client.nthreads():
        log.info("waiting up to %.0f s for a worker of %s", WAIT_FOR_WORKERS_S, _where(run))
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError:
            raise DaskUnavailable(f"{_where(run)} has no worker after {WAIT_FOR_WORKERS_S:.0f} s; start one with "
                                  f"`dask worker {run.dask_address}`") from None


def _threads(client: Any) -> Callable[[], int]:
    return lambda: sum(client.nthreads().values())


@contextmanager
def _plain(run: RunSettings) -> Iterator[tuple[Submit, Callable[[], int]]]:
    """Chunks as plain functions on a distributed.Client (no Prefect)."""
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        try:
            if run.dask_address:
                client = stack.enter_context(Client(run.dask_address, set_as_default=False))
            else:
                cluster = stack.enter_context(LocalCluster(**local_cluster_kwargs(run)))
                client = stack.enter_context(Client(cluster, set_as_default=False))
        except Exception as e:  # OSError (timed out connecting), or a cluster that cannot start
            raise _unavailable(run, e) from None
        _ready(run, client)
        fns = {"extract": extract_chunk, "facts": facts_chunk}
        log.info("Dask: %s, %d worker thread(s)", client.scheduler.address, sum(client.nthreads().values()))
        yield (lambda stage, args: client.submit(fns[stage], *args, pure=False)), _threads(client)


@contextmanager
def _on_prefect(run: RunSettings) -> Iterator[tuple[Submit, Callable[[], int]]]:
    """Chunks as Prefect task runs submitted through a DaskTaskRunner, from inside the flow run (the tasks are
    children of the flow run in the UI; their state and logs reach the Prefect API from the workers)."""
    from prefect_dask import DaskTaskRunner

    tasks = prefect_tasks()
    if run.dask_address:
        runner = DaskTaskRunner(address=run.dask_address)
    else:
        runner = DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=local_cluster_kwargs(run))
    with runner:
        try:
            client = runner.client  # connects now (or starts the LocalCluster): a failure writes nothing
        except Exception as e:
            raise _unavailable(run, e) from None
        _ready(run, client)
        log.info("Dask (Prefect DaskTaskRunner): %s, %d worker thread(s)", client.scheduler.address,
                 sum(client.nthreads().values()))

        def submit(stage: str, args: tuple) -> Any:
            names = ("fetched",) if stage == "extract" else ("items", "aliases", "languages")
            return runner.submit(tasks[stage], parameters=dict(zip(names, args, strict=True)))

        yield submit, _threads(client)


@contextmanager
def dask_stages(config: Config, base: pipeline.Stages = pipeline.DIRECT, *,
                prefect: bool = False) -> Iterator[tuple[pipeline.Stages, WorkLog | None]]:
    """The run's Stages: `base` for runner = "local"; for "dask", base with extract and facts on the cluster
    (connected, or the LocalCluster started, before this yields; closed after). prefect: submit the chunks as
    Prefect tasks through a DaskTaskRunner (call it inside a flow run). Raises DaskUnavailable (one line) before
    yielding when the cluster cannot be used."""
    run = config.run
    if run.runner != "dask":
        yield base, None
        return
    work = WorkLog()
    with (_on_prefect if prefect else _plain)(run) as (submit, threads):
        on = _OnDask(submit, threads, work)
        yield replace(base, extract=on.extract, facts=on.facts), work
    if work.chunks:
        log.info("Dask chunks: %s", ", ".join(f"{r['stage']} {r['worker']} pid {r['pid']}: {r['chunks']}"
                                              for r in work.rows()))


def record_failed_run(db_path: str, watch_names: Sequence[str], error: str) -> pipeline.RunReport:
    """A run that could not start its cluster: one 'failed' run row with the reason, nothing else written (no
    feed polled, no entry consumed), so `newswatch status` and the Prefect artifact say why."""
    with pipeline.run_lock(db_path, watches=watch_names):
        report = pipeline.RunReport(run_id=pipeline.begin_run(db_path, "run", watch_names), db_path=db_path)
        report.status, report.error = "failed", error
        pipeline.finish_run(report)
    return report
