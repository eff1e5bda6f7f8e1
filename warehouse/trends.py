"""Trend series for `newswatch trends`: a watch's (or an entity's) attention per day or week, spikes marked,
rendered as a terminal bar chart, CSV, JSON or a PNG chart. The views behind it are in sql/50_trends.sql."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from newswatch.errors import OutputError, UnknownWatchError, UserError
from warehouse.db import replaced_atomically, upsert  # replaced_atomically: temp-then-rename

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


def _watches(con: duckdb.DuckDBPyConnection, *, stored: bool = False) -> list[str]:
    """The watches with trend rows (a small table), or with `stored` those with articles (watch_articles: every
    watch that matched one; scanning it costs ~30 ms at a million articles)."""
    table = "core.watch_articles" if stored else "core.trend_attention"
    return [r[0] for r in con.execute(f"SELECT DISTINCT watch FROM {table} ORDER BY watch").fetchall()]


def _lit(value: str) -> str:
    """A string as an SQL literal. The read path of `newswatch trends` inlines its few values instead of binding
    them: DuckDB's Python client imports pandas, numpy and pyarrow at the first bound parameter, which cost a
    cold `newswatch trends` process about 1 s of CPU here."""
    if "\x00" in value:
        raise UserError("names cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def _resolve_entity(con: duckdb.DuckDBPyConnection, watch: str, entity: str) -> str:
    """The canonical name as stored: exact, else the one name equal ignoring case; else a clear error."""
    # new_entities has one row per watch and entity (scanning every mention took 1.5 s at a million articles)
    rows = con.execute(
        f"SELECT entity FROM new_entities WHERE watch = {_lit(watch)} AND lower(entity) = lower({_lit(entity)})"
    ).fetchall()
    names = [r[0] for r in rows]
    if entity in names:
        return entity
    if len(names) == 1:
        return names[0]
    if len(names) > 1:
        raise UserError(f"entity {entity!r} is ambiguous in watch {watch!r}: {', '.join(sorted(names))}")
    known = [r[0] for r in con.execute(f"SELECT entity FROM new_entities WHERE watch = {_lit(watch)}").fetchall()]
    import difflib  # only for this message: a cold `newswatch trends` need not import it

    close = difflib.get_close_matches(entity, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UserError(f"unknown entity {entity!r} in watch {watch!r}{hint}; "
                    "list them with: newswatch sql \"select entity, count(*) from entity_mentions group by 1\"")


def resolve_watches(con: duckdb.DuckDBPyConnection, watch: str | None) -> list[str]:
    known = _watches(con)
    if not known or (watch is not None and watch not in known):   # not refreshed yet, or a mistake: ask the articles
        known = _watches(con, stored=True)
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
    until: date | None = None,
    today: date | None = None,
) -> TrendSeries:
    """The attention series of a watch (or of one entity in it), every period from the first with coverage
    (or `since`) to the last, quiet periods as zeros, with spikes (the spikes view) marked."""
    return series_of(con, [watch], entity=entity, by=by, since=since, until=until, today=today)[0]


def series_of(
    con: duckdb.DuckDBPyConnection,
    watches: Sequence[str],
    *,
    entity: str | None = None,
    by: str = "day",
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> list[TrendSeries]:
    """`series` of each watch, in order, read with two queries in all (a cold `newswatch trends` over every
    watch paid two per watch)."""
    if by not in ("day", "week"):
        raise UserError(f"--by must be day or week, not {by!r}")
    today = today or datetime.now(UTC).date()
    if since is not None and since > today:
        raise UserError(f"--since {since.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    if since is not None and until is not None and until < since:
        raise UserError(f"--until {until.isoformat()} is before --since {since.isoformat()}")
    if entity is not None and len(watches) != 1:
        raise UserError(f"an entity's series needs one watch, not {len(watches)}")
    if entity is not None:
        entity = _resolve_entity(con, watches[0], entity)
    if not watches:
        return []
    among = "(" + ", ".join(_lit(w) for w in watches) + ")"
    if entity is None:   # the attention view's own rows (pre-aggregated)
        rows_sql = ("SELECT watch, day, stories, new_stories, texts, articles, outlets FROM attention "
                    f"WHERE watch IN {among} AND period = {_lit(by)}")
        spike_sql = f"SELECT watch, day FROM spikes WHERE watch IN {among} AND entity IS NULL"
    else:                # the entity's pre-aggregated days or weeks
        table, col = ("core.trend_entity_days", "day") if by == "day" else ("core.trend_entity_weeks", "week")
        rows_sql = (f"SELECT watch, {col}, stories, new_stories, texts, articles, outlets FROM {table} "
                    f"WHERE watch IN {among} AND entity = {_lit(entity)}")
        spike_sql = f"SELECT watch, day FROM spikes WHERE watch IN {among} AND entity = {_lit(entity)}"
    rows: dict[str, dict[date, tuple[int, ...]]] = {w: {} for w in watches}
    for r in con.execute(rows_sql).fetchall():
        rows[r[0]][r[1]] = r[2:]
    spiky: dict[str, set[date]] = {w: set() for w in watches}
    for w, d in con.execute(spike_sql).fetchall():
        spiky[w].add(d if by == "day" else d - timedelta(days=d.weekday()))
    return [_points(w, entity, by, rows[w], spiky[w], since, until) for w in watches]


def _points(watch: str, entity: str | None, by: str, rows: dict[date, tuple[int, ...]], spiky: set[date],
            since: date | None, until: date | None) -> TrendSeries:
    if not rows:
        return TrendSeries(watch, entity, by, ())
    step = timedelta(days=1 if by == "day" else 7)
    first, last = min(rows), max(rows)
    if since is not None:
        first = since if by == "day" else since - timedelta(days=since.weekday())
    if until is not None:
        last = until if by == "day" else until - timedelta(days=until.weekday())
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


def _values(p: TrendPoint) -> list[object]:
    # field by field, not dataclasses.asdict: asdict deep-copies every value, which was most of the CPU time of
    # a two-year daily csv or json (2,000+ points)
    return [p.watch, p.period, p.day.isoformat(), p.stories, p.new_stories, p.texts, p.articles, p.outlets,
            p.is_spike]


def render_csv(all_series: Sequence[TrendSeries]) -> str:
    entity = any(s.entity for s in all_series)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*COLUMNS, *(["entity"] if entity else [])])
    for s in all_series:
        for p in s.points:
            row = _values(p)
            row[-1] = "true" if p.is_spike else "false"
            if entity:
                row.append(s.entity)
            w.writerow(row)
    return buf.getvalue()


def render_json(all_series: Sequence[TrendSeries]) -> str:
    rows = []
    for s in all_series:
        for p in s.points:
            row = dict(zip(COLUMNS, _values(p), strict=True))
            if s.entity:
                row["entity"] = s.entity
            rows.append(row)
    # one object per line: readable, and each line goes through json's C encoder (indent= makes json use its
    # pure-Python encoder, most of a cold process's render time for two years of days)
    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"


def _date_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """At most ~10 x ticks: every day of a short series, Mondays for a few weeks, else month starts every 1, 2, 3,
    6 or 12 months; the year under the first tick and wherever it changes."""
    span = (last - first).days
    if span <= 70:
        step = 1 if span <= 10 else 7 * -(-span // 63)
        start = first if span <= 10 else first + timedelta(days=-first.weekday() % 7)
        ticks = [start + timedelta(days=i) for i in range(0, (last - start).days + 1, step)]
        fmt = "%b %d"
    else:
        every = next((k for k in (1, 2, 3, 6, 12) if span / 30.4 / k <= 10), 24)
        m = -(-(first.year * 12 + first.month - 1 + (first.day > 1)) // every) * every   # months since year 0
        ticks = []
        while (d := date(m // 12, m % 12 + 1, 1)) <= last:
            ticks.append(d)
            m += every
        fmt = "%b"
    return [(d, d.strftime(fmt) + (f"\n{d.year}" if i == 0 or d.year != ticks[i - 1].year else ""))
            for i, d in enumerate(ticks)]


def render_png(all_series: Sequence[TrendSeries], path: Path) -> None:
    """Stories per period as bars (spikes in red) with distinct texts and articles as lines, one panel per
    series. Agg canvas: no display needed."""
    # matplotlib.figure.Figure on an Agg canvas, not pyplot (whose import and figure manager cost more);
    # imported here so that the other formats never load matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    n = len(all_series)
    height = 3.2 * n
    fig = Figure(figsize=(10, height), dpi=100)
    FigureCanvasAgg(fig)
    # fixed margins in inches instead of tight_layout, which measures every label (a third of the drawing time)
    fig.subplots_adjust(left=0.6 / 10, right=1 - 0.2 / 10, top=1 - 0.35 / height, bottom=0.55 / height,
                        hspace=0.9 / (3.2 - 0.9) if n > 1 else 0.2)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, s in zip(axes, all_series, strict=True):
        # x as day ordinals with ticks placed here: matplotlib's date locators (dateutil rrules) and unit
        # conversion cost more than the drawing
        xs = [p.day.toordinal() for p in s.points]
        stories = [p.stories for p in s.points]
        half = (0.4 if s.by == "day" else 2.8) if len(xs) <= 200 else (0.5 if s.by == "day" else 3.5)
        # the bars as one collection (one artist): a Rectangle per bar cost ~3 ms each to lay out and draw
        bars = [((x - half, 0), (x - half, y), (x + half, y), (x + half, 0)) for x, y in zip(xs, stories, strict=True)
                if y]
        colors = ["#c0392b" if p.is_spike else "#2c7fb8" for p in s.points if p.stories]
        ax.add_collection(PolyCollection(bars, facecolors=colors, edgecolors="none", zorder=2))
        ax.plot(xs, [p.articles for p in s.points], color="#bbbbbb", linewidth=0.8, zorder=1)
        ax.plot(xs, [p.texts for p in s.points], color="#777777", linewidth=0.8, zorder=1)
        if xs:
            ax.set_xlim(xs[0] - 2 * half, xs[-1] + 2 * half)
            ticks = _date_ticks(s.points[0].day, s.points[-1].day)
            ax.set_xticks([d.toordinal() for d, _ in ticks], [label for _, label in ticks])
        # headroom for the legend row above the highest line
        ax.set_ylim(0, max([max(max(p.articles, p.stories) for p in s.points) if s.points else 0, 1]) * 1.25)
        ax.set_title(_label(s) + " (red: spike)", fontsize="medium")
        ax.set_ylabel("per " + s.by)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.tick_params(labelsize="small")
        ax.legend(handles=[Patch(color="#2c7fb8", label="stories"), Patch(color="#c0392b", label="spike"),
                           Line2D([], [], color="#777777", linewidth=0.8, label="distinct texts"),
                           Line2D([], [], color="#bbbbbb", linewidth=0.8, label="articles")],
                  loc="upper left", fontsize="small", ncols=4)
        ax.grid(axis="y", alpha=0.3)
    # zlib level 1: a chart of flat colours compresses almost as well, several times faster
    fig.savefig(path, format="png", pil_kwargs={"compress_level": 1})


def write_atomically(out: str, render: str | Callable[[Path], None]) -> Path:
    """Write to a temporary file beside `out`, rename it into place: an error leaves nothing behind.

    `render` is a str (text output) or a callable taking the temporary path (the PNG writer).
    """
    try:
        with replaced_atomically(out) as tmp:
            if isinstance(render, str):
                tmp.write_text(render, encoding="utf-8")
            else:
                render(tmp)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from None
    return Path(out)


# ---- the pre-aggregated tables behind the views ---------------------------------------------------------

# Each step recomputes only what changed since the last refresh: the (watch, day) pairs, ISO weeks and stories
# touched by a (watch, article) row that is new, gone, regrouped or revised (its old values are in the snapshot
# core.trend_watch_articles), and, for entities, the weeks of articles whose facts were stored since. A story's
# days are all recomputed when it changes (its first day in a watch decides new_stories). A new set of
# cross-article aliases renames entities anywhere, so it rebuilds the entity tables whole.
# tr_changed: one row per changed (watch, article): its current values (NULL when gone) and its old day and story
# (NULL when new); the snapshot takes the current values from it.
_CHANGED_ALL = """CREATE OR REPLACE TEMP TABLE tr_changed AS
       SELECT coalesce(c.watch, s.watch) AS watch, coalesce(c.article_id, s.article_id) AS article_id,
              c.source, c.title, c.story_id, c.syndication_id, c.ran_at, c.day,
              s.day AS old_day, s.story_id AS old_story
       FROM core.article_days c
       FULL OUTER JOIN core.trend_watch_articles s ON s.watch = c.watch AND s.article_id = c.article_id
       WHERE c.article_id IS NULL OR s.article_id IS NULL
          OR c.source <> s.source OR c.title <> s.title OR c.story_id <> s.story_id
          OR c.syndication_id <> s.syndication_id OR c.ran_at <> s.ran_at"""
# Every write that adds an article or changes its text, time or groups (re)writes its core.article_groups row
# with assigned_at = now (load_batch groups each new or revised article; reprocessing regroups), and a watch that
# matches an article (a new one, or a stored one for a watch added later) adds a core.watch_articles row with
# matched_at = now, after the previous refresh committed: so the candidates are those rows' articles, not a
# comparison of every article.
_CHANGED_SINCE = """CREATE OR REPLACE TEMP TABLE tr_changed AS
       WITH g AS (   -- articles stored, revised or regrouped since: each of their watches' rows
           SELECT article_id FROM core.article_groups WHERE assigned_at >= $since
       ), cw AS (    -- ... and the (watch, article) matches made since (a watch added later over stored articles)
           SELECT watch, article_id FROM core.watch_articles
           WHERE matched_at >= $since OR article_id IN (SELECT article_id FROM g)
       ), cur AS (   -- core.article_days for the candidates only (the view would join every article first)
           SELECT cw.watch, a.article_id, a.source, a.title, coalesce(gr.story_id, a.article_id) AS story_id,
                  coalesce(gr.syndication_id, a.article_id) AS syndication_id,
                  coalesce(a.published_at, a.first_seen_at) AS ran_at,
                  CAST(timezone('UTC', coalesce(a.published_at, a.first_seen_at)) AS DATE) AS day
           FROM cw
           JOIN core.articles a ON a.article_id = cw.article_id
           LEFT JOIN core.article_groups gr ON gr.article_id = cw.article_id
       ), old AS (
           SELECT t.watch, t.article_id, t.day, t.story_id FROM core.trend_watch_articles t
           SEMI JOIN cw ON cw.watch = t.watch AND cw.article_id = t.article_id
           UNION
           SELECT watch, article_id, day, story_id FROM core.trend_watch_articles
           WHERE article_id IN (SELECT article_id FROM g)
       )
       SELECT coalesce(c.watch, o.watch) AS watch, coalesce(c.article_id, o.article_id) AS article_id,
              c.source, c.title, c.story_id, c.syndication_id, c.ran_at, c.day,
              o.day AS old_day, o.story_id AS old_story
       FROM cur c FULL OUTER JOIN old o ON o.watch = c.watch AND o.article_id = c.article_id"""

_REFRESH = [
    """CREATE OR REPLACE TEMP TABLE tr_stories AS
       SELECT story_id FROM tr_changed WHERE story_id IS NOT NULL
       UNION SELECT old_story FROM tr_changed WHERE old_story IS NOT NULL""",
    # every (watch, day) whose story, text or article counts may differ
    """CREATE OR REPLACE TEMP TABLE tr_days AS
       SELECT watch, day FROM tr_changed WHERE day IS NOT NULL
       UNION SELECT watch, old_day FROM tr_changed WHERE old_day IS NOT NULL
       UNION SELECT s.watch, s.day FROM core.trend_watch_articles s JOIN tr_stories USING (story_id)""",
    """CREATE OR REPLACE TEMP TABLE tr_weeks AS
       SELECT DISTINCT watch, CAST(date_trunc('week', day) AS DATE) AS week FROM tr_days""",
    # -- attention, by day and by week
    """DELETE FROM core.trend_attention t USING tr_days d
       WHERE t.period = 'day' AND t.watch = d.watch AND t.day = d.day""",
    """DELETE FROM core.trend_attention t USING tr_weeks w
       WHERE t.period = 'week' AND t.watch = w.watch AND t.day = w.week""",
    """CREATE OR REPLACE TEMP TABLE tr_week_articles AS
       SELECT a.*, CAST(date_trunc('week', a.day) AS DATE) AS week
       FROM core.trend_watch_articles a
       JOIN tr_weeks w ON w.watch = a.watch AND w.week = date_trunc('week', a.day)""",
    # a story's first day in each watch (a story can span watches)
    """CREATE OR REPLACE TEMP TABLE tr_story_first AS
       SELECT watch, story_id, min(day) AS first_day FROM core.trend_watch_articles
       WHERE story_id IN (SELECT story_id FROM tr_week_articles) GROUP BY watch, story_id""",
    """INSERT INTO core.trend_attention
       SELECT a.watch, 'day', a.day, count(DISTINCT a.story_id), count(DISTINCT a.syndication_id), count(*),
              count(DISTINCT a.source), count(DISTINCT a.story_id) FILTER (WHERE f.first_day = a.day)
       FROM tr_week_articles a JOIN tr_days d ON d.watch = a.watch AND d.day = a.day
       JOIN tr_story_first f ON f.watch = a.watch AND f.story_id = a.story_id
       GROUP BY a.watch, a.day""",
    """INSERT INTO core.trend_attention
       SELECT a.watch, 'week', a.week, count(DISTINCT a.story_id), count(DISTINCT a.syndication_id), count(*),
              count(DISTINCT a.source),
              count(DISTINCT a.story_id) FILTER (WHERE date_trunc('week', f.first_day) = a.week)
       FROM tr_week_articles a JOIN tr_story_first f USING (watch, story_id)
       GROUP BY a.watch, a.week""",
    # -- story timelines and outlet coverage, per changed story (in every watch it has articles in)
    "DELETE FROM core.trend_story_days WHERE story_id IN (SELECT story_id FROM tr_stories)",
    "DELETE FROM core.trend_outlet_coverage WHERE story_id IN (SELECT story_id FROM tr_stories)",
    """CREATE OR REPLACE TEMP TABLE tr_story_articles AS
       SELECT a.* FROM core.trend_watch_articles a JOIN tr_stories USING (story_id)""",
    """INSERT INTO core.trend_story_days
       WITH s AS (
           SELECT watch, story_id, min(ran_at) AS first_at, arg_min(source, (ran_at, article_id)) AS first_source,
                  arg_min(title, (ran_at, article_id)) AS first_title
           FROM tr_story_articles GROUP BY watch, story_id
       )
       SELECT a.watch, a.story_id, coalesce(st.title, s.first_title), a.day, count(*),
              count(DISTINCT a.syndication_id), count(DISTINCT a.source), list(DISTINCT a.source ORDER BY a.source),
              s.first_source, s.first_at, a.day = CAST(timezone('UTC', s.first_at) AS DATE)
       FROM tr_story_articles a JOIN s USING (watch, story_id) LEFT JOIN core.stories st ON st.story_id = a.story_id
       GROUP BY a.watch, a.story_id, st.title, s.first_title, a.day, s.first_source, s.first_at""",
    """INSERT INTO core.trend_outlet_coverage
       WITH per_outlet AS (
           SELECT watch, story_id, source, min(ran_at) AS first_at, count(*) AS articles,
                  count(*) FILTER (WHERE article_id <> syndication_id) AS copies,
                  arg_min(article_id, (ran_at, article_id)) AS first_article_id
           FROM tr_story_articles GROUP BY watch, story_id, source
       )
       SELECT watch, story_id, source, first_at, first_article_id, articles, copies,
              row_number() OVER w, row_number() OVER w = 1, first_at - first_value(first_at) OVER w,
              first_value(source) OVER w, count(*) OVER (PARTITION BY watch, story_id)
       FROM per_outlet
       WINDOW w AS (PARTITION BY watch, story_id ORDER BY first_at, source)""",
]

# Entities: every entity row of each (watch, week) in tr_entity_weeks is recomputed (a week's distinct stories
# do not add up from its days); day rows only for the (watch, day) pairs in tr_entity_days.
_ENTITY_MENTIONS = """
       WITH m AS (   -- one row per (article, entity): several mentions in one article count once
           SELECT article_id, entity, arg_min(entity_type, seq) AS entity_type, count(*) AS mentions
           FROM core.entity_mentions
           WHERE article_id IN (SELECT article_id FROM tr_entity_articles {only_days})
           GROUP BY article_id, entity
       )"""
_REFRESH_ENTITIES = [
    """CREATE OR REPLACE TEMP TABLE tr_entity_weeks AS
       SELECT DISTINCT watch, CAST(date_trunc('week', day) AS DATE) AS week FROM tr_entity_days""",
    # the entity series that change: those on the recomputed days, before and after (for spikes, new entities)
    """CREATE OR REPLACE TEMP TABLE tr_entity_touched AS
       SELECT t.watch, t.entity, t.day FROM core.trend_entity_days t
       JOIN tr_entity_days d ON t.watch = d.watch AND t.day = d.day""",
    "DELETE FROM core.trend_entity_days t USING tr_entity_days d WHERE t.watch = d.watch AND t.day = d.day",
    "DELETE FROM core.trend_entity_weeks t USING tr_entity_weeks w WHERE t.watch = w.watch AND t.week = w.week",
    """CREATE OR REPLACE TEMP TABLE tr_entity_articles AS
       WITH a AS (
           SELECT a.*, CAST(date_trunc('week', a.day) AS DATE) AS week
           FROM core.trend_watch_articles a
           JOIN tr_entity_weeks w ON w.watch = a.watch AND w.week = date_trunc('week', a.day)
       ), f AS (
           SELECT watch, story_id, min(day) AS first_day FROM core.trend_watch_articles
           WHERE story_id IN (SELECT story_id FROM a) GROUP BY watch, story_id
       )
       SELECT a.*, f.first_day AS story_first_day, d.day IS NOT NULL AS day_changed
       FROM a JOIN f USING (watch, story_id) LEFT JOIN tr_entity_days d ON d.watch = a.watch AND d.day = a.day""",
    """INSERT INTO core.trend_entity_days""" + _ENTITY_MENTIONS.format(only_days="WHERE day_changed") + """
       SELECT a.watch, m.entity, mode(m.entity_type), a.day, count(DISTINCT a.story_id),
              count(DISTINCT a.syndication_id), count(*), sum(m.mentions)::BIGINT, min(a.ran_at),
              arg_min(a.article_id, (a.ran_at, a.article_id)), arg_min(a.story_id, (a.ran_at, a.article_id)),
              arg_min(a.source, (a.ran_at, a.article_id)), arg_min(a.title, (a.ran_at, a.article_id)),
              count(DISTINCT a.source), count(DISTINCT a.story_id) FILTER (WHERE a.story_first_day = a.day)
       FROM m JOIN tr_entity_articles a USING (article_id)
       WHERE a.day_changed
       GROUP BY a.watch, m.entity, a.day""",
    """INSERT INTO core.trend_entity_weeks""" + _ENTITY_MENTIONS.format(only_days="") + """
       SELECT a.watch, m.entity, a.week, count(DISTINCT a.story_id),
              count(DISTINCT a.story_id) FILTER (WHERE date_trunc('week', a.story_first_day) = a.week),
              count(DISTINCT a.syndication_id), count(*), count(DISTINCT a.source), sum(m.mentions)::BIGINT
       FROM m JOIN tr_entity_articles a USING (article_id)
       GROUP BY a.watch, m.entity, a.week""",
    """INSERT INTO tr_entity_touched
       SELECT t.watch, t.entity, t.day FROM core.trend_entity_days t
       JOIN tr_entity_days d ON t.watch = d.watch AND t.day = d.day""",
]

# Spikes and new entities of the changed series only (see core.trend_spike_scope in sql/50_trends.sql): a changed
# day moves the scores of the 28 days after it.
_REFRESH_SCOPED = [
    """INSERT INTO core.trend_entity_scope SELECT DISTINCT watch, entity FROM tr_entity_touched""",
    """DELETE FROM core.trend_new_entities t USING core.trend_entity_scope k
       WHERE t.watch = k.watch AND t.entity = k.entity""",
    "INSERT INTO core.trend_new_entities SELECT * FROM core.new_entities_computed",
    "DELETE FROM core.trend_entity_scope",
    """INSERT INTO core.trend_spike_scope
       SELECT watch, NULL, min(day), max(day) + 28 FROM tr_days GROUP BY watch
       UNION ALL SELECT watch, entity, min(day), max(day) + 28 FROM tr_entity_touched GROUP BY watch, entity""",
    """DELETE FROM core.trend_spikes t USING core.trend_spike_scope r
       WHERE t.watch = r.watch AND t.entity IS NOT DISTINCT FROM r.entity AND t.day BETWEEN r.lo AND r.hi""",
    "INSERT INTO core.trend_spikes SELECT * FROM core.spike_scores",
    "DELETE FROM core.trend_spike_scope",
]
_WATCH_STARTS = "SELECT watch, min(day) FROM core.trend_attention WHERE period = 'day' GROUP BY watch ORDER BY watch"

_SNAPSHOT = [
    """DELETE FROM core.trend_watch_articles t USING tr_changed c
       WHERE t.watch = c.watch AND t.article_id = c.article_id""",
    """INSERT INTO core.trend_watch_articles
       SELECT watch, article_id, source, title, story_id, syndication_id, ran_at, day
       FROM tr_changed WHERE day IS NOT NULL""",
]


# ---- fact trends (sql/55_fact_trends.sql): per family, the slim rows of the touched articles are replaced, then
# the aggregate rows of every key those articles had or have are recomputed from the slim rows of those keys.
# Ties on time go to the smaller article id, then the earlier fact (a refresh must give what a rebuild gives).
_FIRST = "(reported_at, article_id, seq)"
@dataclass(frozen=True, slots=True)
class _FactFamily:
    """One fact trend family: its slim rows table, its per-key table and key, and the two INSERTs that fill them
    ({only}: a filter on the touched articles; {keyed}: a join with the touched keys)."""

    rows: str
    agg: str
    key: tuple[str, ...]
    insert_rows: str
    insert_agg: str


_FACT_FAMILIES = (
    _FactFamily(
        rows="core.trend_figure_rows", agg="core.trend_figure_values",
        key=("watch", "noun_key", "currency", "unit", "value"),
        insert_rows="""INSERT INTO core.trend_figure_rows
            SELECT wa.watch, f.article_id, f.seq, lower(f.noun), coalesce(f.currency, ''), coalesce(f.unit, ''),
                   f.value, coalesce(g.syndication_id, f.article_id), coalesce(a.published_at, a.first_seen_at),
                   a.source, f.qualifier, f.surface
            FROM core.figures f
            JOIN core.articles a USING (article_id)
            JOIN core.watch_articles wa USING (article_id)
            LEFT JOIN core.article_groups g USING (article_id)
            WHERE (f.noun <> '' OR f.currency IS NOT NULL OR f.unit = 'percent') {only}""",
        # one row per (key, text) first: copies of one text count once
        insert_agg=f"""INSERT INTO core.trend_figure_values
            WITH per_copy AS (
                SELECT watch, noun_key, currency, unit, value, syndication_id,
                       min(reported_at) AS reported_at, min({_FIRST}) AS first,
                       arg_min(source, {_FIRST}) AS source, arg_min(article_id, {_FIRST}) AS article_id,
                       arg_min(qualifier, {_FIRST}) AS qualifier, arg_min(surface, {_FIRST}) AS surface
                FROM core.trend_figure_rows r {{keyed}}
                GROUP BY watch, noun_key, currency, unit, value, syndication_id
            )
            SELECT watch, noun_key, currency, unit, value, min(reported_at), arg_min(source, first),
                   arg_min(article_id, first), arg_min(qualifier, first), arg_min(surface, first), max(reported_at),
                   count(*), list(DISTINCT source ORDER BY source)
            FROM per_copy GROUP BY watch, noun_key, currency, unit, value""",
    ),
    _FactFamily(
        rows="core.trend_quote_rows", agg="core.trend_quote_registry", key=("quote_key",),
        insert_rows="""INSERT INTO core.trend_quote_rows
            SELECT q.article_id, q.seq, q.quote_id, coalesce(c.cluster_id, q.quote_id), q.quote, q.speaker, a.source,
                   coalesce(a.published_at, a.first_seen_at), coalesce(g.syndication_id, q.article_id)
            FROM core.quotes q
            JOIN core.articles a USING (article_id)
            LEFT JOIN core.article_groups g USING (article_id)
            LEFT JOIN core.quote_clusters c USING (quote_id)
            WHERE true {only}""",
        # the speaker most appearances give, ties to the one reported first
        insert_agg=f"""INSERT INTO core.trend_quote_registry
            WITH r AS (SELECT * FROM core.trend_quote_rows r {{keyed}}),
            sp AS (
                SELECT quote_key, speaker, count(*) AS n, min({_FIRST}) AS first FROM r
                WHERE speaker IS NOT NULL GROUP BY quote_key, speaker
            ), best AS (
                SELECT quote_key, arg_min(speaker, (-n, first)) AS speaker, list(speaker ORDER BY speaker) AS speakers
                FROM sp GROUP BY quote_key
            )
            SELECT r.quote_key, any_value(b.speaker), arg_max(r.quote, (length(r.quote), r.quote)),
                   arg_min(r.source, {_FIRST}), arg_min(r.article_id, {_FIRST}), min(r.reported_at),
                   max(r.reported_at), count(DISTINCT r.article_id), count(DISTINCT r.source),
                   count(DISTINCT r.syndication_id), any_value(b.speakers)
            FROM r LEFT JOIN best b USING (quote_key)
            GROUP BY r.quote_key""",
    ),
    _FactFamily(
        rows="core.trend_period_rows", agg="core.trend_period_ranges", key=("start_year", "end_year"),
        insert_rows="""INSERT INTO core.trend_period_rows
            SELECT p.article_id, p.seq, p.start_year, p.end_year, p.sentence, coalesce(g.syndication_id, p.article_id),
                   coalesce(a.published_at, a.first_seen_at)
            FROM core.periods p
            JOIN core.articles a USING (article_id)
            LEFT JOIN core.article_groups g USING (article_id)
            WHERE p.kind = 'range' {only}""",
        insert_agg=f"""INSERT INTO core.trend_period_ranges
            SELECT start_year, end_year, count(DISTINCT syndication_id), count(DISTINCT article_id),
                   min(reported_at), arg_min(article_id, {_FIRST}), arg_min(sentence, {_FIRST}), max(reported_at)
            FROM core.trend_period_rows r {{keyed}}
            GROUP BY start_year, end_year""",
    ),
)

# a stored quote whose speaker (re-canonicalised by cross-article linking) or cluster changed since its slim row
_QUOTE_DRIFT = """INSERT INTO tr_fact_articles
    SELECT DISTINCT r.article_id FROM core.trend_quote_rows r
    JOIN core.quotes q ON q.article_id = r.article_id AND q.seq = r.seq
    LEFT JOIN core.quote_clusters c ON c.quote_id = q.quote_id
    WHERE r.speaker IS DISTINCT FROM q.speaker OR r.quote_key <> coalesce(c.cluster_id, q.quote_id)
       OR r.quote_id <> q.quote_id"""
_CLUSTER_SIGNATURE = "SELECT count(*) || '|' || coalesce(sum(hash(quote_id, cluster_id)), 0) FROM core.quote_clusters"


def _refresh_fact_trends(con: duckdb.DuckDBPyConnection, since: datetime | None, linked: bool) -> int:
    """Bring the fact trend tables up to date: whole when since is None, else for the articles that changed
    (tr_changed), got facts since, were relinked (core.relinked_articles), or (linked: the quote clusters changed)
    have a quote whose speaker or cluster moved. Returns how many articles were recomputed (-1: whole)."""
    if since is None:
        for fam in _FACT_FAMILIES:
            con.execute(f"DELETE FROM {fam.rows}")
            con.execute(f"DELETE FROM {fam.agg}")
            con.execute(fam.insert_rows.format(only=""))
            con.execute(fam.insert_agg.format(keyed=""))
        return -1
    con.execute("""CREATE OR REPLACE TEMP TABLE tr_fact_articles AS
                   SELECT article_id FROM tr_changed
                   UNION SELECT article_id FROM core.fact_runs WHERE extracted_at >= $since
                   UNION SELECT article_id FROM core.relinked_articles""", {"since": since})
    if linked:
        con.execute(_QUOTE_DRIFT)
    con.execute("CREATE OR REPLACE TEMP TABLE tr_fact_ids AS SELECT DISTINCT article_id FROM tr_fact_articles")
    n = con.execute("SELECT count(*) FROM tr_fact_ids").fetchone()[0]
    if not n:
        return 0
    only = "AND article_id IN (SELECT article_id FROM tr_fact_ids)"
    for fam in _FACT_FAMILIES:
        key = ", ".join(fam.key)
        on = " AND ".join(f"k.{c} = r.{c}" for c in fam.key)
        # the keys the touched articles had, then those they have now
        con.execute(f"CREATE OR REPLACE TEMP TABLE tr_fact_old AS SELECT DISTINCT {key} FROM {fam.rows} "
                    f"WHERE true {only}")
        con.execute(f"DELETE FROM {fam.rows} WHERE true {only}")
        con.execute(fam.insert_rows.format(only=only))   # article_id there is the USING column of every table
        con.execute(f"CREATE OR REPLACE TEMP TABLE tr_fact_keys AS SELECT {key} FROM tr_fact_old "
                    f"UNION SELECT {key} FROM {fam.rows} WHERE true {only}")
        con.execute(f"DELETE FROM {fam.agg} r USING tr_fact_keys k WHERE {on}")
        con.execute(fam.insert_agg.format(keyed=f"SEMI JOIN tr_fact_keys k ON {on}"))
    for t in ("tr_fact_articles", "tr_fact_ids", "tr_fact_old", "tr_fact_keys"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return n


TREND_TABLES = ("trend_watch_articles", "trend_attention", "trend_entity_days", "trend_entity_weeks",
                "trend_story_days", "trend_outlet_coverage", "trend_spikes", "trend_new_entities",
                "trend_outlet_copies",
                *(t.removeprefix("core.") for fam in _FACT_FAMILIES for t in (fam.rows, fam.agg)))
_TEMP_TABLES = ("tr_changed", "tr_stories", "tr_days", "tr_weeks", "tr_week_articles", "tr_story_first",
                "tr_story_articles", "tr_entity_days", "tr_entity_weeks", "tr_entity_articles", "tr_entity_touched")


def refresh_aggregates(con: duckdb.DuckDBPyConnection, version: str = "") -> dict[str, int]:
    """Bring the core.trend_* tables up to date with the base tables (call inside a transaction). The first call
    on a warehouse, or the first with another `version` (the schema's hash: a changed view definition), builds
    them whole. Returns how many (watch, article) rows, days and stories were recomputed."""
    now = con.execute("SELECT now()").fetchone()[0]
    meta = dict(con.execute(
        "SELECT key, value FROM core.meta WHERE key IN ('trends_refreshed_at', 'trends_cluster_signature', "
        "'trends_version')"
    ).fetchall())
    if meta.get("trends_version") != version:
        for t in TREND_TABLES:
            con.execute(f"DELETE FROM core.{t}")
        meta = {}
    # what cross-article linking changed: the articles it re-canonicalised (core.relinked_articles, written by
    # warehouse/facts.py write_links) and the quote clusters (rebuilt whole by each link, so compared by content)
    cluster_sig = str(con.execute(_CLUSTER_SIGNATURE).fetchone()[0])
    linked = meta.get("trends_cluster_signature") != cluster_sig
    # a timestamp parameter, not a string cast in SQL: the cast made a 100k-row scan take 0.7 s
    since = datetime.fromisoformat(meta["trends_refreshed_at"]) if "trends_refreshed_at" in meta else None
    if since is None:
        con.execute(_CHANGED_ALL)
    else:
        if con.execute("SELECT EXISTS (SELECT 1 FROM core.article_groups WHERE assigned_at >= $since) "
                       "OR EXISTS (SELECT 1 FROM core.watch_articles WHERE matched_at >= $since)",
                       {"since": since}).fetchone()[0]:
            con.execute(_CHANGED_SINCE, {"since": since})
        else:   # nothing regrouped, stored or matched: skip the join with every article
            con.execute("CREATE OR REPLACE TEMP TABLE tr_changed AS SELECT watch, article_id, source, title, story_id, "
                        "syndication_id, ran_at, day, day AS old_day, story_id AS old_story "
                        "FROM core.trend_watch_articles LIMIT 0")
        # safety net for writes that bypass the groups and matches (an article stored without a group, a match or
        # an article deleted): counts that do not add up mean a full comparison
        n_now, n_snap, n_new, n_gone = con.execute(
            "SELECT (SELECT count(*) FROM core.watch_articles w SEMI JOIN core.articles a USING (article_id)), "
            "(SELECT count(*) FROM core.trend_watch_articles), "
            "(SELECT count(*) FROM tr_changed WHERE old_day IS NULL AND day IS NOT NULL), "
            "(SELECT count(*) FROM tr_changed WHERE day IS NULL AND old_day IS NOT NULL)").fetchone()
        if n_now != n_snap + n_new - n_gone:
            con.execute(_CHANGED_ALL)
    # the snapshot takes the current values first: every step below reads it (a slim table) rather than the
    # articles-groups join
    if con.execute("SELECT EXISTS (SELECT 1 FROM tr_changed)").fetchone()[0]:
        for sql in _SNAPSHOT:
            con.execute(sql)
    quiet = since is not None and not linked and not con.execute(
        "SELECT EXISTS (SELECT 1 FROM tr_changed) OR EXISTS (SELECT 1 FROM core.relinked_articles) "
        "OR EXISTS (SELECT 1 FROM core.fact_runs WHERE extracted_at >= ?)", [since]).fetchone()[0]
    if quiet:   # nothing changed: the usual case between runs, and for a batch of unchanged pages
        upsert(con, "core.meta", [("trends_refreshed_at", now.isoformat())])
        con.execute("DROP TABLE IF EXISTS tr_changed")
        return {"articles": 0, "days": 0, "entity_days": 0, "stories": 0, "fact_articles": 0}
    starts = con.execute(_WATCH_STARTS).fetchall()
    for sql in _REFRESH:
        con.execute(sql)
    # the whole of spikes and new entities when the entity tables are rebuilt whole, or when a watch's first day
    # moved (it bounds every trailing window of the watch and its entities)
    whole = since is None or con.execute(_WATCH_STARTS).fetchall() != starts
    if since is None:
        con.execute("DELETE FROM core.trend_entity_days")
        con.execute("DELETE FROM core.trend_entity_weeks")
        con.execute("CREATE OR REPLACE TEMP TABLE tr_entity_days AS "
                    "SELECT DISTINCT watch, day FROM core.trend_watch_articles")
    else:
        con.execute(   # the days that changed, and those of articles with new facts or relinked entities
            """CREATE OR REPLACE TEMP TABLE tr_entity_days AS
               SELECT watch, day FROM tr_days
               UNION SELECT a.watch, a.day FROM core.trend_watch_articles a JOIN core.fact_runs f USING (article_id)
                     WHERE f.extracted_at >= ?
               UNION SELECT a.watch, a.day FROM core.trend_watch_articles a
                     SEMI JOIN core.relinked_articles r USING (article_id)""",
            [since],
        )
    for sql in _REFRESH_ENTITIES:
        con.execute(sql)
    # small derived tables, from the aggregates above: spikes and new entities of the changed series (their
    # scopes must not be empty, which means everything), outlet pairs whole (measured in docs/benchmarks.md)
    derived = [("trend_outlet_copies", "outlet_copies_computed")]
    if whole:
        derived += [("trend_spikes", "spike_scores"), ("trend_new_entities", "new_entities_computed")]
    elif con.execute("SELECT EXISTS (SELECT 1 FROM tr_days) OR EXISTS (SELECT 1 FROM tr_entity_touched)").fetchone()[0]:
        for sql in _REFRESH_SCOPED:
            if "new_entities_computed" in sql and not con.execute(
                    "SELECT EXISTS (SELECT 1 FROM core.trend_entity_scope)").fetchone()[0]:
                continue   # no entity changed (an empty scope would recompute every entity)
            con.execute(sql)
    for table, view in derived:
        con.execute(f"DELETE FROM core.{table}")
        con.execute(f"INSERT INTO core.{table} SELECT * FROM core.{view}")
    facts = _refresh_fact_trends(con, since, linked)
    counts = {
        "articles": con.execute("SELECT count(*) FROM tr_changed").fetchone()[0],
        "days": con.execute("SELECT count(*) FROM tr_days").fetchone()[0],
        "entity_days": con.execute("SELECT count(*) FROM tr_entity_days").fetchone()[0],
        "stories": con.execute("SELECT count(*) FROM tr_stories").fetchone()[0],
        "fact_articles": facts,
    }
    con.execute("DELETE FROM core.relinked_articles")   # every one of them is recomputed above
    upsert(con, "core.meta", [("trends_refreshed_at", now.isoformat()), ("trends_cluster_signature", cluster_sig),
                              ("trends_version", version)])
    for t in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return counts
