"""NER spans kept per text, and a copy's spans rebuilt from the text it copies, so NER runs only on what changed.

A syndicated copy is the original's paragraphs with a new lede (an outlet credit), some paragraphs dropped and
sometimes a figure changed. NER is the costly part of facts (spaCy, ~10k words/s per core); the rules after it
(canonicalise, figures, periods, quotes) are cheap and read the whole text. So a copy takes the original's
spans for every paragraph it shares with it (matched by whitespace-normalised text, offsets moved to the copy)
and NER runs only on the other paragraphs (`todo_ranges`), each run given whole paragraphs of the copy on either
side as context (at least one, and CONTEXT_WORDS words); then the rules run over the whole copy as usual.

Why this equals a full run: the pipeline (extractors/facts/nlp.py) starts a sentence after every line break,
and spaCy's NER never crosses a sentence start, so an entity lies inside one paragraph; sentence boundaries (the
rule sentencizer) are decided inside a paragraph too. What a paragraph's spans still depend on is the tokens
around it: NER's own tok2vec reads 4 tokens either side (depth 4, window 1 in the small English model) and its
transition features the token before. So by default (strict) a shared paragraph is reused only when it is the
same characters with the same CONTEXT_WORDS words of text on either side (or the same text edge) in the copy
and the original; the paragraph after a new lede and the two around a dropped one run again (a short one, the
next too). Measured (bench/facts_reuse.py): with this rule, 36 of 36 edited copies of real pages equal a full
run (`--copies 1`); with the earlier neighbour-paragraph rule, 108 of 108 strict; strict=False (only unshared paragraphs run, 2x less NER) 8 of 108 copies differed, each in a
paragraph next to an edit ("January 13, 2020" vs "2020", a heading tagged PERSON or not).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

_LINE = re.compile(r"[^\n]+")
# A copy is rebuilt from an original only when the shared paragraphs cover this share of its characters:
# below it the context runs cost about as much as running the whole text.
MIN_SHARED_SHARE = 0.3
# Tokens NER reads around a token: tok2vec's window (depth 4 x window 1 = 4 either side) plus the previous token
# of the transition features (5 back). A whitespace word is at least one token, so this many words of the same
# text around a paragraph (strict) or around a range to run (its context) leave its spans as in the whole text.
CONTEXT_WORDS = 8


@dataclass(frozen=True, slots=True)
class NerSpans:
    """What NER said about one text: entity spans (start, end, label) and sentence spans (start, end), as
    character offsets into that text, and the pipeline that produced them (spans of another pipeline or
    model version are never reused). language is the text's detected language (None: too short to tell)."""

    pipeline: str
    language: str | None
    ents: tuple[tuple[int, int, str], ...] = ()
    sentences: tuple[tuple[int, int], ...] = ()


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, outer spaces excluded."""
    out = []
    for m in _LINE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def _key(text: str, span: tuple[int, int]) -> str:
    return " ".join(text[span[0] : span[1]].split())


def _nonspace_positions(text: str, span: tuple[int, int]) -> list[int]:
    return [i for i in range(span[0], span[1]) if not text[i].isspace()]


def _mapper(orig: str, op: tuple[int, int], copy: str, cp: tuple[int, int]):
    """Offset map from an original paragraph to the copy's paragraph with the same normalised text."""
    delta = cp[0] - op[0]
    if orig[op[0] : op[1]] == copy[cp[0] : cp[1]]:
        return lambda start, end: (start + delta, end + delta)
    # same words, different spacing: the k-th non-space character of one is the k-th of the other
    po, pc = _nonspace_positions(orig, op), _nonspace_positions(copy, cp)
    index = {p: k for k, p in enumerate(po)}

    def move(start: int, end: int) -> tuple[int, int] | None:
        ks, ke = index.get(start), index.get(end - 1)
        if ks is None or ke is None:
            return None
        return pc[ks], pc[ke] + 1

    return move


def reuse_spans(
    copy_text: str, original_text: str, original_spans: NerSpans, *, strict: bool = True
) -> tuple[NerSpans, tuple[tuple[int, int], ...]]:
    """(the spans of copy_text taken from the original, the character ranges of copy_text still to run NER on).

    Paragraphs are matched by whitespace-normalised text; an original paragraph is used once. The returned
    NerSpans holds only the reused spans; todo_ranges are runs of consecutive unmatched paragraphs.
    """
    opars, cpars = paragraphs(original_text), paragraphs(copy_text)
    by_key: dict[str, list[int]] = {}
    for j, p in enumerate(opars):
        by_key.setdefault(_key(original_text, p), []).append(j)
    match: dict[int, int] = {}
    for i, p in enumerate(cpars):
        cands = by_key.get(_key(copy_text, p))
        if cands:
            match[i] = cands.pop(0)
    if strict:
        # a paragraph is reused only when NER saw exactly the same tokens around it: the same characters, and
        # CONTEXT_WORDS words of the same text on either side (or the same text edge); a paragraph next to a new
        # lede, a dropped paragraph or a short changed neighbour runs again
        match = {i: j for i, j in match.items()
                 if copy_text[cpars[i][0] : cpars[i][1]] == original_text[opars[j][0] : opars[j][1]]
                 and _left(copy_text, cpars[i][0]) == _left(original_text, opars[j][0])
                 and _right(copy_text, cpars[i][1]) == _right(original_text, opars[j][1])}
    # spans by original paragraph (an entity or sentence never crosses a line break: see the module docstring)
    starts = [p[0] for p in opars]

    def para_of(start: int) -> int | None:
        import bisect

        j = bisect.bisect_right(starts, start) - 1
        return j if j >= 0 and start < opars[j][1] else None

    ent_by: dict[int, list[tuple[int, int, str]]] = {}
    for s, e, label in original_spans.ents:
        j = para_of(s)
        if j is not None and e <= opars[j][1]:
            ent_by.setdefault(j, []).append((s, e, label))
    sent_by: dict[int, list[tuple[int, int]]] = {}
    for s, e in original_spans.sentences:
        j = para_of(s)
        if j is not None:
            sent_by.setdefault(j, []).append((s, min(e, opars[j][1])))
    ents: list[tuple[int, int, str]] = []
    sents: list[tuple[int, int]] = []
    for i, j in match.items():
        move = _mapper(original_text, opars[j], copy_text, cpars[i])
        for s, e, label in ent_by.get(j, ()):
            m = move(s, e)
            if m is not None:
                ents.append((m[0], m[1], label))
        for s, e in sent_by.get(j, ()):
            m = move(s, e)
            if m is not None:
                sents.append(m)
    todo: list[tuple[int, int]] = []
    for i, p in enumerate(cpars):
        if i in match:
            continue
        if todo and i - 1 not in match and todo[-1][1] == cpars[i - 1][1]:
            todo[-1] = (todo[-1][0], p[1])
        else:
            todo.append(p)
    spans = NerSpans(original_spans.pipeline, original_spans.language, tuple(sorted(ents)), tuple(sorted(sents)))
    return spans, tuple(todo)


def _left(text: str, pos: int, k: int = 0) -> tuple[str, bool]:
    """The text before pos back to the start of its k-th word (CONTEXT_WORDS by default), and whether the
    text starts before k words were found."""
    k = k or CONTEXT_WORDS
    i, n = pos, 0
    while n < k:
        while i > 0 and text[i - 1].isspace():
            i -= 1
        if i == 0:
            break
        while i > 0 and not text[i - 1].isspace():
            i -= 1
        n += 1
    return text[i:pos], n < k


def _right(text: str, pos: int, k: int = 0) -> tuple[str, bool]:
    """The text after pos up to the end of its k-th word, and whether the text ends before k words."""
    k = k or CONTEXT_WORDS
    i, n, end = pos, 0, len(text)
    while n < k:
        while i < end and text[i].isspace():
            i += 1
        if i == end:
            break
        while i < end and not text[i].isspace():
            i += 1
        n += 1
    return text[pos:i], n < k


def context_window(text: str, todo: tuple[int, int]) -> tuple[int, int]:
    """The todo range widened by whole paragraphs on either side (what NER is given for it): at least one, and
    enough for CONTEXT_WORDS words (or the text's edge), so every token of the range sees what it sees in the
    whole text."""
    pars = paragraphs(text)
    start, end = todo
    before = [p for p in pars if p[1] <= start]
    after = [p for p in pars if p[0] >= end]
    lo = start
    while before:
        lo = before.pop()[0]
        if len(text[lo:start].split()) >= CONTEXT_WORDS:
            break
    hi = end
    for p in after:
        hi = p[1]
        if len(text[end:hi].split()) >= CONTEXT_WORDS:
            break
    return lo, hi


def shared_chars(copy_text: str, original_text: str) -> int:
    """Characters of copy_text in paragraphs that original_text also has (normalised text)."""
    keys = {_key(original_text, p) for p in paragraphs(original_text)}
    return sum(p[1] - p[0] for p in paragraphs(copy_text) if _key(copy_text, p) in keys)


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class SpanCache:
    """The last `capacity` texts whose spans are known, found by the paragraphs they share with a new text.

    Bounded (least recently used out first) so a long run keeps a fixed memory: 2,000 texts of a few
    kilobytes is a few megabytes. Paragraphs shorter than min_chars (bylines, "Advertisement") do not
    select an original."""

    def __init__(self, capacity: int = 2000, min_chars: int = 40, *, strict: bool = True) -> None:
        self.capacity = capacity
        self.min_chars = min_chars
        self.strict = strict  # passed to reuse_spans: also rerun the paragraphs next to an edit
        self._texts: OrderedDict[int, tuple[str, NerSpans]] = OrderedDict()
        self._by_par: dict[bytes, set[int]] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self._texts)

    def _keys(self, text: str) -> list[tuple[bytes, int]]:
        return [(_digest(_key(text, p)), p[1] - p[0]) for p in paragraphs(text) if p[1] - p[0] >= self.min_chars]

    def add(self, text: str, spans: NerSpans) -> None:
        tid = self._next
        self._next += 1
        self._texts[tid] = (text, spans)
        for k, _ in self._keys(text):
            self._by_par.setdefault(k, set()).add(tid)
        while len(self._texts) > self.capacity:
            old, (otext, _) = self._texts.popitem(last=False)
            for k, _ in self._keys(otext):
                ids = self._by_par.get(k)
                if ids is not None:
                    ids.discard(old)
                    if not ids:
                        del self._by_par[k]

    def candidates(self, text: str, limit: int = 3) -> list[tuple[str, NerSpans]]:
        """Up to `limit` stored (text, spans) sharing the most characters of text (at least MIN_SHARED_SHARE),
        whatever their pipeline: what a worker process needs to find text's original itself (best)."""
        score: dict[int, int] = {}
        for k, n in self._keys(text):
            for tid in self._by_par.get(k, ()):
                score[tid] = score.get(tid, 0) + n
        total = sum(p[1] - p[0] for p in paragraphs(text)) or 1
        ranked = sorted(score.items(), key=lambda kv: (-kv[1], -kv[0]))
        return [self._texts[tid] for tid, n in ranked[:limit] if n / total >= MIN_SHARED_SHARE]

    def best(self, text: str, *, pipeline: str, language: str | None) -> tuple[str, NerSpans] | None:
        """The stored (text, spans) sharing the most characters of text, if they cover MIN_SHARED_SHARE of it
        and come from the same pipeline and language."""
        score: dict[int, int] = {}
        for k, n in self._keys(text):
            for tid in self._by_par.get(k, ()):
                score[tid] = score.get(tid, 0) + n
        total = sum(p[1] - p[0] for p in paragraphs(text)) or 1
        for tid, n in sorted(score.items(), key=lambda kv: (-kv[1], -kv[0])):
            if n / total < MIN_SHARED_SHARE:
                break
            otext, spans = self._texts[tid]
            if spans.pipeline == pipeline and spans.language == language:
                self._texts.move_to_end(tid)
                return otext, spans
        return None


def merge(reused: NerSpans, runs: Sequence[tuple[tuple[int, int], int, NerSpans]]) -> NerSpans:
    """reused spans plus, for each (todo range, window start, spans of the window text), the window's spans
    that lie inside the todo range, moved to copy offsets."""
    ents = list(reused.ents)
    sents = list(reused.sentences)
    for (start, end), offset, win in runs:
        for s, e, label in win.ents:
            if start <= s + offset and e + offset <= end:
                ents.append((s + offset, e + offset, label))
        for s, e in win.sentences:
            if start <= s + offset < end:
                sents.append((s + offset, min(e + offset, end)))
    return NerSpans(reused.pipeline, reused.language, tuple(sorted(ents)), tuple(sorted(sents)))
