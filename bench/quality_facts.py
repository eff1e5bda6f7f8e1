"""Who said it, on real articles: speaker accuracy of extract_quotes on PolNeAR (../shared/eval/polnear-train).

What is measured (issue 10 §3). PolNeAR annotates attribution relations in US political news (BRAT standoff:
Source, Cue, Content spans tied by an event line). Here:

- a **gold direct quote** is a Content span whose text starts with a quotation mark and holds at least three
  quoted words (shorter ones are dropped by extract_quotes by design); one annotator pass per article (the first
  .ann file by name), so an article annotated twice counts once;
- its **gold speaker** comes from its Source span:
  * `named`: the span holds a proper name as its head: the last run of capitalised words before any comma,
    " who " or "'s" (`Clinton press secretary Brian Fallon` -> Brian Fallon, `Grimm, a Donald Trump supporter`
    -> Grimm, `The White House` -> White House); a span whose head word is lower case (`a spokesman for
    Clinton`, `the Clinton campaign`) is not named;
  * `pronoun` (he, she) and `role` (a definite person role: `the senator`, `the presidential candidate`): the
    speaker is the **nearest preceding named Source of the same article** (any attribution, not only quotes).
    The annotators marked that person as a source just before, which is what "the annotation makes clear"
    means here; the antecedent must look like a person (no group word such as `All` or `Republicans`, no
    organisation word such as `Times`, `Campaign`, `Watch`); and the text must keep them in view: their surname appears in the 1,200 characters before the
    pronoun (about three paragraphs). No NER is used for the gold, so the gold does not share the system's
    errors. A pronoun or role without such an antecedent is `unresolved` and left out;
  * everything else (`I`, `we`, `they`, `it`, `a spokesman`, `aides`, `the statement`, no source) has no named
    speaker and is left out of the accuracy.
- **right speaker**: extract_quotes returned a quote overlapping the gold one (a shared run of four words, or
  the whole quote when shorter) and its speaker is the gold name: same last word (surname), and when both give
  a first name, the first names agree on their first three letters (`Eric Trump` is not `Donald Trump`).
  The denominator is every gold quote with a named speaker, so a missed quote counts as wrong.

Split: a fixed hash of the file name (sha1, first byte < 52, about 20%) is held out; tune on `dev` only.
NER output is cached per text in bench/results/facts_ner.tmp/ (keyed by model and text), so rerunning after a
rule change costs seconds.

    .venv/bin/python -m bench.quality_facts [--split dev|heldout|all] [-v] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.facts.quality import polnear_body, polnear_dir

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "results" / "facts_ner.tmp"
# A pronoun's antecedent must be named this close before it (about three paragraphs of news prose).
ANTECEDENT_CHARS = 1200
QUOTE_MARKS = "\"“”„«»"
# Baseline: extract_quotes of facts-1.2 (commit 9695129, before the issue-10 work) on this evaluator.
BASELINE = {"dev": 0.690, "heldout": 0.652}


def split_of(name: str) -> str:
    """'heldout' for about 20% of the files, fixed by the file name alone."""
    return "heldout" if hashlib.sha1(name.encode("utf-8")).digest()[0] < 52 else "dev"


@dataclass(frozen=True, slots=True)
class GoldQuote:
    start: int
    end: int
    quote: str
    source: str  # the annotated Source text ("he", "Trump", "a spokesman")
    kind: str  # named | pronoun | role | unresolved | unnamed
    speaker: str | None  # the named speaker, resolved for pronouns and roles


@dataclass(frozen=True, slots=True)
class GoldDoc:
    name: str
    text: str
    quotes: tuple[GoldQuote, ...]


_PRONOUNS = {"he", "she", "him", "her"}
_PERSON_ROLES = re.compile(
    r"^the\s+(?:[\w’'-]+\s+){0,4}?(?:senator|candidate|governor|congressman|congresswoman|president|nominee|"
    r"businessman|billionaire|mogul|mayor|secretary|speaker|chairman|chairwoman|leader|lawmaker|democrat|republican|"
    r"spokesman|spokeswoman|spokesperson|former|host|adviser|advisor|strategist|frontrunner|front-runner|"
    r"real estate mogul|reality star|star|judge|attorney|lawyer|official|aide|manager|director|founder|ceo|"
    r"executive|pastor|author|writer|activist|sheriff|officer|chief|justice|actor|rapper|singer|son|daughter|"
    r"wife|husband|father|mother|man|woman|veteran|physician|surgeon|neurosurgeon|doctor|representative|rep\.|"
    r"sen\.|gov\.)$",
    re.IGNORECASE,
)
_TITLES = {
    "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "rev", "prof", "president", "senator",
    "governor", "secretary", "former", "reporter", "gop", "democratic", "republican", "presidential", "candidate",
    "vice", "first", "lady", "speaker", "attorney", "general", "chief", "justice", "judge", "mayor", "sheriff",
    "congressman", "congresswoman", "pastor", "host", "anchor", "u.s.", "us", "house", "state", "of", "the", "staff",
}
_NOT_NAMES = {
    "i", "we", "they", "it", "you", "from", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "twitter", "facebook", "tv", "cnn", "msnbc", "fox",
}
_PREPOSITIONS = {"of", "for", "at", "from", "with", "to", "in", "on", "by", "about"}
_CAP = re.compile(r"^(?:[A-Z][\w’'.-]*|Mc\w+|de|De|van|Van|von|da|del|la|bin|al-\w+)$")


def _name_head(source: str) -> str | None:
    """The proper name heading a Source span, or None when its head is not a name."""
    s = re.sub(r"[’']s$", "", source.strip(" ,"))
    s = re.split(r",|\s+who\s|\s+whose\s|\s+\(|\s+—|\s+–|\s+-\s", s, maxsplit=1)[0].strip(" .:;\"“”")
    toks = s.split()
    if toks and not _CAP.match(toks[-1]):
        # "Robert Antonacci of the New York delegation": the name before a prepositional phrase
        m = re.match(r"(.+?)\s+(?:of|from|at|for|with)\s", s)
        if m and _CAP.match(m.group(1).split()[-1]):
            return _name_head(m.group(1))
    if not toks or not _CAP.match(toks[-1]) or toks[-1].isupper() and len(toks[-1]) > 3:
        return None
    if toks[-1].casefold() in _PRONOUNS | _NOT_NAMES:
        return None
    run: list[str] = []
    for i in range(len(toks) - 1, -1, -1):
        t = toks[i]
        if _CAP.match(t) or t == "of" and i > 0 and _CAP.match(toks[i - 1]) and run:
            run.append(t)
            continue
        if t.casefold() in _PREPOSITIONS:
            return None  # "a spokesman for Clinton": the head is the spokesman, not Clinton
        break
    name = list(reversed(run))
    # leading titles are not part of the name ("Sen. Ted Cruz", "Republican presidential candidate Donald Trump")
    while len(name) > 1 and name[0].casefold().strip(".") in _TITLES:
        name = name[1:]
    if not name or (len(name) == 1 and name[0].casefold().strip(".") in _TITLES):
        return None
    if "of" in name[1:]:
        i = len(name) - 1 - name[::-1].index("of")
        after = [t for t in name[i + 1 :] if t.casefold().strip(".") not in _TITLES]
        # "RNC Chief of Staff Katie Walsh": a name after the title; "Stephanie Hooton of Derry", "Phil Bryant
        # of Mississippi": the name ends before "of"
        name = after if len(after) >= 2 else name[: name.index("of", 1)]
    return " ".join(name)


_GROUP_WORDS = {
    "all", "none", "some", "both", "many", "most", "others", "several", "few", "each", "either", "neither",
    "democrats", "republicans", "conservatives", "liberals", "americans", "officials", "critics", "supporters",
    "polls", "voters", "experts", "analysts", "fact-checkers", "aides", "advisers", "reporters", "sources",
    "times", "post", "news", "journal", "party", "campaign", "committee", "department", "house", "court",
    "association", "council", "institute", "center", "centre", "university", "network", "cnn", "fox", "press",
    "reuters", "magazine", "foundation", "group", "pac", "inc", "msnbc", "nbc", "cbs", "abc", "ap", "blaze",
    "breitbart", "politico", "gallup", "pew", "research", "poll", "review", "today", "tribune", "watch",
    "administration", "agency", "bureau", "office", "senate", "congress", "city", "county", "state", "states",
}


def _person_like(name: str) -> bool:
    """A he/she antecedent must be a person: not a group word ("All", "Republicans") or an organisation
    ("New York Times", "Right Wing Watch")."""
    return not any(w.casefold().strip(".") in _GROUP_WORDS for w in name.split())


def _parse_ann(path: Path, text: str) -> tuple[dict[str, tuple[str, list[tuple[int, int]]]], list[dict[str, str]]]:
    spans: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    events: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        if parts[0].startswith("T") and " " in parts[1]:
            label, rest = parts[1].split(" ", 1)
            try:
                segs = [(int(a), int(b)) for a, b in (s.split() for s in rest.split(";"))]
            except ValueError:
                continue
            spans[parts[0]] = (label, segs)
        elif parts[0].startswith("E"):
            events.append(dict(x.split(":", 1) for x in parts[1].split() if ":" in x))
    return spans, events


def load_polnear(root: Path | None = None, split: str = "all") -> list[GoldDoc]:
    """Gold direct quotes with resolved speakers for every article of the split (sorted by name)."""
    root = root or polnear_dir()
    anns: dict[str, Path] = {}
    for p in sorted((root / "attributions").glob("*.ann")):
        anns.setdefault(p.name.rsplit("_", 1)[0], p)
    docs = []
    for name, ann in sorted(anns.items()):
        if split != "all" and split_of(name) != split:
            continue
        tpath = root / "text" / f"{name}.txt"
        if not tpath.exists():
            continue
        text = tpath.read_text(encoding="utf-8")
        spans, events = _parse_ann(ann, text)

        def seg_text(tid: str, text: str = text, spans: dict = spans) -> str:
            return " ".join(text[a:b] for a, b in spans[tid][1])

        # every named source in the article, by position: the antecedents of pronouns and roles
        named: list[tuple[int, str]] = []
        for tid, (label, segs) in spans.items():
            if label == "Source":
                head = _name_head(seg_text(tid))
                if head:
                    named.append((segs[0][0], head))
        named.sort()
        quotes = []
        for ev in events:
            cid, sid = ev.get("Content"), ev.get("Source")
            if cid not in spans:
                continue
            body = seg_text(cid).strip()
            if not body or body[0] not in QUOTE_MARKS or len(re.findall(r"\w+", body)) < 3:
                continue
            start, end = spans[cid][1][0][0], spans[cid][1][-1][1]
            source = " ".join(seg_text(sid).split()) if sid in spans else ""
            head = _name_head(source) if source else None
            low = source.casefold()
            if head:
                kind, speaker = "named", head
            elif low in ("he", "she") or _PERSON_ROLES.match(low):
                pos = spans[sid][1][0][0]
                before = [(p, n) for p, n in named if p < pos and _person_like(n)]
                speaker = before[-1][1] if before else None
                # the text must keep that person in view: named (surname) within the last ANTECEDENT_CHARS
                if speaker and speaker.split()[-1] not in text[max(0, pos - ANTECEDENT_CHARS) : pos]:
                    speaker = None
                kind = ("pronoun" if low in ("he", "she") else "role") if speaker else "unresolved"
            else:
                kind, speaker = "unnamed", None
            quotes.append(GoldQuote(start, end, body, source, kind, speaker))
        docs.append(GoldDoc(name, text, tuple(sorted(quotes, key=lambda q: q.start))))
    return docs


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", s.casefold().replace("’", "").replace("'", ""))


def _grams(ws: Sequence[str], n: int = 4) -> set[tuple[str, ...]]:
    if len(ws) < n:
        return {tuple(ws)}
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def same_speaker(gold: str, pred: str | None) -> bool:
    """Same surname, and compatible first names when both give one."""
    if not pred:
        return False
    g = [w for w in _words(gold) if w not in _TITLES]
    p = [w for w in _words(pred) if w not in _TITLES]
    if not g or not p:
        return False
    if g[-1] != p[-1]:
        # "Hillary Rodham Clinton" / "Clinton" share the last word; a one-word gold inside a longer name too
        return len(g) == 1 and g[0] in p or len(p) == 1 and p[0] in g
    if len(g) >= 2 and len(p) >= 2:
        # a first name on both sides must agree ("Eric Trump" is not "Donald Trump"); a title or place before
        # the name on one side ("Cleveland Police Chief Calvin Williams") is not a first name
        return any(a[:3] == b[:3] for a in g[:-1] for b in p[:-1])
    return True


# -- the system side ------------------------------------------------------------------------------------------------

def system_text(doc: GoldDoc) -> str:
    """The text given to the extractors (extractors.facts.quality.polnear_body: no title line, clean_text)."""
    return polnear_body(doc.text)


def _ner(texts: Sequence[str], n_process: int = 1) -> list[tuple[list[tuple[int, int, str]], list[tuple[int, int]]]]:
    """(entities, sentences) per text, through the facts pipeline's spaCy model, cached on disk."""
    from extractors.facts.nlp import PIPELINE

    CACHE.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha1((PIPELINE + "\0" + t).encode("utf-8")).hexdigest() for t in texts]
    out: dict[str, Any] = {}
    todo = []
    for k, t in zip(keys, texts, strict=True):
        f = CACHE / f"{k}.json"
        if f.exists():
            out[k] = json.loads(f.read_text(encoding="utf-8"))
        else:
            todo.append((k, t))
    if todo:
        from extractors.facts.nlp import load_nlp

        nlp = load_nlp()
        kw: dict[str, int] = {"batch_size": 16}
        if n_process > 1:
            kw["n_process"] = n_process
        for (k, _), d in zip(todo, nlp.pipe([t for _, t in todo], **kw), strict=True):
            val = [[(e.start_char, e.end_char, e.label_) for e in d.ents], [(s.start_char, s.end_char) for s in d.sents if not s.text.isspace()]]
            (CACHE / f"{k}.json").write_text(json.dumps(val), encoding="utf-8")
            out[k] = val
    return [([tuple(e) for e in out[k][0]], [tuple(s) for s in out[k][1]]) for k in keys]  # type: ignore[misc]


@dataclass
class SpeakerReport:
    split: str
    documents: int = 0
    total: int = 0  # gold quotes with a named speaker
    found: int = 0
    right: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [right, total]
    excluded: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split, "documents": self.documents, "named_quotes": self.total, "found": self.found,
            "right_speaker": self.right, "accuracy": round(self.accuracy, 3),
            "by_kind": {k: {"right": r, "total": t, "accuracy": round(r / t, 3) if t else None}
                        for k, (r, t) in sorted(self.by_kind.items())},
            "excluded": dict(self.excluded),
        }


def evaluate(split: str = "heldout", *, n_process: int = 1, root: Path | None = None) -> SpeakerReport:
    """Speaker accuracy of extract_quotes (through extract_facts_from_spans) on one split of PolNeAR."""
    from extractors.facts import extract_facts_from_spans

    docs = load_polnear(root, split)
    texts = [system_text(d) for d in docs]
    rep = SpeakerReport(split, documents=len(docs))
    for doc, text, (ents, sents) in zip(docs, texts, _ner(texts, n_process), strict=True):
        facts = extract_facts_from_spans(doc.name, text, ents, sents)
        preds = [(q, _grams(_words(q.quote))) for q in facts.quotes]
        for g in doc.quotes:
            if g.speaker is None:
                rep.excluded[g.kind] += 1
                continue
            gg = _grams(_words(g.quote))
            best = max(preds, key=lambda p: len(gg & p[1]), default=None)
            hit = best[0] if best is not None and gg & best[1] else None
            rep.total += 1
            rk = rep.by_kind.setdefault(g.kind, [0, 0])
            rk[1] += 1
            if hit is not None:
                rep.found += 1
            if hit is not None and same_speaker(g.speaker, hit.speaker):
                rep.right += 1
                rk[0] += 1
            else:
                got = "MISSED" if hit is None else repr(hit.speaker)
                rep.wrong.append(f"{doc.name}: [{g.kind} {g.source!r}] gold {g.speaker!r} got {got}: {g.quote[:70]!r}")
    return rep


def format_report(rep: SpeakerReport, verbose: bool = False) -> str:
    lines = [
        f"{rep.split}: {rep.documents} articles, {rep.total} direct quotes with a named speaker, "
        f"{rep.found} found, right speaker {rep.right}/{rep.total} = {rep.accuracy:.3f}",
        "  by kind: " + ", ".join(f"{k} {r}/{t}" for k, (r, t) in sorted(rep.by_kind.items())),
        "  left out (no named speaker): " + ", ".join(f"{k} {n}" for k, n in sorted(rep.excluded.items())),
    ]
    if verbose:
        lines += ["  WRONG " + w for w in rep.wrong]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Speaker accuracy of extract_quotes on PolNeAR (issue 10 §3).")
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default=None, help="default: dev and heldout")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every wrong or missed speaker")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--n-process", type=int, default=1)
    args = ap.parse_args(argv)
    if not polnear_dir().is_dir():
        print(f"PolNeAR not found at {polnear_dir()} (set NEWSWATCH_EVAL_DIR)", file=sys.stderr)
        return 2
    splits = [args.split] if args.split else ["dev", "heldout"]
    reps = [evaluate(s, n_process=args.n_process) for s in splits]
    if args.json:
        print(json.dumps([r.as_dict() for r in reps], indent=2))
    else:
        print("\n".join(format_report(r, args.verbose) for r in reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
