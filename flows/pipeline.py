"""The monitoring pipeline as plain functions on batches of records: poll -> fetch -> extract -> facts -> load.

The CLI calls `run_monitor` / `ingest_sources` directly; the Prefect flows in flows/monitor.py wrap the same
stage functions as tasks ("remove the decorators and the code still works"). Stage functions take and return
records (or a database path), never connections, and open the warehouse only for short writer windows so
that readers can get in between.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from extractors.articles import article_from_file, extract_article
from extractors.clean import clean_text
from extractors.facts import extract_facts_batch
from extractors.feeds import body_hash, discover_feeds, parse_feed
from extractors.http import Fetcher
from extractors.query import compile_query
from extractors.urls import canonicalize_url, is_web_url
from flows.dedup_stage import group_articles
from flows.facts_stage import link_aliases
from newswatch.config import Config, DedupSettings, FetchSettings, WatchConfig
from newswatch.errors import NewswatchError, SourceError
from newswatch.models import Article, FeedEntry, FetchResult, Skip, utcnow
from warehouse import feeds as feed_store
from warehouse import load
from warehouse.db import session, transaction
from warehouse.facts import store_facts

# Fetch outcomes worth trying again next run: the feed entry stays pending (core.feed_entries.settled = false).
TRANSIENT_STATUSES = frozenset({"timeout", "error"})
TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json")
TEXT_SUFFIXES = (".txt", ".html", ".htm")


@dataclass(frozen=True, slots=True)
class PageJob:
    """A page to fetch for a watch, and the feed entry that pointed to it."""

    url: str  # canonical URL
    watch: str
    entry: FeedEntry | None = None
    feed_title: str | None = None


@dataclass
class RunReport:
    run_id: str
    db_path: str
    status: str = "running"
    counts: Counter = field(default_factory=Counter)
    skips: Counter = field(default_factory=Counter)  # (stage, reason) -> n
    digests: list = field(default_factory=list)
    error: str | None = None


class RunLockedError(NewswatchError):
    exit_code = 75


@contextmanager
def run_lock(db_path: str, wait_s: float = 0.0) -> Iterator[None]:
    """An OS file lock beside the database so two runs never overlap. The loser waits up to wait_s (the daily
    digest waits for a monitoring run to finish), then exits writing nothing."""
    lock_path = f"{os.path.abspath(db_path)}.run-lock"
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
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


def _is_transient(r: FetchResult) -> bool:
    return r.status in TRANSIENT_STATUSES or (r.status == "http_error" and r.http_status in TRANSIENT_HTTP)


# ---- stages --------------------------------------------------------------------------------------------


def validate_config(config: Config) -> None:
    """Checks that need the stages: every watch query compiles (QuerySyntaxError is one line naming the spot)."""
    for w in config.watches:
        try:
            compile_query(w.query)
        except NewswatchError as e:
            raise type(e)(f"watch {w.name!r}: query: {e}") from None


def poll_feeds(
    db_path: str,
    run_id: str,
    watch: WatchConfig,
    feed_urls: Sequence[str],
    settings: FetchSettings,
    disable_after: int,
    now: datetime | None = None,
    force: bool = False,
    fetcher: Fetcher | None = None,
) -> tuple[list[PageJob], list[Skip], Counter]:
    """Poll the watch's due feeds (conditional GET), record feed health, and return the pages to fetch.

    A feed is due when its adaptive poll interval has passed (see docs/feeds.md); force polls every
    feed that is not disabled.
    """
    now = now or utcnow()
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
    with _fetching(settings, fetcher) as f:
        results = f.fetch_many([targets[u] for u in due], kind="feed", validators=validators)
    results = _autodiscover(due, results, f_settings=settings, fetcher=fetcher)
    parsed_by_feed = {}
    for u, r in zip(due, results, strict=True):
        counts["feeds_polled"] += 1
        if feed_store.is_unchanged(states.get(u), r, body_hash(r.body) if r.body else ""):
            # a 304, or a 200 with the same body as last time (validators that lie): nothing to parse
            counts["feeds_not_modified"] += 1
            parsed_by_feed[u] = (r, None)
        elif r.status == "ok":
            parsed = parse_feed(r.body, u, r.content_type, base_url=r.final_url)
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
                    jobs.append(PageJob(canon, watch.name, e, parsed.title))
            feed_store.record_poll(
                con, feed_url=u, watch=watch.name, result=r, parsed=parsed, new_entries=new, run_id=run_id,
                disable_after=disable_after, now=now,
            )
        # Entries whose page is still to be fetched (a transient failure or a killed run): retried even when
        # the feed answered 304, because the feed's validators were stored when it was polled.
        fresh = {(e.feed_url, e.entry_key) for e, _ in new_entries}
        for e, canon in load.pending_entries(con, feed_urls):
            if (e.feed_url, e.entry_key) not in fresh:
                jobs.append(PageJob(canon, watch.name, e, None))
                counts["entries_retried"] += 1
        # New entries are stored now, pending until their page is settled (stored, or failed for good).
        load.record_entries(con, new_entries, run_id, settled=False)
        # One article reached through two feeds is fetched once; articles already stored are not refetched
        # unless their entry changed (then the fetch may produce a revision).
        unique: dict[str, PageJob] = {}
        for j in jobs:
            unique.setdefault(j.url, j)
        known = load.known_canonical_urls(con, list(unique))
        out = []
        for url, j in unique.items():
            prev = seen.get((j.entry.feed_url, j.entry.entry_key)) if j.entry else None
            if url in known and prev is None and (j.entry.feed_url, j.entry.entry_key) in fresh:
                load.settle_entries(con, [url])  # the same article, already stored, via another feed
                counts["entries_known_elsewhere"] += 1
                continue
            out.append(j)
    return out, skips, counts


@contextmanager
def _fetching(settings: FetchSettings, fetcher: Fetcher | None) -> Iterator[Fetcher]:
    """The run's Fetcher when one is given (robots.txt cache and per-host spacing shared across stages), else a
    new one for this call (Prefect tasks take settings, not clients)."""
    if fetcher is not None:
        yield fetcher
        return
    with Fetcher(settings) as own:
        yield own


def _looks_like_html(r: FetchResult) -> bool:
    ctype = (r.content_type or "").lower()
    return r.status == "ok" and ("html" in ctype or r.body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html")))


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
        fetched = f.fetch_many(list(targets.values()), kind="feed")
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
    with _fetching(settings, fetcher) as f:
        results = f.fetch_many([j.url for j in jobs], kind="page")
    return list(zip(jobs, results, strict=True))


def extract_pages(
    fetched: Sequence[tuple[PageJob, FetchResult]],
) -> tuple[list[Article], list[Skip], list[tuple[FeedEntry, str]]]:
    """trafilatura extraction and cleaning. Returns articles, skips, and the entries now settled."""
    articles: list[Article] = []
    skips: list[Skip] = []
    settled: list[tuple[FeedEntry, str]] = []
    for job, r in fetched:
        if r.status != "ok" and (_is_transient(r) or job.entry is None or r.status == "not_html"):
            # transient failures are retried next run (the entry stays unsettled); without a feed entry there
            # is no summary to fall back on
            skips.append(Skip(job.url, "fetch", r.status, r.detail))
            if job.entry is not None and not _is_transient(r):
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
            articles.append(clean_article(out))
    return articles, skips, settled


def clean_article(a: Article) -> Article:
    """Keep the extracted text as raw_text and clean `text` (teasers, ad markers, repeated captions)."""
    return replace(a, text=clean_text(a.raw_text))


def filter_topic(articles: Sequence[Article], query: str) -> tuple[list[Article], list[Skip]]:
    """Keep the articles matching the watch query; the rest are recorded as skipped (off_topic)."""
    q = compile_query(query)
    kept, skipped = [], []
    for a in articles:
        if q.matches(a.title, a.text):
            kept.append(a)
        else:
            matched = ", ".join(q.explain(a.title, a.text)) or "no term"
            skipped.append(Skip(a.url, "topic", "off_topic",
                                f"{a.title[:80]!r} does not match the watch query (matched: {matched})"))
    return kept, skipped


# Below this many words a second spaCy process costs more to start than it saves; above it, two processes took
# the facts stage from 15.5 s to 10.2 s on 114 real pages (96k words) on 2 cores (bench/pipeline_bench.py).
PARALLEL_FACTS_MIN_WORDS = 30_000


def extract_facts(articles: Sequence[Article], aliases: dict[str, str] | None = None,
                  n_process: int | None = None) -> list:
    """Facts for a batch of articles; n_process None chooses 1 or 2 processes from the batch size."""
    if n_process is None:
        words = sum(a.word_count for a in articles)
        n_process = min(2, os.cpu_count() or 1) if words >= PARALLEL_FACTS_MIN_WORDS else 1
    return extract_facts_batch([(a.article_id, a.text) for a in articles], user_aliases=aliases, n_process=n_process)


def load_batch(
    db_path: str,
    run_id: str,
    articles: Sequence[Article],
    facts: Sequence,
    skips: Sequence[Skip],
    settled: Sequence[tuple[FeedEntry, str | None]],
    dedup: DedupSettings,
) -> Counter:
    """One writer window and one transaction: articles (+revisions), their facts, aliases, syndication/story
    groups, settled feed entries and skips. A batch is stored whole or not at all, so a killed run loses at most
    the batch in flight, and its entries are fetched again next run."""
    counts: Counter = Counter()
    with session(db_path) as con, transaction(con):
        result = load.upsert_articles(con, articles, run_id)
        changed = set(result.changed)
        counts["articles_new"] += len(result.new)
        counts["articles_revised"] += len(result.revised)
        counts["articles_unchanged"] += len(result.unchanged)
        todo = [f for f in facts if f.article_id in changed]
        counts["facts"] += store_facts(con, todo) if todo else 0
        if changed:
            g = group_articles(con, sorted(changed), dedup)
            counts["copies_grouped"] += g.get("copies_grouped", 0)
            counts["stories"] += g.get("stories", 0)
            load.mark_links_stale(con)  # cross-article linking runs once per run, after every batch
        load.settle_entries(con, [url for _, url in settled if url])
        load.record_skips(con, run_id, skips)
    return counts


def reprocess_stale(db_path: str, config: Config, batch_size: int = 100) -> Counter:
    """Recompute derived values made by an older extractor or fingerprint version (or for an older text):
    facts first, then syndication and story groups, in batches of one transaction each. After an upgrade the
    warehouse is recomputed instead of mixing old and new results."""
    from extractors.facts import FACTS_VERSION
    from extractors.fingerprint import FINGERPRINT_VERSION
    from warehouse.dedup import stale_articles as stale_groups
    from warehouse.facts import stale_articles as stale_facts

    counts: Counter = Counter()
    aliases = {k: v for w in config.watches for k, v in w.aliases.items()}
    with session(db_path) as con:
        fact_ids = stale_facts(con, FACTS_VERSION)
    for i in range(0, len(fact_ids), batch_size):
        ids = fact_ids[i : i + batch_size]
        with session(db_path) as con:
            rows = load.article_texts(con, ids)
        facts = extract_facts_batch(rows, user_aliases=aliases)
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
        load.mark_abandoned_runs(con)
        return load.start_run(con, command, watches)


def finish_run(report: RunReport) -> None:
    with session(report.db_path) as con:
        counts = dict(report.counts)
        counts["skipped"] = sum(report.skips.values())
        counts["off_topic"] = report.skips.get(("topic", "off_topic"), 0)
        load.finish_run(con, report.run_id, report.status, counts, report.error)


@contextmanager
def recorded(report: RunReport) -> Iterator[RunReport]:
    """Finish the run row whatever happens: succeeded, or failed with a one-line error (and re-raise)."""
    try:
        yield report
    except BaseException as e:
        report.status = "failed"
        report.error = f"{type(e).__name__}: {e}"
        finish_run(report)
        raise
    report.status = "succeeded"
    finish_run(report)


def tally_skips(report: RunReport, skips: Sequence[Skip]) -> None:
    for s in skips:
        report.skips[(s.stage, s.reason)] += 1


def process_articles(
    report: RunReport, config: Config, watch: WatchConfig, articles: list[Article], skips: list[Skip],
    settled: list, batch_size: int = 100,
) -> None:
    """topic -> facts -> load, in batches."""
    kept, off = filter_topic(articles, watch.query)
    skips = skips + off
    for i in range(0, max(len(kept), 1), batch_size):
        batch = kept[i : i + batch_size]
        facts = extract_facts(batch, watch.aliases) if batch else []
        last = i + batch_size >= len(kept)
        report.counts.update(
            load_batch(
                report.db_path, report.run_id, batch, facts,
                skips if last else [], settled if last else [], config.dedup,
            )
        )
    tally_skips(report, skips)


def run_monitor(
    config: Config,
    db_path: str,
    *,
    watch_names: Sequence[str] | None = None,
    extra_feeds: Sequence[str] = (),
    digest: bool = True,
    out_dir: str | None = None,
    force: bool = False,
    batch_size: int = 100,
) -> RunReport:
    """One monitoring run of every (or the named) watch: poll, fetch, extract, facts, load, digest."""
    watches = [config.watch(n) for n in watch_names] if watch_names else list(config.watches)
    settings = config.effective_fetch()
    with run_lock(db_path), Fetcher(settings) as fetcher:
        report = RunReport(run_id=begin_run(db_path, "run", [w.name for w in watches]), db_path=db_path)
        with recorded(report):
            for watch in watches:
                feeds = list(dict.fromkeys([*watch.feeds, *extra_feeds]))
                jobs, skips, counts = poll_feeds(
                    db_path, report.run_id, watch, feeds, settings, config.fetch.disable_feed_after_failures,
                    force=force, fetcher=fetcher,
                )
                report.counts.update(counts)
                fetched = fetch_pages(jobs, settings, fetcher)
                report.counts["pages_fetched"] += sum(1 for _, r in fetched if r.status == "ok")
                articles, xskips, settled = extract_pages(fetched)
                process_articles(report, config, watch, articles, skips + xskips, settled, batch_size=batch_size)
            report.counts.update(reprocess_stale(db_path, config, batch_size))
            link_across_articles(db_path)
            if digest:
                report.digests = run_digests(config, db_path, [w.name for w in watches], out_dir=out_dir)
                report.counts["digest_items"] += sum(getattr(d, "items", 0) or 0 for d in report.digests)
    return report


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


def expand_sources(sources: Sequence[str]) -> tuple[list[Path], list[Path], list[str]]:
    """Split command-line sources into local article files, local feed files and feed URLs."""
    files: list[Path] = []
    feeds: list[Path] = []
    urls: list[str] = []
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
    return files, feeds, urls


def ingest_sources(
    config: Config, db_path: str, watch: WatchConfig, sources: Sequence[str], *, digest: bool = False,
    batch_size: int = 100,
) -> RunReport:
    """Ingest local files/folders and feed URLs for one watch through the same pipeline."""
    files, feed_files, urls = expand_sources(sources)
    settings = config.effective_fetch()
    with run_lock(db_path), Fetcher(settings) as fetcher:
        report = RunReport(run_id=begin_run(db_path, "ingest", [watch.name]), db_path=db_path)
        with recorded(report):
            articles: list[Article] = []
            skips: list[Skip] = []
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
                        jobs.append(PageJob(canonicalize_url(e.link), watch.name, e, parsed.title))
                    else:
                        skips.append(Skip(e.link or uri, "feed", "no_link", f"entry {e.entry_key!r} has no web link"))
            if urls:
                more, fskips, counts = poll_feeds(
                    db_path, report.run_id, watch, urls, settings, config.fetch.disable_feed_after_failures,
                    force=True, fetcher=fetcher,
                )
                jobs += more
                skips += fskips
                report.counts.update(counts)
            fetched = fetch_pages(list({j.url: j for j in jobs}.values()), settings, fetcher)
            report.counts["pages_fetched"] += sum(1 for _, r in fetched if r.status == "ok")
            more_articles, xskips, settled = extract_pages(fetched)
            settled = [(e, u) for e, u in settled if not e.feed_url.startswith("file:")]
            process_articles(report, config, watch, articles + more_articles, skips + xskips, settled,
                             batch_size=batch_size)
            report.counts.update(reprocess_stale(db_path, config, batch_size))
            link_across_articles(db_path)
            if digest:
                report.digests = run_digests(config, db_path, [watch.name])
                report.counts["digest_items"] += sum(getattr(d, "items", 0) or 0 for d in report.digests)
    return report
