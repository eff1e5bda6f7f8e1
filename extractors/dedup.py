"""Syndication verification and story similarity: pure decisions on fingerprints and texts, no I/O.

* `align()` pairs the sentence units of two articles one-to-one by word-bigram overlap (a copy keeps most
  sentences verbatim or lightly edited, in any order); `is_copy()` turns the alignment into a decision.
* `changes()` says what a later copy changed: headline, figures, quotes, sentences added and dropped.
* `story_profile()` / `story_score()` compare articles written independently about one event: TF-IDF over
  content words (the lede weighted) and named entities, averaged over a story's members;
  `stories_to_compare()` and `choose_story()` decide which story an article joins, `add_member()` updates
  a story's centroid (flows/dedup_stage.py only wires these to the warehouse).

Every threshold is a module constant or a DedupSettings field; docs/dedup.md gives the evidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

import numpy as np

from extractors.fingerprint import tokens

# Two units match when this share of the shorter one's word bigrams occurs in the other. 0.7 keeps sentences
# with a changed figure, a swapped phrase or an added clause (0.85-0.95 on the seed copies); two writers
# summarising the same fact from the same report score 0.55-0.67 (seed 000 vs 001; docs/dedup.md).
UNIT_MIN_OVERLAP = 0.7
# A copy shares at least this many *narrative* units (unless the shorter article has fewer): independent
# articles quote the same statement verbatim, so units that are mostly quotation do not count here.
MIN_SHARED_UNITS = 2
# A copy whose aligned units are mostly quotation needs this many aligned units and half the shorter article.
QUOTED_COPY_MIN_UNITS = 3
# A unit is "mostly quotation" when at least this share of its words is inside quotation marks.
QUOTE_DOMINATED = 0.5
# A sentence is boilerplate (an outlet's template, a standing disclaimer, a stock line) when at least this many
# otherwise different texts also contain it verbatim; copies of one text count as one (docs/dedup.md).
BOILERPLATE_MIN_TEXTS = 2
# Between identical ends of two same-source articles, less than this share of the shorter middle aligning
# means the ends are a template (two texts); more, and it is one text with edits (strip_shared_edges). The
# same value as the default min_shared_ratio: the middles are judged like any pair.
EDGE_TEMPLATE_MAX_RATIO = 0.3
# An outlet's header is a few sentences. A longer identical opening is the text itself: a same-source copy
# truncated after its first paragraphs, with other teasers and a footer appended, lost all seven of its
# shared sentences to the edge rule (generated local-files set, development split). Only the opening: the
# trailing run of one outlet's articles is its footer plus the link teasers it inserts before it, which
# can repeat across its articles (the first version, both ends, made 12 false pairs on a held-out split).
EDGE_TEMPLATE_MAX_UNITS = 3
# Syndication happens within days. A later article that reuses an older one's text after this many days is
# a copy only if nearly all of it is that text (a reprint); otherwise it is a follow-up that recycles
# background paragraphs, which newsrooms do all the time (docs/dedup.md, "Follow-ups").
SYNDICATION_WINDOW_DAYS = 7
LATE_COPY_MIN_RATIO = 0.8
# Story profiles: the headline and the first LEAD_TOKENS tokens of the body weigh LEAD_WEIGHT times the rest
# (measured on the real pairs: best-threshold F1 0.94 -> 0.98 on the development split; docs/dedup.md).
LEAD_TOKENS = 25
LEAD_WEIGHT = 2.0
# Strong story evidence: an article further than story_window_days from a story joins it only with a
# story similarity at least this high (or as a syndicated copy of one of its articles).
STORY_STRONG_SIMILARITY = 0.6
# An article joins the most similar story in the window when similarity reaches this.
STORY_MIN_SIMILARITY = 0.22
# Stories older than this (days before the article) are not even considered.
STORY_MAX_LOOKBACK_DAYS = 365
# A story fades: an article more than STORY_FADE_AFTER_DAYS from a story's span (its first to last article)
# scores it at similarity * exp(-(gap - STORY_FADE_AFTER_DAYS) / STORY_FADE_DAYS), so concurrent coverage of
# one event wins over an older story on the same topic, and a story weeks old takes an article only with
# strong similarity (0.39 at 7 days, 0.60 at 10, and from about 13.6 days on only
# STORY_STRONG_SIMILARITY joins). Tuned on the rated PolNeAR development pairs (docs/dedup.md,
# "Stories fade"): mean recall over 16 orders 0.59 -> 0.82 (strict reading), no precision lost.
STORY_FADE_AFTER_DAYS = 3.0
STORY_FADE_DAYS = 7.0
# A story profile keeps its heaviest terms only, so stored profiles stay small.
PROFILE_TERMS = 300

_NUMBER = re.compile(
    r"(?<![\w.-])(?:£|\$|€)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|per cent|m|bn|million|billion))?(?![\w])"
)
_QUOTE = re.compile(r"[\"“]([^\"“”\n]{12,}?)[\"”]|(?<!\w)‘([^‘’\n]{12,}?)’(?!\w)")
_OPEN_QUOTE = re.compile(r"^[\"“‘']")

_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself said says
    told say one two three new year years time would could may might must shall according also however""".split()
    # German and French function words: the shared corpus is mostly German, and with raw term frequency
    # "und", "die", "der" made every German article one story (generated sets, story precision 0.08)
    + """der die das den dem des ein eine einen einem einer eines und oder aber auch als am an auf aus bei bis
    durch für gegen im in ist sind waren wird werden wurde wurden hat haben hatte hatten sein seine ihr ihre
    es er sie wir ich du mit nach nicht noch nur so über um unter vom von vor wie wenn zu zum zur sich dass
    daß da dann denn doch schon mehr sehr kann können muss müssen soll sollen will diese dieser dieses jetzt hier
    gibt alle alles einen keine kein wieder immer bereits etwa sowie sei seit seit zwischen ohne was wer wo
    le la les un une des du de et ou mais est sont était été être avoir a ont il elle ils elles nous vous je on
    que qui quoi dont où ce cet cette ces son sa ses leur leurs dans par pour sur avec sans sous entre aussi plus
    ne pas tout tous toute toutes au aux se si comme très déjà encore""".split()
)


@dataclass(frozen=True, slots=True)
class Alignment:
    """Units of article A paired with units of article B (indices), and the share of the shorter one covered."""

    pairs: tuple[tuple[int, int, float], ...]  # (unit of A, unit of B, overlap)
    units_a: int
    units_b: int
    narrative: int = 0  # pairs where neither unit is mostly quotation

    @property
    def shared(self) -> int:
        return len(self.pairs)

    @property
    def shared_ratio(self) -> float:
        shorter = min(self.units_a, self.units_b)
        return self.shared / shorter if shorter else 0.0


@lru_cache(maxsize=5_000)  # a copy's units are mostly its original's: aligned again and again (issue 9 §3)
def _bigrams(unit: str) -> frozenset[str]:
    toks = tokens(unit)
    if len(toks) < 2:
        return frozenset(toks)
    return frozenset(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))


# Bigram -> a number, so that a unit's bigrams are an integer array and two articles' shared-bigram counts are one
# matrix product. Bounded: when full it is cleared together with the arrays numbered by it (_GENERATION says so).
_BIGRAM_IDS: dict[str, int] = {}
_MAX_BIGRAM_IDS = 1_000_000
_GENERATION = [0]


@lru_cache(maxsize=5_000)
def _bigram_ids(unit: str, generation: int) -> np.ndarray:
    """The numbers of a unit's distinct bigrams (one per element of _bigrams(unit))."""
    ids = _BIGRAM_IDS
    out = []
    for g in _bigrams(unit):
        i = ids.get(g)
        if i is None:
            i = ids[g] = len(ids)
        out.append(i)
    return np.array(out, dtype=np.int64)


def _id_arrays(units_a: Sequence[str], units_b: Sequence[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if len(_BIGRAM_IDS) > _MAX_BIGRAM_IDS:
        _BIGRAM_IDS.clear()
        _bigram_ids.cache_clear()
        _GENERATION[0] += 1
    gen = _GENERATION[0]
    return [_bigram_ids(u, gen) for u in units_a], [_bigram_ids(u, gen) for u in units_b]


def _scored(units_a: Sequence[str], units_b: Sequence[str], min_overlap: float) -> list[tuple[float, int, int]]:
    """(overlap, i, j) of every unit pair whose shared bigrams are at least min_overlap of the smaller unit's:
    overlap = |bigrams(a_i) & bigrams(b_j)| / min(|bigrams(a_i)|, |bigrams(b_j)|), all pairs at once in NumPy
    (B's bigram numbers sorted, each of A's looked up in them, the matches counted per pair; the division is the
    same float64 division as Python's)."""
    ia, ib = _id_arrays(units_a, units_b)
    la = np.fromiter((len(x) for x in ia), dtype=np.int64, count=len(ia))
    lb = np.fromiter((len(x) for x in ib), dtype=np.int64, count=len(ib))
    if not la.sum() or not lb.sum():
        return []
    n_b = len(ib)
    flat_b = np.concatenate(ib)
    order = np.argsort(flat_b, kind="stable")
    sorted_b, unit_b = flat_b[order], np.repeat(np.arange(n_b), lb)[order]
    flat_a = np.concatenate(ia)
    lo = np.searchsorted(sorted_b, flat_a, side="left")
    n = np.searchsorted(sorted_b, flat_a, side="right") - lo  # B units holding each of A's bigrams
    total = int(n.sum())
    if not total:
        return []
    first = np.cumsum(n) - n
    pos = np.repeat(lo - first, n) + np.arange(total)  # every match's index in sorted_b
    pair = np.repeat(np.repeat(np.arange(len(ia)), la), n) * n_b + unit_b[pos]
    counts = np.bincount(pair, minlength=len(ia) * n_b)
    hit = np.nonzero(counts)[0]
    ii, jj = hit // n_b, hit % n_b
    ov = counts[hit] / np.minimum(la[ii], lb[jj])
    keep = ov >= min_overlap
    return list(zip(ov[keep].tolist(), ii[keep].tolist(), jj[keep].tolist(), strict=True))


def align(units_a: Sequence[str], units_b: Sequence[str], min_overlap: float = UNIT_MIN_OVERLAP) -> Alignment:
    """Pair units one-to-one, best overlap first (greedy), keeping pairs with overlap >= min_overlap.

    Order is ignored on purpose: copies reorder and drop paragraphs.
    """
    scored = _scored(units_a, units_b, min_overlap)
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for ov, i, j in scored:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((i, j, round(ov, 4)))
    pairs.sort()
    narrative = sum(
        1
        for i, j, _ in pairs
        if quote_share(units_a[i]) < QUOTE_DOMINATED and quote_share(units_b[j]) < QUOTE_DOMINATED
    )
    return Alignment(tuple(pairs), len(units_a), len(units_b), narrative)


def strip_shared_edges(units_a: Sequence[str], units_b: Sequence[str]) -> tuple[list[str], list[str]]:
    """Drop the identical leading and trailing units of two articles from the same outlet, when they are a
    template rather than the text itself.

    An outlet's header and footer sentences sit at the same ends of all its articles. The learned
    boilerplate (see `boilerplate_units`) needs two other texts to know them; this catches the first repeat.
    Only for same-source pairs: a copy run by another outlet keeps its ends. The ends are a template only
    when the texts are otherwise different: what lies between them is there in both and less than
    EDGE_TEMPLATE_MAX_RATIO of the shorter middle aligns, and the identical opening is at most
    EDGE_TEMPLATE_MAX_UNITS units. Otherwise (the same article at a new URL, a
    truncated copy, a copy with one sentence edited) nothing is dropped; stripping the ends regardless made
    same-outlet copies invisible.
    """
    a, b = list(units_a), list(units_b)
    lead = 0
    while a and b and tokens(a[-1]) == tokens(b[-1]):
        a.pop()
        b.pop()
    while a and b and tokens(a[0]) == tokens(b[0]):
        a.pop(0)
        b.pop(0)
        lead += 1
    if lead > EDGE_TEMPLATE_MAX_UNITS:
        return list(units_a), list(units_b)  # an opening that long is shared text, not a header template
    if a and b:
        middle = align(a, b)
        # two texts between the ends, unless the middles still share sentences (then the identical runs
        # were shared body, e.g. a copy that kept the lede and truncated the rest)
        if middle.shared_ratio < EDGE_TEMPLATE_MAX_RATIO and middle.shared < MIN_SHARED_UNITS:
            return a, b
        return list(units_a), list(units_b)
    if not (a and b) and len(units_a) - len(a) <= MIN_SHARED_UNITS:
        # Nothing between the ends of the shorter one, and the ends are only a footer's length: a stub page
        # (an outlet's header and footer around nothing) is not a copy of every article of its outlet; the
        # first false merge would have made the outlet one text and its footer unlearnable.
        return a, b
    return list(units_a), list(units_b)


def boilerplate_units(
    unit_simhashes: Sequence[int],
    texts: Mapping[int, Set[str]],
    stock: Set[int] = frozenset(),
    exclude: Set[str] = frozenset(),
    min_texts: int = BOILERPLATE_MIN_TEXTS,
) -> set[int]:
    """The units of an article that are boilerplate: shared by at least min_texts otherwise different texts.

    texts maps a unit simhash to the copy groups of the other articles containing it (copies of one text
    are one group, so a text and its copies never make each other's sentences boilerplate: the rule that
    counted articles of one outlet discarded every sentence of a text that one source carried three times).
    exclude: groups not to count (the article's own copy group). stock: sentences in very many articles.
    """
    out = {h for h in unit_simhashes if h in stock}
    for h in set(unit_simhashes):
        if len(texts.get(h, frozenset()) - exclude) >= min_texts:
            out.add(h)
    return out


def link_teasers(
    unit_simhashes: Sequence[int], headlines: Mapping[int, Set[str]], exclude: Set[str] = frozenset()
) -> set[int]:
    """The units of an article that are link teasers: the headline (or one sentence of the headline) of a text
    other than the two being compared.

    headlines maps a unit simhash to the copy groups of the stored articles (and of the batch's) whose headline
    has a unit with that hash (fingerprint.headline_simhashes); exclude: the groups of the pair (and the two
    articles). An outlet prints the headlines of its other articles between the paragraphs of a page, with their
    sentence punctuation, so they segment as body sentences; two different briefs linking to the same article
    shared two of six units through one such teaser, a false copy (generated cross-source set, development split;
    docs/dedup.md). Learned boilerplate needs BOILERPLATE_MIN_TEXTS other texts to know a sentence; a teaser is
    known from the headline it repeats, at its first repeat. A text's own headline in its body, or its original's
    (a copy keeps the lede that repeats the original's headline), is its text: those groups are excluded.
    """
    return {h for h in set(unit_simhashes) if headlines.get(h, frozenset()) - exclude}


def is_copy(
    al: Alignment, min_shared_ratio: float, gap_days: float = 0.0, full_units: int | None = None
) -> bool:
    """A verified copy: enough of the shorter article's units align, and at least MIN_SHARED_UNITS of them.

    `al` aligns the original (A) with the later article (B); gap_days is how much later B ran. Beyond
    SYNDICATION_WINDOW_DAYS, B must consist of A's text for at least LATE_COPY_MIN_RATIO of its units.
    full_units is the unit count of the shorter article before template sentences were set aside: a single
    shared sentence is enough only for a genuinely one-sentence article, not for one whose other
    sentences were all template.
    """
    shorter = min(al.units_a, al.units_b)
    if shorter == 0:
        return False
    needed = min(MIN_SHARED_UNITS, full_units if full_units is not None else shorter)
    if al.shared_ratio < min_shared_ratio:
        return False
    # Quotes are not evidence, unless most of the shorter article is aligned: a brief of a quote-heavy text
    # (three of its five units aligned, two of them quotes) is a copy; independent articles share one or two.
    if al.narrative < needed and not (al.shared >= QUOTED_COPY_MIN_UNITS and al.shared_ratio >= 0.5):
        return False
    if gap_days > SYNDICATION_WINDOW_DAYS:
        return al.shared / al.units_b >= LATE_COPY_MIN_RATIO if al.units_b else False
    return True


def numbers(text: str) -> list[str]:
    """Figures as written, normalised ("1,400" -> "1400", "£6m" -> "£6m"), in order, each once."""
    out: list[str] = []
    for m in _NUMBER.finditer(text):
        v = m.group(0).replace(",", "").replace(" ", "")
        if v not in out:
            out.append(v)
    return out


def quotes(text: str) -> list[str]:
    """Quoted passages of at least 12 characters, whitespace-normalised, each once."""
    out: list[str] = []
    for m in _QUOTE.finditer(text):
        q = " ".join((m.group(1) or m.group(2) or "").split())
        if q and q not in out:
            out.append(q)
    return out


@lru_cache(maxsize=5_000)  # pure; asked twice per aligned pair, and a copy's units are its original's
def quote_share(unit: str) -> float:
    """Share of a unit's words inside quotation marks (an unclosed opening quote runs to the end)."""
    total = len(tokens(unit))
    if not total:
        return 0.0
    quoted = sum(len(tokens(m.group(0))) for m in _QUOTE.finditer(unit))
    if not quoted and _OPEN_QUOTE.match(unit):
        return 1.0  # a paragraph continuing a quote from the previous one
    return min(1.0, quoted / total)


def _norm_quote(q: str) -> str:
    return " ".join(tokens(q))


def changes(
    original_title: str,
    original_units: Sequence[str],
    copy_title: str,
    copy_units: Sequence[str],
    al: Alignment,
) -> dict:
    """What the copy changed relative to the original (JSON-ready dict; `al` aligns original -> copy)."""
    o_text = "\n".join(original_units)
    c_text = "\n".join(copy_units)
    o_nums, c_nums = numbers(o_text), numbers(c_text)
    o_q = {_norm_quote(q): q for u in original_units for q in quotes(u)}
    c_q = {_norm_quote(q): q for u in copy_units for q in quotes(u)}
    matched_o = {i for i, _, _ in al.pairs}
    matched_c = {j for _, j, _ in al.pairs}
    edited = [
        {"original": original_units[i], "copy": copy_units[j], "overlap": ov}
        for i, j, ov in al.pairs
        if ov < 1.0 or tokens(original_units[i]) != tokens(copy_units[j])
    ]
    return {
        "headline_changed": " ".join(tokens(original_title)) != " ".join(tokens(copy_title)),
        "headline_original": original_title,
        "headline_copy": copy_title,
        "figures_added": [n for n in c_nums if n not in o_nums],
        "figures_removed": [n for n in o_nums if n not in c_nums],
        "quotes_added": [q for k, q in c_q.items() if k not in o_q],
        "quotes_removed": [q for k, q in o_q.items() if k not in c_q],
        "sentences_added": [copy_units[j] for j in range(len(copy_units)) if j not in matched_c],
        "sentences_removed": [original_units[i] for i in range(len(original_units)) if i not in matched_o],
        "sentences_edited": edited,
        "lede_changed": bool(copy_units) and 0 not in matched_c,
    }


def earlier(a: tuple[datetime | None, datetime, str], b: tuple[datetime | None, datetime, str]) -> bool:
    """Is A the original relative to B? Earliest published wins, else first seen, else smaller id.

    Each argument is (published_at, first_seen_at, article_id). An article with a publication date is
    compared by it; when either lacks one, first-seen times decide.
    """
    pa, fa, ia = a
    pb, fb, ib = b
    if pa is not None and pb is not None and pa != pb:
        return pa < pb
    if fa != fb and (pa is None or pb is None or pa == pb):
        return fa < fb
    return ia < ib


# ---- stories ---------------------------------------------------------------------------------


def profile_tokens(title: str, units: Sequence[str]) -> tuple[list[str], list[str]]:
    """The tokens story_profile and profile_terms read: the headline's, and the units' (joined by lines)."""
    return tokens(title), tokens("\n".join(units))


def story_profile(
    title: str, units: Sequence[str], entities: Sequence[str] = (), toks: tuple[list[str], list[str]] | None = None
) -> dict[str, float]:
    """Weighted terms describing what an article is about: its content words, and named entities when known.

    Term frequency is raw (measured better than sublinear on the real pairs, docs/dedup.md), and the words of
    the headline and the first LEAD_TOKENS tokens of the body count LEAD_WEIGHT times: the lede says what the
    story is. entities (from the facts stage, when it ran) are added as whole names ("e:..."); rarity
    weighting (idf) is applied at comparison time from the warehouse's document frequencies.
    toks: profile_tokens(title, units), when already computed.
    """
    head, body = toks if toks is not None else profile_tokens(title, units)
    toks = head + body
    lead = len(head) + LEAD_TOKENS
    # Counted, then weighted: n * LEAD_WEIGHT + m is the float that adding LEAD_WEIGHT n times and 1.0 m times
    # gives (whole numbers, and LEAD_WEIGHT a power of two), and the terms keep their first-occurrence order
    prof: dict[str, float] = {k: LEAD_WEIGHT * n for k, n in Counter(filter(None, map(_term_key, toks[:lead]))).items()}
    for k, n in Counter(filter(None, map(_term_key, toks[lead:]))).items():
        prof[k] = prof.get(k, 0.0) + n
    for k, n in Counter(_entity_keys(entities)).items():
        prof[k] = prof.get(k, 0.0) + n
    return prof


def profile_terms(
    title: str, units: Sequence[str], entities: Sequence[str] = (), toks: tuple[list[str], list[str]] | None = None
) -> set[str]:
    """The terms of story_profile(title, units, entities), without their weights (what a batch reads the
    document frequencies of, before its articles are profiled). toks: profile_tokens(title, units), if known."""
    head, body = toks if toks is not None else profile_tokens(title, units)
    words = set(head)
    words.update(body)
    return {k for k in map(_term_key, words) if k} | set(_entity_keys(entities))


@lru_cache(maxsize=100_000)  # the words of news recur in every text
def _term_key(word: str) -> str | None:
    """A token's profile term ("w:..."), None when it is not one (_is_term)."""
    return f"w:{word}" if _is_term(word) else None


def _is_term(word: str) -> bool:
    """Whether a token is a profile term: not a single character, a stop word or a number."""
    return len(word) > 1 and word not in _STOP and not word.isdigit()


def _entity_keys(entities: Sequence[str]) -> list[str]:
    """The profile terms ("e:...") of entity names, one per mention."""
    keys = (" ".join(tokens(e)) for e in entities)
    return [f"e:{k}" for k in keys if k and k not in _STOP]


def unit_profile(profile: Mapping[str, float], idf: Mapping[str, float]) -> dict[str, float]:
    """The idf-weighted profile scaled to length 1 (idf as it is when the article joins a story).

    A story's centroid is the mean of these; scoring against it never re-weights the stored vectors, so a
    member stored while idf was still phasing in (warehouse.dedup.idf_of) cannot score above 1.
    """
    weighted = {t: w * idf.get(t, 1.0) for t, w in profile.items()}
    norm = math.sqrt(sum(w * w for w in weighted.values()))
    return {t: w / norm for t, w in weighted.items()} if norm else {}


def story_score(unit: Mapping[str, float], centroid: Mapping[str, float]) -> float:
    """Average cosine between an article and a story's members: the dot product of the article's `unit_profile`
    with the story's centroid, the mean of its members' unit profiles, which is not normalised again.

    A cosine with the re-normalised centroid rewards a story for being diverse: the mean of many different
    articles on one topic points at the topic ("trump", "president"), so every article on the topic came
    closer to it than to any one member, and undated stories grew into topics (nine different Trump events
    in one story on the real pairs). The average cosine falls as a story's members diverge.
    """
    # the products in the article's term order, summed from 0.0, as the generator form did (so the same float);
    # a list and one dict lookup per term instead of two: an article is scored against every active story
    get = centroid.get
    return sum([w * c for t, w in unit.items() if (c := get(t)) is not None], 0.0)


class StoryIndex:
    """The centroids of a set of stories as an inverted index (term -> {story id: weight}), so that an article is
    scored against every story at once: the work is one lookup per term of the article plus one step per story
    sharing that term, not one lookup per term per story (an article used to be scored against every active
    story in turn, and the stories a batch opens itself made that quadratic in the batch).

    scores(unit)[s] is story_score(unit, centroid of s) for every story sharing a term with the article: the
    products are added in the article's term order from 0.0, as story_score's list sum does. A centroid given
    to put() is indexed when scores are next asked for: a story that gains several members in a row (copies
    joining their original's story) is indexed once, not once per member.
    """

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, float]] = {}
        self._terms: dict[str, tuple[str, ...]] = {}
        self._pending: dict[str, Mapping[str, float]] = {}  # story -> centroid to index

    def put(self, story_id: str, centroid: Mapping[str, float]) -> None:
        """Index (or re-index, after its centroid changed) one story."""
        self._pending[story_id] = centroid

    def _flush(self) -> None:
        postings = self._postings
        for story_id, centroid in self._pending.items():
            for t in self._terms.pop(story_id, ()):
                p = postings[t]
                del p[story_id]
                if not p:
                    del postings[t]
            for t, c in centroid.items():
                postings.setdefault(t, {})[story_id] = c
            self._terms[story_id] = tuple(centroid)
        self._pending.clear()

    def scores(self, unit: Mapping[str, float]) -> dict[str, float]:
        """story id -> story_score(unit, its centroid), for the stories sharing a term with `unit` (0.0 for the
        others, which are left out)."""
        if self._pending:
            self._flush()
        acc: dict[str, float] = {}
        get = acc.get
        postings = self._postings.get
        for t, w in unit.items():
            p = postings(t)
            if p is not None:
                for s, c in p.items():
                    acc[s] = get(s, 0.0) + w * c
        return acc


def merge_profiles(profiles: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The centroid (mean) of several profiles: what a story's articles are about together."""
    out: Counter[str] = Counter()
    for p in profiles:
        out.update(p)
    n = max(1, len(profiles))
    return {t: w / n for t, w in out.items()}


class StoryLike(Protocol):
    """What the story decision reads of a story (warehouse.dedup.StoryRow has these)."""

    @property
    def story_id(self) -> str: ...
    @property
    def first_at(self) -> datetime: ...
    @property
    def last_at(self) -> datetime: ...
    @property
    def profile(self) -> Mapping[str, float]: ...


def stories_to_compare(
    stories: Iterable[StoryLike], when: datetime, window_days: float, text_story_ids: Set[str] = frozenset()
) -> list[StoryLike]:
    """The stories an article at `when` is compared with: those active within window_days of it, and older
    (or later) ones only when one of their articles shares text with this one (text_story_ids, the stories of
    its lookup candidates) and they ended at most STORY_MAX_LOOKBACK_DAYS before it."""
    window = timedelta(days=window_days)
    lookback = when - timedelta(days=STORY_MAX_LOOKBACK_DAYS)
    out = []
    for s in stories:
        if s.last_at >= when - window and s.first_at <= when + window:
            out.append(s)
        elif s.story_id in text_story_ids and s.last_at >= lookback:
            out.append(s)
    return sorted(out, key=lambda s: s.story_id)


def choose_story(
    unit: Mapping[str, float],
    stories: Sequence[StoryLike],
    when: datetime,
    window_days: float,
    copy_stories: Sequence[str] = (),
    scores: Mapping[str, float] | None = None,
) -> tuple[str | None, str, float | None]:
    """(story_id, or None for a new story; reason; similarity) for an article with this `unit_profile`.

    A syndicated copy joins its original's story (copy_stories[0]) at any distance: the strongest evidence.
    Otherwise the story of `stories` (see stories_to_compare) with the highest faded similarity (story_fade)
    that reaches STORY_MIN_SIMILARITY when it is active within window_days of the article; one that is not
    needs STORY_STRONG_SIMILARITY unfaded. The similarity returned is the unfaded one.
    scores: the article's story_score against each story, when already known (StoryIndex.scores; a story
    missing from it shares no term, 0.0); computed here otherwise.
    """
    if copy_stories:
        return copy_stories[0], "syndicated", None
    window = timedelta(days=window_days)
    best: tuple[float, str, float] | None = None
    for story in sorted(stories, key=lambda s: s.story_id):
        sim = story_score(unit, story.profile) if scores is None else scores.get(story.story_id, 0.0)
        # ranked by the faded score; joined when that reaches the threshold inside the window, or on strong
        # similarity at any distance (else a story 14-21 days away could never be joined, one 22 days away could)
        score = sim * story_fade(story.first_at, story.last_at, when)
        in_window = story.first_at - window <= when <= story.last_at + window
        if ((in_window and score >= STORY_MIN_SIMILARITY) or sim >= STORY_STRONG_SIMILARITY) and (
                best is None or score > best[0]):
            best = (score, story.story_id, sim)
    if best is None:
        return None, "new", None
    return best[1], "similar", round(best[2], 4)


def story_fade(first_at: datetime, last_at: datetime, when: datetime, after: float = STORY_FADE_AFTER_DAYS,
               days: float = STORY_FADE_DAYS) -> float:
    """The factor a story's similarity is scaled by for an article at `when`: 1.0 within `after` days of the
    story's span, then exp(-(gap - after) / days) with the gap in days (other values: bench/stories_linkage)."""
    gap = max(first_at - when, when - last_at).total_seconds() / 86400.0 - after
    return 1.0 if gap <= 0 else math.exp(-gap / days)


def trim_profile(profile: Mapping[str, float], terms: int = PROFILE_TERMS) -> dict[str, float]:
    """The heaviest `terms` terms of a profile (ties by term), rounded, in term order (what is stored)."""
    if terms <= 0:
        return {}
    if len(profile) > terms:
        # the terms of sorted(items, key=(-weight, term))[:terms], without sorting the items by a Python key:
        # every term heavier than the terms-th weight, then the lightest kept weight's terms in term order
        cut = sorted(profile.values(), reverse=True)[terms - 1]
        top = [t for t, w in profile.items() if w > cut]
        top += sorted(t for t, w in profile.items() if w == cut)[: terms - len(top)]
        return {t: round(profile[t], 5) for t in sorted(top)}
    return {t: round(w, 5) for t, w in sorted(profile.items())}


def add_member(centroid: Mapping[str, float], members: int, unit: Mapping[str, float]) -> dict[str, float]:
    """A story's centroid after one more member: the running mean of its members' unit profiles.

    The arithmetic of merge_profiles([centroid * members, unit]) then * 2 / (members + 1), step for step (so the
    stored centroid is the same float for float), in one pass."""
    merged = {k: v * members for k, v in centroid.items()}
    get = merged.get
    for t, w in unit.items():
        merged[t] = w + get(t, 0)  # Counter.update's order: the new count plus the one there
    k = members + 1
    return trim_profile({t: w / 2 * 2 / k for t, w in merged.items()})
