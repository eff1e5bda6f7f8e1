"""Digest selection and the delivery ledger: what is new for a watch, one item per story, and the SMTP outbox.

The rules (docs/alerts.md has the long form):

- The unit of "already told" is the article. An article carried by a digest whose status is
  `sent`, `written`, `pending` or `sending` is never selected again.
- A syndicated copy of a text that already went out is not news: it is never selected.
- New articles are grouped by story (articles.story_id): one item per story. Inside a story the
  articles are grouped by syndication_id; one representative per text, the other copies are folded
  ("also ran in X, Y").
- A story that already had an article in a delivered digest comes back as an *update* item that
  carries only the new articles, under the title the story first went out with.
- At most `max_items` stories per digest, most recent first; the rest wait for the next digest.
- digest_id = stable_id(watch, sorted article ids): the same content gives the same id, hence the same
  Message-ID. A failed digest whose articles are selected again unchanged is retried under its own id;
  one whose articles went out in a different digest becomes `superseded`.

Every function takes an open connection; callers keep writer windows short (no connection is held
while talking to a mail server).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from newswatch.config import ITEM_KINDS
from newswatch.models import Digest, DigestArticle, DigestItem, stable_id
from warehouse.db import transaction, upsert

# Digest statuses whose articles count as already told.
TOLD_STATUSES = ("sent", "written", "pending", "sending")
SUMMARY_CHARS = 280
SUMMARY_MIN_WORDS = 5
MAX_FACT_LINES = 3


@dataclass(frozen=True, slots=True)
class CarriedArticle:
    """An article carried by a digest, and the part it plays in its item."""

    article_id: str
    story_id: str
    role: str  # 'lead' | 'coverage' | 'copy'
    copy_of: str | None = None  # for a copy: the article that represents its text in the digest


@dataclass(frozen=True, slots=True)
class SpikeLine:
    """An attention spike the digest reports (the spikes view of warehouse/sql/50_trends.sql)."""

    entity: str  # '' for the whole watch
    day: date
    line: str


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """What the next digest of a watch carries: the Digest record plus the ledger rows to store."""

    digest: Digest
    carried: tuple[CarriedArticle, ...]
    held_back: int  # stories left for the next digest because of max_items
    previous_status: str | None  # status of an earlier digest with the same id (a failed one retried)
    spikes: tuple[SpikeLine, ...] = ()

    @property
    def spike_lines(self) -> tuple[str, ...]:
        """The spike lines to render (alerts.render: spikes=...)."""
        return tuple(s.line for s in self.spikes)

    @property
    def copy_of(self) -> dict[str, str]:
        """copy article_id -> the article_id shown for its text (lets the renderer fold each copy under it)."""
        return {c.article_id: c.copy_of for c in self.carried if c.copy_of}


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One digest waiting in the SMTP outbox."""

    digest_id: str
    watch: str
    message_id: str
    recipients: tuple[str, ...]
    state: str
    attempts: int
    message: bytes
    eml_path: str | None
    html_path: str | None
    items: int


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_WORDS = re.compile(r"[^\W_]+")


def _is_headline(paragraph: str, title_words: list[str]) -> bool:
    """True when a paragraph is the headline again (or the headline without its ' | Outlet' tail)."""
    words = [w.casefold() for w in _WORDS.findall(paragraph)]
    return bool(words) and words == title_words[: len(words)] and len(words) >= min(len(title_words), 4)


def _summary(text: str, limit: int = SUMMARY_CHARS, title: str = "") -> str:
    """The first sentences of the text, cut at a word boundary, whitespace collapsed, headline left out.

    Paragraphs of fewer than SUMMARY_MIN_WORDS words are skipped: left-over page chrome ("Most Read",
    "Don't Miss") and captions are short, sentences are not. The headline is shown above the summary, so
    a text that starts with it (the page's own <h1> kept by the extractor) does not repeat it.
    """
    title_words = [w.casefold() for w in _WORDS.findall(title or "")]
    lines = [p for p in (text or "").splitlines() if p.strip()]
    while lines and title_words and _is_headline(lines[0], title_words):
        lines.pop(0)
    paragraphs = [" ".join(p.split()) for p in lines if len(p.split()) >= SUMMARY_MIN_WORDS]
    # a standfirst without a full stop would run into the next sentence ("... for transparency Senior officers")
    flat = " ".join(p if p[-1] in ".!?:;…\"'’”)" or i == len(paragraphs) - 1 else p + "."
                    for i, p in enumerate(paragraphs)) or " ".join(" ".join(lines).split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    # prefer the end of a sentence, else the last whole word
    stop = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if stop >= limit // 2:
        return cut[: stop + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(",;:") + " …"


def last_told_at(con: duckdb.DuckDBPyConnection, watch: str) -> datetime | None:
    """created_at of the newest sent or written digest of the watch."""
    row = con.execute(
        "SELECT max(created_at) FROM core.digests WHERE watch = ? AND status IN ('sent', 'written')",
        [watch],
    ).fetchone()
    return _utc(row[0]) if row else None


def _new_articles(con: duckdb.DuckDBPyConnection, watch: str) -> list[dict[str, Any]]:
    told = ", ".join(f"'{s}'" for s in TOLD_STATUSES)
    # `articles` is the public view (90_public.sql); it gives syndication_id/story_id with fallbacks.
    sql = f"""
        WITH told AS (
            SELECT DISTINCT da.article_id
            FROM core.digest_articles da JOIN core.digests d USING (digest_id)
            WHERE d.watch = ? AND d.status IN ({told})
        ),
        told_texts AS (
            SELECT DISTINCT a.syndication_id FROM articles a JOIN told USING (article_id)
        )
        SELECT a.article_id, a.story_id, a.syndication_id, a.source, a.title, a.url,
               a.published_at, a.first_seen_at
        FROM articles a
        -- the watch's articles are those its query matched (watch_articles), whichever watch stored them
        JOIN core.watch_articles wa ON wa.article_id = a.article_id AND wa.watch = ?
        WHERE true
          -- a page the fetch guard refused (SSRF, robots.txt, scheme/port) is not news: it stays in
          -- `articles` (queryable, fetch_status 'blocked') but never becomes a digest item
          AND a.fetch_status IS DISTINCT FROM 'blocked'
          AND a.article_id NOT IN (SELECT article_id FROM told)
          AND a.syndication_id NOT IN (SELECT syndication_id FROM told_texts)
    """
    cur = con.execute(sql, [watch, watch])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["published_at"] = _utc(r["published_at"])
        r["first_seen_at"] = _utc(r["first_seen_at"])
        r["when"] = r["published_at"] or r["first_seen_at"]
    return rows


def _told_story_titles(con: duckdb.DuckDBPyConnection, watch: str, story_ids: list[str]) -> dict[str, str]:
    """For stories that already went out: the title of their first delivered item."""
    if not story_ids:
        return {}
    told = ", ".join(f"'{s}'" for s in TOLD_STATUSES)
    rows = con.execute(
        f"""
        SELECT a.story_id, i.title, d.created_at, i.position
        FROM core.digest_articles da
        JOIN core.digests d USING (digest_id)
        JOIN articles a ON a.article_id = da.article_id
        JOIN core.digest_items i ON i.digest_id = da.digest_id AND i.lead_article_id = da.article_id
        WHERE d.watch = ? AND d.status IN ({told}) AND da.role = 'lead'
          AND a.story_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY d.created_at, i.position
        """,
        [watch, story_ids],
    ).fetchall()
    titles: dict[str, str] = {}
    for story_id, title, _created, _pos in rows:
        titles.setdefault(story_id, title)
    # A story can also be known through an article that was carried as coverage or copy only.
    rows = con.execute(
        f"""
        SELECT DISTINCT a.story_id
        FROM core.digest_articles da JOIN core.digests d USING (digest_id)
        JOIN articles a ON a.article_id = da.article_id
        WHERE d.watch = ? AND d.status IN ({told}) AND a.story_id IN (SELECT unnest(?::VARCHAR[]))
        """,
        [watch, story_ids],
    ).fetchall()
    for (story_id,) in rows:
        titles.setdefault(story_id, "")
    return titles


def _view_columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    """The column names of a public view/table, or an empty set when it does not exist (yet)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
        [name],
    ).fetchall()
    return {r[0] for r in rows}


def _fact_lines(
    con: duckdb.DuckDBPyConnection, watch: str, article_ids: list[str], people: tuple[str, ...] = ()
) -> dict[str, list[tuple[str, str]]]:
    """Optional "what is new" fact lines per article, from the facts stage's views when they exist.

    - figure_history: a value first reported by one of these articles that differs from the value of the
      same counted noun reported just before it by an article already told in a digest ("figure changed:
      children 1,400 -> 1,510"). Comparing with untold articles would flag unrelated numbers.
    - conflicts: a disagreement one of these articles takes part in, every side listed once
      ("reports differ (period): 1999-2011 (Sky News, The Star) vs 1997-2013 (Rotherham Advertiser)").
    - quotes: with watched `people`, a quote by one of them in one of these articles that no told article
      carried ('quote: Sarah Champion: "..."').
    Lines come as (kind, line), kind = figure_changes | conflicts | quotes (the DigestRules item kinds).
    The facts views belong to another stage and may be absent or shaped differently; any mismatch means
    no fact lines, never a failed digest.
    """
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if not article_ids:
        return out
    told = ", ".join(f"'{s}'" for s in TOLD_STATUSES)
    cols = _view_columns(con, "figure_history")
    if {"watch", "first_article_id", "first_reported_at", "noun", "value", "unit", "currency"} <= cols:
        try:
            rows = con.execute(
                f"""
                WITH h AS (
                    SELECT first_article_id, noun, value, unit, currency,
                           lag(value) OVER w AS prev_value, lag(first_article_id) OVER w AS prev_article
                    FROM figure_history
                    WHERE watch = ?
                    WINDOW w AS (PARTITION BY noun, currency, unit ORDER BY first_reported_at, value)
                )
                SELECT first_article_id, noun, value, prev_value, unit, currency
                FROM h
                WHERE first_article_id IN (SELECT unnest(?::VARCHAR[]))
                  AND prev_value IS NOT NULL AND prev_value <> value
                  AND prev_article IN (
                      SELECT da.article_id FROM core.digest_articles da JOIN core.digests d USING (digest_id)
                      WHERE d.watch = ? AND d.status IN ({told}))
                ORDER BY first_article_id, noun, value
                """,
                [watch, article_ids, watch],
            ).fetchall()
        except duckdb.Error:
            rows = []
        for aid, noun, value, prev, unit, currency in rows:
            unit_s = f" {unit}" if unit and unit != noun else ""
            cur = f"{currency} " if currency else ""
            out[aid].append(
                ("figure_changes", f"figure changed: {noun} {cur}{_num(prev)}{unit_s} -> {cur}{_num(value)}{unit_s}")
            )
    cols = _view_columns(con, "conflicts")
    if {"conflict_id", "kind", "value", "article_id", "source"} <= cols:
        try:
            rows = con.execute(
                """
                WITH mine AS (
                    SELECT DISTINCT conflict_id, article_id FROM conflicts
                    WHERE article_id IN (SELECT unnest(?::VARCHAR[]))
                ),
                sides AS (
                    SELECT c.conflict_id, any_value(c.kind) AS kind, c.value,
                           string_agg(DISTINCT c.source, ', ' ORDER BY c.source) AS sources,
                           min(coalesce(c.reported_at, TIMESTAMPTZ '1970-01-01 00:00:00+00')) AS first_at
                    FROM conflicts c WHERE c.conflict_id IN (SELECT conflict_id FROM mine)
                    GROUP BY c.conflict_id, c.value
                ),
                lines AS (
                    SELECT conflict_id, any_value(kind) AS kind,
                           string_agg(value || ' (' || sources || ')', ' vs ' ORDER BY first_at, value) AS said,
                           count(*) AS n
                    FROM sides GROUP BY conflict_id
                )
                SELECT mine.article_id, lines.kind, lines.said
                FROM mine JOIN lines USING (conflict_id)
                WHERE lines.n > 1
                ORDER BY mine.article_id, lines.conflict_id
                """,
                [article_ids],
            ).fetchall()
        except duckdb.Error:
            rows = []
        for aid, kind, said in rows:
            if kind == "figure":  # '1400 children' -> '1,400 children'; years and periods stay as written
                said = re.sub(r"(?<![\d.,])\d{4,}(?![\d,])", lambda m: f"{int(m.group()):,}", said)
            out[aid].append(("conflicts", f"reports differ ({kind}): {said}"))
    cols = _view_columns(con, "quotes")
    if people and {"article_id", "speaker", "quote", "quote_key"} <= cols:
        try:
            rows = con.execute(
                f"""
                SELECT q.article_id, q.speaker, q.quote FROM quotes q
                WHERE q.article_id IN (SELECT unnest(?::VARCHAR[]))
                  AND lower(q.speaker) IN (SELECT lower(unnest(?::VARCHAR[])))
                  AND q.quote_key NOT IN (
                      SELECT t.quote_key FROM quotes t
                      JOIN core.digest_articles da ON da.article_id = t.article_id
                      JOIN core.digests d USING (digest_id)
                      WHERE d.watch = ? AND d.status IN ({told}))
                ORDER BY q.article_id, q.quote_id
                """,
                [article_ids, list(people), watch],
            ).fetchall()
        except duckdb.Error:
            rows = []
        seen: set[tuple[str, str]] = set()
        for aid, speaker, quote in rows:
            words = " ".join(str(quote).split())
            if (speaker, words) in seen:
                continue
            seen.add((speaker, words))
            shown = words if len(words) <= 200 else words[:199].rsplit(" ", 1)[0] + " …"
            out[aid].append(("quotes", f"quote: {speaker}: \u201c{shown}\u201d"))
    return out


SPIKE_DAYS = 7  # a first digest shows the spikes of the last week, not the watch's whole history


def _spike_lines(con: duckdb.DuckDBPyConnection, watch: str, now: datetime) -> list[SpikeLine]:
    """Spikes not yet reported by a told digest, from the last SPIKE_DAYS days or from the day of the last told
    digest when that is earlier (a weekly digest delayed past a week would lose spikes otherwise; core.digest_spikes
    keeps them from being told twice); none when the view is absent."""
    if not {"watch", "entity", "day", "stories", "baseline"} <= _view_columns(con, "spikes"):
        return []
    told = ", ".join(f"'{s}'" for s in TOLD_STATUSES)
    try:
        rows = con.execute(
            f"""
            SELECT coalesce(s.entity, '') AS entity, s.day, s.stories, s.baseline FROM spikes s
            WHERE s.watch = ? AND s.day <= ?::DATE
              AND s.day >= least((?::DATE - INTERVAL {SPIKE_DAYS} DAY)::DATE, coalesce(
                  (SELECT max(d.created_at)::DATE FROM core.digests d WHERE d.watch = s.watch AND d.status IN ({told})),
                  (?::DATE - INTERVAL {SPIKE_DAYS} DAY)::DATE))
              AND NOT EXISTS (
                  SELECT 1 FROM core.digest_spikes ds JOIN core.digests d USING (digest_id)
                  WHERE d.watch = s.watch AND d.status IN ({told})
                    AND ds.entity = coalesce(s.entity, '') AND ds.day = s.day)
            ORDER BY s.day DESC, s.stories DESC, entity
            """,
            [watch, now.date(), now.date(), now.date()],
        ).fetchall()
    except duckdb.Error:
        return []
    out = []
    for entity, day, stories, baseline in rows:
        who = entity or f"the watch {watch}"
        out.append(SpikeLine(entity, day, f"attention spike: {who}, {_num(stories)} stories on {day:%Y-%m-%d} "
                                          f"(usually {_num(round(baseline))} a day)"))
    return out


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.2f}"


def _digest_article(r: dict[str, Any]) -> DigestArticle:
    return DigestArticle(
        article_id=r["article_id"],
        source=r["source"] or "",
        title=r["title"] or "",
        url=r["url"] or "",
        published_at=r["published_at"],
    )


def _order_key(r: dict[str, Any]) -> tuple[datetime, str]:
    return (r["when"] or datetime.min.replace(tzinfo=UTC), r["article_id"])


def _first_reports(con: duckdb.DuckDBPyConnection, watch: str, story_ids: list[str]) -> dict[str, datetime]:
    """When each story was first reported: its earliest article of the watch, told or not."""
    rows = con.execute(
        """
        SELECT a.story_id, min(coalesce(a.published_at, a.first_seen_at)) FROM articles a
        JOIN core.watch_articles wa ON wa.article_id = a.article_id AND wa.watch = ?
        WHERE a.story_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY a.story_id
        """,
        [watch, story_ids],
    ).fetchall()
    return {sid: _utc(at) for sid, at in rows if at is not None}


def select_new(
    con: duckdb.DuckDBPyConnection,
    watch: str,
    *,
    now: datetime,
    max_items: int = 20,
    include: tuple[str, ...] | list[str] = ITEM_KINDS,
    people: tuple[str, ...] | list[str] = (),
) -> DigestPlan | None:
    """Plan the next digest of a watch: what is new since the last one, one item per story.

    include: the item kinds (newswatch.config.ITEM_KINDS) of the watch's digest rules. A story whose own
    kind (new_stories / updates) is left out is still carried when it has a fact line of an included kind;
    otherwise it is not carried and stays untold. Returns None when nothing is new. Reads only;
    record_digest() stores the plan.
    """
    include = tuple(include)
    people = tuple(people)
    rows = _new_articles(con, watch)
    spikes = _spike_lines(con, watch, _utc(now) or now) if "spikes" in include else []
    if not rows and not spikes:
        return None
    by_story: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_story[r["story_id"]].append(r)
    # Ordered by the story's first report, most recent first: a late copy of a 2018 story does not put it
    # at the top (it used to be ordered by its newest article). story_id breaks ties (deterministic order).
    first = _first_reports(con, watch, list(by_story))
    floor = datetime.min.replace(tzinfo=UTC)

    def first_report(s: str) -> datetime:
        return first.get(s) or min(_order_key(r) for r in by_story[s])[0] or floor

    ordered = sorted(by_story, key=lambda s: (first_report(s), s), reverse=True)
    fact_kinds = {"figure_changes", "conflicts", "quotes"} & set(include)
    by_kind = not {"new_stories", "updates"} <= set(include)
    if by_kind:
        # some stories are left out by kind: look at every candidate's facts before taking max_items
        known_all = _told_story_titles(con, watch, ordered)
        facts = _fact_lines(con, watch, [r["article_id"] for r in rows], people)

        def wanted(s: str) -> bool:
            kind = "updates" if s in known_all else "new_stories"
            return kind in include or any(
                k in fact_kinds for r in by_story[s] for k, _ in facts.get(r["article_id"], [])
            )

        ordered = [s for s in ordered if wanted(s)]
    chosen = ordered[:max_items]
    held_back = len(ordered) - len(chosen)
    if not chosen and not spikes:
        return None
    # by kind, the told titles of every candidate were read above: the chosen ones are among them
    known = {s: known_all[s] for s in chosen if s in known_all} if by_kind else _told_story_titles(con, watch, chosen)
    # texts only for the chosen stories (a backlog can hold many thousands of untold articles)
    texts_by_id = dict(
        con.execute(
            "SELECT article_id, left(text, 2000) FROM core.articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))",
            [[r["article_id"] for s in chosen for r in by_story[s]]],
        ).fetchall()
    )
    if not by_kind:
        facts = _fact_lines(con, watch, [r["article_id"] for s in chosen for r in by_story[s]], people)

    items: list[DigestItem] = []
    carried: list[CarriedArticle] = []
    for story_id in chosen:
        members = by_story[story_id]
        texts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in members:
            texts[r["syndication_id"]].append(r)
        reps: list[dict[str, Any]] = []
        copies: list[dict[str, Any]] = []
        rep_of: dict[str, str] = {}
        for synd_id, group in texts.items():
            group.sort(key=_order_key)
            # the original (whose id names the group) represents the text when it is among the new ones
            rep = next((g for g in group if g["article_id"] == synd_id), group[0])
            reps.append(rep)
            for g in group:
                if g is not rep:
                    copies.append(g)
                    rep_of[g["article_id"]] = rep["article_id"]
        reps.sort(key=_order_key)
        copies.sort(key=_order_key)
        lead = reps[0]
        is_update = story_id in known
        title = (known.get(story_id) or "") if is_update else ""
        title = title or lead["title"] or ""
        lines: list[str] = []
        for r in sorted(members, key=_order_key):
            for kind, line in facts.get(r["article_id"], []):
                if kind in fact_kinds and line not in lines:
                    lines.append(line)
        items.append(
            DigestItem(
                story_id=story_id,
                title=title,
                lead=_digest_article(lead),
                # convention: syndicated copies first (`copies` of them), then other coverage
                others=tuple(_digest_article(r) for r in copies + reps[1:]),
                copies=len(copies),
                outlets=len({(r["source"] or "").casefold() for r in members}),
                summary=_summary(texts_by_id.get(lead["article_id"], ""), title=lead["title"] or ""),
                new_facts=tuple(lines[:MAX_FACT_LINES]),
                is_update=is_update,
            )
        )
        carried.append(CarriedArticle(lead["article_id"], story_id, "lead"))
        carried.extend(
            CarriedArticle(r["article_id"], story_id, "copy", rep_of[r["article_id"]]) for r in copies
        )
        carried.extend(CarriedArticle(r["article_id"], story_id, "coverage") for r in reps[1:])

    digest_id = stable_id(
        watch, *sorted(c.article_id for c in carried), *sorted(f"spike:{s.entity}:{s.day}" for s in spikes)
    )
    prev = con.execute("SELECT status FROM core.digests WHERE digest_id = ?", [digest_id]).fetchone()
    digest = Digest(
        digest_id=digest_id,
        watch=watch,
        created_at=_utc(now) or now,
        items=tuple(items),
        since=last_told_at(con, watch),
    )
    return DigestPlan(
        digest=digest,
        carried=tuple(carried),
        held_back=held_back,
        previous_status=prev[0] if prev else None,
        spikes=tuple(spikes),
    )


def record_digest(
    con: duckdb.DuckDBPyConnection,
    plan: DigestPlan,
    *,
    status: str,
    subject: str,
    message_id: str,
    recipients: tuple[str, ...] | list[str],
    eml_path: str | None,
    html_path: str | None,
    message: bytes | None = None,
    channels: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    chat: tuple[str, str] = ("", ""),
) -> None:
    """Store a digest, its items and the articles it carries in one transaction.

    channels: (channel_key, masked label) of the watch's webhook/chat channels; each gets a pending
    core.channel_outbox row holding chat = (title, body), in the same transaction (never lost, never twice).

    status 'written' (files only) or 'pending' (an outbox row is created with the message bytes).
    A failed digest with the same id is reused (its attempts are kept); failed digests whose articles
    this one carries become 'superseded'.
    """
    d = plan.digest
    now = d.created_at
    rcpt = ", ".join(recipients)
    with transaction(con):
        if plan.previous_status is not None:
            if plan.previous_status not in ("failed", "superseded"):
                raise ValueError(f"digest {d.digest_id} already exists with status {plan.previous_status}")
            for table in ("core.digest_items", "core.digest_articles", "core.digest_spikes", "core.channel_outbox",
                          "core.digests"):
                con.execute(f"DELETE FROM {table} WHERE digest_id = ?", [d.digest_id])
        ids = [c.article_id for c in plan.carried]
        con.execute(
            """
            UPDATE core.digests SET status = 'superseded'
            WHERE watch = ? AND status = 'failed' AND digest_id <> ? AND digest_id IN (
                SELECT digest_id FROM core.digest_articles WHERE article_id IN (SELECT unnest(?::VARCHAR[])))
            """,
            [d.watch, d.digest_id, ids],
        )
        con.execute(
            "INSERT INTO core.digests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                d.digest_id,
                d.watch,
                d.created_at,
                d.since,
                status,
                len(d.items),
                sum(1 for i in d.items if i.is_update),
                len(plan.carried),
                subject,
                message_id,
                rcpt,
                eml_path,
                html_path,
                now if status == "written" else None,
            ],
        )
        if d.items:
            con.executemany(
                "INSERT INTO core.digest_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        d.digest_id,
                        pos,
                        it.story_id,
                        it.is_update,
                        it.title,
                        it.lead.article_id,
                        1 + len(it.others),
                        it.copies,
                        it.outlets,
                        list(it.new_facts),
                    ]
                    for pos, it in enumerate(d.items, start=1)
                ],
            )
        if plan.carried:
            con.executemany(
                "INSERT INTO core.digest_articles VALUES (?, ?, ?, ?, ?)",
                [[d.digest_id, c.article_id, c.story_id, c.role, c.copy_of] for c in plan.carried],
            )
        con.execute("DELETE FROM core.digest_spikes WHERE digest_id = ?", [d.digest_id])
        if plan.spikes:
            con.executemany(
                "INSERT INTO core.digest_spikes VALUES (?, ?, ?, ?)",
                [[d.digest_id, s.entity, s.day, s.line] for s in plan.spikes],
            )
        if channels:
            con.executemany(
                "INSERT INTO core.channel_outbox VALUES (?, ?, ?, 'pending', 0, NULL, ?, ?, NULL, ?, ?)",
                [[d.digest_id, key, label, now, now, chat[0], chat[1]] for key, label in channels],
            )
        if status == "pending":
            if message is None:
                raise ValueError("a pending digest needs the message bytes for the outbox")
            upsert(
                con,
                "core.outbox",
                [(d.digest_id, message_id, rcpt, "pending", 0, None, now, now, None, message)],
                columns=("digest_id", "message_id", "recipients", "state", "attempts", "last_error",
                         "created_at", "updated_at", "sent_at", "message"),
                update={c: f"s.{c}" for c in ("message_id", "recipients", "state", "updated_at", "message")},
            )


def unfinished_deliveries(con: duckdb.DuckDBPyConnection, watch: str) -> list[OutboxEntry]:
    """Outbox entries of the watch left pending or sending by an earlier run (a crash or a kill)."""
    rows = con.execute(
        """
        SELECT o.digest_id, d.watch, o.message_id, o.recipients, o.state, o.attempts, o.message,
               d.eml_path, d.html_path, d.items
        FROM core.outbox o JOIN core.digests d USING (digest_id)
        WHERE d.watch = ? AND o.state IN ('pending', 'sending')
        ORDER BY d.created_at, o.digest_id
        """,
        [watch],
    ).fetchall()
    return [
        OutboxEntry(
            digest_id=r[0],
            watch=r[1],
            message_id=r[2],
            recipients=tuple(x.strip() for x in r[3].split(",") if x.strip()),
            state=r[4],
            attempts=r[5],
            message=bytes(r[6]),
            eml_path=r[7],
            html_path=r[8],
            items=r[9],
        )
        for r in rows
    ]


def mark_sending(con: duckdb.DuckDBPyConnection, digest_id: str, now: datetime) -> int:
    """Record that an SMTP attempt starts (state 'sending', attempts + 1). Returns the attempt count.

    Recorded before talking to the server, so a crash during the attempt leaves 'sending' behind and
    the next run knows the message may have gone out (the documented crash window).
    """
    with transaction(con):
        con.execute(
            "UPDATE core.outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE digest_id = ?",
            [now, digest_id],
        )
        con.execute("UPDATE core.digests SET status = 'sending' WHERE digest_id = ?", [digest_id])
        row = con.execute("SELECT attempts FROM core.outbox WHERE digest_id = ?", [digest_id]).fetchone()
    if row is None:
        raise ValueError(f"digest {digest_id} has no outbox entry")
    return int(row[0])


def mark_sent(con: duckdb.DuckDBPyConnection, digest_id: str, now: datetime, note: str | None = None) -> None:
    """Record that the mail server accepted the digest."""
    with transaction(con):
        con.execute(
            # last_error keeps the error of an earlier failed attempt (history) unless the send itself has a note
            "UPDATE core.outbox SET state = 'sent', sent_at = ?, updated_at = ?, last_error = coalesce(?, last_error) "
            "WHERE digest_id = ?",
            [now, now, note, digest_id],
        )
        con.execute(
            "UPDATE core.digests SET status = 'sent', finished_at = ? WHERE digest_id = ?", [now, digest_id]
        )


def mark_attempt_failed(
    con: duckdb.DuckDBPyConnection, digest_id: str, now: datetime, error: str, *, final: bool
) -> None:
    """Record a failed SMTP attempt: back to 'pending' when another try follows, else 'failed'."""
    state = "failed" if final else "pending"
    with transaction(con):
        con.execute(
            "UPDATE core.outbox SET state = ?, last_error = ?, updated_at = ? WHERE digest_id = ?",
            [state, _one_line(error), now, digest_id],
        )
        con.execute(
            "UPDATE core.digests SET status = ?, finished_at = ? WHERE digest_id = ?",
            [state, now if final else None, digest_id],
        )


def mark_written(con: duckdb.DuckDBPyConnection, digest_id: str, now: datetime, reason: str) -> None:
    """Close an unfinished outbox entry whose digest now counts as written to files (no mail server)."""
    with transaction(con):
        con.execute(
            "UPDATE core.outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE digest_id = ?",
            [_one_line(f"{reason}; kept as files"), now, digest_id],
        )
        con.execute(
            "UPDATE core.digests SET status = 'written', finished_at = ? WHERE digest_id = ?",
            [now, digest_id],
        )


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    """One digest waiting in the webhook/chat outbox for one channel."""

    digest_id: str
    watch: str
    channel_key: str
    channel: str
    state: str
    attempts: int
    title: str
    body: str


def unfinished_channel_deliveries(con: duckdb.DuckDBPyConnection, watch: str) -> list[ChannelEntry]:
    """Channel outbox rows of the watch still pending or sending (new, transient failures, interrupted).

    A warehouse made before channels existed has no core.channel_outbox yet: nothing is waiting there.
    """
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'core' AND table_name = 'channel_outbox'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        """
        SELECT c.digest_id, d.watch, c.channel_key, c.channel, c.state, c.attempts, c.title, c.body
        FROM core.channel_outbox c JOIN core.digests d USING (digest_id)
        WHERE d.watch = ? AND c.state IN ('pending', 'sending')
        ORDER BY c.created_at, c.digest_id, c.channel_key
        """,
        [watch],
    ).fetchall()
    return [ChannelEntry(*r) for r in rows]


def mark_channel_sending(con: duckdb.DuckDBPyConnection, digest_id: str, key: str, now: datetime) -> None:
    """Record that a notification attempt starts (before talking to the receiver: a crash leaves 'sending')."""
    with transaction(con):
        con.execute(
            "UPDATE core.channel_outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? "
            "WHERE digest_id = ? AND channel_key = ?",
            [now, digest_id, key],
        )


def mark_channel_done(
    con: duckdb.DuckDBPyConnection, digest_id: str, key: str, now: datetime, *, state: str, error: str | None = None
) -> None:
    """Record how an attempt ended: 'sent', 'pending' (transient: tried again, this run or the next) or 'failed'."""
    with transaction(con):
        con.execute(
            "UPDATE core.channel_outbox SET state = ?, updated_at = ?, last_error = coalesce(?, last_error), "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE digest_id = ? AND channel_key = ?",
            [state, now, _one_line(error) if error else None, state, now, digest_id, key],
        )


def _one_line(text: str, limit: int = 500) -> str:
    return re.sub(r"\s+", " ", text).strip()[:limit]
