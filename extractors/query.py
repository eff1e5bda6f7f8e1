"""The watch query: a saved-search boolean language matched against an article's title and text.

Grammar (docs/query.md has examples):

    query   := or_expr?                      empty query matches everything
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (("AND")? unary)*       juxtaposition is AND
    unary   := ("NOT" | "-") unary | atom
    atom    := "(" or_expr ")" | "title:"? (PHRASE | WORD)
    PHRASE  := '"' words '"'                 consecutive words, in order
    WORD    := letters/digits, optionally ending in "*" (prefix match)
    title:  restricts one word or phrase to the title

Operators are upper-case AND, OR, NOT (lower-case "and"/"or"/"not" are ordinary words, as in Lucene and
most saved-search tools). NOT binds tightest, then AND, then OR. Matching is case-insensitive, on whole
words (tokens of letters and digits), with accents folded ("Zürich" = "zurich", "café" = "cafe", "ß" = "ss").
A hyphenated or punctuated term is a phrase: child-abuse = "child abuse".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from newswatch.errors import ConfigError

MAX_QUERY_CHARS = 2_000
MAX_DEPTH = 50


class QuerySyntaxError(ConfigError):
    """A watch query that cannot be parsed; the message names the position."""


_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_SPECIAL_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "ı": "i"})


def fold(text: str) -> str:
    """Lower-case and strip accents: 'Zürich' -> 'zurich', 'Straße' -> 'strasse'."""
    text = text.lower().translate(_SPECIAL_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(text: str) -> list[str]:
    """Folded word tokens of a text (letters and digits; everything else separates words)."""
    return _WORD_RE.findall(fold(text))


# ---- AST ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Term:
    words: tuple[str, ...]
    prefix: bool  # the last word is a prefix (written with a trailing *)
    label: str  # as the user wrote it, for explain()
    title_only: bool = False  # written title:word / title:"phrase"


@dataclass(frozen=True, slots=True)
class _Not:
    child: object


@dataclass(frozen=True, slots=True)
class _And:
    children: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    children: tuple[object, ...]


# ---- lexer ----------------------------------------------------------------------------------------

_TITLE_FIELD = "title:"
_TOKEN_RE = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<q>")|(?P<minus>-)(?=[^\s)])|(?P<word>[^\s()"]+))')


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # lp, rp, and, or, not, term, end
    pos: int  # 1-based character position, for error messages
    term: _Term | None = None


def _err(q: str, pos: int, msg: str) -> QuerySyntaxError:
    # Short queries are shown whole; long ones as a window around the position.
    shown = q if len(q) <= 60 else ("…" if pos > 26 else "") + q[max(0, pos - 26) : pos + 25] + (
        "…" if pos + 25 < len(q) else "")
    return QuerySyntaxError(f"watch query: {msg} at position {pos}: {shown!r}")


def _make_term(q: str, raw: str, pos: int, quoted: bool, title_only: bool = False) -> _Term | None:
    prefix = raw.endswith("*")
    body = raw.rstrip("*")
    if "*" in body:
        raise _err(q, pos, "'*' is only allowed at the end of a word")
    words = tuple(tokenize(body))
    if not words:
        if prefix:
            raise _err(q, pos, "'*' needs at least one letter before it")
        if quoted:
            raise _err(q, pos, "empty phrase")
        return None  # pure punctuation, e.g. a stray '&': ignored like any separator
    label = f'"{raw}"' if quoted else raw
    if title_only:
        label = "title:" + label
    return _Term(words, prefix, label, title_only)


def _lex(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    n = len(q)
    while i < n:
        m = _TOKEN_RE.match(q, i)
        if not m or m.end() == i:
            if q[i:].strip() == "":
                break
            raise _err(q, i + 1, "unexpected character")
        start = m.start(m.lastgroup) if m.lastgroup else i
        pos = start + 1
        kind = m.lastgroup
        if kind == "lp":
            toks.append(_Tok("lp", pos))
            i = m.end()
        elif kind == "rp":
            toks.append(_Tok("rp", pos))
            i = m.end()
        elif kind == "minus":
            toks.append(_Tok("not", pos))
            i = m.end()
        elif kind == "q":
            close = q.find('"', m.end())
            if close < 0:
                raise _err(q, pos, "unclosed quote")
            term = _make_term(q, q[m.end() : close], pos, quoted=True)
            if term is not None:
                toks.append(_Tok("term", pos, term))
            i = close + 1
        else:
            word = m.group("word")
            i = m.end()
            if word.lower().startswith(_TITLE_FIELD):
                rest = word[len(_TITLE_FIELD) :]
                if rest:
                    term = _make_term(q, rest, pos, quoted=False, title_only=True)
                elif i < n and q[i] == '"':
                    close = q.find('"', i + 1)
                    if close < 0:
                        raise _err(q, i + 1, "unclosed quote")
                    term = _make_term(q, q[i + 1 : close], pos, quoted=True, title_only=True)
                    i = close + 1
                else:
                    raise _err(q, pos, "title: needs a word or a quoted phrase right after it")
                if term is None:
                    raise _err(q, pos, "title: needs a word or a quoted phrase right after it")
                toks.append(_Tok("term", pos, term))
            elif word in ("AND", "&&"):
                toks.append(_Tok("and", pos))
            elif word in ("OR", "||"):
                toks.append(_Tok("or", pos))
            elif word == "NOT":
                toks.append(_Tok("not", pos))
            else:
                term = _make_term(q, word, pos, quoted=False)
                if term is not None:
                    toks.append(_Tok("term", pos, term))
    toks.append(_Tok("end", n + 1))
    return toks


# ---- parser (recursive descent) -------------------------------------------------------------------


class _Parser:
    def __init__(self, q: str, toks: list[_Tok]) -> None:
        self.q = q
        self.toks = toks
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> object:
        node = self.or_expr()
        t = self.peek()
        if t.kind == "rp":
            raise _err(self.q, t.pos, "')' without a matching '('")
        if t.kind != "end":
            raise _err(self.q, t.pos, "unexpected token")
        return node

    def or_expr(self) -> object:
        children = [self.and_expr()]
        while self.peek().kind == "or":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else _Or(tuple(children))

    def and_expr(self) -> object:
        children = [self.unary()]
        while True:
            t = self.peek()
            if t.kind == "and":
                self.take()
                children.append(self.unary())
            elif t.kind in ("term", "lp", "not"):
                children.append(self.unary())
            else:
                break
        return children[0] if len(children) == 1 else _And(tuple(children))

    def unary(self) -> object:
        t = self.peek()
        if t.kind == "not":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _err(self.q, t.pos, "query nested too deeply")
            child = self.unary()
            self.depth -= 1
            return _Not(child)
        return self.atom()

    def atom(self) -> object:
        t = self.take()
        if t.kind == "term":
            assert t.term is not None
            return t.term
        if t.kind == "lp":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _err(self.q, t.pos, "query nested too deeply")
            if self.peek().kind == "rp":
                raise _err(self.q, self.peek().pos, "empty parentheses")
            node = self.or_expr()
            close = self.take()
            if close.kind != "rp":
                raise _err(self.q, t.pos, "'(' is never closed")
            self.depth -= 1
            return node
        if t.kind == "end":
            raise _err(self.q, t.pos, "the query ends where a word or phrase is expected")
        what = {"rp": "')' without a matching '('", "and": "AND needs a word on both sides",
                "or": "OR needs a word on both sides"}.get(t.kind, "unexpected token")
        raise _err(self.q, t.pos, what)


# ---- evaluation -----------------------------------------------------------------------------------


class _Doc:
    """Word positions of title + text (a gap between them so phrases do not span the two)."""

    __slots__ = ("positions", "title_end", "_vocab")

    def __init__(self, title: str, text: str) -> None:
        self.positions: dict[str, list[int]] = {}
        pos = 0
        self.title_end = 0
        for k, part in enumerate((title, text)):
            for w in tokenize(part or ""):
                self.positions.setdefault(w, []).append(pos)
                pos += 1
            if k == 0:
                self.title_end = pos  # positions below this are title words
            pos += 2
        self._vocab: list[str] | None = None

    def word_positions(self, word: str, prefix: bool) -> set[int] | list[int]:
        if not prefix:
            return self.positions.get(word, [])
        if self._vocab is None:
            self._vocab = list(self.positions)
        out: set[int] = set()
        for w in self._vocab:
            if w.startswith(word):
                out.update(self.positions[w])
        return out

    def has(self, term: _Term) -> bool:
        last = len(term.words) - 1
        first = self.word_positions(term.words[0], term.prefix and last == 0)
        if term.title_only:
            # a title phrase must end inside the title too; the gap after the title guarantees it
            first = [p for p in first if p < self.title_end]
        if last == 0:
            return bool(first)
        later = [set(self.word_positions(w, term.prefix and k == last)) for k, w in enumerate(term.words) if k]
        return any(all(p + k + 1 in s for k, s in enumerate(later)) for p in first)


def _eval(node: object, doc: _Doc) -> bool:
    if isinstance(node, _Term):
        return doc.has(node)
    if isinstance(node, _Not):
        return not _eval(node.child, doc)
    if isinstance(node, _And):
        return all(_eval(c, doc) for c in node.children)
    if isinstance(node, _Or):
        return any(_eval(c, doc) for c in node.children)
    raise TypeError(node)


def _positive_terms(node: object, negated: bool = False) -> Iterable[_Term]:
    if isinstance(node, _Term):
        if not negated:
            yield node
    elif isinstance(node, _Not):
        yield from _positive_terms(node.child, not negated)
    elif isinstance(node, _And | _Or):
        for c in node.children:
            yield from _positive_terms(c, negated)


def _negated_terms(node: object, negated: bool = False) -> Iterable[_Term]:
    if isinstance(node, _Term):
        if negated:
            yield node
    elif isinstance(node, _Not):
        yield from _negated_terms(node.child, not negated)
    elif isinstance(node, _And | _Or):
        for c in node.children:
            yield from _negated_terms(c, negated)


class WatchQuery:
    """A compiled watch query. `matches(title, text)`; `explain(title, text)` says which terms matched."""

    __slots__ = ("source", "_root")

    def __init__(self, source: str, root: object | None) -> None:
        self.source = source
        self._root = root

    def __repr__(self) -> str:
        return f"WatchQuery({self.source!r})"

    @property
    def match_all(self) -> bool:
        """True for the empty query."""
        return self._root is None

    def matches(self, title: str, text: str) -> bool:
        """True when the title and text together satisfy the query."""
        if self._root is None:
            return True
        return _eval(self._root, _Doc(title, text))

    def explain(self, title: str, text: str) -> list[str]:
        """Terms found in the article: 'rotherham', '"child abuse"', and 'NOT x' for excluded terms present."""
        if self._root is None:
            return ["(empty query matches everything)"]
        doc = _Doc(title, text)
        out: list[str] = []
        for t in _positive_terms(self._root):
            if doc.has(t) and t.label not in out:
                out.append(t.label)
        for t in _negated_terms(self._root):
            label = f"NOT {t.label}"
            if doc.has(t) and label not in out:
                out.append(label)
        return out


def compile_query(q: str) -> WatchQuery:
    """Parse a watch query; raises QuerySyntaxError (one line naming the position) when it is malformed."""
    if q is None:
        q = ""
    if len(q) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"watch query: longer than {MAX_QUERY_CHARS} characters")
    if not q.strip():
        return WatchQuery(q, None)
    toks = _lex(q)
    if len(toks) == 1:  # only punctuation
        return WatchQuery(q, None)
    return WatchQuery(q, _Parser(q, toks).parse())
