"""What a Prefect user sees of a monitor run: a markdown artifact with the run's summary, and the stage logs."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from warehouse.load import RUN_COUNTERS

log = logging.getLogger(__name__)

# The packages whose module loggers (logging.getLogger(__name__)) carry the stages' progress lines.
STAGE_LOGGERS = ("flows", "extractors", "warehouse", "alerts", "newswatch")

# The artifact key of monitor runs: one key, so Prefect's Artifacts page keeps every run's summary as the
# versions of one artifact (each version is also linked to its flow run).
ARTIFACT_KEY = "newswatch-monitor-run"


def run_counts(report: Any) -> dict[str, int]:
    """The counters of the run's `runs` row, computed as flows.pipeline.finish_run stores them (skipped and
    off_topic come from the skips), so the artifact and the row cannot disagree."""
    counts = Counter(report.counts)
    counts["skipped"] = sum(report.skips.values())
    counts["off_topic"] = report.skips.get(("topic", "off_topic"), 0)
    return {c: int(counts.get(c, 0)) for c in RUN_COUNTERS}


def _cell(text: object) -> str:
    # a reason may hold '|' or a line break, either of which would break the table row
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def run_summary_markdown(report: Any) -> str:
    """The run's summary as markdown: status, the `runs` counters, failures by feed with reasons, skips by
    stage and reason, per-watch matches, and wall seconds per stage when the report has them."""
    c = run_counts(report)
    lines = [f"# newswatch run `{report.run_id}`: {report.status}", ""]
    if report.error:
        lines += [f"**{_cell(report.error)}**", ""]
    lines += [
        f"Articles: **{c['articles_new']} new**, {c['articles_revised']} updated, {c['articles_unchanged']} unchanged; "
        f"{c['copies_grouped']} syndicated copies grouped, {c['stories']} stories, {c['facts']} facts.",
        "",
        "| counter | value |",
        "|---|---:|",
        *(f"| {name} | {c[name]} |" for name in RUN_COUNTERS),
        "",
    ]
    failures = list(getattr(report, "feed_failures", ()))
    lines.append(f"## Feed failures ({len(failures)})")
    if failures:
        lines += ["", "| feed | reason |", "|---|---|", *(f"| {_cell(u)} | {_cell(why)} |" for u, why in failures)]
    else:
        lines += ["", "None."]
    lines.append("")
    skips = sorted(report.skips.items())
    lines.append(f"## Skips ({c['skipped']})")
    if skips:
        lines += ["", "| stage | reason | pages |", "|---|---|---:|",
                  *(f"| {_cell(s)} | {_cell(r)} | {n} |" for (s, r), n in skips)]
    else:
        lines += ["", "None."]
    lines.append("")
    wc = getattr(report, "watch_counts", None) or {}
    if wc:
        lines += ["## Watches", "", "| watch | counter | value |", "|---|---|---:|",
                  *(f"| {_cell(w)} | {_cell(k)} | {n} |" for (w, k), n in sorted(wc.items())), ""]
    seconds = getattr(report, "stage_seconds", None) or {}
    if seconds:
        lines += ["## Seconds per stage (wall time, summed over batches)", "", "| stage | seconds |", "|---|---:|",
                  *(f"| {_cell(k)} | {v:.2f} |" for k, v in seconds.items()), ""]
    for d in getattr(report, "digests", ()) or ():
        lines.append(f"- digest {_cell(d.watch)}: {d.status}, {getattr(d, 'items', 0)} item(s)")
    return "\n".join(lines).rstrip() + "\n"


def artifact_key(name: str = ARTIFACT_KEY) -> str:
    """A valid Prefect artifact key (lowercase letters, digits and dashes) from any name."""
    key = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return key or ARTIFACT_KEY


def publish_run_artifact(report: Any, key: str = ARTIFACT_KEY) -> str | None:
    """Create the run's markdown artifact in Prefect (linked to the current flow run); its id, or None when it
    could not be created. The summary is already in `runs`, so a failure here is logged, never fatal."""
    from prefect.artifacts import create_markdown_artifact

    try:
        artifact_id = create_markdown_artifact(
            key=artifact_key(key),
            markdown=run_summary_markdown(report),
            description=f"newswatch run {report.run_id}: {report.status}",
        )
    except Exception as e:  # an API outage must not turn a stored run into a failed flow run
        log.warning("could not publish the Prefect artifact of run %s: %s", report.run_id, e)
        return None
    return str(artifact_id)


class _OfRun(logging.Filter):
    """Gives a record logged outside any Prefect run context (a stage's helper thread: contextvars do not cross
    threads) the flow run it belongs to; Prefect's handler would drop it with a warning."""

    def __init__(self, flow_run_id: object) -> None:
        super().__init__()
        self.flow_run_id = flow_run_id

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "flow_run_id", None) is None:
            from prefect.context import get_run_context
            from prefect.exceptions import MissingContextError

            try:
                get_run_context()
            except MissingContextError:
                record.flow_run_id = self.flow_run_id
        return True


@contextmanager
def stage_logs_in_prefect(level: int = logging.INFO) -> Iterator[None]:
    """Within the current flow run, send the stage modules' log lines (STAGE_LOGGERS, from `level` up) to its
    Prefect run log, also those logged from the stages' helper threads; restore the loggers after.

    PREFECT_LOGGING_EXTRA_LOGGERS alone is not enough: it attaches Prefect's API handler but leaves the loggers'
    level to the root logger's WARNING (Prefect's logging.yml), so the INFO progress lines are dropped, and lines
    from a helper thread are dropped with a warning. Its handlers are set aside here so no line is sent twice.
    Outside a flow run this does nothing."""
    from prefect.context import FlowRunContext
    from prefect.logging.handlers import APILogHandler

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        yield
        return
    handler = APILogHandler()
    template = next((h for h in logging.getLogger("prefect.extra").handlers if isinstance(h, APILogHandler)), None)
    if template is not None and template.formatter is not None:
        handler.setFormatter(template.formatter)
    handler.addFilter(_OfRun(ctx.flow_run.id))
    saved = []
    for name in STAGE_LOGGERS:
        logger = logging.getLogger(name)
        theirs = [h for h in logger.handlers if isinstance(h, APILogHandler)]
        saved.append((logger, logger.level, theirs))
        for h in theirs:
            logger.removeHandler(h)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, old_level, theirs in saved:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
            for h in theirs:
                logger.addHandler(h)
