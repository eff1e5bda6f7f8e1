"""Trend series for `newswatch trends`: a watch's (or an entity's) attention per day or week, spikes marked,
rendered as a terminal bar chart, CSV, JSON or a PNG chart. The views behind it are in sql/50_trends.sql."""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from newswatch.errors import OutputError, UnknownWatchError, UserError

COLUMNS = ("watch", "period", "day", "stories", "new_stories", "texts", "articles", "outlets", "is_spike")
TABLE_MAX_LINES = 60  # a terminal chart longer than a screen is not a glance; --since or --by week narrows it
BAR_WIDTH = 40
QUIET_RUN = 3  # more periods than this in a row without coverage are drawn as one line


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One period of a series: the columns of the attention view plus is_spike."""

    watch: str
    period: str
    day: date
    stories: int
    new_stories: int
    texts: int
    articles: int
    outlets: int
    is_spike: bool


@dataclass(frozen=True, slots=True)
class TrendSeries:
    watch: str
    entity: str | None
    by: str
    points: tuple[TrendPoint, ...]


# The attention view's arithmetic over any set of articles (a watch's, or those mentioning one entity), so an
# entity series has the same columns and meaning as a watch's. `{filter}` narrows core.article_days.
_SERIES_SQL = """
WITH a AS (
    SELECT *, {bucket} AS bucket FROM core.article_days WHERE watch = $watch {filter}
), f AS (
    SELECT story_id, min(bucket) AS first_bucket FROM a GROUP BY story_id
)
SELECT a.bucket AS day, count(DISTINCT a.story_id) AS stories,
       count(DISTINCT a.story_id) FILTER (WHERE f.first_bucket = a.bucket) AS new_stories,
       count(DISTINCT a.syndication_id) AS texts, count(*) AS articles, count(DISTINCT a.source) AS outlets
FROM a JOIN f USING (story_id)
GROUP BY a.bucket
ORDER BY a.bucket
"""
_ENTITY_FILTER = "AND article_id IN (SELECT article_id FROM core.entity_mentions WHERE entity = $entity)"


def _watches(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT watch FROM core.articles ORDER BY watch").fetchall()]


def _resolve_entity(con: duckdb.DuckDBPyConnection, watch: str, entity: str) -> str:
    """The canonical name as stored: exact, else the one name equal ignoring case; else a clear error."""
    rows = con.execute(
        "SELECT DISTINCT m.entity FROM core.entity_mentions m JOIN core.articles a USING (article_id) "
        "WHERE a.watch = ? AND lower(m.entity) = lower(?)",
        [watch, entity],
    ).fetchall()
    names = [r[0] for r in rows]
    if entity in names:
        return entity
    if len(names) == 1:
        return names[0]
    if len(names) > 1:
        raise UserError(f"entity {entity!r} is ambiguous in watch {watch!r}: {', '.join(sorted(names))}")
    known = [r[0] for r in con.execute(
        "SELECT DISTINCT m.entity FROM core.entity_mentions m JOIN core.articles a USING (article_id) "
        "WHERE a.watch = ?", [watch]).fetchall()]
    close = difflib.get_close_matches(entity, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UserError(f"unknown entity {entity!r} in watch {watch!r}{hint}; "
                    "list them with: newswatch sql \"select entity, count(*) from entity_mentions group by 1\"")


def resolve_watches(con: duckdb.DuckDBPyConnection, watch: str | None) -> list[str]:
    known = _watches(con)
    if not known:
        raise UserError("the warehouse has no articles yet; run `newswatch run` or `newswatch ingest` first")
    if watch is None:
        return known
    if watch not in known:
        raise UnknownWatchError(f"unknown watch {watch!r}; the warehouse has: {', '.join(known)}")
    return [watch]


def series(
    con: duckdb.DuckDBPyConnection,
    watch: str,
    *,
    entity: str | None = None,
    by: str = "day",
    since: date | None = None,
    today: date | None = None,
) -> TrendSeries:
    """The attention series of a watch (or of one entity in it), every period from the first with coverage
    (or `since`) to the last, quiet periods as zeros, with spikes (the spikes view) marked."""
    if by not in ("day", "week"):
        raise UserError(f"--by must be day or week, not {by!r}")
    today = today or datetime.now(UTC).date()
    if since is not None and since > today:
        raise UserError(f"--since {since.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    if entity is not None:
        entity = _resolve_entity(con, watch, entity)
    bucket = "day" if by == "day" else "CAST(date_trunc('week', day) AS DATE)"
    sql = _SERIES_SQL.format(bucket=bucket, filter=_ENTITY_FILTER if entity is not None else "")
    params: dict[str, object] = {"watch": watch}
    if entity is not None:
        params["entity"] = entity
    rows = {r[0]: r[1:] for r in con.execute(sql, params).fetchall()}
    spike_days = {r[0] for r in con.execute(
        "SELECT day FROM spikes WHERE watch = ? AND entity IS NOT DISTINCT FROM ?", [watch, entity]).fetchall()}
    spiky = {d if by == "day" else d - timedelta(days=d.weekday()) for d in spike_days}
    if not rows:
        return TrendSeries(watch, entity, by, ())
    step = timedelta(days=1 if by == "day" else 7)
    first, last = min(rows), max(rows)
    if since is not None:
        first = since if by == "day" else since - timedelta(days=since.weekday())
    points = []
    d = first
    while d <= last:
        s, n, t, a, o = rows.get(d, (0, 0, 0, 0, 0))
        points.append(TrendPoint(watch, by, d, s, n, t, a, o, d in spiky))
        d += step
    return TrendSeries(watch, entity, by, tuple(points))


# ---- rendering --------------------------------------------------------------------------------------


def _label(s: TrendSeries) -> str:
    what = f"entity {s.entity!r} in watch {s.watch!r}" if s.entity else f"watch {s.watch!r}"
    return f"{what}: stories per {s.by}"


def _chart_lines(s: TrendSeries) -> list[str]:
    top = max((p.stories for p in s.points), default=0) or 1
    lines: list[str] = []
    quiet: list[TrendPoint] = []
    for p in [*s.points, None]:
        if p is not None and p.stories == 0 and not p.is_spike:
            quiet.append(p)
            continue
        # a long run of periods without coverage is one line, so a sparse series stays a glance
        if len(quiet) > QUIET_RUN:
            lines.append(f"  {'':10}   ··· {len(quiet)} {s.by}s without coverage "
                         f"({quiet[0].day.isoformat()} to {quiet[-1].day.isoformat()})")
        else:
            lines.extend(f"  {q.day.isoformat()}   {'':<{BAR_WIDTH + 1}} {0:>4}  0/0" for q in quiet)
        quiet = []
        if p is None:
            break
        n = p.stories * BAR_WIDTH / top
        bar = "█" * int(n) + ("▌" if n - int(n) >= 0.5 else "")
        lines.append(f"  {p.day.isoformat()} {'!' if p.is_spike else ' '} {bar:<{BAR_WIDTH + 1}} "
                     f"{p.stories:>4}  {p.texts}/{p.articles}")
    return lines


def render_table(all_series: Sequence[TrendSeries]) -> str:
    """A compact bar chart per series: one line per period (long quiet runs folded), bar = stories,
    `!` marks a spike."""
    out = []
    for s in all_series:
        out.append(f"{_label(s)} (bar: stories; texts/articles after it; ! = spike)")
        if not s.points:
            out.append("  (no coverage in this period)")
            continue
        lines = _chart_lines(s)
        if len(lines) > TABLE_MAX_LINES:
            out.append(f"  (the last {TABLE_MAX_LINES} of {len(lines)} lines; narrow with --since or --by week)")
            lines = lines[-TABLE_MAX_LINES:]
        out.extend(lines)
        spikes = sum(1 for p in s.points if p.is_spike)
        total = sum(p.stories for p in s.points)
        out.append(f"  {len(s.points)} {s.by}s, {total} story-{s.by}s, {spikes} spike {s.by}(s)")
    return "\n".join(out) + "\n"


def _row(p: TrendPoint, *, csv_bools: bool = False) -> dict[str, object]:
    d = asdict(p)
    d["day"] = p.day.isoformat()
    if csv_bools:
        d["is_spike"] = "true" if p.is_spike else "false"
    return d


def render_csv(all_series: Sequence[TrendSeries]) -> str:
    entity = any(s.entity for s in all_series)
    cols = list(COLUMNS) + (["entity"] if entity else [])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for s in all_series:
        for p in s.points:
            row = _row(p, csv_bools=True)
            if entity:
                row["entity"] = s.entity
            w.writerow(row)
    return buf.getvalue()


def render_json(all_series: Sequence[TrendSeries]) -> str:
    rows = []
    for s in all_series:
        for p in s.points:
            row = _row(p)
            if s.entity:
                row["entity"] = s.entity
            rows.append(row)
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def render_png(all_series: Sequence[TrendSeries], path: Path) -> None:
    """Stories per period as bars (spikes in red) with distinct texts and articles as lines, one panel per
    series. Agg backend: no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(all_series)
    fig, axes = plt.subplots(n, 1, figsize=(10, 3.2 * n), squeeze=False)
    try:
        for ax, s in zip(axes[:, 0], all_series, strict=True):
            days = [p.day for p in s.points]
            width = 0.8 if s.by == "day" else 5.6
            colors = ["#c0392b" if p.is_spike else "#2c7fb8" for p in s.points]
            ax.bar(days, [p.stories for p in s.points], width=width, color=colors, label="stories")
            ax.plot(days, [p.texts for p in s.points], color="#555555", linewidth=1, label="distinct texts")
            ax.plot(days, [p.articles for p in s.points], color="#999999", linewidth=1, linestyle="--",
                    label="articles")
            ax.set_title(_label(s) + " (red: spike)")
            ax.set_ylabel("per " + s.by)
            ax.legend(loc="upper left", fontsize="small")
            ax.grid(axis="y", alpha=0.3)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
    finally:
        plt.close(fig)


def write_atomically(out: str, render: object) -> Path:
    """Write to a temporary file beside `out`, rename it into place: an error leaves nothing behind.

    `render` is a str (text output) or a callable taking the temporary path (the PNG writer).
    """
    dest = Path(out)
    folder = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    tmp = Path(tmp_name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the output is an ordinary file
        if isinstance(render, str):
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(render)
        else:
            os.close(fd)
            render(tmp)  # type: ignore[operator]
        os.replace(tmp, dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest
