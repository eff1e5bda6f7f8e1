"""The run's worker processes: page extraction and facts (spaCy loaded once per worker), never the warehouse.

A `WorkerPool` is a concurrent.futures ProcessPoolExecutor on the 'forkserver' context: workers start from a
clean server process (not a fork of a parent holding DuckDB connections, fetch threads and sockets), load the
English spaCy pipeline once in their initializer, and then take chunks of a batch: (page, fetch result) pairs to
extract, or (article id, text) pairs to extract facts from. They return records; the main process matches,
loads and commits. With the run's SpanCache (`WorkerPool.facts(reuse=)`), the main process decides which texts
are syndicated copies (plan_copies) and sends each copy with the text it copies, so a worker runs NER only on
what the copy changed. Every result is a pure function of its input, so the warehouse is the same whatever the
number of workers (tests/test_runner_equivalence.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


def _init_worker() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent ends the run and kills its workers, which
    # must not print a KeyboardInterrupt traceback each meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from extractors.facts.nlp import load_nlp

    load_nlp()


def _ready() -> bool:
    return True


def extract_chunk(fetched: Sequence[tuple[Any, Any]]) -> Any:
    """flows.pipeline.extract_batch in a worker, with each text's dedup fingerprint (pure per-text work taken off
    the main process, whose load stage is the run's bottleneck)."""
    from flows.pipeline import extract_batch

    return extract_batch(fetched, fingerprints=True)


def facts_chunk(items: Sequence[tuple[str, str]], aliases: Mapping[str, str] | None,
                languages: Mapping[str, str | None] | None = None) -> list:
    """Facts of (article id, cleaned text) pairs in a worker, one process (the pool is the parallelism).
    languages: each article's stored language (see extract_facts_with_spans), not detected again."""
    from extractors.facts import extract_facts_batch

    return extract_facts_batch(items, user_aliases=aliases, n_process=1, languages=languages)


def facts_spans_chunk(items: Sequence[tuple[str, str]], aliases: Mapping[str, str] | None,
                      originals: Sequence[tuple[str, Any]] = (), strict: bool = True,
                      languages: Mapping[str, str | None] | None = None) -> list[tuple[Any, Any]]:
    """(Facts, NER spans) of (article id, cleaned text) pairs in a worker, a copy taking the spans of the
    paragraphs it shares with one of `originals` ((text, NerSpans) pairs: texts of earlier batches, or of this
    batch, sent by the main process) or with an earlier text of the chunk."""
    from extractors.facts import SpanCache, extract_facts_with_spans

    cache = SpanCache(capacity=len(originals) + 1, strict=strict)
    for text, spans in originals:
        cache.add(text, spans)
    return extract_facts_with_spans(items, reuse=cache, user_aliases=aliases, n_process=1, languages=languages)


def chunk_languages(items: Sequence[tuple[str, str]], languages: Mapping[str, str | None] | None
                 ) -> dict[str, str | None] | None:
    """The part of `languages` a chunk of items needs (a chunk is pickled to a worker: not the whole batch's)."""
    if languages is None:
        return None
    return {aid: languages[aid] for aid, _ in items if aid in languages}


def plan_copies(items: Sequence[tuple[str, str]], reuse: Any) -> tuple[dict[int, list], dict[int, int]]:
    """Which texts of a batch are copies, decided in the main process so that each worker gets the original
    of each copy it is sent: ({index: originals known before this batch (maybe none)} for the texts to run
    first, {index: index of its original in this batch} for copies of a text of this batch, run once that
    text's spans are known). Only texts with no known original select an original in the batch."""
    from extractors.facts import NerSpans, SpanCache

    first: dict[int, list] = {}
    later: dict[int, int] = {}
    pending = SpanCache(capacity=max(len(items), 1), min_chars=reuse.min_chars)
    for i, (_, text) in enumerate(items):
        known = reuse.candidates(text)
        if known:
            first[i] = known
            continue
        earlier = pending.candidates(text, limit=1)
        if earlier:
            later[i] = int(earlier[0][1].pipeline)  # the marker below: the original's batch index
            continue
        first[i] = []
        pending.add(text, NerSpans(str(i), None))
    return first, later


def chunks(items: Sequence, parts: int) -> list[Sequence]:
    """items cut into at most `parts` consecutive slices of near-equal length (order kept)."""
    n = len(items)
    if n == 0:
        return []
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (it unlinks the pool's semaphores if this process dies) with its
    stderr on /dev/null: after an interrupt it would warn about the semaphores of the killed pool, after the run's
    last line. It is left running when the run's children are killed (see tracker_pid), so nothing restarts it."""
    from multiprocessing import resource_tracker

    if getattr(resource_tracker._resource_tracker, "_pid", None) is not None:
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tracker_pid() -> int | None:
    """The resource tracker's pid, when this process started one."""
    from multiprocessing import resource_tracker

    return getattr(resource_tracker._resource_tracker, "_pid", None)


def stop_tracker() -> None:
    """Stop the resource tracker and wait for it (it unlinks what the killed pool left): a process ending on a
    signal leaves no child behind, not even this one."""
    from multiprocessing import resource_tracker

    try:
        resource_tracker._resource_tracker._stop()
    except (OSError, ChildProcessError, AttributeError):
        pass


def preload_modules() -> list[str]:
    """What the fork server imports once for all its workers: trafilatura (extractors.articles), spaCy, and,
    when the French model is installed, spaCy's French language module. Importing that one compiles its
    tokenizer exceptions into one large regular expression, 4.5-5 s of CPU on this machine, which every
    worker paid again on its first French text (0.9 s for the whole English model)."""
    from importlib.util import find_spec

    from extractors.facts.language import MODELS

    modules = ["flows.workers", "extractors.articles", "extractors.facts", "spacy"]
    if find_spec(MODELS["fr"]) is not None:
        modules.append("spacy.lang.fr")
    return modules


class WorkerPool:
    """`workers` processes; each batch is cut into 2 chunks per worker so a long page does not idle the others."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        quiet_resource_tracker()
        ctx = multiprocessing.get_context("forkserver")
        # imported once in the fork server, so each worker starts with trafilatura and spaCy already imported
        ctx.set_forkserver_preload(preload_modules())
        self._ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
        # start every worker now: spaCy loads while the main process polls and fetches the first batch
        for _ in range(workers):
            self._ex.submit(_ready)

    def extract(self, fetched: Sequence[tuple[Any, Any]]) -> list[Future]:
        return [self._ex.submit(extract_chunk, list(c)) for c in chunks(fetched, 2 * self.workers)]

    def facts(self, items: Sequence[tuple[str, str]], aliases: Mapping[str, str] | None,
              reuse: Any = None, languages: Mapping[str, str | None] | None = None) -> list[Future]:
        """Futures of the facts of items, in order. reuse (a SpanCache of the run): copies reuse the spans of
        the text they copy (plan_copies), and every text's spans are added to reuse, in order, before the
        last future is done (so the next batch, planned after it, sees them). languages: each article id's
        stored language (the facts follow it instead of detecting it again)."""
        if reuse is None:
            return [self._ex.submit(facts_chunk, list(c), aliases, chunk_languages(c, languages))
                    for c in chunks(items, 2 * self.workers)]
        first, later = plan_copies(items, reuse)
        known = sum(1 for v in first.values() if v)
        if known or later:
            log.info("facts: %d copies of texts seen before, %d of texts of this batch: NER on what they changed",
                     known, len(later))
        out: Future = Future()
        parts = 2 * self.workers

        def submit(idx: list[int], originals_of) -> list[tuple[list[int], Future]]:
            jobs = []
            for c in chunks(idx, parts):
                seen: dict[int, tuple] = {}
                for i in c:
                    for o in originals_of(i):
                        seen.setdefault(id(o[1]), o)
                part = [items[i] for i in c]
                jobs.append((list(c), self._ex.submit(facts_spans_chunk, part, aliases, list(seen.values()),
                                                      reuse.strict, chunk_languages(part, languages))))
            return jobs

        def collect(jobs: list[tuple[list[int], Future]], into: dict[int, tuple]) -> None:
            for idx, fut in jobs:
                for i, r in zip(idx, fut.result(), strict=True):
                    into[i] = r

        def run() -> None:
            try:
                done: dict[int, tuple] = {}
                collect(submit(sorted(first), lambda i: first[i]), done)
                def original(i: int) -> list:
                    spans = done[later[i]][1]
                    return [(items[later[i]][1], spans)] if spans is not None else []
                collect(submit(sorted(later), original), done)
                for i, (_, text) in enumerate(items):
                    if done[i][1] is not None:
                        reuse.add(text, done[i][1])
                out.set_result([done[i][0] for i in range(len(items))])
            except BaseException as e:  # handed to the main thread, which waits on `out`
                out.set_exception(e)

        threading.Thread(target=run, name="newswatch-facts-copies", daemon=True).start()
        return [out]

    def close(self, failed: bool = False) -> None:
        """Wait for the workers to end; failed: kill them first (an interrupt or an error: their work is lost
        anyway, and a worker busy in spaCy would finish its chunk first)."""
        if failed:
            procs = list((getattr(self._ex, "_processes", None) or {}).values())
            for p in procs:
                try:
                    p.kill()
                except (OSError, ValueError):
                    pass
            self._ex.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                try:
                    p.join(2)  # reaped: no zombie, and multiprocessing's bookkeeping stays right
                except (OSError, ValueError, AssertionError):
                    pass
            return
        self._ex.shutdown(wait=True)
