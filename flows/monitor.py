"""Prefect 3 flows: thin shells over flows.pipeline. Deployed from prefect.yaml (monitor every 30 min, digest daily).

Stages run as tasks on batches (default 100 pages a task), not one task per article: a task costs 4-7 ms in
the flow plus 25-50 ms of server work, against ~80 ms of real work per article. Only the network tasks retry
(inside the fetcher, which knows which errors are transient); parsing and loading do not.

A flow run ends Failed when the newswatch run failed (no feed could be polled, a digest was not delivered) or a
digest flow's digest was not delivered, so a scheduler sees it; succeeded and partial runs are Completed (the summary says why
a run was partial).
"""

from __future__ import annotations

from collections import Counter

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from flows import pipeline
from newswatch.config import load_config
from warehouse.db import default_db_path, use_backend

poll_task = task(pipeline.poll_feeds, name="poll-feeds", cache_policy=NO_CACHE)
fetch_task = task(pipeline.fetch_pages, name="fetch-pages", cache_policy=NO_CACHE)
extract_task = task(pipeline.extract_pages, name="extract-pages", cache_policy=NO_CACHE)
topic_task = task(pipeline.filter_topic, name="filter-topic", cache_policy=NO_CACHE)
facts_task = task(pipeline.extract_facts, name="extract-facts", cache_policy=NO_CACHE)
load_task = task(pipeline.load_batch, name="load-batch", cache_policy=NO_CACHE)
digest_task = task(pipeline.run_digests, name="digest", cache_policy=NO_CACHE)
reprocess_task = task(pipeline.reprocess_stale, name="reprocess-stale", cache_policy=NO_CACHE)
link_task = task(pipeline.link_across_articles, name="link-across-articles", cache_policy=NO_CACHE)


def _chunks(items: list, n: int) -> list[list]:
    return [items[i : i + n] for i in range(0, len(items), n)] or [[]]


@flow(name="newswatch-monitor")
def monitor(
    config_path: str | None = None,
    db_path: str | None = None,
    watches: list[str] | None = None,
    batch_size: int = 100,
    digest: bool = False,
) -> dict | State:
    """Poll every watch's feeds, fetch and extract new pages, extract facts and load the warehouse."""
    log = get_run_logger()
    config = load_config(config_path)
    pipeline.validate_config(config)
    if config.warehouse is not None:
        use_backend(config.warehouse.backend, config.warehouse.catalog, config.warehouse.data_path)
    db = db_path or default_db_path()
    selected = [config.watch(w) for w in watches] if watches else list(config.watches)
    settings = config.effective_fetch()
    with pipeline.run_lock(db, watches=[w.name for w in selected]), pipeline.demo_feeds(config) as extra:
        report = pipeline.RunReport(run_id=pipeline.begin_run(db, "run", [w.name for w in selected]), db_path=db)
        with pipeline.recorded(report):
            for watch in selected:
                feeds = list(dict.fromkeys([*watch.feeds, *extra]))
                jobs, skips, counts = poll_task(db, report.run_id, watch, feeds, settings,
                                                config.fetch.disable_feed_after_failures)
                report.counts.update(counts)
                pipeline.note_feeds(report, db, feeds, skips)
                batches = _chunks(jobs, batch_size)
                for i, batch in enumerate(batches):
                    fetched = fetch_task(batch, settings)
                    pipeline.count_fetched(report, fetched)
                    articles, xskips, settled = extract_task(fetched)
                    kept, off = topic_task(articles, watch.query, watch.languages)
                    facts = facts_task(kept, watch.aliases)
                    batch_skips = xskips + off + (skips if i == 0 else [])
                    pipeline.tally_skips(report, batch_skips)
                    report.counts.update(load_task(db, report.run_id, kept, facts, batch_skips, settled, config.dedup))
            report.counts.update(reprocess_task(db, config, batch_size))
            link_task(db)
            if digest:
                report.digests = digest_task(config, db, [w.name for w in selected])
                report.counts["digest_items"] += sum(getattr(d, "items", 0) or 0 for d in report.digests)
    summary = {"run_id": report.run_id, "status": report.status, **Counter(report.counts)}
    if report.error:
        summary["error"] = report.error
    log.info("newswatch run %s: %s", report.run_id, summary)
    if report.status == "failed":
        return Failed(message=f"newswatch run {report.run_id} failed: {report.error}")
    if report.status == "partial":
        log.warning("newswatch run %s partial: %s", report.run_id, report.error)
    return summary


@flow(name="newswatch-digest")
def digest(
    config_path: str | None = None, db_path: str | None = None, watches: list[str] | None = None
) -> list[dict] | State:
    """Write or send each watch's digest of what is new since the last one."""
    config = load_config(config_path)
    db = db_path or default_db_path()
    names = [config.watch(w).name for w in watches] if watches else [w.name for w in config.watches]
    # never two deliveries at once; a scheduled digest that meets a monitoring run waits for it (up to 30 min)
    with pipeline.run_lock(db, wait_s=1800, watches=names):
        outcomes = digest_task(config, db, names)
    failed = pipeline.not_delivered(outcomes)
    if failed:  # the digests table says 'failed': the flow run must too
        return Failed(message=failed)
    return [{"watch": d.watch, "status": d.status, "items": d.items} for d in outcomes]
