"""What a Prefect user sees of a monitor run: a markdown artifact with the run's summary, and the stage logs."""

from __future__ import annotations

import logging
import re
from collections import Counter
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


def stage_logs_to_prefect(level: int = logging.INFO) -> None:
    """Send the stage modules' log lines to the Prefect run log: what PREFECT_LOGGING_EXTRA_LOGGERS does (attach
    Prefect's API handler to the named loggers), plus the level. Without a level the stage loggers inherit the
    root logger's WARNING from Prefect's logging.yml and their INFO progress lines never reach the handler.
    Idempotent; call it at the start of a flow."""
    extra = logging.getLogger("prefect.extra")  # Prefect's template for extra loggers: its API handler
    for name in STAGE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
        for handler in extra.handlers:
            if handler not in logger.handlers:
                logger.addHandler(handler)
