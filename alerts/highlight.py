"""Query-term highlighting: split a summary into plain and matched runs for the watch's query terms (pure).

The terms are the watch query's labels as extractors/query.py reports them (`rotherham`, `"child abuse"`,
`abus*`, `title:x`); the caller passes them in, so this stage does not import the query parser. Matching
follows the query's rules: case-insensitive, accents folded, whole words, a trailing * is a prefix, a phrase
is consecutive words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_terms(labels: Sequence[str]) -> list[tuple[tuple[str, ...], bool]]:
    """(folded words, last word is a prefix) per positive label; 'NOT x' and notes are ignored."""
    out: list[tuple[tuple[str, ...], bool]] = []
    for label in labels:
        if label.startswith(("NOT ", "(")):
            continue
        raw = label.removeprefix("title:").strip('"')
        prefix = raw.endswith("*")
        words = tuple(_fold(w) for w in _WORD.findall(raw.rstrip("*")))
        if words and (words, prefix) not in out:
            out.append((words, prefix))
    return out


def split_marked(text: str, labels: Sequence[str]) -> list[tuple[str, bool]]:
    """text as [(run, is_match), ...]: joined together it is exactly `text`."""
    terms = parse_terms(labels)
    if not text or not terms:
        return [(text, False)] if text else []
    words = [(m.start(), m.end(), _fold(m.group())) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        best = 0
        for tw, prefix in terms:
            n = len(tw)
            if i + n > len(words):
                continue
            ok = all(words[i + k][2] == tw[k] for k in range(n - 1))
            last = words[i + n - 1][2]
            ok = ok and (last.startswith(tw[-1]) if prefix else last == tw[-1])
            if ok and n > best:
                best = n
        if best:
            spans.append((words[i][0], words[i + best - 1][1]))
            i += best
        else:
            i += 1
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out
