"""The dedup stage: fingerprint new articles, find and verify syndicated copies, assign syndication and story ids.

Wiring only: the decisions are pure functions in extractors/fingerprint.py and extractors/dedup.py (copy
verification, boilerplate, which story an article joins), storage and lookups are warehouse/dedup.py.
`group_articles` is what the pipeline calls after articles (and facts) are loaded, inside its transaction.

Cost per article does not grow with a copy group or with the warehouse (issue 9 §3, docs/dedup.md): every
read for a batch is a handful of batched queries made before the batch writes anything, a new article is
verified against at most GROUP_SAMPLE members of each copy group it matches (the group's original first),
and every write is one bulk insert per table at the end.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import numpy as np

from extractors.dedup import (
    StoryIndex,
    add_member,
    align,
    boilerplate_units,
    changes,
    choose_story,
    earlier,
    is_copy,
    link_teasers,
    profile_terms,
    profile_tokens,
    stories_to_compare,
    story_profile,
    strip_shared_edges,
    trim_profile,
    unit_profile,
)
from extractors.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    fingerprint,
    hamming,
    headline_simhashes,
    segment,
)
from newswatch.config import DedupSettings
from newswatch.models import utcnow
from warehouse import dedup as wd

log = logging.getLogger(__name__)

# Verify at most this many candidates per article (most key and band hits first); a copy shares many.
MAX_CANDIDATES = 50
# Document simhashes this close are a candidate even without any unit within paragraph_distance
# (the textbook near-duplicate threshold: 3 of 64 bits).
DOC_DISTANCE = 3
# A new article is verified against at most this many members of each copy group among its candidates: the
# group's original first, then the members sharing most keys; the first verified member links it to the
# group, so the cost of a copy does not grow with its group (1,000 copies of one wire story: docs/dedup.md).
GROUP_SAMPLE = 3
# A sentence in more than this many other *texts* (copy groups) is a stock phrase, boilerplate for everyone.
# Counted in texts, not articles: 1,000 copies of one wire story are one text, and their sentences are its own.
MAX_UNIT_TEXTS = 1000
# The units (segment(text)) of the texts this process fingerprinted or was given the fingerprints of, by (article
# id, content hash): a stored candidate of a later batch is verified without segmenting its text again (the
# pool workers fingerprint, so the main process's segmentation caches are cold). Bounded: cleared when full.
_SEGMENTED: dict[tuple[str, str], tuple[str, ...]] = {}
_MAX_SEGMENTED = 5_000


def _when(a: wd.StoredArticle) -> datetime:
    return a.published_at or a.first_seen_at


def _key(a: wd.StoredArticle) -> tuple[datetime | None, datetime, str]:
    return (a.published_at, a.first_seen_at, a.article_id)


def _order(a: wd.StoredArticle) -> tuple[datetime, datetime, str]:
    """The original of a copy group is its first article in this order (published, else first seen)."""
    return (_when(a), a.first_seen_at, a.article_id)


@dataclass
class _Known:
    """An article that can be verified against: stored (loaded for this batch) or processed in this call.

    A stored one's row (art, with its text) is read only when it passes the simhash prefilter with an article
    of the call or decides a group's original (_Batch.art_of): with 100k stored articles most candidates share
    only a document band by chance and are rejected on their simhashes alone."""

    art: wd.StoredArticle | None
    hashes: list[int]  # unit simhashes, in unit order
    boilerplate: frozenset[int]  # units that were boilerplate when it was fingerprinted
    doc: int
    units: list[str] | None = None  # segment(text), computed when first needed
    array: np.ndarray | None = None  # hashes as uint64, for the vectorised prefilter
    segmented: tuple[str, ...] | None = None  # segment(text) known already (_SEGMENTED), used by all_units
    checked: dict[str, bool] = field(default_factory=dict)  # article of the call -> its prefilter result (passes)

    def hash_array(self) -> np.ndarray:
        if self.array is None:
            self.array = np.fromiter(self.hashes, dtype=np.uint64, count=len(self.hashes))
        return self.array

    def all_units(self) -> list[str]:
        assert self.art is not None, "the row is read (_Batch.art_of) before the text is segmented"
        if self.units is None:
            self.units = list(self.segmented) if self.segmented is not None else segment(self.art.text)
            if len(self.hashes) != len(self.units):  # stored by another version: recompute
                self.hashes = list(fingerprint(self.art.article_id, self.art.text).unit_simhashes)
                self.boilerplate = frozenset()
                self.array = None  # built from the old hashes
                self.checked.clear()  # decided on the old hashes
        return self.units


class _Batch:
    """One call's state: what was read for it, and what its articles decided (written at the end).

    All reads against stored articles are made before this call writes anything: inside a transaction that
    has appended to an indexed table, DuckDB falls back from index scans to full scans (measured at 1M stored
    articles: 2 ms -> 50-70 ms per lookup). Matches among the call's own articles are found in memory.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con  # read from in _read, and by art_of for a row not read there
        self.postings: dict[int, list[str]] = {}  # unit key -> stored articles
        self.bands: dict[int, list[str]] = {}  # band key -> stored articles
        self.stored_groups: dict[str, tuple[str, str]] = {}  # stored article -> (syndication id, story id)
        self.key_labels: dict[int, set[str]] = {}  # unit key -> the copy groups holding it
        self.big_labels: dict[int, set[str]] = {}  # the same, from SQL, for keys held by many articles
        self.tables: frozenset[str] = frozenset()  # the facts tables that exist
        self.entities: dict[str, list[str]] = {}  # article of this call -> entity names from the facts stage
        self.known: dict[str, _Known] = {}
        self.no_row: set[str] = set()  # known articles whose core.articles row was asked for and is missing
        self.stories: dict[str, wd.StoryRow] = {}  # changed through set_story only (it keeps story_index current)
        self.story_index = StoryIndex()  # the centroids of self.stories, by term
        self.new_stories: dict[str, datetime] = {}
        self.touched_stories: set[str] = set()
        self.moved: dict[str, str] = {}  # copy group -> the group it merged into (or its earlier original)
        self.group: dict[str, str] = {}  # article of this call -> its copy group
        self.story: dict[str, str] = {}  # article of this call -> its story
        self.local_keys: dict[int, set[str]] = {}
        self.local_bands: dict[int, set[str]] = {}
        self.local_units: dict[str, set[int]] = {}
        self.headline_labels: dict[int, set[str]] = {}  # headline unit simhash -> copy groups of stored articles
        self.headlines: dict[str, tuple[int, ...]] = {}  # article of this call (or candidate met) -> headline units
        self.local_headlines: dict[int, set[str]] = {}  # headline unit simhash -> articles of this call
        self.tokens: dict[str, tuple[list[str], list[str]]] = {}  # article of this call -> profile_tokens
        self.n_profiles = 0
        self.df: dict[str, int] = {}
        self.new_terms: Counter[str] = Counter()
        self.fingerprints: list[dict] = []
        self.edges: list[dict] = []
        self.assignments: list[tuple] = []
        self.rows: list[tuple[str, str, str]] = []  # (article, copy group, story)

    def load_rows(self, article_ids: Iterable[str]) -> None:
        """Read the core.articles rows of stored known articles not read yet (one query; an id without a row
        is asked for once)."""
        todo = sorted(a for a in article_ids if a in self.known and self.known[a].art is None and a not in self.no_row)
        if not todo or self.con is None:
            return
        self.no_row.update(todo)
        for row in wd.load_articles(self.con, todo):
            k = self.known[row.article_id]
            k.art = row
            k.segmented = _SEGMENTED.get((row.article_id, row.content_hash))
            self.no_row.discard(row.article_id)

    def art_of(self, article_id: str) -> wd.StoredArticle | None:
        """The row of a known article, read now when _read did not (None: no such row)."""
        self.load_rows([article_id])
        return self.known[article_id].art

    def set_story(self, story: wd.StoryRow) -> None:
        self.stories[story.story_id] = story
        self.story_index.put(story.story_id, story.profile)

    def resolve(self, group: str) -> str:
        while group in self.moved and self.moved[group] != group:
            group = self.moved[group]
        return group

    def group_of(self, article_id: str) -> str:
        """The copy group of an article: this call's decision, else the stored one, else itself."""
        if article_id in self.group:
            return self.resolve(self.group[article_id])
        g = self.stored_groups.get(article_id)
        return self.resolve(g[0] if g and g[0] else article_id)

    def story_of(self, article_id: str) -> str | None:
        if article_id in self.story:
            return self.story[article_id]
        g = self.stored_groups.get(article_id)
        return g[1] if g else None

    def candidates(self, fp: Fingerprint, me: str) -> list[tuple[str, int]]:
        """Stored and this call's articles sharing unit keys or document bands, most hits first."""
        hits: Counter[str] = Counter()
        # most keys of a new text are in no posting list: Counter.update only for those that are
        for k in {wd.key32(h) for h in fp.unit_simhashes}:
            if p := self.postings.get(k):
                hits.update(p)
            if p := self.local_keys.get(k):
                hits.update(p)
        for b in wd.band_keys(fp.doc_simhash):
            if p := self.bands.get(b):
                hits.update(p)
            if p := self.local_bands.get(b):
                hits.update(p)
        hits.pop(me, None)
        return sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CANDIDATES]

    def index_stored(self) -> None:
        """Per unit key, the copy groups of the stored articles holding it (computed once per call; for long
        posting lists already in SQL, warehouse.dedup.postings); then the unit and band postings are cut to
        the articles that can be verified (see _cut)."""
        self.key_labels = {
            k: self.big_labels.get(k) or {self.stored_label(a) for a in arts} for k, arts in self.postings.items()
        }
        self.postings = {k: self._cut(arts) for k, arts in self.postings.items()}
        self.bands = {k: self._cut(arts) for k, arts in self.bands.items()}

    def _cut(self, arts: list[str]) -> list[str]:
        """GROUP_SAMPLE + 1 members of each copy group (its original first, then by id: the same members for
        every key). 1,000 copies of one text are one group, and counting hits over all of them cost more
        with every copy; only GROUP_SAMPLE of a group are ever verified."""
        if len(arts) <= GROUP_SAMPLE + 1:
            return arts
        by_label: dict[str, list[str]] = {}
        for a in sorted(arts, key=lambda a: (a != self.stored_label(a), a)):
            kept = by_label.setdefault(self.stored_label(a), [])
            if len(kept) <= GROUP_SAMPLE:
                kept.append(a)
        return [a for kept in by_label.values() for a in kept]

    def stored_label(self, article_id: str) -> str:
        g = self.stored_groups.get(article_id)
        return g[0] if g and g[0] else article_id

    def witnesses(self, fp: Fingerprint, me: str) -> wd.UnitWitnesses:
        """For each of our units, the other texts (copy groups) containing it, stored and of this call."""
        texts: dict[int, set[str]] = {}
        for h in set(fp.unit_simhashes):
            k = wd.key32(h)
            labels = self.key_labels.get(k)
            if labels:
                texts[h] = {self.resolve(g) for g in labels}
        stock = frozenset(h for h, gs in texts.items() if len(gs) > MAX_UNIT_TEXTS)
        texts = {h: t for h, t in texts.items() if h not in stock}
        mine = set(fp.unit_simhashes)
        for aid, hs in self.local_units.items():
            if aid == me:
                continue
            g = self.group_of(aid)
            for h in hs & mine:
                if h not in stock:
                    texts.setdefault(h, set()).add(g)
        return wd.UnitWitnesses({h: frozenset(t) for h, t in texts.items()}, stock, {})

    def headline_of(self, art: wd.StoredArticle) -> tuple[int, ...]:
        """The headline unit simhashes of an article of this call or a stored candidate (cached)."""
        got = self.headlines.get(art.article_id)
        if got is None:
            got = self.headlines[art.article_id] = headline_simhashes(art.title or "")
        return got

    def teasers(self, fp: Fingerprint, exclude: set[str], own: Sequence[wd.StoredArticle] = ()) -> set[int]:
        """Our units that are link teasers for a pair whose copy groups (and articles) are `exclude`: the
        headline, or a headline sentence, of another text, stored or of this call (extractors.dedup.link_teasers).
        The groups are resolved now: merges made earlier in the call count. A unit with the words of one of the
        pair's own headlines (`own`: the two articles) is never a teaser, whatever other text shares that
        headline: copies of one wire story in one batch, not yet grouped, each carry it, and so may an unrelated
        rewrite under the same headline."""
        hs = [h for h in fp.unit_simhashes if h in self.headline_labels or h in self.local_headlines]
        if not hs:
            return set()
        keep = {h for a in own for h in self.headline_of(a)}
        hs = [h for h in hs if h not in keep]
        heads = {
            h: {self.resolve(g) for g in self.headline_labels.get(h, ())}
            | {self.group_of(a) for a in self.local_headlines.get(h, ())}
            for h in hs
        }
        return link_teasers(hs, heads, exclude)

    def add_local(self, art: wd.StoredArticle, fp: Fingerprint, boilerplate: set[int]) -> None:
        for h in set(fp.unit_simhashes):
            self.local_keys.setdefault(wd.key32(h), set()).add(art.article_id)
        for b in wd.band_keys(fp.doc_simhash):
            self.local_bands.setdefault(b, set()).add(art.article_id)
        self.local_units[art.article_id] = set(fp.unit_simhashes)
        self.known[art.article_id] = _Known(
            art, list(fp.unit_simhashes), frozenset(boilerplate), fp.doc_simhash, list(fp.units)
        )


def _sample(batch: _Batch, cands: list[tuple[str, int]]) -> list[list[str]]:
    """The candidates to verify, per copy group: its original first, then members by hits, GROUP_SAMPLE each."""
    by_group: dict[str, list[str]] = {}
    for c, _ in cands:
        by_group.setdefault(batch.group_of(c), []).append(c)
    out = []
    for g, members in by_group.items():
        order = [g] + [m for m in members if m != g]
        out.append([m for m in order if m in batch.known][:GROUP_SAMPLE])
    return out


def _passes(k: _Known, article_id: str, fp: Fingerprint, mine: np.ndarray, max_distance: int) -> bool:
    """_prefilter of the call's article `article_id` against a known article, computed once per pair."""
    got = k.checked.get(article_id)
    if got is None:
        got = k.checked[article_id] = _prefilter(fp, mine, k.doc, k.hash_array(), max_distance)
    return got


def _prefilter(fp: Fingerprint, mine: np.ndarray, doc: int, units: np.ndarray, max_distance: int) -> bool:
    """Cheap simhash check before the text alignment: one close unit, or close whole documents.

    `mine` and `units` are the two articles' unit simhashes as uint64 arrays: all pairs at once (a candidate
    that shares only a document band used to cost 30 x 30 Python hamming calls, most of a new text's dedup
    time with 100k stored articles)."""
    if hamming(fp.doc_simhash, doc) <= DOC_DISTANCE:
        return True
    if not len(mine) or not len(units):
        return False
    return bool((np.bitwise_count(mine[:, None] ^ units[None, :]) <= max_distance).any())


def _verify(
    batch: _Batch,
    art: wd.StoredArticle,
    fp: Fingerprint,
    mine: np.ndarray,
    seen: wd.UnitWitnesses,
    other_id: str,
    settings: DedupSettings,
    now: datetime,
) -> bool:
    """Is `art` a copy of `other` (or the other way round)? Records the edge when it is.

    Boilerplate is decided per pair: a sentence of ours is left out when at least BOILERPLATE_MIN_TEXTS texts
    *other than the candidate's* contain it (so a text's own copies never turn it into boilerplate), plus the
    candidate's units that were boilerplate when it was stored. So is a link teaser: a unit of ours with the words
    of the headline (or a headline sentence) of an article in neither of the two copy groups.
    """
    other_k = batch.known[other_id]
    if not _passes(other_k, art.article_id, fp, mine, settings.paragraph_distance):
        return False
    other = batch.art_of(other_id)
    if other is None:
        return False
    other_all = other_k.all_units()
    group = batch.group_of(other.article_id)
    drop = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude={group, other.article_id})
    drop |= batch.teasers(fp, {group, other.article_id, art.article_id, batch.group_of(art.article_id)},
                          own=(art, other))
    ours = [u for u, h in zip(fp.units, fp.unit_simhashes, strict=True) if h not in drop]
    other_units = [
        u for u, h in zip(other_all, other_k.hashes, strict=True) if h not in drop and h not in other_k.boilerplate
    ]
    if other.source == art.source:
        ours, other_units = strip_shared_edges(ours, other_units)
    if earlier(_key(other), _key(art)):
        orig, orig_units, copy, copy_units = other, other_units, art, ours
    else:
        orig, orig_units, copy, copy_units = art, ours, other, other_units
    al = align(orig_units, copy_units)
    gap_days = (_when(copy) - _when(orig)).total_seconds() / 86400
    if not is_copy(al, settings.min_shared_ratio, gap_days, min(len(fp.units), len(other_all))):
        return False
    batch.edges.append(
        {
            "article_id": copy.article_id,
            "copy_of": orig.article_id,
            "shared_units": al.shared,
            "narrative_units": al.narrative,
            "units_copy": len(copy_units),
            "units_original": len(orig_units),
            "shared_ratio": round(al.shared_ratio, 4),
            "distance": hamming(fp.doc_simhash, other_k.doc),
            "changes": changes(orig.title, orig_units, copy.title, copy_units, al),
            "version": FINGERPRINT_VERSION,
            "detected_at": now,
        }
    )
    return True


def _process(
    batch: _Batch,
    art: wd.StoredArticle,
    fp: Fingerprint,
    previous: tuple[str, str] | None,
    keep_story: bool,
    entities: Sequence[str],
    had_profile: bool,
    settings: DedupSettings,
    now: datetime,
) -> None:
    seen = batch.witnesses(fp, art.article_id)
    cands = batch.candidates(fp, art.article_id)
    linked: set[str] = set()
    mine = np.fromiter(fp.unit_simhashes, dtype=np.uint64, count=len(fp.unit_simhashes))
    for members in _sample(batch, cands):
        for m in members:
            if _verify(batch, art, fp, mine, seen, m, settings, now):
                linked.add(batch.group_of(m))
                break  # one verified member links us to its whole group
    if previous is not None:
        linked.add(batch.resolve(previous[0] or art.article_id))  # a revised article stays in its group
    # Syndication: the original of the merged group is its earliest article.
    firsts = [art] + [
        o for g in linked if g in batch.known and g != art.article_id and (o := batch.art_of(g))
    ]
    original = min(firsts, key=_order).article_id
    for g in linked:
        if g != original:
            batch.moved[g] = original
    batch.group[art.article_id] = original
    own_group = {art.article_id, original, *linked}
    boilerplate = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude=own_group)
    batch.fingerprints.append(
        {
            "article_id": art.article_id,
            "version": fp.version,
            "content_hash": art.content_hash,
            "doc_simhash": fp.doc_simhash,
            "unit_simhashes": fp.unit_simhashes,
            "words": fp.word_count,
            "computed_at": now,
            "boilerplate": boilerplate,
            "headline": batch.headlines.get(art.article_id, ()),
        }
    )
    batch.add_local(art, fp, boilerplate)

    # Story: keep a revised article's story; copies follow their group; others by similarity.
    if previous is not None and keep_story:
        batch.story[art.article_id] = previous[1]
        batch.rows.append((art.article_id, original, previous[1]))
        return
    if original != art.article_id:
        copy_stories = [s for s in [batch.story_of(original)] if s]
    else:
        copy_stories = sorted({s for g in linked if g != art.article_id and (s := batch.story_of(g))})
    # What the article is about, without any sentence another text also ran (template, or recycled
    # background): those would make every article of an outlet look alike. Its own copies do not count.
    recycled = boilerplate_units(fp.unit_simhashes, seen.texts, seen.stock, exclude=own_group, min_texts=1)
    own = [u for u, h in zip(fp.units, fp.unit_simhashes, strict=True) if h not in recycled]
    # only the entities: figures and years were measured to add noise to story similarity (docs/dedup.md)
    # the tokens _read took of all the units serve when none was left out (most articles)
    whole = not own or len(own) == len(fp.units)
    profile = story_profile(art.title, own or list(fp.units), entities,
                            batch.tokens.get(art.article_id) if whole else None)
    # idf as it is when the article arrives (earlier articles of this call included)
    unit = unit_profile(profile, wd.idf_of(profile, batch.n_profiles, batch.df))
    t = _when(art)
    text_stories = {s for c, _ in cands if (s := batch.story_of(c))}
    compared = stories_to_compare(batch.stories.values(), t, settings.story_window_days, text_stories)
    scores = batch.story_index.scores(unit) if compared and not copy_stories else None
    story_id, reason, sim = choose_story(unit, compared, t, settings.story_window_days, copy_stories, scores)
    if story_id is None:
        story_id = art.article_id
        batch.set_story(wd.StoryRow(story_id, art.title, t, t, 1, trim_profile(unit)))
        batch.new_stories[story_id] = now
        batch.touched_stories.add(story_id)
    elif (old := batch.stories.get(story_id)) is not None:
        batch.set_story(wd.StoryRow(
            old.story_id,
            old.title,
            min(old.first_at, t),
            max(old.last_at, t),
            old.members + 1,
            add_member(old.profile, old.members, unit),
        ))
        batch.touched_stories.add(story_id)
    batch.story[art.article_id] = story_id
    batch.assignments.append((art.article_id, story_id, reason, sim, trim_profile(profile), now))
    if not had_profile:
        batch.n_profiles += 1
    for term in profile:
        batch.df[term] = batch.df.get(term, 0) + 1
        batch.new_terms[term] += 1
    batch.rows.append((art.article_id, original, story_id))


def _read(
    con: duckdb.DuckDBPyConnection, batch: _Batch, todo: list[wd.StoredArticle], fps: dict[str, Fingerprint],
    settings: DedupSettings,
) -> None:
    """Every read the call needs from stored articles, batched: a fixed number of queries per call."""
    ids = [a.article_id for a in todo]
    # The stored rows of this call's own articles are an earlier computation being replaced: they are not
    # witnesses or candidates (the call's articles find each other in memory, as they are processed).
    mine = set(ids)
    keys = {wd.key32(h) for fp in fps.values() for h in fp.unit_simhashes}
    units = wd.postings(con, "core.unit_keys", "key32", keys, mine, GROUP_SAMPLE + 1)
    bands = wd.postings(
        con, "core.simhash_bands", "band_key", {b for fp in fps.values() for b in wd.band_keys(fp.doc_simhash)},
        mine, GROUP_SAMPLE + 1,
    )
    batch.postings, batch.bands, batch.big_labels = units.articles, bands.articles, units.labels
    # headlines: of stored articles, looked up with every unit of the call (a unit with another text's headline is
    # a link teaser), and of the call's own articles, all known before any is processed (a teaser's article may
    # arrive in the same batch, after the articles linking to it)
    batch.headline_labels = wd.headline_labels(con, {h for fp in fps.values() for h in fp.unit_simhashes}, mine)
    for a in todo:
        for h in batch.headline_of(a):
            batch.local_headlines.setdefault(h, set()).add(a.article_id)
    found = {a for ps in (*batch.postings.values(), *batch.bands.values()) for a in ps}
    batch.stored_groups = wd.groups_of(con, found | set(ids))
    originals = {g[0] for g in batch.stored_groups.values() if g[0]} - batch.stored_groups.keys()
    batch.stored_groups.update(wd.groups_of(con, originals))
    batch.index_stored()
    # what will be verified: per article, GROUP_SAMPLE stored members of each group (originals first)
    want: set[str] = set()
    pairs: list[tuple[str, str]] = []  # (article of the call, stored article it will be verified against)
    heads: set[str] = set()  # previous groups' originals (a revised article stays in its group)
    for a in todo:
        cands = batch.candidates(fps[a.article_id], a.article_id)
        by_group: dict[str, list[str]] = {}
        for c, _ in cands:
            by_group.setdefault(batch.group_of(c), []).append(c)
        for g, members in by_group.items():
            sample = ([g] + [m for m in members if m != g])[:GROUP_SAMPLE]
            want.update(sample)
            pairs.extend((a.article_id, m) for m in sample)
        prev = batch.stored_groups.get(a.article_id)
        if prev and prev[0]:
            want.add(prev[0])
            heads.add(prev[0])
    want -= set(ids)
    stored_units = wd.load_units(con, want)
    for aid, doc in wd.doc_simhashes(con, want).items():
        hashes, bp = stored_units.get(aid, ([], frozenset()))
        batch.known[aid] = _Known(None, hashes, bp, doc)
    # the simhash prefilter of every pair now: the rows (texts) are read only for the candidates that pass it
    arrays = {a.article_id: np.fromiter(fps[a.article_id].unit_simhashes, dtype=np.uint64) for a in todo}
    passed = {
        other for aid, other in pairs
        if (k := batch.known.get(other)) is not None
        and _passes(k, aid, fps[aid], arrays[aid], settings.paragraph_distance)
    }
    # and the originals of their groups: the dates of a linked group's original decide the merged group's
    batch.load_rows(passed | heads | {batch.group_of(c) for c in passed})
    # stories: those active around this call's articles, and those of every article that shares text
    times = [_when(a) for a in todo]
    window = timedelta(days=settings.story_window_days)
    for story in wd.candidate_stories(con, min(times) - window, max(times) + window):
        batch.set_story(story)
    for story in wd.get_stories(con, {g[1] for g in batch.stored_groups.values()} - batch.stories.keys()).values():
        batch.set_story(story)
    # document frequencies of every term the call's profiles can have (a profile uses a subset of its units)
    batch.entities = wd.entities_for(con, ids, batch.tables)
    terms: set[str] = set()
    for a in todo:
        toks = batch.tokens[a.article_id] = profile_tokens(a.title, fps[a.article_id].units)
        terms |= profile_terms(a.title, fps[a.article_id].units, batch.entities.get(a.article_id, []), toks)
    batch.n_profiles, batch.df = wd.term_counts(con, terms)


def _write(con: duckdb.DuckDBPyConnection, batch: _Batch, revised: list[str], now: datetime, fresh: bool) -> None:
    """Everything the call decided, one bulk statement per table, then the aggregates of what it touched.
    fresh: no article of the call has derived rows yet, so its rows are inserted, not merged (warehouse.dedup)."""
    # Stories and copy groups whose membership this call changes: where its articles were before (read in
    # _read) and are now (batch.rows), and every merged group with the stories of its members (a merge moves
    # stored articles the call never loaded: one query, only when groups merged).
    before = [batch.stored_groups[r[0]] for r in batch.rows if r[0] in batch.stored_groups]
    groups = set(batch.moved) | {batch.resolve(g) for g in batch.moved}
    stories, synds = wd.groups_touching(con, [], groups)
    stories |= {g[1] for g in before} | {r[2] for r in batch.rows}
    synds |= {g[0] for g in before} | {batch.resolve(r[1]) for r in batch.rows} | groups
    wd.delete_articles(con, revised)
    wd.repoint_groups(con, {g: batch.resolve(g) for g in batch.moved}, now)
    wd.store_fingerprints(con, batch.fingerprints)
    wd.store_edges(con, batch.edges, replace=not fresh)
    wd.save_stories(con, [batch.stories[s] for s in sorted(batch.touched_stories)], batch.new_stories, now)
    wd.save_story_assignments(con, batch.assignments, replace=not fresh)
    wd.add_term_counts(con, dict(batch.new_terms))
    wd.assign_many(con, [(a, batch.resolve(g), s, now) for a, g, s in batch.rows], replace=not fresh)
    wd.refresh_aggregates(con, stories, synds)


def _fill_headlines(con: duckdb.DuckDBPyConnection) -> None:
    """Once per warehouse: the headline rows (core.headline_units) of the articles fingerprinted before that table
    existed, so that their headlines count as link-teaser targets as those of new articles do: a chunk of
    wd.HEADLINES_FILL_CHUNK articles per batch, in article id order, until none is left."""
    todo = wd.headlines_to_fill(con)
    if todo is None:
        return
    wd.store_headlines(con, [(h, aid) for aid, title in todo for h in headline_simhashes(title or "")])
    if len(todo) < wd.HEADLINES_FILL_CHUNK:
        wd.mark_headlines_filled(con)
    else:
        wd.mark_headlines_filled(con, after=todo[-1][0])
        log.info("headline rows of %d earlier article(s) filled (up to %s); more with the next batch",
                 len(todo), todo[-1][0])


def group_articles(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str], settings: DedupSettings,
    fingerprints: Mapping[tuple[str, str], Fingerprint] | None = None,
) -> dict[str, int]:
    """Fingerprint the given articles (already in core.articles), link copies, assign syndication and story ids.

    Does not begin or commit a transaction: call it inside the caller's transaction so that a batch is stored
    whole (flows/pipeline.py does). Articles whose text and fingerprint version are unchanged since the last
    run are not touched, so a rerun changes nothing. Articles are processed in publication order so that the
    earliest copy becomes the original.
    fingerprints: (article id, content hash) -> fingerprint(article id, text) computed elsewhere (the pool
    workers, with the extraction); used for a stored article whose content hash and fingerprint version match,
    computed here otherwise.
    Returns {"fingerprinted", "copies_grouped", "syndication_groups", "stories", "recomputed"} over these ids.
    """
    ids = list(dict.fromkeys(article_ids))
    arts = wd.load_articles(con, ids)
    state = wd.load_state(con, ids)
    todo = [a for a in arts if state.get(a.article_id) != (FINGERPRINT_VERSION, a.content_hash)]
    todo.sort(key=lambda a: (_when(a), a.first_seen_at, a.article_id))
    if todo:
        now = utcnow()
        wd.reset_stories_if_version_changed(con, FINGERPRINT_VERSION)
        _fill_headlines(con)
        batch = _Batch(con)
        batch.tables = wd.facts_tables(con)
        # the NumPy variant: the same fingerprints as the simhash package (tested), 1.3-1.6x faster
        known = fingerprints or {}
        fps = {}
        for a in todo:
            fp = known.get((a.article_id, a.content_hash))
            if fp is None or fp.version != FINGERPRINT_VERSION or fp.article_id != a.article_id:
                fp = fingerprint(a.article_id, a.text, use_numpy=True)
            fps[a.article_id] = fp
        if len(_SEGMENTED) + len(todo) > _MAX_SEGMENTED:
            _SEGMENTED.clear()
        _SEGMENTED.update(((a.article_id, a.content_hash), fps[a.article_id].units) for a in todo)
        todo_ids = [a.article_id for a in todo]
        _read(con, batch, todo, fps, settings)
        # Derived rows from an earlier text or fingerprint version (or a half-forgotten article) are replaced.
        revised = sorted(set(state) & set(todo_ids) | wd.with_dedup_rows(con, todo_ids))
        had_profile = wd.with_story_assignment(con, todo_ids)
        for art in todo:
            # a revised text keeps its story; an article recomputed by a new version gets one anew
            keep_story = state.get(art.article_id, ("", ""))[0] == FINGERPRINT_VERSION
            previous = batch.stored_groups.get(art.article_id)
            _process(
                batch,
                art,
                fps[art.article_id],
                previous,
                keep_story,
                batch.entities.get(art.article_id, []),
                art.article_id in had_profile,
                settings,
                now,
            )
        # no derived rows of any of them (state, fingerprint, group row, story assignment): nothing to replace
        fresh = not revised and not had_profile and not batch.stored_groups.keys() & set(todo_ids)
        _write(con, batch, revised, now, fresh)
    groups = wd.groups_of(con, [a.article_id for a in arts])
    synd_ids = {g[0] for g in groups.values()}
    sizes = wd.group_sizes(con, synd_ids)
    return {
        "fingerprinted": len(arts),
        "copies_grouped": sum(1 for aid, g in groups.items() if g[0] != aid),
        "syndication_groups": sum(1 for s in synd_ids if sizes.get(s, 0) > 1),
        "stories": len({g[1] for g in groups.values()}),
        "recomputed": len(todo),
    }

