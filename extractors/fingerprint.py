"""Simhash fingerprints of article text: boilerplate filtering, sentence units, document and unit simhashes.

Pure functions, no I/O. The pipeline stores what `fingerprint()` returns (warehouse/dedup.py) and the
verification step (extractors/dedup.py) aligns the units of two fingerprints. docs/dedup.md explains the
choices and the evidence for every constant below.

Two levels, both 64-bit simhashes of md5 feature hashes: the `simhash` package is the reference, and
`simhash64_numpy` computes identical values faster (the dedup stage uses it, `use_numpy=True`):

* the document simhash (word 3-gram shingles of the boilerplate-free text) is what the public
  `articles.simhash` column shows; on its own it misses edited copies (docs/dedup.md measures that);
* one simhash per *unit* (a sentence of at least MIN_UNIT_WORDS words, word unigram features): copies share
  many units exactly or nearly, different articles on the same topic share almost none.

Boilerplate (teaser lines, "READ MORE: ...", captions, ad markers, credits, very short lines, lines repeated
inside one page) is dropped *before* fingerprinting, so it can neither create nor break a match.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from simhash import Simhash

from extractors.clean import FURNITURE_OPENERS

# Bump when segmentation, features or hashing change: stored fingerprints with another version are recomputed.
FINGERPRINT_VERSION = "sh64-sent1-uni-w3-v4"

# A unit shorter than this (in words) is merged into the previous sentence of its paragraph, or dropped:
# short sentences have too few features for a stable simhash (docs/dedup.md, "Units").
MIN_UNIT_WORDS = 6
# A line shorter than this with no sentence punctuation is a label/teaser/heading, not body text.
MIN_LINE_WORDS = 6
# Lines with no terminal punctuation shorter than this are treated as headings or link teasers.
HEADLINE_MAX_WORDS = 16
# Furniture patterns (labels, teasers, credits) apply to lines of at most this many words; teasers are headlines.
TEASER_MAX_WORDS = 40
# Simhash package: a feature weight above 255 overflows uint8 arithmetic under NumPy 2 (see _split_weights).
_MAX_WEIGHT = 255

_WORD = re.compile(r"\w+", re.UNICODE)
# Sentence boundary: terminal punctuation (optionally followed by closing quotes), whitespace, then an
# uppercase letter, digit or opening quote.
_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")

# Lines that are page furniture rather than article text, from the package's one list (extractors/clean.py).
_BOILERPLATE = [
    re.compile(r"^(" + "|".join(re.escape(p) for p in FURNITURE_OPENERS) + r")\b[\s:|-]*", re.IGNORECASE),
    re.compile(r"^\|"),  # photo credit lines like "|GETTY"
]
# JPI-style teaser labels: "CRIME: ...", "APPEAL: ..." (case-sensitive: "Mrs Senior said: ..." is body text).
_TEASER_LABEL = re.compile(r"^[A-Z][A-Z&'-]{2,}(?: [A-Z&'-]+){0,2}:\s")
_LABEL_ONLY = re.compile(r"^[A-Z][A-Z &'-]{2,30}:?$")  # "LATEST DEVELOPMENTS:"
_TERMINAL = re.compile(r"[.!?\"'”’:)]$")
# Access walls (login, paywall, subscription prompts) printed where the article should be: "You have reached
# the limit for free access ... Subscribers, click below to login or register". A sentence naming at least
# ACCESS_WALL_MIN_MARKERS different markers is the wall, not the news; kept, it made a paywalled page about
# a snowmobile crash look unlike every report of the crash (story similarity 0.17 -> 0.27 without it,
# real pairs, development split; docs/dedup.md).
_ACCESS_WALL = re.compile(
    r"\b(log ?in|log out|sign ?in|sign ?up|subscri\w*|regist\w*|free access|password|username|e-mail|"
    r"unlimited access|remember me|ad ?blocker)\b",
    re.IGNORECASE,
)
ACCESS_WALL_MIN_MARKERS = 2


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Simhashes of one article's cleaned text: the document and each content unit (sentence)."""

    article_id: str
    version: str
    doc_simhash: int  # 64-bit, unsigned
    unit_simhashes: tuple[int, ...]  # one per unit, in text order
    units: tuple[str, ...]  # the unit texts (boilerplate removed), for verification and "what changed"
    word_count: int  # words in the units (boilerplate excluded)


def tokens(text: str) -> list[str]:
    """Lowercased word tokens (Unicode letters and digits)."""
    return _WORD.findall(text.lower())


def _dedupe_doubled(line: str) -> str:
    """Collapse a caption that a scraper glued to itself ("Text.Text." -> "Text.")."""
    n = len(line)
    if n >= 20 and n % 2 == 0 and line[: n // 2] == line[n // 2 :]:
        return line[: n // 2]
    return line


def is_boilerplate(line: str) -> bool:
    """True for page furniture: teaser/"read more" lines, ad markers, credits, labels and short headings."""
    s = line.strip()
    if not s:
        return True
    if _LABEL_ONLY.match(s):
        return True
    n = len(s.split())
    # A label or teaser pattern only marks a line that is short enough to be one: a one-line text ("Watch
    # Live: 131st Rose Parade ... 200 words", "EPL: Grealish fires Villa ...") is the article itself.
    if n <= TEASER_MAX_WORDS and (_TEASER_LABEL.match(s) or any(p.match(s) for p in _BOILERPLATE)):
        return True
    if n < MIN_LINE_WORDS:
        return True
    # A short line without sentence punctuation is a heading, caption fragment or teaser link.
    if n < HEADLINE_MAX_WORDS and not _TERMINAL.search(s):
        return True
    return False


def is_access_wall(sentence: str) -> bool:
    """True for a login/paywall/subscription prompt: several different access markers in one sentence."""
    found = {" ".join(m.lower().replace(" ", "").split()) for m in _ACCESS_WALL.findall(sentence)}
    return len(found) >= ACCESS_WALL_MIN_MARKERS


def body_lines(text: str) -> list[str]:
    """The body lines of a text: boilerplate dropped, glued captions collapsed, repeated lines kept once.

    Captions are often printed twice (once under the photo, once in the gallery) and a teaser can repeat
    a sentence of the body; keeping one copy means the repetition does not inflate the unit count.
    """
    seen: set[str] = set()
    out: list[str] = []
    for raw in text.splitlines():
        line = _dedupe_doubled(" ".join(raw.split()))
        if is_boilerplate(line):
            continue
        key = " ".join(tokens(line))
        if key in seen:
            continue
        seen.add(key)
        out.append(line)
    return out


def split_sentences(line: str) -> list[str]:
    """Split one paragraph into sentences, merging fragments shorter than MIN_UNIT_WORDS into the previous one."""
    out: list[str] = []
    for part in _SENT_SPLIT.split(line):
        part = part.strip()
        if not part:
            continue
        if out and len(part.split()) < MIN_UNIT_WORDS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    if out and len(out[0].split()) < MIN_UNIT_WORDS and len(out) > 1:
        out[1] = f"{out[0]} {out[1]}"
        out.pop(0)
    return out


def segment(text: str) -> list[str]:
    """The content units of a text: sentences of the body lines, at least MIN_UNIT_WORDS words, each once."""
    units: list[str] = []
    seen: set[str] = set()
    lines: set[str] = set()
    for raw in text.splitlines():
        line = _dedupe_doubled(" ".join(raw.split()))
        boiler, line_key, sents = _line_units(line)
        # the same steps as body_lines() then the sentence filter, per line (cached: copies share their lines)
        if boiler or line_key in lines:
            continue
        lines.add(line_key)
        for sent, key in sents:
            if key in seen:
                continue
            seen.add(key)
            units.append(sent)
    return units


@lru_cache(maxsize=10_000)
def _line_units(line: str) -> tuple[bool, str, tuple[tuple[str, str], ...]]:
    """(is boilerplate, the line's token key, its candidate units with their keys) for one normalised line.

    A syndicated copy repeats most lines of its original verbatim, so its segmentation is mostly cache hits
    (1,000 copies of one text: issue 9 §3). The result depends on the line alone."""
    if is_boilerplate(line):
        return True, "", ()
    out = []
    for sent in split_sentences(line):
        toks = tokens(sent)
        if len(toks) < MIN_UNIT_WORDS or is_access_wall(sent):
            continue
        out.append((sent, " ".join(toks)))
    return False, " ".join(tokens(line)), tuple(out)


def shingles(toks: Sequence[str], n: int) -> list[str]:
    """Word n-grams joined by spaces (a single n-gram of everything when the text is shorter than n)."""
    if len(toks) <= n:
        return [" ".join(toks)] if toks else []
    return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]


def _split_weights(counts: Counter[str]) -> list[tuple[str, int]]:
    """(feature, weight) pairs with every weight <= 255, summing to the true counts.

    simhash 2.1.2 multiplies a uint8 bit array by the weight when the weight is above 50; under NumPy 2 a
    weight above 255 raises OverflowError instead of wrapping. Splitting a weight into chunks of at most
    255 gives exactly the sums of the unsplit weight, so the fingerprint is the one the weight defines.
    """
    out: list[tuple[str, int]] = []
    for feat, w in counts.items():
        while w > _MAX_WEIGHT:
            out.append((feat, _MAX_WEIGHT))
            w -= _MAX_WEIGHT
        if w > 0:
            out.append((feat, w))
    return out


def simhash64(features: Iterable[str]) -> int:
    """64-bit simhash of a bag of features with the `simhash` package (features counted, weights guarded)."""
    counts = Counter(features)
    if not counts:
        return 0
    return int(Simhash(_split_weights(counts), f=64).value)


def simhash64_numpy(features: Iterable[str]) -> int:
    """The same 64-bit simhash as `simhash64`, computed with one NumPy matrix product (tested identical).

    The `simhash` package sums bits in Python-level batches; here all feature hashes are unpacked into a
    (n, 64) bit matrix at once and weighted by their counts.
    """
    sums, total = _bit_sums(features)
    if not total:
        return 0
    return _pack(sums, total)


def _pack(sums: np.ndarray, total: int) -> int:
    return int.from_bytes(np.packbits(sums > total / 2).tobytes(), "big")


# md5 tails of features seen before (words recur in every text; a copy repeats its original's 3-grams): the
# same bytes as hashing again, without the Python-level md5 call. Bounded: cleared when full.
_DIGESTS: dict[str, bytes] = {}
_MAX_DIGESTS = 100_000


def _digest(feature: str) -> bytes:
    d = _DIGESTS.get(feature)
    if d is None:
        if len(_DIGESTS) >= _MAX_DIGESTS:
            _DIGESTS.clear()
        d = _DIGESTS[feature] = hashlib.md5(feature.encode("utf-8")).digest()[-8:]
    return d


def _bit_sums(features: Iterable[str]) -> tuple[np.ndarray, int]:
    """Per bit, the weighted count of features whose hash has it set, and the total weight (simhash64_numpy
    takes the bits above half). Sums add up: a document's are the sums of its parts' features."""
    counts = Counter(features)
    if not counts:
        return np.zeros(64, dtype=np.int64), 0
    get = _DIGESTS.get
    digests = b"".join([get(f) or _digest(f) for f in counts])  # a digest (8 bytes) is never falsy
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(counts), 64)
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    return weights @ bits, int(weights.sum())  # int64, no overflow for any realistic count


def doc_features(units: Sequence[str]) -> list[str]:
    """Document-level features: word 3-gram shingles over each unit (no shingle crosses a unit boundary)."""
    feats: list[str] = []
    for u in units:
        feats.extend(shingles(tokens(u), 3))
    return feats


def unit_features(unit: str) -> list[str]:
    """Unit-level features: word unigrams (measured best separation of edited vs unrelated sentences)."""
    return tokens(unit)


def fingerprint(article_id: str, text: str, *, use_numpy: bool = False) -> Fingerprint:
    """Fingerprint an article's cleaned text: document simhash plus one simhash per sentence unit."""
    h = simhash64_numpy if use_numpy else simhash64
    units = segment(text)
    if not units:
        # A text with no sentence-sized unit (a stub or a list of links): fall back to all its words so
        # the document still gets a stable simhash; it will have no units and so no copies.
        return Fingerprint(article_id, FINGERPRINT_VERSION, h(shingles(tokens(text), 3)), (), (), 0)
    if use_numpy:
        # unit simhashes cached per unit text (a copy shares most units with its original); the document
        # simhash from the cached feature digests
        parts = _unit_parts(units)
        return Fingerprint(
            article_id=article_id,
            version=FINGERPRINT_VERSION,
            doc_simhash=h([f for p in parts for f in p[1]]),  # = doc_features(units)
            unit_simhashes=tuple(p[0] for p in parts),
            units=tuple(units),
            word_count=sum(p[2] for p in parts),
        )
    return Fingerprint(
        article_id=article_id,
        version=FINGERPRINT_VERSION,
        doc_simhash=h(doc_features(units)),
        unit_simhashes=tuple(h(unit_features(u)) for u in units),
        units=tuple(units),
        word_count=sum(len(tokens(u)) for u in units),
    )


def headline_simhashes(title: str) -> tuple[int, ...]:
    """The unit simhashes a headline has as body text: of the whole headline and of each of its sentences (split as
    a body line is, `split_sentences`), those with at least MIN_UNIT_WORDS words (nothing shorter is a unit).

    A body unit with one of these hashes has the words of that headline or of one of its sentences: when the
    headline is another text's, the unit is a link teaser to it (extractors/dedup.py, `link_teasers`). The same
    values as `fingerprint(use_numpy=True)` gives a unit with those words."""
    line = " ".join(title.split())
    parts = [p for p in dict.fromkeys([line, *split_sentences(line)]) if len(tokens(p)) >= MIN_UNIT_WORDS]
    return tuple(dict.fromkeys(p[0] for p in _unit_parts(parts))) if parts else ()


# unit text -> (unit simhash, its document features (word 3-grams), its word count); bounded, cleared when full
_UNITS: dict[str, tuple[int, tuple[str, ...], int]] = {}
_MAX_UNITS = 10_000


def _unit_parts(units: Sequence[str]) -> list[tuple[int, tuple[str, ...], int]]:
    """What fingerprint() computes per unit, cached by the unit's text (a copy repeats its original's units);
    the simhashes of the units not cached are computed together, in one matrix product (the same sums as one
    simhash64_numpy per unit, without its fixed cost thirty times per article)."""
    parts = {u: _UNITS[u] for u in units if u in _UNITS}
    todo = [u for u in dict.fromkeys(units) if u not in parts]
    if todo:
        if len(_UNITS) + len(todo) > _MAX_UNITS:
            _UNITS.clear()
        toks = [tokens(u) for u in todo]  # unit_features(unit) is tokens(unit)
        counts = [Counter(t) for t in toks]
        n = [len(c) for c in counts]
        get = _DIGESTS.get
        digests = b"".join([get(f) or _digest(f) for c in counts for f in c])
        bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(sum(n), 64).astype(np.int64)
        weights = np.fromiter((w for c in counts for w in c.values()), dtype=np.int64, count=sum(n))
        starts = np.cumsum([0, *n[:-1]])
        sums = np.add.reduceat(bits * weights[:, None], starts, axis=0)
        totals = np.add.reduceat(weights, starts)
        for u, t, k, row, total in zip(todo, toks, n, sums, totals, strict=True):
            value = _pack(row, int(total)) if k else 0  # every unit has words (segment keeps 6 and more)
            _UNITS[u] = parts[u] = (value, tuple(shingles(t, 3)), len(t))
    return [parts[u] for u in units]


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit simhashes."""
    return (a ^ b).bit_count()
