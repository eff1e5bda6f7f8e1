"""The monitoring pipeline as plain functions on batches of records: poll -> fetch -> extract -> match -> facts -> load.

One runner, `run_batches`, is the batch loop of `run_monitor` and `ingest_sources`, which the CLI calls directly
and the Prefect monitor flow (flows/monitor.py) calls with its stages wrapped as tasks (`Stages`: "remove the
decorators and the code still works"). Each page is fetched and extracted once and judged by every watch whose
feeds list it (`match_watches`). Stage functions take and return records (or a database path), never
connections, and open the warehouse only for short writer windows so that readers can get in between.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from extractors.articles import article_from_file, extract_article, keep_languages
from extractors.clean import clean_text
from extractors.facts import SpanCache, extract_facts_batch
from extractors.feeds import body_hash, discover_feeds, parse_feed, parse_fetched_feed
from extractors.fingerprint import Fingerprint, fingerprint
from extractors.http import Fetcher
from extractors.query import WatchQuery, compile_query
from extractors.robots import RobotsCache
from extractors.sniff import is_html_answer
from extractors.urls import canonicalize_url, is_web_url
from flows.dedup_stage import group_articles
from flows.facts_stage import link_aliases
from newswatch.config import Config, DedupSettings, FetchSettings, WatchConfig
from newswatch.errors import Interrupted, NewswatchError, SourceError, WarehouseError
from newswatch.models import Article, FeedEntry, FetchResult, Skip, WatchMatch, stable_id, utcnow
from warehouse import feeds as feed_store
from warehouse import load
from warehouse.db import concurrent_writers, duckdb_threads, publish_read_copy, session, transaction
from warehouse.facts import store_facts

log = logging.getLogger(__name__)

# Fetch outcomes worth trying again next run: the feed entry stays pending (core.feed_entries.settled = false).
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json")
TEXT_SUFFIXES = (".txt", ".html", ".htm")


@dataclass(frozen=True, slots=True)
class PageJob:
    """A page to fetch for a watch, and the feed entry that pointed to it."""

    url: str  # canonical URL
    watches: tuple[str, ...]  # every watch whose feeds list it (ingest: the named watch), config order
    entry: FeedEntry | None = None
    feed_title: str | None = None

    @property
    def watch(self) -> str:
        """The first watch (articles.watch: the watch that first stored the article)."""
        return self.watches[0] if self.watches else ""


@dataclass
class RunReport:
    run_id: str
    db_path: str
    status: str = "running"
    counts: Counter = field(default_factory=Counter)
    watch_counts: Counter = field(default_factory=Counter)  # (watch, counter) -> n: matched, off_topic, ...
    skips: Counter = field(default_factory=Counter)  # (stage, reason) -> n
    digests: list = field(default_factory=list)
    error: str | None = None
    feed_failures: list = field(default_factory=list)  # (feed url, one-line reason)
    not_due: list = field(default_factory=list)  # (feed url, next poll time or None when disabled)
    nothing_ingested: str | None = None  # why an ingest stored nothing (then the run is 'failed')
    stage_seconds: Counter = field(default_factory=Counter)  # stage -> wall seconds spent in it (summed over batches)


class _Submitted(NamedTuple):
    """A fetched batch whose extraction is submitted to the pool (its pages are the pool's now)."""

    futures: list
    n_pages: int


class _Stopped(Exception):
    """The streaming fetch thread stops: the run ended (an error or an interrupt in the main thread)."""


class RunLockedError(NewswatchError):
    exit_code = 75


@contextmanager
def run_lock(db_path: str, wait_s: float = 0.0, watches: Sequence[str] = ()) -> Iterator[None]:
    """An OS file lock beside the database so two runs never overlap. The loser waits up to wait_s (the daily
    digest waits for a monitoring run to finish), then exits writing nothing. On a warehouse that takes several
    writers (DuckLake on PostgreSQL), the lock is per watch: runs of different watches go at once."""
    if watches and concurrent_writers():
        with ExitStack() as stack:
            for name in sorted(set(watches)):  # one order for every run: no deadlock between two runs
                try:
                    stack.enter_context(run_lock(f"{db_path}.{hashlib.sha256(name.encode()).hexdigest()[:16]}", wait_s))
                except RunLockedError:
                    raise RunLockedError(f"another newswatch run of watch {name!r} is using {db_path}; "
                                         "this run exits without writing anything") from None
            yield
        return
    lock_path = f"{os.path.abspath(db_path)}.run-lock"
    try:
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:  # a read-only folder, or a path under a regular file: one line, not a traceback
        raise WarehouseError(
            f"cannot create the run lock {lock_path}: {e.strerror or e}; put the database in a writable folder"
        ) from None
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockedError(
                        f"another newswatch run is using {db_path}; this run exits without writing anything"
                    ) from None
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        yield
    finally:
        os.close(fd)


def _utc(d: datetime | None) -> datetime | None:
    return d.astimezone(UTC).replace(microsecond=0) if d is not None else None


# ---- interruption (SIGINT / SIGTERM) --------------------------------------------------------------------

# Set when the run is interrupted: the fetch loop stops between chunks (the Fetcher has no cancel hook).
_cancel = threading.Event()
_interrupt: dict[str, int] = {}  # {"signum": n} once a signal arrived


def interrupted_by() -> int | None:
    """The signal that interrupted this process's run, if any."""
    return _interrupt.get("signum")


def _descendants(pid: int) -> list[int]:
    """Every live descendant of pid, children first, from /proc (no psutil)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue  # ended meanwhile
        # the command name is in parentheses and may itself contain spaces or ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def end_children(everything: bool = True) -> None:
    """Kill and reap every child process (spaCy's facts workers, anything they started); everything=False: only
    this process's multiprocessing children (a library caller such as a test process may own other children).
    They hold no state worth keeping, and SIGKILL is immediate: a worker busy in compiled code would not see a
    gentler signal for seconds, and the parent's spaCy pipe joins its workers before it lets an exception
    through."""
    procs = multiprocessing.active_children()
    pids = _descendants(os.getpid()) if everything else [p.pid for p in procs if p.pid]
    # multiprocessing's resource tracker is kept: killed, it is started again by the pool's semaphores being
    # released while the run unwinds (with a warning and tracebacks); it ends with this process
    tracker = sys.modules["flows.workers"].tracker_pid() if "flows.workers" in sys.modules else None
    pids = [p for p in pids if p != tracker]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in procs:
        p.join(2)  # reaps it and keeps multiprocessing's own bookkeeping right
    for pid in [p for p in _descendants(os.getpid()) if p != tracker] if everything else ():
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass  # a grandchild: its parent was killed, init reaps it


def hard_exit(code: int) -> None:
    """End the process now: no child left, output flushed, and no wait for fetch threads still in flight
    (the interpreter would join them at exit; their results are discarded anyway)."""
    end_children()
    if "flows.workers" in sys.modules:
        sys.modules["flows.workers"].stop_tracker()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


@contextmanager
def interruptible(grace_s: float = 4.0, on_grace: Callable[[int], str] | None = None) -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread, wherever the run is (polling, fetching,
    extraction, facts on several processes, loading): child processes are killed first, so nothing waits on
    them, the transaction in flight rolls back, the run row becomes 'interrupted' and the run lock is released
    by the code unwinding. If unwinding takes longer than grace_s (a long query in compiled code does not see
    the exception until it returns), a watchdog ends the process anyway: the next run records it `killed`.
    A second signal while unwinding is ignored."""
    main_pid = os.getpid()
    _cancel.clear()
    _interrupt.clear()

    def watchdog(signum: int) -> None:
        line = on_grace(signum) if on_grace else f"newswatch: interrupted by {signal.Signals(signum).name}"
        os.write(2, (line + "\n").encode())
        hard_exit(128 + signum)

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != main_pid:
            # a forked worker (spaCy's facts processes inherit this handler): end quietly, the parent has the
            # signal too and ends the run; without this each worker printed its own traceback
            os._exit(128 + signum)
        if _interrupt:
            return
        _interrupt["signum"] = signum
        _cancel.set()
        # spaCy warns that its workers did not complete: they were ended on purpose, just below
        warnings.filterwarnings("ignore", message=r"\[W127\]")
        end_children()
        timer = threading.Timer(grace_s, watchdog, args=(signum,))
        timer.daemon = True
        timer.start()
        log.info("interrupted by %s: stopping", signal.Signals(signum).name)
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# Pages per Fetcher.fetch_many call, per concurrent request: the fetch loop checks for cancellation between
# chunks, so after an interrupt at most one chunk's requests are still finishing in the background.
FETCH_CHUNK_PER_WORKER = 4


def _fetch_many(
    f: Fetcher, urls: Sequence[str], *, kind: str, validators: dict | None = None, what: str = "pages",
) -> list[FetchResult]:
    """Fetcher.fetch_many in chunks, on a helper thread. fetch_many joins its worker threads before it returns
    or raises, so a signal raised in a thread waiting inside it would wait for the whole list (50 s for 110
    pages); here the main thread only waits on an event, which a signal interrupts at once."""
    urls = list(urls)
    if not urls:
        return []
    size = max(1, f.settings.total_concurrency * FETCH_CHUNK_PER_WORKER)
    results: list[FetchResult] = []
    failure: list[BaseException] = []
    done = threading.Event()
    validators = validators or {}

    def loop() -> None:
        try:
            for i in range(0, len(urls), size):
                if _cancel.is_set():
                    return
                chunk = urls[i : i + size]
                results.extend(f.fetch_many(chunk, kind=kind, validators={u: validators[u] for u in chunk
                                                                         if u in validators}))
                log.info("fetched %d/%d %s", len(results), len(urls), what)
        except BaseException as e:  # handed to the main thread
            failure.append(e)
        finally:
            done.set()

    threading.Thread(target=loop, name="newswatch-fetch-loop", daemon=True).start()
    while not done.wait(0.5):
        pass
    if failure:
        raise failure[0]
    if len(results) != len(urls):  # cancelled without a signal in this thread (cannot happen in the CLI)
        raise Interrupted(interrupted_by() or signal.SIGINT)
    return results


def one_line_reason(status: str, detail: str) -> str:
    """The short reason shown in a run summary for a failed feed or page."""
    d = (detail or "").strip()
    first = d.split("; ", 1)[0] if d else status
    return first if len(first) <= 120 else first[:119] + "…"


# ---- stages --------------------------------------------------------------------------------------------


def validate_config(config: Config) -> None:
    """Checks that need the stages: every watch query compiles (QuerySyntaxError is one line naming the spot)."""
    for w in config.watches:
        try:
            compile_query(w.query)
        except NewswatchError as e:
            raise type(e)(f"watch {w.name!r}: query: {e}") from None


@dataclass(frozen=True, slots=True)
class Polled:
    """What polling a run's feeds produced: pages to fetch, pages already stored that a new entry now lists (they
    are judged for its watches without a fetch), the feed skips and the counts."""

    jobs: tuple[PageJob, ...]
    skips: tuple[Skip, ...]
    counts: Counter
    stored: tuple[PageJob, ...] = ()


def feeds_of(watches: Sequence[WatchConfig], extra_feeds: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """Every feed of these watches, once, with the watches listing it (config order): a feed listed by several
    watches is polled once and its pages are judged for each of them."""
    out: dict[str, list[str]] = {}
    for w in watches:
        for u in dict.fromkeys([*w.feeds, *extra_feeds]):
            names = out.setdefault(u, [])
            if w.name not in names:
                names.append(w.name)
    return {u: tuple(names) for u, names in out.items()}


def _with_watches(a: PageJob, watches: Sequence[str]) -> PageJob:
    more = tuple(w for w in watches if w not in a.watches)
    return replace(a, watches=a.watches + more) if more else a


def poll_feeds(
    db_path: str,
    run_id: str,
    feeds: Mapping[str, Sequence[str]],
    settings: FetchSettings,
    disable_after: int,
    now: datetime | None = None,
    force: bool = False,
    fetcher: Fetcher | None = None,
) -> Polled:
    """Poll the due feeds (conditional GET) once each, record feed health, and return the pages to fetch.

    feeds maps each feed URL to the watches that list it; every page job carries those watches. A feed is due
    when its adaptive poll interval has passed (see docs/feeds.md); force polls every feed that is not disabled.
    """
    now = now or utcnow()
    feed_urls = list(feeds)
    counts: Counter = Counter()
    skips: list[Skip] = []
    with session(db_path) as con:
        states = feed_store.get_feed_states(con, feed_urls)
        due = feed_store.feeds_due(con, feed_urls, now)
        if force:
            due = [u for u in feed_urls if not (u in states and states[u].disabled)]
        counts["feeds_not_due"] += len(feed_urls) - len(due)
    # A feed moved by a 301 is polled at its new address.
    targets = {u: (states[u].redirected_to if u in states and states[u].redirected_to else u) for u in due}
    validators = {
        targets[u]: (states[u].etag, states[u].last_modified) for u in due if u in states
    }
    log.info("polling %d feed(s) for %s (%d not due)", len(due),
             ", ".join(dict.fromkeys(w for ws in feeds.values() for w in ws)), len(feed_urls) - len(due))
    with _fetching(settings, fetcher) as f:
        results = _fetch_many(f, [targets[u] for u in due], kind="feed", validators=validators, what="feeds")
    results = _autodiscover(due, results, f_settings=settings, fetcher=fetcher)
    parsed_by_feed = {}
    for u, r in zip(due, results, strict=True):
        counts["feeds_polled"] += 1
        if feed_store.is_unchanged(states.get(u), r, body_hash(r.body) if r.body else ""):
            # a 304, or a 200 with the same body as last time (validators that lie): nothing to parse
            counts["feeds_not_modified"] += 1
            parsed_by_feed[u] = (r, None)
        elif r.status == "ok":
            parsed = parse_fetched_feed(r, u)
            if parsed.format is None and not parsed.entries:
                # a 200 that is no feed at all (an HTML login page, an error text): a failed poll
                counts["feeds_failed"] += 1
                skips.append(Skip(u, "feed", "invalid_feed", parsed.warnings[-1] if parsed.warnings else "not a feed"))
            parsed_by_feed[u] = (r, parsed)
        else:
            counts["feeds_failed"] += 1
            skips.append(Skip(u, "feed", r.status, r.detail))
            parsed_by_feed[u] = (r, None)
    jobs: list[PageJob] = []
    new_entries: list[tuple[FeedEntry, str]] = []
    with session(db_path) as con, transaction(con):
        all_entries = [e for _, p in parsed_by_feed.values() if p for e in p.entries]
        seen = load.seen_entries(con, all_entries)
        # every feed's state read once and every poll written in two statements (three round trips per feed
        # took 135 s for 1,000 feeds with nothing new, bench/feeds_nothing_new.py)
        prev_states = feed_store.get_feed_states(con, list(parsed_by_feed))
        polls: list = []
        for u, (r, parsed) in parsed_by_feed.items():
            new = 0
            if parsed is not None:
                for w in parsed.warnings:
                    skips.append(Skip(u, "feed", "parse_warning", w))
                for e in parsed.entries:
                    counts["entries_seen"] += 1
                    prev = seen.get((e.feed_url, e.entry_key))
                    if prev is not None and (prev[0], _utc(prev[1])) == (e.title, _utc(e.published_at)):
                        continue  # seen, unchanged: not fetched again (a pending one is retried below)
                    new += 1
                    if not e.link or not is_web_url(e.link):
                        skips.append(Skip(e.link or u, "feed", "no_link", f"entry {e.entry_key!r} has no web link"))
                        load.record_entries(con, [(e, None)], run_id)
                        continue
                    canon = canonicalize_url(e.link)
                    new_entries.append((e, canon))
                    jobs.append(PageJob(canon, tuple(feeds[u]), e, parsed.title))
            # the feeds view keeps one watch per feed: the first watch listing it
            feed_store.record_poll(
                con, feed_url=u, watch=feeds[u][0], result=r, parsed=parsed, new_entries=new, run_id=run_id,
                disable_after=disable_after, now=now, pending=polls,
                # a feed never polled has no row: its empty state here, not a query per new feed in record_poll
                prev=prev_states.get(u) or feed_store.FeedState(feed_url=u),
            )
        feed_store.write_polls(con, polls)
        # Entries whose page is still to be fetched (a transient failure or a killed run): retried even when
        # the feed answered 304, because the feed's validators were stored when it was polled.
        fresh = {(e.feed_url, e.entry_key) for e, _ in new_entries}
        for e, canon in load.pending_entries(con, feed_urls):
            if (e.feed_url, e.entry_key) not in fresh:
                # the feed title was stored with the entry: the outlet name survives a 304 feed
                jobs.append(PageJob(canon, tuple(feeds.get(e.feed_url, ())), e, e.source))
                counts["entries_retried"] += 1
        # New entries are stored now, pending until their page is settled (stored, or failed for good).
        load.record_entries(con, new_entries, run_id, settled=False)
        # One article reached through two feeds (of one watch or of several) is fetched once, for every watch
        # listing either feed; articles already stored are not refetched unless their entry changed (then the
        # fetch may produce a revision).
        unique: dict[str, PageJob] = {}
        for j in jobs:
            unique[j.url] = _with_watches(unique[j.url], j.watches) if j.url in unique else j
        known = load.known_canonical_urls(con, list(unique))
        out: list[PageJob] = []
        stored: list[PageJob] = []
        for url, j in unique.items():
            prev = seen.get((j.entry.feed_url, j.entry.entry_key)) if j.entry else None
            if url in known and prev is None and (j.entry.feed_url, j.entry.entry_key) in fresh:
                load.settle_entries(con, [url])  # the same article, already stored, via another feed
                counts["entries_known_elsewhere"] += 1
                stored.append(j)  # judged for this feed's watches from the stored text (judge_stored)
                continue
            out.append(j)
    return Polled(tuple(out), tuple(skips), counts, tuple(stored))


@contextmanager
def _fetching(settings: FetchSettings, fetcher: Fetcher | None) -> Iterator[Fetcher]:
    """The run's Fetcher when one is given (robots.txt cache and per-host spacing shared across stages: the
    runner always gives it), else a new one for this call (a stage called on its own, e.g. by a benchmark)."""
    if fetcher is not None:
        yield fetcher
        return
    with Fetcher(settings) as own:
        yield own


@contextmanager
def _run_fetcher(settings: FetchSettings, db_path: str) -> Iterator[Fetcher]:
    """The one Fetcher of a run, with robots.txt kept in the warehouse for up to 24 h (RFC 9309 2.4) instead of
    fetched again every run."""
    load_kept, save = feed_store.robots_store(db_path)
    # The kept copies are read now, in this thread; answers fetched during the run are written at its end, also
    # from this thread: the Fetcher's worker threads never open the warehouse while a batch may be writing
    # (two threads opening one DuckDB file at the same moment can fail, see warehouse/feeds.robots_store).
    load_kept("")
    fetched: list[tuple] = []
    with Fetcher(settings) as fetcher:
        fetcher.robots_cache = RobotsCache(load_kept, lambda *answer: fetched.append(answer))
        yield fetcher
    for answer in fetched:
        try:
            save(*answer)
        except (WarehouseError, OSError) as e:  # a copy not kept costs one robots.txt request next run, nothing more
            log.warning("robots.txt of %s not kept: %s", answer[0], e)


def _looks_like_html(r: FetchResult) -> bool:
    """A fetched 'feed' that is an HTML page: by its Content-Type, or by the one body sniffer the feed parser uses."""
    return r.status == "ok" and is_html_answer(r.content_type, r.body)


def _autodiscover(
    urls: Sequence[str], results: Sequence[FetchResult], *, f_settings: FetchSettings, fetcher: Fetcher | None
) -> list[FetchResult]:
    """Feed autodiscovery: a configured URL that answers with an HTML page (a homepage) is replaced by the first
    feed the page announces (<link rel=alternate>), fetched under the same rules. The result carries the feed's
    address as a permanent redirect, so the feed state polls it directly from then on."""
    out = list(results)
    pages = [(i, u, r) for i, (u, r) in enumerate(zip(urls, results, strict=True)) if _looks_like_html(r)]
    if not pages:
        return out
    found = {i: discover_feeds(r.body, r.final_url) for i, _, r in pages}
    targets = {i: links[0] for i, links in found.items() if links}
    if not targets:
        return out
    with _fetching(f_settings, fetcher) as f:
        fetched = _fetch_many(f, list(targets.values()), kind="feed", what="discovered feeds")
    for (i, feed_url), r2 in zip(targets.items(), fetched, strict=True):
        detail = f"discovered feed {feed_url} on {urls[i]}"
        out[i] = replace(r2, permanent_redirect=feed_url if r2.status == "ok" else None,
                         detail=(r2.detail + "; " if r2.detail else "") + detail)
    return out


def fetch_pages(
    jobs: Sequence[PageJob], settings: FetchSettings, fetcher: Fetcher | None = None
) -> list[tuple[PageJob, FetchResult]]:
    """Fetch a batch of pages politely (per-host concurrency and delay, robots.txt)."""
    if not jobs:
        return []
    log.info("fetching %d page(s)", len(jobs))
    with _fetching(settings, fetcher) as f:
        results = _fetch_many(f, [j.url for j in jobs], kind="page")
    return list(zip(jobs, results, strict=True))


def fetched_batches(
    jobs: Sequence[PageJob], fetch: Callable[[Sequence[PageJob]], list[tuple[PageJob, FetchResult]]], *,
    batch_size: int, batch_bytes: int, max_page_bytes: int, min_step: int,
) -> Iterator[list[tuple[PageJob, FetchResult]]]:
    """The run's pages fetched batch after batch, each batch at most batch_size pages and cut as soon as its page
    bodies reach batch_bytes. A batch is fetched min_step pages at a time (the run's total_concurrency: every
    connection busy), or more while that many more pages at the cap (max_page_bytes) still fit under the
    budget, so a batch never holds more than batch_bytes + min_step x max_page_bytes of bodies, whatever the
    feed serves. The cut depends only on the pages and the settings, so every entry point (and any number of
    workers) cuts the same batches. The caller must drop each batch once it is extracted: this generator keeps
    none after handing it over."""
    i = 0
    n_batch = 0
    while i < len(jobs):
        batch: list[tuple[PageJob, FetchResult]] = []
        size = 0
        while i < len(jobs) and len(batch) < batch_size and size < batch_bytes:
            n = min(max(min_step, (batch_bytes - size) // max(max_page_bytes, 1)), batch_size - len(batch))
            part = fetch(jobs[i : i + n])
            i += n
            size += sum(len(r.body) for _, r in part)
            batch += part
        n_batch += 1
        log.info("batch %d: %d page(s), %.1f MB of page bodies%s", n_batch, len(batch), size / 1e6,
                 " (cut at the byte budget)" if size >= batch_bytes and len(batch) < batch_size else "")
        yield batch
        del batch  # not kept while the next batch is fetched


def count_fetched(report: RunReport, fetched: Sequence[tuple[PageJob, FetchResult]]) -> None:
    """Count a batch's pages fetched and pages that could not be fetched (timeouts, connection errors, HTTP
    errors: they make a run 'partial'). Pages refused by policy (robots.txt, the SSRF guard, size caps, not
    HTML) are skips, not failures."""
    report.counts["pages_fetched"] += sum(1 for _, r in fetched if r.status == "ok")
    report.counts["pages_failed"] += sum(1 for _, r in fetched if r.status in ("timeout", "error", "http_error"))


@dataclass(frozen=True, slots=True)
class Extracted:
    """A batch after extraction: articles, skips, the feed entries now settled, and for each article the watches
    that will judge it (those whose feeds list its page)."""

    articles: tuple[Article, ...]
    skips: tuple[Skip, ...]
    settled: tuple[tuple[FeedEntry, str], ...]
    candidates: Mapping[str, tuple[str, ...]]  # article_id -> watch names
    # (article_id, content_hash) -> the dedup fingerprint of that text, when computed with the extraction (in a
    # pool worker: pure per-text work the main process's load stage then does not do; see group_articles)
    fingerprints: Mapping[tuple[str, str], Fingerprint] = field(default_factory=dict)


def extract_batch(fetched: Sequence[tuple[PageJob, FetchResult]], fingerprints: bool = False) -> Extracted:
    """trafilatura extraction and cleaning of a fetched batch (each page once, whatever number of watches).
    fingerprints: also fingerprint each article's text for the dedup stage (the pool workers do)."""
    articles: list[Article] = []
    skips: list[Skip] = []
    settled: list[tuple[FeedEntry, str]] = []
    candidates: dict[str, tuple[str, ...]] = {}
    fps: dict[tuple[str, str], Fingerprint] = {}
    if fetched:
        log.info("extracting %d page(s)", len(fetched))
    for job, r in fetched:
        if r.status != "ok" and (r.transient or job.entry is None or r.status == "not_html"):
            # transient failures are retried next run (the entry stays unsettled); without a feed entry there
            # is no summary to fall back on
            skips.append(Skip(job.url, "fetch", r.status, r.detail))
            if job.entry is not None and not r.transient:
                settled.append((job.entry, job.url))
            continue
        # ok pages are extracted; terminal failures (too_large, blocked, gone, 4xx) go through extraction too,
        # which falls back to the feed summary when it is usable (the article keeps that fetch_status)
        try:
            out = extract_article(r, watch=job.watch, entry=job.entry, feed_title=job.feed_title)
        except Exception as e:  # a parser bug on one page never fails the run
            out = Skip(job.url, "extract", "error", f"{type(e).__name__}: {e}")
        if job.entry is not None:
            settled.append((job.entry, job.url))
        if isinstance(out, Skip):
            skips.append(out)
        else:
            a = clean_article(out)
            articles.append(a)
            if fingerprints:
                fps[(a.article_id, a.content_hash)] = fingerprint(a.article_id, a.text, use_numpy=True)
            prev = candidates.get(out.article_id, ())
            candidates[out.article_id] = prev + tuple(w for w in job.watches if w not in prev)
    return Extracted(tuple(articles), tuple(skips), tuple(settled), candidates, fps)


def extract_pages(
    fetched: Sequence[tuple[PageJob, FetchResult]],
) -> tuple[list[Article], list[Skip], list[tuple[FeedEntry, str]]]:
    """extract_batch as (articles, skips, entries now settled), for callers that judge one watch."""
    x = extract_batch(fetched)
    return list(x.articles), list(x.skips), list(x.settled)


def clean_article(a: Article) -> Article:
    """Keep the extracted text as raw_text and clean `text` (teasers, ad markers, repeated captions)."""
    return replace(a, text=clean_text(a.raw_text))


def filter_topic(articles: Sequence[Article], query: str,
                 languages: Sequence[str] = ()) -> tuple[list[Article], list[Skip]]:
    """Keep the articles in the watch's languages (all when none are listed) matching the watch query; the
    rest are recorded as skipped (language, off_topic)."""
    q = compile_query(query)
    articles, skipped = keep_languages(articles, languages)
    kept = []
    for a in articles:
        if q.matches(a.title, a.text):
            kept.append(a)
        else:
            matched = ", ".join(q.explain(a.title, a.text)) or "no term"
            skipped.append(Skip(a.url, "topic", "off_topic",
                                f"{a.title[:80]!r} does not match the watch query (matched: {matched})"))
    return kept, skipped


@dataclass(frozen=True, slots=True)
class Matched:
    """A batch judged by its watches: the articles to store (matched by at least one watch; `watch` is the first
    of them), one WatchMatch per (watch, article) and the per-watch skips (language, off_topic)."""

    kept: tuple[Article, ...]
    matches: tuple[WatchMatch, ...]
    skips: tuple[Skip, ...]


def query_terms(q: WatchQuery, title: str, text: str) -> tuple[str, ...]:
    """The query's own terms found in an article (why it matched): excluded terms and the empty query give none."""
    return () if q.match_all else tuple(t for t in q.explain(title, text) if not t.startswith("NOT "))


def match_watches(
    articles: Sequence[Article], candidates: Mapping[str, Sequence[str]], watches: Sequence[WatchConfig],
) -> Matched:
    """Apply each candidate watch's languages and query to each article (an article without candidates is
    judged by every watch given). The text is extracted once; each watch decides for itself."""
    compiled = [(w, compile_query(w.query), {lang.casefold() for lang in w.languages}) for w in watches]
    kept: list[Article] = []
    matches: list[WatchMatch] = []
    skips: list[Skip] = []
    for a in articles:
        cands = candidates.get(a.article_id)
        first = None
        for w, q, wanted in compiled:
            if cands is not None and w.name not in cands:
                continue
            if wanted and a.language is not None and a.language.casefold() not in wanted:
                skips.append(Skip(a.url, "topic", "language",
                                  f"{a.title[:80]!r} is in {a.language!r}, not in {sorted(wanted)}", watch=w.name))
            elif q.matches(a.title, a.text):
                matches.append(WatchMatch(w.name, a.article_id, query_terms(q, a.title, a.text)))
                first = first or w.name
            else:
                found = ", ".join(q.explain(a.title, a.text)) or "no term"
                skips.append(Skip(a.url, "topic", "off_topic",
                                  f"{a.title[:80]!r} does not match the query of watch {w.name} (matched: {found})",
                                  watch=w.name))
        if first is not None:
            kept.append(a if a.watch == first else replace(a, watch=first))
    return Matched(tuple(kept), tuple(matches), tuple(skips))


def watch_key(watch: WatchConfig) -> str:
    """What a watch's membership depends on: its query, languages and feeds. When it changes (or the watch is
    new), the stored articles the watch can see are judged for it again (judge_stored)."""
    return stable_id(watch.query or "", ",".join(sorted(watch.languages)), *sorted(watch.feeds))


def judge_stored(
    db_path: str,
    run_id: str,
    watches: Sequence[WatchConfig],
    feeds: Mapping[str, Sequence[str]],
    jobs: Sequence[PageJob] | None = None,
    *,
    everything: bool = False,
    batch_size: int = 500,
) -> tuple[Counter, list[Skip]]:
    """Judge articles already stored for watches that have not judged them, without fetching them again.

    jobs given: pages a new feed entry lists that another watch (or an earlier run) already stored; each is
    judged for the watches of its job, like a fetched page (off-topic skips recorded). jobs None: the catch-up at
    the start of a run: for each watch whose key (watch_key: query, languages, feeds) has not been applied yet
    (a watch added to the config, a changed query) or every watch when everything is set (`newswatch
    reprocess`), every stored article it can see (reached through its feeds, or stored under its name) is judged;
    only matches are recorded (no skip per old article), then the key. Matching only adds rows: an article
    matched under an older query stays in the watch. Returns counts (("matched"|"judged_stored", watch) keys)
    and the skips recorded."""
    counts: Counter = Counter()
    recorded: list[Skip] = []
    watch_feeds = {w.name: list(dict.fromkeys([*w.feeds, *(u for u, ws in feeds.items() if w.name in ws)]))
                   for w in watches}
    with session(db_path) as con:
        if jobs is None:
            todo = {w.name: load.unmatched_stored(con, w.name, watch_feeds[w.name]) for w in watches
                    if everything or load.watch_query_key(con, w.name) != watch_key(w)}
        else:
            todo = {w.name: load.unmatched_stored(con, w.name, watch_feeds[w.name],
                                                  urls=[j.url for j in jobs if w.name in j.watches])
                    for w in watches if any(w.name in j.watches for j in jobs)}
    candidates: dict[str, tuple[str, ...]] = {}
    for name, ids in todo.items():
        for i in ids:
            candidates[i] = candidates.get(i, ()) + (name,)
            counts[("judged_stored", name)] += 1
    ids = list(candidates)
    if todo:
        log.info("judging %d stored article(s) for %s", len(ids), ", ".join(todo))
    for i in range(0, max(len(ids), 1), batch_size):
        with session(db_path) as con:
            articles = load.stored_articles(con, ids[i : i + batch_size])
        m = match_watches(articles, candidates, [w for w in watches if w.name in todo])
        skips = list(m.skips) if jobs is not None else []
        with session(db_path) as con, transaction(con):
            for new in load.record_watch_matches(con, m.matches):
                counts[("matched", new.watch)] += 1
            load.record_skips(con, run_id, skips)
            if jobs is None and i + batch_size >= len(ids):
                for w in watches:
                    if w.name in todo:
                        load.set_watch_query_key(con, w.name, watch_key(w))
        recorded += skips
    return counts, recorded


# Below this many words a second spaCy process costs more to start than it saves; above it, two processes took
# the facts stage from 15.5 s to 10.2 s on 114 real pages (96k words) on 2 cores (bench/pipeline_bench.py).
PARALLEL_FACTS_MIN_WORDS = 30_000
# Texts whose NER spans a run keeps for the copies that follow (kilobytes for a news page; at worst 2,000 texts at
# the 200,000-character cap, ~400 MB of text); 0: no
# reuse (tests compare the two).
FACTS_CACHE_TEXTS = 2000


def extract_facts(articles: Sequence[Article], aliases: dict[str, str] | None = None,
                  n_process: int | None = None, reuse: SpanCache | None = None) -> list:
    """Facts for a batch of articles; n_process None chooses 1 or 2 processes from the batch size. reuse (the
    run's SpanCache): a syndicated copy of a text seen earlier in the run (this batch or an earlier one) takes
    that text's NER spans for the paragraphs they share, strict (the facts a full run gives: see
    extractors/facts/reuse.py), and NER runs on the rest only."""
    if n_process is None:
        words = sum(a.word_count for a in articles)
        n_process = min(2, os.cpu_count() or 1) if words >= PARALLEL_FACTS_MIN_WORDS else 1
    if articles:
        log.info("facts: %d article(s), %d words, %d process(es)", len(articles),
                 sum(a.word_count for a in articles), n_process)
    return extract_facts_batch([(a.article_id, a.text) for a in articles], user_aliases=aliases, n_process=n_process,
                               reuse=reuse, languages=languages_of(articles))


def languages_of(articles: Sequence[Article]) -> dict[str, str]:
    """Each article's stored language, which its facts follow: detected from the page's text at extraction (a
    second detection in the facts stage cost about as much again, 2-3 ms per article). Articles without one
    (a feed-summary fallback) are left out: the facts stage detects theirs."""
    return {a.article_id: a.language for a in articles if a.language}


def facts_cache() -> SpanCache | None:
    """The SpanCache of one run (strict): the NER spans of its last texts, for the copies that follow (None when
    FACTS_CACHE_TEXTS is 0: every text runs NER in full)."""
    return SpanCache(capacity=FACTS_CACHE_TEXTS) if FACTS_CACHE_TEXTS > 0 else None


# The load window runs on one DuckDB thread. Its statements are small, and while a run streams, the pool's workers
# keep both cores busy, so DuckDB's own threads only contend with them (2,000 pages with 30% copies, 2 workers,
# alternated runs of `newswatch run`: wall 82.6 and 76.1 s with DuckDB's default threads, 75.5 and 71.0 s with one).
LOAD_THREADS = 1


def load_batch(
    db_path: str,
    run_id: str,
    articles: Sequence[Article],
    facts: Sequence,
    skips: Sequence[Skip],
    settled: Sequence[tuple[FeedEntry, str | None]],
    dedup: DedupSettings,
    matches: Sequence[WatchMatch] = (),
    fingerprints: Mapping[tuple[str, str], Fingerprint] | None = None,
) -> Counter:
    """One writer window and one transaction: articles (+revisions), their facts, aliases, syndication/story
    groups, the watches each article matched (watch_articles), settled feed entries and skips. A batch is stored
    whole or not at all, so a killed run loses at most the batch in flight, and its entries are fetched again
    next run. New watch matches are counted per watch under ("matched", watch). fingerprints: those computed
    with the extraction (Extracted.fingerprints), used by the dedup stage instead of computing them again."""
    counts: Counter = Counter()
    log.info("loading %d article(s)", len(articles))
    with session(db_path) as con, duckdb_threads(con, LOAD_THREADS), transaction(con):
        result = load.upsert_articles(con, articles, run_id)
        changed = set(result.changed)
        counts["articles_new"] += len(result.new)
        counts["articles_revised"] += len(result.revised)
        counts["articles_unchanged"] += len(result.unchanged)
        todo = [f for f in facts if f.article_id in changed]
        counts["facts"] += store_facts(con, todo) if todo else 0
        if changed:
            g = group_articles(con, sorted(changed), dedup, fingerprints or {})
            counts["copies_grouped"] += g.get("copies_grouped", 0)
            counts["stories"] += g.get("stories", 0)
            load.mark_links_stale(con)  # cross-article linking runs once per run, after every batch
        for m in load.record_watch_matches(con, matches):
            counts[("matched", m.watch)] += 1
        load.settle_entries(con, [url for _, url in settled if url])
        load.record_skips(con, run_id, skips)
    publish_read_copy(db_path)  # readers during a run see each committed batch (warehouse/db.py, docs/trends.md)
    log.info("stored %d new and %d revised article(s)", counts["articles_new"], counts["articles_revised"])
    return counts


def batch_size_of(config: Config, batch_size: int | None) -> int:
    """The pages per batch of a run: batch_size when given (a caller's --batch-size or flow parameter), else
    `[run] batch_size`. Anything under 1 is refused: a batch of no pages would never advance."""
    if batch_size is None:
        return config.run.batch_size
    if batch_size < 1:
        raise ValueError(f"batch_size must be a whole number of at least 1, not {batch_size!r}")
    return batch_size


def reprocess_stale(db_path: str, config: Config, batch_size: int | None = None) -> Counter:
    """Recompute derived values made by an older extractor or fingerprint version (or for an older text):
    facts first, then syndication and story groups, in batches of one transaction each. After an upgrade the
    warehouse is recomputed instead of mixing old and new results. batch_size: articles per transaction
    (default [run] batch_size)."""
    from extractors.facts import FACTS_VERSION
    from extractors.fingerprint import FINGERPRINT_VERSION
    from warehouse.dedup import stale_articles as stale_groups
    from warehouse.facts import stale_articles as stale_facts

    batch_size = batch_size_of(config, batch_size)
    counts: Counter = Counter()
    aliases = {k: v for w in config.watches for k, v in w.aliases.items()}
    with session(db_path) as con:
        fact_ids = stale_facts(con, FACTS_VERSION)
    reuse = facts_cache()
    for i in range(0, len(fact_ids), batch_size):
        ids = fact_ids[i : i + batch_size]
        with session(db_path) as con:
            rows = load.article_texts(con, ids)
        # detected again from the stored text: articles stored before the language was read from the text
        # (e379898) carry the page's declared language, wrong on about a fifth of pages
        facts = extract_facts_batch(rows, user_aliases=aliases, reuse=reuse)
        with session(db_path) as con, transaction(con):
            counts["facts"] += store_facts(con, facts)
            counts["facts_recomputed"] += len(ids)
            load.mark_links_stale(con)
    with session(db_path) as con:
        group_ids = stale_groups(con, FINGERPRINT_VERSION)
    for i in range(0, len(group_ids), batch_size):
        ids = group_ids[i : i + batch_size]
        with session(db_path) as con, transaction(con):
            group_articles(con, ids, config.dedup)
            counts["groups_recomputed"] += len(ids)
            load.mark_links_stale(con)
    return counts


def link_across_articles(db_path: str) -> bool:
    """Cross-article aliases, quote clusters and conflicts, when stored facts or groups changed since they were
    last computed. It reads every stored fact (about a second per 10k articles), so it runs once per run, after
    grouping (name tie-breaks count syndicated copies once); the stale mark is written in the same transaction
    as each batch, so a run killed before linking is linked by the next one."""
    with session(db_path) as con, transaction(con):
        if not load.links_stale(con):
            return False
        link_aliases(con)
        load.clear_links_stale(con)
    return True


# ---- whole runs ---------------------------------------------------------------------------------------


def begin_run(db_path: str, command: str, watches: Sequence[str]) -> str:
    with session(db_path) as con:
        load.mark_abandoned_runs(con, watches if concurrent_writers() else None)
        return load.start_run(con, command, watches)


def finish_run(report: RunReport) -> None:
    with session(report.db_path) as con:
        counts = dict(report.counts)
        counts["skipped"] = sum(report.skips.values())
        counts["off_topic"] = report.skips.get(("topic", "off_topic"), 0)
        load.finish_run(con, report.run_id, report.status, counts, report.error)
        load.record_run_watches(con, report.run_id, {(w, c): n for (w, c), n in report.watch_counts.items()
                                                     if c in load.WATCH_COUNTERS})


@contextmanager
def recorded(report: RunReport) -> Iterator[RunReport]:
    """Finish the run row whatever happens: succeeded, partial or failed (see conclude), interrupted by a
    signal, or failed with a one-line error (and re-raise)."""
    try:
        yield report
    except BaseException as e:
        signum = _signal_of(e)
        if signum is not None:
            end_children(everything=False)  # spaCy's workers must not outlive an interrupted run (also under Prefect)
            report.status = "interrupted"
            report.error = f"interrupted by {signal.Signals(signum).name}"
            finish_run(report)
            if isinstance(e, Interrupted):
                e.run_id = report.run_id
                raise
            if isinstance(e, KeyboardInterrupt):
                raise Interrupted(signum, report.run_id) from e
            raise  # Prefect's own TerminationSignal: Prefect reports the flow run
        report.status = "failed"
        report.error = f"{type(e).__name__}: {e}"
        finish_run(report)
        raise
    conclude(report)
    finish_run(report)


def _signal_of(e: BaseException) -> int | None:
    """The signal behind an exception that ends a run, if it is one: ours (whatever it became on its way up: a
    library may wrap it), a plain KeyboardInterrupt, or Prefect's TerminationSignal (SIGTERM to a flow run)."""
    if interrupted_by() is not None:
        return interrupted_by()
    if isinstance(e, KeyboardInterrupt):
        return int(getattr(e, "signum", signal.SIGINT))
    sig = getattr(e, "signal", None)
    if not isinstance(e, Exception) and isinstance(sig, int):
        return int(sig)
    return None


def conclude(report: RunReport) -> None:
    """The status of a run that ran to its end.

    failed: a digest could not be delivered, no feed could be polled (every due feed failed, or every feed is
    disabled), or an ingest found nothing it could read. partial: some feeds or pages failed. Else succeeded
    (also when no feed was due: the summary lists when each is next polled)."""
    c = report.counts
    undelivered = not_delivered(report.digests)
    tried = c["feeds_polled"] + c["feeds_disabled"]
    if undelivered:
        report.status = "failed"
        report.error = undelivered
    elif report.nothing_ingested:
        report.status = "failed"
        report.error = f"nothing could be ingested: {report.nothing_ingested}"
    elif tried and c["feeds_failed"] + c["feeds_disabled"] >= tried:
        report.status = "failed"
        report.error = "no feed could be polled: " + _feed_list(report.feed_failures)
    elif c["feeds_failed"] or c["feeds_disabled"] or c["pages_failed"]:
        report.status = "partial"
        parts = []
        if report.feed_failures:
            parts.append(f"{len(report.feed_failures)} of {tried} feed(s) failed: {_feed_list(report.feed_failures)}")
        if c["pages_failed"]:
            parts.append(f"{c['pages_failed']} page(s) could not be fetched (retried next run when transient)")
        report.error = "; ".join(parts)
    else:
        report.status = "succeeded"


def not_delivered(outcomes: Sequence) -> str | None:
    """One line naming each digest that could not be delivered, or None when none failed."""
    failed = [d for d in outcomes if getattr(d, "status", "") == "failed"]
    return "; ".join(f"digest {d.watch} not delivered: {d.detail}" for d in failed) or None


def _feed_list(failures: Sequence[tuple[str, str]], limit: int = 5) -> str:
    text = "; ".join(f"{u}: {why}" for u, why in failures[:limit])
    return text + (f"; and {len(failures) - limit} more" if len(failures) > limit else "")


def note_feeds(report: RunReport, db_path: str, feed_urls: Sequence[str], skips: Sequence[Skip]) -> None:
    """Remember, for the summary, each failing feed with its reason and each feed not polled (not due yet, or
    disabled) with its next poll time."""
    for s in skips:
        if s.stage == "feed" and s.reason not in ("parse_warning", "no_link"):
            report.feed_failures.append((s.url, one_line_reason(s.reason, s.detail)))
    with session(db_path) as con:
        states = feed_store.get_feed_states(con, feed_urls)
    for u in dict.fromkeys(feed_urls):
        st = states.get(u)
        if st is None or st.last_run_id == report.run_id:
            continue
        if st.disabled:
            report.counts["feeds_disabled"] += 1
            report.feed_failures.append((u, f"disabled ({one_line_reason('', st.disabled_reason or '')})"))
        else:
            report.not_due.append((u, st.next_poll_at))


def tally_skips(report: RunReport, skips: Sequence[Skip]) -> None:
    for s in skips:
        report.skips[(s.stage, s.reason)] += 1
        if s.watch is not None:
            report.watch_counts[(s.watch, s.reason)] += 1


@contextmanager
def demo_feeds(config: Config) -> Iterator[list[str]]:
    """Start the embedded loopback fixture server when the config asks for it; yields the extra feed URLs."""
    if not config.demo.serve_seeds:
        yield []
        return
    from newswatch.demo import DEMO_PORT, serve_fixtures

    with serve_fixtures(port=DEMO_PORT) as server:
        yield [server.feed_url]


def run_digests(config: Config, db_path: str, watch_names: Sequence[str], out_dir: str | None = None) -> list:
    from flows.digest_stage import run_digest

    return [run_digest(db_path, config, name, out_dir=out_dir) for name in watch_names]


# ---- the runner: one batch loop for `run`, `ingest` and the Prefect flow ------------------------------


@dataclass(frozen=True, slots=True)
class Stages:
    """How the runner calls each stage. By default the plain functions; flows/monitor.py passes Prefect tasks
    that wrap the same functions and nothing else, so the CLI and the flow run one loop."""

    poll: Callable[..., Polled] = poll_feeds
    judge_stored: Callable[..., tuple[Counter, list[Skip]]] = judge_stored
    fetch: Callable[..., list[tuple[PageJob, FetchResult]]] = fetch_pages
    extract: Callable[..., Extracted] = extract_batch
    match: Callable[..., Matched] = match_watches
    facts: Callable[..., list] = extract_facts
    load: Callable[..., Counter] = load_batch
    reprocess: Callable[..., Counter] = reprocess_stale
    link: Callable[..., bool] = link_across_articles
    digest: Callable[..., list] = run_digests


DIRECT = Stages()


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What one run works on."""

    watches: tuple[WatchConfig, ...]  # every watch that judges the run's pages
    feeds: Mapping[str, tuple[str, ...]]  # feed URL to poll -> the watches listing it
    force: bool = False  # poll every enabled feed, due or not
    jobs: tuple[PageJob, ...] = ()  # pages named by local feed files (ingest)
    articles: tuple[Article, ...] = ()  # local files, already extracted (ingest), judged by their `watch`
    skips: tuple[Skip, ...] = ()  # found before the loop (ingest: unreadable files, feed-file warnings)


@contextmanager
def _timed(report: RunReport, stage: str) -> Iterator[None]:
    """Add the wall time of a stage call to report.stage_seconds (logged at the end of the run: bench/throughput.py
    reads it)."""
    t = time.perf_counter()
    try:
        yield
    finally:
        report.stage_seconds[stage] += time.perf_counter() - t


def log_stage_seconds(report: RunReport) -> None:
    if report.stage_seconds:
        log.info("stage seconds: %s", " ".join(f"{k}={v:.2f}" for k, v in report.stage_seconds.items()))


def _add_counts(report: RunReport, counts: Counter) -> None:
    """Run counters by name; per-watch counters come as (counter, watch) keys."""
    for k, n in counts.items():
        if isinstance(k, tuple):
            report.watch_counts[(k[1], k[0])] += n
        else:
            report.counts[k] += n


def run_batches(
    report: RunReport, config: Config, plan: RunPlan, fetcher: Fetcher, *, stages: Stages = DIRECT,
    batch_size: int | None = None,
) -> None:
    """The one batch loop: catch up new watches/queries on stored articles, poll each feed once, judge pages
    already stored for the watches that have not seen them, then fetch -> extract -> per-watch match -> facts ->
    load one batch at a time. An interrupted or killed run keeps the batches already stored, and the next run
    fetches only the pages still pending. Skips found before the first batch are stored with it. batch_size:
    pages per batch (default [run] batch_size)."""
    batch_size = batch_size_of(config, batch_size)
    db, run_id = report.db_path, report.run_id
    settings = config.effective_fetch()
    aliases = {k: v for w in plan.watches for k, v in w.aliases.items()}
    counts, skips = stages.judge_stored(db, run_id, plan.watches, plan.feeds)
    _add_counts(report, counts)
    tally_skips(report, skips)
    pending: list[Skip] = list(plan.skips)
    unique: dict[str, PageJob] = {}
    for j in plan.jobs:
        unique[j.url] = _with_watches(unique[j.url], j.watches) if j.url in unique else j
    if plan.feeds:
        with _timed(report, "poll"):
            polled = stages.poll(db, run_id, plan.feeds, settings, config.fetch.disable_feed_after_failures,
                                 force=plan.force, fetcher=fetcher)
        _add_counts(report, polled.counts)
        note_feeds(report, db, list(plan.feeds), polled.skips)
        pending += polled.skips
        for j in polled.jobs:
            unique[j.url] = _with_watches(unique[j.url], j.watches) if j.url in unique else j
        if polled.stored:
            counts, skips = stages.judge_stored(db, run_id, plan.watches, plan.feeds, list(polled.stored))
            _add_counts(report, counts)
            tally_skips(report, skips)
    jobs = list(unique.values())
    stored_batches = 0
    reuse = facts_cache()

    def store(articles: Sequence[Article], candidates: Mapping[str, Sequence[str]], skips: Sequence[Skip],
              settled: Sequence[tuple[FeedEntry, str]],
              fingerprints: Mapping[tuple[str, str], Fingerprint] | None = None) -> None:
        nonlocal pending, stored_batches
        with _timed(report, "match"):
            m = stages.match(articles, candidates, plan.watches)
        with _timed(report, "facts"):
            facts = stages.facts(list(m.kept), aliases, reuse=reuse) if m.kept else []
        batch_skips = [*pending, *skips, *m.skips]
        with _timed(report, "load"):
            _add_counts(report, stages.load(db, run_id, list(m.kept), facts, batch_skips, settled, config.dedup,
                                            matches=list(m.matches), fingerprints=fingerprints))
        tally_skips(report, batch_skips)
        pending, stored_batches = [], stored_batches + 1

    for i in range(0, len(plan.articles), batch_size):
        chunk = plan.articles[i : i + batch_size]
        store(chunk, {a.article_id: (a.watch,) for a in chunk}, (), ())
    workers = config.run.effective_workers(len(jobs))
    if jobs and workers > 1 and stages is DIRECT:
        # Prefect's stages are tasks of the flow run's context, called from the main thread: they keep the
        # batch-after-batch loop below (same warehouse, see tests/test_runner_equivalence.py)
        def store_stream(m: Matched, facts: list, skips: Sequence[Skip], settled: Sequence[tuple[FeedEntry, str]],
                         fingerprints: Mapping[tuple[str, str], Fingerprint]) -> None:
            nonlocal pending, stored_batches
            batch_skips = [*pending, *skips, *m.skips]
            with _timed(report, "load"):
                _add_counts(report, stages.load(db, run_id, list(m.kept), facts, batch_skips, settled,
                                                config.dedup, matches=list(m.matches), fingerprints=fingerprints))
            tally_skips(report, batch_skips)
            pending, stored_batches = [], stored_batches + 1

        _stream_batches(report, plan, jobs, config, fetcher, aliases, workers, batch_size, store_stream, reuse)
        jobs = []
    def fetch(chunk: Sequence[PageJob]) -> list[tuple[PageJob, FetchResult]]:
        with _timed(report, "fetch"):
            return stages.fetch(list(chunk), settings, fetcher)

    for fetched in batches_of(jobs, fetch, config, batch_size):
        count_fetched(report, fetched)
        with _timed(report, "extract"):
            x = stages.extract(fetched)
        del fetched  # the bodies go now: not kept through this batch's facts and load, nor the next fetch
        # the fingerprints an extract stage made with the text (a Dask worker's extract-chunk does), not redone
        store(x.articles, x.candidates, x.skips, _settled(x), x.fingerprints)
    if not stored_batches:
        store((), {}, (), ())  # the skips of a run with nothing to fetch, and the read copy


def batches_of(jobs: Sequence[PageJob], fetch: Callable[[Sequence[PageJob]], list[tuple[PageJob, FetchResult]]],
               config: Config, batch_size: int) -> Iterator[list[tuple[PageJob, FetchResult]]]:
    """fetched_batches under the config's budget ([run] batch_bytes) and fetch settings."""
    settings = config.effective_fetch()
    return fetched_batches(jobs, fetch, batch_size=batch_size, batch_bytes=config.run.batch_bytes,
                           max_page_bytes=settings.max_page_bytes, min_step=settings.total_concurrency)


def _settled(x: Extracted) -> list[tuple[FeedEntry, str]]:
    # entries of local feed files are not kept in core.feed_entries: nothing to settle
    return [(e, u) for e, u in x.settled if not e.feed_url.startswith("file:")]


def merge_extracted(parts: Sequence[Extracted]) -> Extracted:
    """The chunks of one batch extracted apart, as extract_batch would have returned the whole batch."""
    candidates: dict[str, tuple[str, ...]] = {}
    for x in parts:
        for aid, ws in x.candidates.items():
            prev = candidates.get(aid, ())
            candidates[aid] = prev + tuple(w for w in ws if w not in prev)
    return Extracted(tuple(a for x in parts for a in x.articles), tuple(s for x in parts for s in x.skips),
                     tuple(e for x in parts for e in x.settled), candidates,
                     {k: fp for x in parts for k, fp in x.fingerprints.items()})


# Fetched batches waiting for extraction: with the batch being fetched and the one being extracted, at most
# FETCH_AHEAD + 2 batches of page bodies are in memory at once (each under [run] batch_bytes plus one fetch
# step, see fetched_batches), whatever the feed size.
FETCH_AHEAD = 1


def _stream_batches(
    report: RunReport, plan: RunPlan, jobs: Sequence[PageJob], config: Config, fetcher: Fetcher,
    aliases: Mapping[str, str], workers: int, batch_size: int,
    store: Callable[[Matched, list, Sequence[Skip], Sequence[tuple[FeedEntry, str]],
                     Mapping[tuple[str, str], Fingerprint]], None],
    reuse: SpanCache | None = None,
) -> None:
    """The batch loop with both cores busy: a thread fetches batch after batch into a bounded queue; the worker
    pool extracts batch i+1, then runs its facts while the main process stores batch i. Batches are matched and
    committed in order by the main process, so the warehouse is the one the plain loop makes; bodies are dropped
    once their batch is extracted. reuse: the run's SpanCache (copies reuse the spans of what they copy)."""
    import queue

    from flows.workers import WorkerPool, quiet_resource_tracker

    fetched_q: queue.Queue = queue.Queue(maxsize=FETCH_AHEAD)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                fetched_q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def fetch(chunk: Sequence[PageJob]) -> list[tuple[PageJob, FetchResult]]:
        if stop.is_set() or _cancel.is_set():
            raise _Stopped
        log.info("fetching %d page(s)", len(chunk))
        t = time.perf_counter()
        try:
            return list(zip(chunk, _fetch_many(fetcher, [j.url for j in chunk], kind="page"), strict=True))
        finally:
            report.stage_seconds["fetch"] += time.perf_counter() - t

    def fetch_loop() -> None:
        try:
            for batch in batches_of(jobs, fetch, config, batch_size):
                if not put(batch):
                    return
                del batch  # the queue's (then the main process's) reference is the only one
            put(done)
        except _Stopped:
            return
        except BaseException as e:  # handed to the main thread
            put(e)

    def next_batch() -> object:
        while True:
            try:
                return fetched_q.get(timeout=0.5)  # a short wait: a signal is handled at once
            except queue.Empty:
                continue

    log.info("streaming: %d worker process(es), %d page(s) in batches of %d", workers, len(jobs), batch_size)
    thread = threading.Thread(target=fetch_loop, name="newswatch-fetch-ahead", daemon=True)
    quiet_resource_tracker()  # it points stderr at /dev/null for a moment: before the fetch thread logs
    pool: WorkerPool | None = None
    failed = True
    try:
        # fetching starts first: the first batch downloads while the fork server imports spaCy (WorkerPool
        # waits for it), which the main process spent idle before
        thread.start()
        pool = WorkerPool(workers)
        prev: tuple | None = None  # (Matched, facts futures, skips, settled, fingerprints) of the batch to store

        def facts_of(p: tuple) -> list:
            with _timed(report, "facts_wait"):
                return [f for fut in p[1] for f in fut.result()]

        def submit(fetched: list) -> _Submitted:
            count_fetched(report, fetched)
            return _Submitted(pool.extract(fetched), len(fetched))

        ahead: object = None  # the next batch, taken from the queue (and its extraction submitted) early
        while True:
            if ahead is None:
                if prev is not None and fetched_q.empty():
                    store(prev[0], facts_of(prev), prev[2], prev[3], prev[4])  # the next batch is still downloading
                    prev = None
                item = next_batch()
            else:
                item, ahead = ahead, None
            if isinstance(item, BaseException):
                raise item
            if item is done:
                break
            # the pool has its copy of the pages; the bodies go with the extraction results
            ex_futures, n_pages = item if isinstance(item, _Submitted) else submit(item)
            del item
            # batch i's facts first: its texts' spans are then in `reuse` for the copies of batch i+1
            ready = (prev, facts_of(prev)) if prev is not None else None
            log.info("extracting %d page(s)", n_pages)
            with _timed(report, "extract_wait"):
                x = merge_extracted([f.result() for f in ex_futures])
            with _timed(report, "match"):
                m = match_watches(x.articles, x.candidates, plan.watches)
            words = sum(a.word_count for a in m.kept)
            if m.kept:
                log.info("facts: %d article(s), %d words, %d process(es) (pool)", len(m.kept), words, workers)
            futures = pool.facts([(a.article_id, a.text) for a in m.kept], aliases, reuse,
                                 languages_of(m.kept)) if m.kept else []
            if ready is not None:
                # the main process loads batch i while the pool runs the facts of batch i+1 and, when it is
                # fetched already, extracts batch i+2 (it idled through the load otherwise); its facts are still
                # planned after batch i+1's, in order
                try:
                    nxt = fetched_q.get_nowait()
                except queue.Empty:
                    nxt = None
                if nxt is not None:
                    ahead = submit(nxt) if isinstance(nxt, list) else nxt
                    del nxt
                (pm, _, pskips, psettled, pfps), facts = ready
                store(pm, facts, pskips, psettled, pfps)
            prev = (m, futures, x.skips, _settled(x), x.fingerprints)
        if prev is not None:
            store(prev[0], facts_of(prev), prev[2], prev[3], prev[4])
        failed = False
    finally:
        stop.set()
        if pool is not None:
            pool.close(failed=failed)


@contextmanager
def _recorded_run(
    db_path: str, settings: FetchSettings, command: str, watch_names: Sequence[str]
) -> Iterator[tuple[RunReport, Fetcher]]:
    """The frame of a run: the run lock, the run's one Fetcher, and the run row with its outcome (recorded)."""
    with run_lock(db_path, watches=watch_names), _run_fetcher(settings, db_path) as fetcher:
        report = RunReport(run_id=begin_run(db_path, command, watch_names), db_path=db_path)
        with recorded(report):
            yield report, fetcher


def _after_batches(
    report: RunReport, config: Config, watch_names: Sequence[str], *, digest: bool, batch_size: int,
    out_dir: str | None = None, stages: Stages = DIRECT,
) -> None:
    """Once per run, after every batch is stored: recompute stale derived values, link facts across articles,
    then the digests."""
    with _timed(report, "reprocess"):
        report.counts.update(stages.reprocess(report.db_path, config, batch_size))
    log.info("linking facts across articles")
    with _timed(report, "link"):
        stages.link(report.db_path)
    log_stage_seconds(report)
    if digest:
        report.digests = stages.digest(config, report.db_path, list(watch_names), out_dir=out_dir)
        report.counts["digest_items"] += sum(getattr(d, "items", 0) or 0 for d in report.digests)


def monitor_plan(config: Config, watches: Sequence[WatchConfig], extra_feeds: Sequence[str] = (),
                 force: bool = False) -> RunPlan:
    """The plan of a monitoring run of these watches: their feeds (and extra_feeds, e.g. the demo's), each
    judged by every watch of the config that lists it, so a run of one watch does not consume a shared feed's
    entries for the others."""
    selected = feeds_of(watches, extra_feeds)
    feeds = {u: tuple(w.name for w in config.watches if w.name in names or u in w.feeds)
             for u, names in selected.items()}
    judges = tuple(w for w in config.watches if any(w.name in names for names in feeds.values())
                   or w in watches)
    return RunPlan(watches=judges, feeds=feeds, force=force)


def run_monitor(
    config: Config,
    db_path: str,
    *,
    watch_names: Sequence[str] | None = None,
    extra_feeds: Sequence[str] = (),
    digest: bool = True,
    out_dir: str | None = None,
    force: bool = False,
    batch_size: int | None = None,
    stages: Stages = DIRECT,
) -> RunReport:
    """One monitoring run of every (or the named) watch: poll, fetch, extract, match, facts, load, digest."""
    batch_size = batch_size_of(config, batch_size)  # a bad size is refused before anything is written
    watches = [config.watch(n) for n in watch_names] if watch_names else list(config.watches)
    names = [w.name for w in watches]
    plan = monitor_plan(config, watches, extra_feeds, force)
    with _recorded_run(db_path, config.effective_fetch(), "run", names) as (report, fetcher):
        run_batches(report, config, plan, fetcher, stages=stages, batch_size=batch_size)
        _after_batches(report, config, names, digest=digest, out_dir=out_dir, batch_size=batch_size, stages=stages)
    return report


def expand_sources(sources: Sequence[str]) -> tuple[list[Path], list[Path], list[str]]:
    """Split command-line sources into local article files, local feed files and feed URLs (files of other types
    inside a folder: see unsupported_files)."""
    files, feeds, urls, _ = _expand(sources)
    return files, feeds, urls


def _expand(sources: Sequence[str]) -> tuple[list[Path], list[Path], list[str], list[Path]]:
    files: list[Path] = []
    feeds: list[Path] = []
    urls: list[str] = []
    unsupported: list[Path] = []
    for s in sources:
        if s.startswith(("http://", "https://")):
            urls.append(s)
            continue
        if "://" in s:
            raise SourceError(f"{s}: only local paths and http(s) feed URLs can be ingested")
        p = Path(s)
        if not p.exists():
            raise SourceError(f"{s}: no such file or folder")
        paths = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for q in paths:
            suffix = q.suffix.lower()
            if suffix in FEED_SUFFIXES:
                feeds.append(q)
            elif suffix in TEXT_SUFFIXES:
                files.append(q)
            elif not p.is_dir():
                raise SourceError(f"{s}: unsupported file type {suffix or '(none)'}; use .txt, .html, .xml, .rss, .atom or .json")
            else:
                unsupported.append(q)
    return files, feeds, urls, unsupported


def _nothing_ingested(report: RunReport, sources: Sequence[str], unsupported: Sequence[Path]) -> str | None:
    """Why an ingest stored nothing, or None when something was read (articles, even unchanged or off topic, or
    feed entries)."""
    c = report.counts
    if c["articles_new"] + c["articles_revised"] + c["articles_unchanged"] or c["entries_seen"] \
            or report.skips.get(("topic", "off_topic")):
        return None
    if unsupported:
        kinds = ", ".join(sorted({q.suffix.lower() or "(no suffix)" for q in unsupported}))
        why = f"{len(unsupported)} file(s) of unsupported type ({kinds}); use .txt, .html, .xml, .rss, .atom or .json"
    elif not any(n for (stage, _), n in report.skips.items()):
        why = f"no .txt, .html or feed file in {', '.join(sources)}"
    else:
        why = ", ".join(f"{n} {stage}/{reason}" for (stage, reason), n in sorted(report.skips.items()))
        why = f"every source was skipped ({why})"
    failed = [u for u, _ in report.feed_failures]
    if failed:
        why += f"; {len(failed)} feed(s) failed"
    return why


def ingest_sources(
    config: Config, db_path: str, watch: WatchConfig, sources: Sequence[str], *, digest: bool = False,
    batch_size: int | None = None, stages: Stages = DIRECT,
) -> RunReport:
    """Ingest local files/folders and feed URLs for one watch through the runner (run_batches): local files are
    extracted here, pages named by local feed files and feed URLs go through the same fetch loop as a run."""
    batch_size = batch_size_of(config, batch_size)
    files, feed_files, urls, unsupported = _expand(sources)
    with _recorded_run(db_path, config.effective_fetch(), "ingest", [watch.name]) as (report, fetcher):
        articles: list[Article] = []
        # files of a folder that no stage reads are recorded, so "nothing ingested" can say why
        skips: list[Skip] = [Skip(q.resolve().as_uri(), "extract", "unsupported",
                                  f"unsupported file type {q.suffix.lower() or '(none)'}") for q in unsupported]
        for path in files:
            try:
                out = article_from_file(path, watch=watch.name)
            except (OSError, UnicodeDecodeError) as e:
                out = Skip(path.resolve().as_uri(), "extract", "unreadable", str(e))
            except Exception as e:  # a parser bug on one file never fails the ingest
                out = Skip(path.resolve().as_uri(), "extract", "error", f"{type(e).__name__}: {e}")
            if isinstance(out, Skip):
                skips.append(out)
            else:
                articles.append(clean_article(out))
        jobs: list[PageJob] = []
        for path in feed_files:
            uri = path.resolve().as_uri()
            try:
                body = path.read_bytes()
            except OSError as e:
                skips.append(Skip(uri, "feed", "unreadable", str(e)))
                continue
            parsed = parse_feed(body, uri, None)
            report.counts["feeds_polled"] += 1
            skips += [Skip(uri, "feed", "parse_warning", w) for w in parsed.warnings]
            for e in parsed.entries:
                report.counts["entries_seen"] += 1
                if e.link and is_web_url(e.link):
                    # links inside a local feed are fetched under the same rules as any other link
                    jobs.append(PageJob(canonicalize_url(e.link), (watch.name,), e, parsed.title))
                else:
                    skips.append(Skip(e.link or uri, "feed", "no_link", f"entry {e.entry_key!r} has no web link"))
        # feed URLs given to ingest are polled now, due or not, and judged by the named watch only
        plan = RunPlan(watches=(watch,), feeds={u: (watch.name,) for u in dict.fromkeys(urls)}, force=True,
                       jobs=tuple(jobs), articles=tuple(articles), skips=tuple(skips))
        run_batches(report, config, plan, fetcher, stages=stages, batch_size=batch_size)
        report.nothing_ingested = _nothing_ingested(report, sources, unsupported)
        _after_batches(report, config, [watch.name], digest=digest, batch_size=batch_size, stages=stages)
    return report
