"""Prefect 3 flows: shells over flows.pipeline. Deployed from prefect.yaml (monitor every 30 min, digest daily).

The monitor flow runs flows.pipeline.run_monitor, the same runner as `newswatch run`, with each stage wrapped as
a task (STAGES): one batch loop, one Fetcher per run (robots.txt, per-host spacing and Retry-After pauses kept
across tasks), poll skips stored with the first batch, and `force`. Stages run as tasks on batches
(`[run] batch_size` pages a task, 250 by default), not one task per article: a task costs 4-7 ms in the flow
plus 25-50 ms of server work, against ~80 ms of real work per article. Only the network tasks retry (inside the
fetcher, which knows which errors are transient); parsing and loading do not.

With `[run] runner = "dask"` the extraction and facts of each batch are cut into chunks and submitted as Prefect
tasks (extract-chunk, facts-chunk) to Dask workers through prefect-dask's DaskTaskRunner (flows/cluster.py); the
flow process still fetches, matches and commits every batch in order, so the warehouse is the one a local run
makes. A scheduler that cannot be reached fails the run before anything is polled (one 'failed' run row).

A flow run ends Failed when the newswatch run failed (no feed could be polled, a digest was not delivered) or a
digest flow's digest was not delivered, so a scheduler sees it; succeeded and partial runs are Completed (the summary says why
a run was partial).
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from flows import cluster, pipeline
from flows.artifacts import publish_run_artifact, stage_logs_in_prefect
from newswatch.config import load_config
from warehouse.db import default_db_path, use_backend


def _task(fn, name: str):
    return task(fn, name=name, cache_policy=NO_CACHE)


# The runner's stages as tasks, nothing else: flows.pipeline.run_batches is the one batch loop. Tasks run in
# this process with the default task runner (called, not submitted), so the run's one Fetcher is handed to the
# poll and fetch tasks as the object itself (NO_CACHE: its arguments are never hashed or persisted).
STAGES = pipeline.Stages(
    poll=_task(pipeline.poll_feeds, "poll-feeds"),
    judge_stored=_task(pipeline.judge_stored, "judge-stored"),
    fetch=_task(pipeline.fetch_pages, "fetch-pages"),
    extract=_task(pipeline.extract_batch, "extract-pages"),
    match=_task(pipeline.match_watches, "match-watches"),
    facts=_task(pipeline.extract_facts, "extract-facts"),
    load=_task(pipeline.load_batch, "load-batch"),
    reprocess=_task(pipeline.reprocess_stale, "reprocess-stale"),
    link=_task(pipeline.link_across_articles, "link-across-articles"),
    digest=_task(pipeline.run_digests, "digest"),
)
digest_task = STAGES.digest


@flow(name="newswatch-monitor")
def monitor(
    config_path: str | None = None,
    db_path: str | None = None,
    watches: list[str] | None = None,
    batch_size: int | None = None,
    digest: bool = False,
    force: bool = False,
) -> dict | State:
    """Poll every watch's feeds, fetch and extract new pages, judge them per watch, extract facts and load the
    warehouse: flows.pipeline.run_monitor with its stages as tasks. force polls every enabled feed now."""
    log = get_run_logger()
    config = load_config(config_path)
    pipeline.validate_config(config)
    if config.warehouse is not None:
        use_backend(config.warehouse.backend, config.warehouse.catalog, config.warehouse.data_path)
    db = db_path or default_db_path()
    work = None
    with stage_logs_in_prefect(), pipeline.demo_feeds(config) as extra, ExitStack() as stack:
        try:
            # runner = "dask": extraction and facts as chunk tasks on the cluster (flows/cluster.py)
            stages, work = stack.enter_context(cluster.dask_stages(config, STAGES, prefect=True))
        except cluster.DaskUnavailable as e:  # before anything is polled or written
            names = [config.watch(n).name for n in watches] if watches else [w.name for w in config.watches]
            report = cluster.record_failed_run(db, names, str(e))
        else:
            report = pipeline.run_monitor(config, db, watch_names=watches or None, extra_feeds=extra,
                                          digest=digest, force=force, batch_size=batch_size, stages=stages)
    publish_run_artifact(report)  # failed and partial runs too: the artifact says why
    summary = {"run_id": report.run_id, "status": report.status, **Counter(report.counts)}
    if report.error:
        summary["error"] = report.error
    if work is not None:
        summary["dask"] = work.rows()  # where each chunk ran: (stage, worker, pid, chunks)
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
    with stage_logs_in_prefect(), pipeline.run_lock(db, wait_s=1800, watches=names):
        outcomes = digest_task(config, db, names)
    failed = pipeline.not_delivered(outcomes)
    if failed:  # the digests table says 'failed': the flow run must too
        return Failed(message=failed)
    return [{"watch": d.watch, "status": d.status, "items": d.items} for d in outcomes]
