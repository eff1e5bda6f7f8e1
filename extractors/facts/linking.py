"""Cross-article reasoning over stored facts (pure): entity variants, quote clusters, conflicting claims.

Inputs and outputs are plain tuples/dicts so that this module needs neither spaCy nor DuckDB; the flow
reads the rows from the warehouse, calls these functions and writes the results back.

Aliases across articles are only made on evidence:
- acronym: an acronym defined in some article ("Independent Office for Police Conduct (IOPC)") names the same
  organisation in articles that use it bare; when definitions disagree the most frequent wins;
- misspelt acronym: an undefined acronym that is a known acronym with two adjacent letters swapped ("IPOC")
  and appears in an article that also names the organisation;
- person variant: two full names with the same surname whose first names are compatible (one is a prefix
  of the other's first three letters, "Angie"/"Angela"; or an abbreviation made of its letters in order,
  "Med"/"Meredydd"), which never appear together in one article (two people), and whose articles share
  at least two other entities (same context). The name used by more distinct texts wins, then the longer;
- case variant: names equal up to letter case.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

from newswatch.models import stable_id

_ACRO = re.compile(r"^[A-Z][A-Z&]{1,9}$")
_STOP = set(
    """the a an and or of to in on at by for with from as that this these those is are was were be been has
    have had it its their they them he she his her we our you not but also which who whom what when where while
    than then there here into over under about after before between during said says told would could should
    will may might can must did does done just only very more most some any all each other such same new one
    two three four five six seven eight nine ten year years""".split()
)


class _UF:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _swap_variant(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b or sorted(a) != sorted(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def compatible_first_names(a: str, b: str) -> bool:
    """'Angie'/'Angela' (shared first three letters), 'Med'/'Meredydd' (letters in order, same initial)."""
    a, b = a.casefold(), b.casefold()
    if a == b:
        return True
    if a[:1] != b[:1]:
        return False
    if len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3]:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and _is_subsequence(short, long)


def find_aliases(
    mentions: Iterable[Sequence[Any]], article_aliases: Iterable[Sequence[Any]]
) -> list[dict[str, Any]]:
    """Cross-article aliases from mentions (article_id, local_entity, type, surface, syndication_id, story_id)
    and per-article aliases (article_id, alias, entity, type, origin, evidence)."""
    mentions = list(mentions)
    ents_by_article: dict[str, set[str]] = defaultdict(set)
    texts_by_entity: dict[str, set[str]] = defaultdict(set)
    type_votes: dict[str, Counter[str]] = defaultdict(Counter)
    for article_id, entity, etype, _surface, synd, _story in mentions:
        ents_by_article[article_id].add(entity)
        texts_by_entity[entity].add(synd)
        type_votes[entity][etype] += 1

    def etype(e: str) -> str:
        return type_votes[e].most_common(1)[0][0] if type_votes.get(e) else "ORG"

    out: dict[str, dict[str, Any]] = {}

    # acronyms defined somewhere
    acro_defs: dict[str, Counter[str]] = defaultdict(Counter)
    acro_articles: dict[str, set[str]] = defaultdict(set)
    for article_id, alias, entity, _t, origin, _ev in article_aliases:
        if origin == "acronym" and _ACRO.match(alias):
            acro_defs[alias][entity] += 1
            acro_articles[alias].add(article_id)
    for acro, cnt in acro_defs.items():
        full = cnt.most_common(1)[0][0]
        out[acro.casefold()] = dict(alias=acro, entity=full, entity_type="ORG", origin="acronym",
                                    evidence=f"{full} ({acro}) in {len(acro_articles[acro])} article(s)",
                                    articles=len(acro_articles[acro]))
    # misspelt acronyms: bare all-caps entities that are a swap of a known acronym, next to that organisation
    for entity, arts in _articles_by_entity(mentions).items():
        if not _ACRO.match(entity) or entity in acro_defs:
            continue
        for acro, cnt in acro_defs.items():
            full = cnt.most_common(1)[0][0]
            if _swap_variant(entity, acro) and any(
                full in ents_by_article[a] or acro in ents_by_article[a] for a in arts
            ):
                out[entity.casefold()] = dict(
                    alias=entity, entity=full, entity_type="ORG", origin="variant",
                    evidence=f"{entity} is {acro} with two letters swapped, in an article naming {full}",
                    articles=len(arts),
                )
                break

    # person variants
    persons = [e for e in texts_by_entity if etype(e) == "PERSON" and len(e.split()) >= 2]
    by_surname: dict[str, list[str]] = defaultdict(list)
    for p in persons:
        by_surname[p.split()[-1].casefold()].append(p)
    arts_of = _articles_by_entity(mentions)
    uf = _UF()
    for _surname, names in by_surname.items():
        for a, b in combinations(sorted(names), 2):
            if not compatible_first_names(a.split()[0], b.split()[0]):
                continue
            if arts_of[a] & arts_of[b]:
                continue  # named side by side in one article: two people
            ctx_a = set().union(*(ents_by_article[x] for x in arts_of[a])) - {a}
            ctx_b = set().union(*(ents_by_article[x] for x in arts_of[b])) - {b}
            shared = ctx_a & ctx_b
            if len(shared) >= 2:
                uf.union(a, b)
    groups: dict[str, list[str]] = defaultdict(list)
    for p in persons:
        groups[uf.find(p)].append(p)
    for names in groups.values():
        if len(names) < 2:
            continue
        best = max(names, key=lambda n: (len(texts_by_entity[n]), len(n), n))
        for n in names:
            if n != best:
                out[n.casefold()] = dict(
                    alias=n, entity=best, entity_type="PERSON", origin="variant",
                    evidence=f"same surname, compatible first names, never together, shared context; "
                    f"{best} in {len(texts_by_entity[best])} text(s), {n} in {len(texts_by_entity[n])}",
                    articles=len(arts_of[n]),
                )
    # case variants
    by_fold: dict[str, list[str]] = defaultdict(list)
    for e in texts_by_entity:
        by_fold[e.casefold()].append(e)
    for fold, names in by_fold.items():
        if len(names) > 1 and fold not in out:
            best = max(names, key=lambda n: (len(texts_by_entity[n]), n))
            for n in names:
                if n != best:
                    out.setdefault(n.casefold() + "\x00" + n, dict(
                        alias=n, entity=best, entity_type=etype(best), origin="variant",
                        evidence="same name up to letter case", articles=len(arts_of[n])))
    # resolve chains (alias -> alias -> entity) and drop self-aliases
    final = {}
    for key, row in out.items():
        target = row["entity"]
        seen = {row["alias"].casefold()}
        while target.casefold() in out and target.casefold() not in seen:
            seen.add(target.casefold())
            target = out[target.casefold()]["entity"]
        if target != row["alias"]:
            final[key] = dict(row, entity=target)
    rows = sorted(final.values(), key=lambda r: (r["alias"], r["entity"]))
    # alias is the primary key: keep one row per alias
    dedup: dict[str, dict[str, Any]] = {}
    for r in rows:
        dedup.setdefault(r["alias"], r)
    return list(dedup.values())


def _articles_by_entity(mentions: Iterable[Sequence[Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for article_id, entity, *_ in mentions:
        out[entity].add(article_id)
    return out


def _norm_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold().replace("’", "'").replace("'", ""))


def cluster_quotes(quotes: Iterable[Sequence[Any]], *, min_words: int = 6, jaccard: float = 0.8) -> dict[str, str]:
    """Map quote_id -> cluster id for near-identical quotes (article_id, quote_id, quote, speaker).

    Two quotes are one when one's words appear contiguously in the other (a copy that cut or split the
    quote), or when they share at least `jaccard` of their distinct words (one word changed). Both need at
    least `min_words` words. Only quotes that end up in a cluster of two or more distinct ids are returned.
    """
    words: dict[str, list[str]] = {}
    for _article, qid, quote, _speaker in quotes:
        words.setdefault(qid, _norm_words(quote))
    index: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for qid, ws in words.items():
        for i in range(max(0, len(ws) - 3)):
            index[tuple(ws[i : i + 4])].add(qid)
    uf = _UF()
    checked: set[tuple[str, str]] = set()
    for ids in index.values():
        if len(ids) < 2 or len(ids) > 200:
            continue
        for a, b in combinations(sorted(ids), 2):
            if (a, b) in checked:
                continue
            checked.add((a, b))
            wa, wb = words[a], words[b]
            if min(len(wa), len(wb)) < min_words:
                continue
            short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
            s, lg = " " + " ".join(short) + " ", " " + " ".join(long) + " "
            sa, sb = set(wa), set(wb)
            if s in lg or len(sa & sb) / len(sa | sb) >= jaccard:
                uf.union(a, b)
    clusters: dict[str, list[str]] = defaultdict(list)
    for qid in words:
        clusters[uf.find(qid)].append(qid)
    out = {}
    for members in clusters.values():
        if len(members) > 1:
            cid = "c" + stable_id(*sorted(members))[:15]
            for m in members:
                out[m] = cid
    return out


def _terms(sentence: str) -> set[str]:
    out = set()
    for w in _norm_words(sentence):
        if len(w) < 3 or w.isdigit() or w in _STOP:
            continue
        # a crude stem: failed / failing / fails -> fail
        out.add(re.sub(r"(?:ing|ed|es|s)$", "", w) if len(w) > 5 else w)
    return out


def find_conflicts(
    facts: Iterable[Sequence[Any]], *, min_similarity: float = 0.3, min_shared: int = 4, max_postings: int = 300
) -> list[dict[str, Any]]:
    """The same claim with different values, from (kind, article_id, sentence, value) rows.

    Sentences of different articles that share at least `min_shared` content words and `min_similarity`
    of them (Jaccard) are taken to make the same claims. Values both sentences report are agreed and
    dropped; if exactly one value of a kind is left on each side (for figures: of the same counted noun),
    the two values conflict. A conflict's rows are every article on either side.
    """
    per_article: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for kind, article_id, sentence, value in facts:
        key = kind
        if kind == "figure":
            _num, _, noun = value.partition(" ")
            key = f"figure:{noun}"
        per_article[(article_id, sentence)][key].add(value)
    # Syndicated copies repeat sentences word for word: compare each distinct (sentence, values) once and
    # expand to its articles at the end. This keeps the pair count near the number of distinct claims.
    groups: dict[tuple[str, tuple], list[str]] = defaultdict(list)
    values_of: dict[tuple[str, tuple], dict[str, set[str]]] = {}
    for (article_id, sentence), vals in per_article.items():
        gkey = (sentence, tuple(sorted((k, tuple(sorted(v))) for k, v in vals.items())))
        groups[gkey].append(article_id)
        values_of[gkey] = vals
    sents = list(groups)
    terms = [_terms(g[0]) for g in sents]
    index: dict[str, list[int]] = defaultdict(list)
    for i, ts in enumerate(terms):
        for t in ts:
            index[t].append(i)
    pair_counts: Counter[tuple[int, int]] = Counter()
    for ids in index.values():
        if len(ids) > max_postings:
            continue  # a word in that many distinct sentences says nothing about a claim
        for a, b in combinations(ids, 2):
            pair_counts[(a, b)] += 1
    sides: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (i, j), shared in pair_counts.items():
        if shared < min_shared:
            continue
        ga, gb = sents[i], sents[j]
        arts_a, arts_b = groups[ga], groups[gb]
        if set(arts_a) == set(arts_b) and len(arts_a) == 1:
            continue  # one article does not contradict itself here
        ta, tb = terms[i], terms[j]
        sim = len(ta & tb) / len(ta | tb)
        if sim < min_similarity:
            continue
        va, vb = values_of[ga], values_of[gb]
        for key in set(va) & set(vb):
            only_a, only_b = va[key] - vb[key], vb[key] - va[key]
            if len(only_a) != 1 or len(only_b) != 1:
                continue
            x, y = next(iter(only_a)), next(iter(only_b))
            kind = key.split(":")[0]
            lo, hi = sorted((x, y))
            cid = stable_id(kind, lo, hi)
            claim = " ".join(w for w in _norm_words(ga[0]) if w in ta & tb or _stem_in(w, ta & tb))
            for arts, sent, val in ((arts_a, ga[0], x), (arts_b, gb[0], y)):
                for art in arts:
                    k = (cid, art, val)
                    prev = sides.get(k)
                    if prev is None or sim > prev["similarity"]:
                        sides[k] = dict(conflict_id=cid, kind=kind, claim=claim, article_id=art, value=val,
                                        sentence=sent, similarity=round(sim, 3))
    # one claim text per conflict: from its most similar pair
    best_claim: dict[str, tuple[float, str]] = {}
    for row in sides.values():
        cur = best_claim.get(row["conflict_id"])
        if cur is None or row["similarity"] > cur[0]:
            best_claim[row["conflict_id"]] = (row["similarity"], row["claim"])
    rows = [dict(r, claim=best_claim[r["conflict_id"]][1]) for r in sides.values()]
    return sorted(rows, key=lambda r: (r["conflict_id"], r["value"], r["article_id"]))


def _stem_in(word: str, stems: set[str]) -> bool:
    return (re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 5 else word) in stems
