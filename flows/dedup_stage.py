"""The dedup stage: fingerprint new articles, find and verify syndicated copies, assign syndication and story ids.

A thin shell over extractors/fingerprint.py + extractors/dedup.py (pure decisions) and warehouse/dedup.py
(storage and lookup). `group_articles` is what the pipeline calls after articles (and facts) are loaded;
`run_dedup` is the same with a database path, for a Prefect task (tasks take paths, not connections).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb

from extractors.dedup import (
    STORY_MAX_LOOKBACK_DAYS,
    STORY_MIN_SIMILARITY,
    STORY_STRONG_SIMILARITY,
    align,
    boilerplate_units,
    changes,
    earlier,
    is_copy,
    merge_profiles,
    story_profile,
    story_score,
    strip_shared_edges,
    unit_profile,
)
from extractors.fingerprint import FINGERPRINT_VERSION, Fingerprint, fingerprint, hamming, segment
from newswatch.config import DedupSettings
from newswatch.models import utcnow
from warehouse import dedup as wd

# Verify at most this many candidates per article (most band hits first); a copy shares many bands.
MAX_CANDIDATES = 50
# Document simhashes this close are a candidate even without any unit within paragraph_distance
# (the textbook near-duplicate threshold: 3 of 64 bits).
DOC_DISTANCE = 3
# A story profile keeps its heaviest terms only, so stored profiles stay small.
PROFILE_TERMS = 300


def _when(a: wd.StoredArticle) -> datetime:
    return a.published_at or a.first_seen_at


def _key(a: wd.StoredArticle) -> tuple[datetime | None, datetime, str]:
    return (a.published_at, a.first_seen_at, a.article_id)


def _trim(profile: dict[str, float]) -> dict[str, float]:
    top = sorted(profile.items(), key=lambda kv: (-kv[1], kv[0]))[:PROFILE_TERMS]
    return {t: round(w, 5) for t, w in sorted(top)}


def _prefilter(fp: Fingerprint, doc: int, units: Sequence[int], max_distance: int) -> bool:
    """Cheap simhash check before the text alignment: one close unit, or close whole documents."""
    if hamming(fp.doc_simhash, doc) <= DOC_DISTANCE:
        return True
    return any(hamming(x, y) <= max_distance for x in fp.unit_simhashes for y in units)


def _syndicate(
    con: duckdb.DuckDBPyConnection,
    art: wd.StoredArticle,
    fp: Fingerprint,
    seen: wd.UnitWitnesses,
    cands: list[tuple[str, int]],
    settings: DedupSettings,
    now: datetime,
) -> list[str]:
    """Verify the lookup candidates and write an edge for each copy. Returns the candidates looked at.

    Boilerplate is decided per pair: a sentence of ours is left out when at least BOILERPLATE_MIN_TEXTS texts
    *other than the candidate's* contain it (so a text's own copies never turn it into boilerplate), plus the
    candidate's units that were boilerplate when it was stored. No query per candidate.
    """
    if not cands:
        return []
    ids = [c for c, _ in cands]
    units = wd.load_units(con, ids)
    docs = wd.doc_simhashes(con, ids)
    keep = [
        c
        for c in ids
        if c in docs and _prefilter(fp, docs[c], units.get(c, ([], frozenset()))[0], settings.paragraph_distance)
    ]
    for other in wd.load_articles(con, keep):
        other_all = segment(other.text)
        other_hashes, other_bp = units.get(other.article_id, ([], frozenset()))
        if len(other_hashes) != len(other_all):  # stored by another version: recompute
            other_hashes, other_bp = list(fingerprint(other.article_id, other.text).unit_simhashes), frozenset()
        group = seen.group_of.get(other.article_id, other.article_id)
        drop = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude={group, other.article_id})
        ours = [u for u, h in zip(fp.units, fp.unit_simhashes, strict=True) if h not in drop]
        other_units = [u for u, h in zip(other_all, other_hashes, strict=True) if h not in drop and h not in other_bp]
        if other.source == art.source:
            ours, other_units = strip_shared_edges(ours, other_units)
        if earlier(_key(other), _key(art)):
            orig, orig_units, copy, copy_units = other, other_units, art, ours
        else:
            orig, orig_units, copy, copy_units = art, ours, other, other_units
        al = align(orig_units, copy_units)
        gap_days = (_when(copy) - _when(orig)).total_seconds() / 86400
        full = min(len(fp.units), len(other_all))
        if not is_copy(al, settings.min_shared_ratio, gap_days, full):
            continue
        wd.store_edge(
            con,
            article_id=copy.article_id,
            copy_of=orig.article_id,
            shared_units=al.shared,
            narrative_units=al.narrative,
            units_copy=len(copy_units),
            units_original=len(orig_units),
            shared_ratio=round(al.shared_ratio, 4),
            distance=hamming(fp.doc_simhash, docs[other.article_id]),
            changes=changes(orig.title, orig_units, copy.title, copy_units, al),
            version=FINGERPRINT_VERSION,
            detected_at=now,
        )
    return ids


def _story_for(
    con: duckdb.DuckDBPyConnection,
    art: wd.StoredArticle,
    profile: dict[str, float],
    copy_stories: Sequence[str],
    text_candidates: Sequence[str],
    settings: DedupSettings,
) -> tuple[str | None, str, float | None, dict[str, float]]:
    """(story_id or None for a new story, reason, similarity, the article's unit_profile) for an article
    without a story.

    Stories active within story_window_days of the article are compared with STORY_MIN_SIMILARITY. Older
    or later stories are considered only when one of their articles shares text with this one (a lookup
    candidate), and then need STORY_STRONG_SIMILARITY.
    """
    # idf of the article's own terms only: story centroids are stored already weighted (means of unit
    # profiles), so the stories' terms need none; computed once, not once per candidate story
    unit = unit_profile(profile, wd.term_idf(con, profile))
    if copy_stories:
        # A syndicated copy is the strongest evidence there is: it joins its original's story at any distance.
        return copy_stories[0], "syndicated", None, unit
    t = _when(art)
    window = timedelta(days=settings.story_window_days)
    stories = {s.story_id: s for s in wd.candidate_stories(con, t - window, t + window)}
    for _, (_, story_id) in wd.groups_of(con, text_candidates).items():
        if story_id not in stories:
            old = wd.get_story(con, story_id)
            if old is not None and old.last_at >= t - timedelta(days=STORY_MAX_LOOKBACK_DAYS):
                stories[story_id] = old
    if not stories:
        return None, "new", None, unit
    best: tuple[float, str] | None = None
    for story in sorted(stories.values(), key=lambda s: s.story_id):
        sim = story_score(unit, story.profile)
        in_window = story.first_at - window <= t <= story.last_at + window
        threshold = STORY_MIN_SIMILARITY if in_window else STORY_STRONG_SIMILARITY
        if sim >= threshold and (best is None or sim > best[0]):
            best = (sim, story.story_id)
    if best is None:
        return None, "new", None, unit
    return best[1], "similar", round(best[0], 4), unit


class _Batch:
    """What the articles of this call already processed would add to the index lookups.

    The stored-side lookups run before this call writes to the index tables: inside a transaction that has
    appended to an indexed table, DuckDB falls back from index scans to full scans (measured at 1M stored
    articles: 2 ms -> 50-70 ms per lookup). Matches among the batch's own articles are found here instead.
    """

    def __init__(self) -> None:
        self.keys: dict[int, set[str]] = {}
        self.bands: dict[int, set[str]] = {}
        self.units: dict[str, set[int]] = {}  # article_id -> unit simhashes
        self.group: dict[str, str] = {}  # article_id -> copy group (syndication id), as assigned in this call

    def add(self, art: wd.StoredArticle, fp: Fingerprint, members: Sequence[str], original: str) -> None:
        for h in set(fp.unit_simhashes):
            self.keys.setdefault(wd.key32(h), set()).add(art.article_id)
        for b in wd.band_keys(fp.doc_simhash):
            self.bands.setdefault(b, set()).add(art.article_id)
        self.units[art.article_id] = set(fp.unit_simhashes)
        for m in members:
            self.group[m] = original
        self.group[art.article_id] = original

    def candidates(self, fp: Fingerprint, stored: list[tuple[str, int]], me: str) -> list[tuple[str, int]]:
        hits: dict[str, int] = dict(stored)
        for k in {wd.key32(h) for h in fp.unit_simhashes}:
            for a in self.keys.get(k, ()):
                hits[a] = hits.get(a, 0) + 1
        for b in wd.band_keys(fp.doc_simhash):
            for a in self.bands.get(b, ()):
                hits[a] = hits.get(a, 0) + 1
        hits.pop(me, None)
        return sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CANDIDATES]

    def witnesses(self, fp: Fingerprint, stored: wd.UnitWitnesses, me: str) -> wd.UnitWitnesses:
        """The stored witnesses of our units plus this call's articles, each under its current copy group."""
        group_of = {a: self.group.get(a, g) for a, g in stored.group_of.items()}
        texts: dict[int, set[str]] = {}
        for h, gs in stored.texts.items():
            texts[h] = {self.group.get(g, g) for g in gs}
        mine = set(fp.unit_simhashes)
        for aid, hs in self.units.items():
            if aid == me:
                continue
            g = self.group.get(aid, aid)
            for h in hs & mine:
                if h not in stored.stock:
                    texts.setdefault(h, set()).add(g)
                    group_of[aid] = g
        return wd.UnitWitnesses({h: frozenset(t) for h, t in texts.items()}, stored.stock, group_of)


def _process(
    con: duckdb.DuckDBPyConnection,
    art: wd.StoredArticle,
    fp: Fingerprint,
    looked_up: tuple[list[tuple[str, int]], wd.UnitWitnesses],
    batch: _Batch,
    revised: bool,
    keep_story: bool,
    settings: DedupSettings,
    facts_tables: frozenset[str],
) -> None:
    now = utcnow()
    previous = wd.groups_of(con, [art.article_id]).get(art.article_id)
    if revised:
        wd.delete_article(con, art.article_id)
    # Other texts that contain our sentences verbatim, each copy group once (see boilerplate_units).
    seen = batch.witnesses(fp, looked_up[1], art.article_id)
    cands = batch.candidates(fp, looked_up[0], art.article_id)
    text_candidates = _syndicate(con, art, fp, seen, cands, settings, now)

    # Syndication: the original of the whole copy group is its earliest article.
    members = wd.component(con, art.article_id)
    original = min(members, key=lambda m: (m[1] or m[2], m[2], m[0]))[0] if members else art.article_id
    member_ids = [m[0] for m in members if m[0] != art.article_id]
    wd.set_syndication(con, member_ids, original, now)
    own_group = {art.article_id, original, *member_ids}
    boilerplate = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude=own_group)
    wd.store_fingerprint(
        con,
        article_id=art.article_id,
        version=fp.version,
        content_hash=art.content_hash,
        doc_simhash=fp.doc_simhash,
        unit_simhashes=fp.unit_simhashes,
        words=fp.word_count,
        computed_at=now,
        boilerplate=boilerplate,
    )
    batch.add(art, fp, member_ids, original)

    # Story: keep a revised article's story; copies follow their group; others by similarity.
    if previous is not None and keep_story:
        wd.assign(con, art.article_id, original, previous[1], now)
        return
    groups = wd.groups_of(con, member_ids)
    copy_stories = [groups[original][1]] if original in groups else sorted({g[1] for g in groups.values()})
    # only the entities: figures and years were measured to add noise to story similarity (docs/dedup.md)
    ents, _, _ = wd.facts_for(con, art.article_id, facts_tables & {"entity_mentions"})
    # What the article is about, without any sentence another text also ran (template, or recycled
    # background): those would make every article of an outlet look alike. Its own copies do not count.
    recycled = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude=own_group, min_texts=1)
    own = [u for u, h in zip(fp.units, fp.unit_simhashes, strict=True) if h not in recycled]
    profile = story_profile(art.title, own or list(fp.units), ents)
    # the story keeps the mean of its members' unit-length profiles (see story_score)
    story_id, reason, sim, unit = _story_for(con, art, profile, copy_stories, text_candidates, settings)
    t = _when(art)
    if story_id is None:
        story = wd.StoryRow(art.article_id, art.title, t, t, 1, _trim(unit))
        wd.save_story(con, story, now, now)
        story_id = art.article_id
    else:
        old = wd.get_story(con, story_id)
        if old is not None:
            # Running mean of member profiles: weight the old centroid by its member count.
            merged = merge_profiles([{k: v * old.members for k, v in old.profile.items()}, unit])
            merged = {k: v * 2 / (old.members + 1) for k, v in merged.items()}
            wd.save_story(
                con,
                wd.StoryRow(
                    old.story_id,
                    old.title,
                    min(old.first_at, t),
                    max(old.last_at, t),
                    old.members + 1,
                    _trim(merged),
                ),
                now,
                now,
            )
    wd.save_story_assignment(con, art.article_id, story_id, reason, sim, _trim(profile), now)
    wd.add_terms(con, profile)
    wd.assign(con, art.article_id, original, story_id, now)


def group_articles(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str], settings: DedupSettings
) -> dict[str, int]:
    """Fingerprint the given articles (already in core.articles), link copies, assign syndication and story ids.

    Does not begin or commit a transaction: call it inside the caller's transaction so that a batch is stored
    whole (flows/pipeline.py does; `run_dedup` opens one). Articles whose text and fingerprint version are
    unchanged since the last run are not touched, so a rerun changes nothing. Articles are processed in
    publication order so that the earliest copy becomes the original.
    Returns {"fingerprinted", "copies_grouped", "syndication_groups", "stories", "recomputed"} over these ids.
    """
    ids = list(dict.fromkeys(article_ids))
    arts = wd.load_articles(con, ids)
    state = wd.load_state(con, ids)
    todo = [a for a in arts if state.get(a.article_id) != (FINGERPRINT_VERSION, a.content_hash)]
    todo.sort(key=lambda a: (_when(a), a.first_seen_at, a.article_id))
    if todo:
        wd.reset_stories_if_version_changed(con, FINGERPRINT_VERSION)
    tables = wd.facts_tables(con) if todo else frozenset()
    fps = {a.article_id: fingerprint(a.article_id, a.text) for a in todo}
    # All lookups against stored articles first, before this call appends to the index tables (see _Batch).
    looked_up = {
        a.article_id: (
            wd.find_candidates(
                con,
                a.article_id,
                fps[a.article_id].doc_simhash,
                fps[a.article_id].unit_simhashes,
                limit=MAX_CANDIDATES,
            ),
            wd.unit_witnesses(con, a.article_id, fps[a.article_id].unit_simhashes),
        )
        for a in todo
    }
    revised = {a.article_id for a in todo if a.article_id in state or _has_rows(con, a.article_id)}
    batch = _Batch()
    for art in todo:
        fp = fps[art.article_id]
        # a revised text keeps its story; an article recomputed by a new version gets one anew
        keep_story = state.get(art.article_id, ("", ""))[0] == FINGERPRINT_VERSION
        _process(
            con, art, fp, looked_up[art.article_id], batch, art.article_id in revised, keep_story, settings, tables
        )
    groups = wd.groups_of(con, [a.article_id for a in arts])
    synd_ids = {g[0] for g in groups.values()}
    sizes = _group_sizes(con, synd_ids)
    return {
        "fingerprinted": len(arts),
        "copies_grouped": sum(1 for aid, g in groups.items() if g[0] != aid),
        "syndication_groups": sum(1 for s in synd_ids if sizes.get(s, 0) > 1),
        "stories": len({g[1] for g in groups.values()}),
        "recomputed": len(todo),
    }


def _has_rows(con: duckdb.DuckDBPyConnection, article_id: str) -> bool:
    # Derived rows from an older fingerprint version (or a half-forgotten article) must be cleared first.
    return bool(
        con.execute("SELECT count(*) FROM core.dedup_state WHERE article_id = ?", [article_id]).fetchone()[0]
        or con.execute(
            "SELECT count(*) FROM core.fingerprints WHERE article_id = ?", [article_id]
        ).fetchone()[0]
    )


def _group_sizes(con: duckdb.DuckDBPyConnection, synd_ids: set[str]) -> dict[str, int]:
    if not synd_ids:
        return {}
    return {
        r[0]: int(r[1])
        for r in con.execute(
            "SELECT syndication_id, count(*) FROM core.article_groups "
            "WHERE list_contains(?, syndication_id) GROUP BY syndication_id",
            [sorted(synd_ids)],
        ).fetchall()
    }
