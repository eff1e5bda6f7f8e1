"""Labelled evaluation data for syndication and story detection, generated deterministically from a seed.

Inputs: the five seeds (ground truth in docs/dedup.md) and real texts extracted once from
../shared/corpus/html (bench/dedup_data/corpus.jsonl, see bench/dedup_corpus.py). From each real text we
make realistic copies run by other outlets (new lede, inserted teaser lines, dropped or reordered paragraphs,
changed figures, new headline, truncated versions, lightly rewritten sentences) and hard negatives:

* same outlet template: every outlet wraps its articles in the same footer sentences and teaser style;
* same topic: the two halves of one long article, run as two different articles (no shared sentence);
* shared quotes: two different articles quoting the same statement verbatim;
* follow-ups: a later, different article that reuses two background paragraphs of an earlier one.

Copies include hard positives too: heavy rewrites (most paragraphs edited) and short briefs (three paragraphs).

Each generated document carries its true copy family (`family`) and story (`story`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from extractors.fingerprint import segment
from newswatch.models import stable_id

CORPUS: Path | None = None  # default: bench.dedup_corpus.ensure_corpus() (built from ../shared/corpus/html)
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
# Real English news bodies with paragraphs (US politics 2015-2016: many articles on the same debates, the hard
# case for false copies); read at run time, never copied (../shared/eval/README.md).
EVAL_DIR = Path(os.environ.get("NEWSWATCH_EVAL_DIR") or Path(__file__).resolve().parents[2] / "shared" / "eval")
POLNEAR_TEXT = EVAL_DIR / "polnear-train" / "text"
# Share of base texts (by a hash of their id) kept as the held-out part: never used to tune anything.
HELD_OUT_SHARE = 0.3
T0 = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)

OUTLETS = [
    (
        "Daily Bugle",
        "The Daily Bugle is owned by Bugle Media Group, which has published local news in the county since 1885. "
        "Our reporters cover courts, councils and schools across the region every day.",
        "READ MORE: {t}",
    ),
    (
        "Northern Echo Online",
        "This article was produced by our newsroom and is shared with partner titles in the network. "
        "Got a story for us? Contact the news desk by email and we will get back to you as soon as possible.",
        "NEWS: {t}",
    ),
    (
        "Rundschau",
        "Die Rundschau berichtet seit vielen Jahren unabhängig über Politik, Wirtschaft und Kultur in der Region. "
        "Für Hinweise erreichen Sie unsere Redaktion jederzeit über das Kontaktformular auf unserer Website.",
        "Lesen Sie auch: {t}",
    ),
    (
        "Wire Review",
        "Wire Review republishes reporting from agencies and partner newsrooms under licence for its readers. "
        "Corrections and clarifications are listed on a dedicated page that is updated every working day.",
        "Related: {t}",
    ),
    (
        "City Times",
        "City Times journalists follow the editors' code of practice and the decisions of the independent regulator. "
        "If you believe we have made a mistake, please write to the readers' editor with the details.",
        "ALSO: {t}",
    ),
]
CHROME = [
    "Advertisement",
    "Hide Ad",
    "Sign up to our newsletter",
    "Most Read",
    "Don't Miss",
    "Share this article",
]
QUOTES = [
    '"We are determined to get to the bottom of what happened and we will publish everything we find as soon '
    'as the review is complete," the spokesperson said in a statement released on Monday.',
    '"This is a significant step, but there is still a great deal of work to do before anyone can say the '
    'problem has been solved," she added when asked about the timetable for the next phase.',
]


@dataclass(frozen=True, slots=True)
class Doc:
    """One generated article with its labels."""

    doc_id: str
    title: str
    text: str
    source: str
    published_at: datetime | None
    first_seen_at: datetime
    family: str  # true syndication group: copies of one text share it
    story: str  # true story
    kind: str  # 'original', 'copy', 'seed', 'half', 'quote'
    ops: tuple[str, ...] = ()


def article_row(
    article_id: str,
    title: str,
    text: str,
    *,
    url: str,
    source: str,
    published_at: datetime | None,
    first_seen_at: datetime,
    watch: str = "eval",
) -> dict:
    """A core.articles row as the pipeline stores a fetched text (the benches and the dedup tests build theirs here)."""
    return {
        "article_id": article_id,
        "watch": watch,
        "url": url,
        "canonical_url": url,
        "source": source,
        "title": title,
        "published_at": published_at,
        "fetched_at": first_seen_at,
        "first_seen_at": first_seen_at,
        "fetch_status": "ok",
        "text": text,
        "raw_text": text,
        "word_count": len(text.split()),
        "content_hash": stable_id(title, text, length=32),
        "revision": 1,
    }


def split_of(key: str) -> str:
    """'held-out' or 'dev' for a text id: a fixed hash split (the same on every machine and run)."""
    h = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") / 2**32
    return "held-out" if h < HELD_OUT_SHARE else "dev"


def in_split(docs: list[dict], split: str | None) -> list[dict]:
    """The records of one split (`None`: all of them)."""
    return docs if split is None else [d for d in docs if split_of(d["id"]) == split]


def load_polnear(limit: int | None = 200, text_dir: Path = POLNEAR_TEXT) -> list[dict]:
    """PolNeAR article bodies as corpus records {"id", "title", "text"} (first line is the headline)."""
    out = []
    for f in sorted(text_dir.glob("*.txt"))[: limit if limit is not None else None]:
        lines = [ln.strip() for ln in f.read_text("utf-8").splitlines() if ln.strip()]
        if len(lines) < 6:
            continue
        out.append({"id": f"polnear:{f.stem}", "title": lines[0].rstrip("."), "text": "\n".join(lines[1:])})
    return out


def load_corpus(path: Path | None = CORPUS) -> list[dict]:
    if path is None:
        from bench.dedup_corpus import ensure_corpus

        path = ensure_corpus()
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _paras(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def _body_paras(text: str) -> list[str]:
    """Paragraphs that are body text (long enough to be sentences), used to size and transform a base."""
    return [p for p in _paras(text) if len(p.split()) >= 8]


_NUM = re.compile(r"\b\d[\d.,]*\b")


def _change_figures(rng: random.Random, paras: list[str]) -> list[str]:
    def bump(m: re.Match[str]) -> str:
        s = m.group(0)
        digits = s.replace(",", "").replace(".", "")
        if not digits.isdigit() or rng.random() < 0.5:
            return s
        return str(int(digits) + rng.choice([1, 2, 5, 10, 100]))

    return [_NUM.sub(bump, p) for p in paras]


def _rewrite(rng: random.Random, paras: list[str], share: float) -> list[str]:
    """Light copy-editing: in `share` of the paragraphs, delete, swap or insert one word in one sentence."""
    out = []
    for p in paras:
        words = p.split()
        if len(words) > 8 and rng.random() < share:
            i = rng.randrange(1, len(words) - 2)
            op = rng.choice(["del", "swap", "ins"])
            if op == "del":
                del words[i]
            elif op == "swap":
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                words.insert(i, rng.choice(["reportedly", "also", "now", "still", "indeed"]))
        out.append(" ".join(words))
    return out


def make_copy(
    rng: random.Random, title: str, text: str, others: list[str], outlet: tuple[str, str, str]
) -> tuple[str, str, tuple[str, ...]]:
    """An edited copy of a text as another outlet would run it: (title, text, operations applied)."""
    paras = _body_paras(text)
    ops = set(
        rng.sample(
            ["lede", "drop", "reorder", "figures", "truncate", "rewrite", "merge"], k=rng.randint(2, 4)
        )
    )
    ops.add("teasers")
    kind = rng.random()
    if kind < 0.15:
        ops = {"heavy_rewrite", "teasers", "figures"}  # hard positive: nearly every paragraph edited
    elif kind < 0.25:
        ops = {"brief", "teasers"}  # hard positive: a three-paragraph brief
    if "truncate" in ops:
        paras = paras[: max(3, int(len(paras) * rng.uniform(0.45, 0.7)))]
    if "drop" in ops and len(paras) > 4:
        drop = set(rng.sample(range(1, len(paras)), k=max(1, len(paras) // 5)))
        paras = [p for i, p in enumerate(paras) if i not in drop]
    if "reorder" in ops and len(paras) > 3:
        for _ in range(max(1, len(paras) // 4)):
            i = rng.randrange(1, len(paras) - 1)
            paras[i], paras[i + 1] = paras[i + 1], paras[i]
    if "figures" in ops:
        paras = _change_figures(rng, paras)
    if "brief" in ops:
        paras = paras[:3]
    if "rewrite" in ops:
        paras = _rewrite(rng, paras, 0.4)
    if "heavy_rewrite" in ops:
        paras = _rewrite(rng, _rewrite(rng, paras, 0.8), 0.8)
    if "merge" in ops and len(paras) > 3:
        i = rng.randrange(0, len(paras) - 1)
        paras[i : i + 2] = [paras[i] + " " + paras[i + 1]]
    if "lede" in ops:
        head = " ".join(title.split()[:10]).rstrip(".:")
        paras[0] = (
            f"{outlet[0]} has learned the details behind the report, {head.lower()}, and what it means now."
        )
    # teaser lines, ad markers, captions: page furniture that must not matter
    for _ in range(rng.randint(2, 4)):
        line = rng.choice([outlet[2].format(t=rng.choice(others)), rng.choice(CHROME), rng.choice(others)])
        paras.insert(rng.randrange(1, len(paras) + 1), line)
    new_title = title
    if rng.random() < 0.6:
        new_title = f"{title.split(':')[0]}: what we know" if rng.random() < 0.5 else f"{outlet[0]}: {title}"
        ops.add("headline")
    paras.append(outlet[1])  # outlet footer (template)
    return new_title, "\n".join(paras), tuple(sorted(ops))


def _wrap(rng: random.Random, text: str, others: list[str], outlet: tuple[str, str, str]) -> str:
    """An original as its own outlet runs it: teaser lines and the outlet footer around the body."""
    paras = _paras(text)
    for _ in range(rng.randint(1, 3)):
        paras.insert(rng.randrange(1, len(paras) + 1), outlet[2].format(t=rng.choice(others)))
    paras.append(outlet[1])
    return "\n".join(paras)


def seed_meta() -> dict[str, dict]:
    """seeds/seeds.toml by seed file name."""
    import tomllib

    return {s["file"]: s for s in tomllib.loads((SEEDS_DIR / "seeds.toml").read_text("utf-8"))["seed"]}


def seed_title_text(path: Path, meta: dict) -> tuple[str, str]:
    """A seed's headline and body: the first non-empty line, or seeds.toml's title for 002 (whose date residue is
    stripped)."""
    raw = path.read_text("utf-8")
    if meta.get("strip_prefix"):
        return meta["title"], raw[len(meta["strip_prefix"]) :]
    lines = raw.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip())
    return lines[first].strip(), "\n".join(lines[first + 1 :])


def seed_docs() -> list[Doc]:
    """The five seeds with their ground truth (001/002 one text; 000-002 one story, 003/004 another)."""
    meta = seed_meta()
    family = {"000": "s000", "001": "s001", "002": "s001", "003": "s003", "004": "s004"}
    story = {"000": "s2018", "001": "s2018", "002": "s2018", "003": "s2024", "004": "s2024"}
    out = []
    for f in sorted(SEEDS_DIR.glob("*.txt")):
        m = meta[f.name]
        title, text = seed_title_text(f, m)
        k = f.name[:3]
        pub = datetime.fromisoformat(m["published"]).astimezone(UTC)
        out.append(
            Doc(
                f"seed-{k}",
                title,
                text.strip(),
                m["site"],
                pub,
                pub + timedelta(hours=1),
                family[k],
                story[k],
                "seed",
            )
        )
    return out


def build(
    seed: int = 7,
    max_bases: int | None = None,
    corpus: list[dict] | None = None,
    span_days: int = 700,
    *,
    source: str | None = None,
    dated: bool = True,
    seeds: bool = True,
    copies: tuple[int, ...] = (0, 1, 1, 2, 3),
) -> list[Doc]:
    """The labelled set: seeds, real texts with copies, and hard negatives. Same seed -> same documents.

    Originals are published over span_days; a small span (e.g. 20) puts many unrelated stories inside one
    story window, which is the hard case for story grouping.
    source: one source for every document (e.g. "local file": a folder exported from a news database, or
    one outlet republishing), instead of one outlet per copy; outlets' footers and teasers stay in the text.
    dated=False: no publication dates, every document first seen in one run (ingested files); follow-ups
    are left out then, since only their date tells a follow-up from a copy with new paragraphs.
    copies: how many copies a text gets, drawn from these counts (at most 4: one outlet per copy).
    """
    rng = random.Random(seed)
    corpus = corpus if corpus is not None else load_corpus()
    # a base must be an article: five body paragraphs and five sentence units (a page of link teasers has
    # paragraphs but almost no units, and its "copies" share nothing an article would)
    bases = [d for d in corpus if len(_body_paras(d["text"])) >= 5 and len(segment(d["text"])) >= 5]
    if max_bases is not None:
        bases = bases[:max_bases]
    # every ninth text is kept aside as the fresh part of follow-up articles (so it appears nowhere else)
    fresh = [d for i, d in enumerate(bases) if i % 9 == 8]
    bases = [d for i, d in enumerate(bases) if i % 9 != 8]
    titles = [d["title"] for d in corpus]
    docs: list[Doc] = list(seed_docs()) if seeds else []
    for n, base in enumerate(bases):
        others = [t for t in titles if t != base["title"]]
        outlets = rng.sample(OUTLETS, k=len(OUTLETS))
        pub = T0 + timedelta(days=rng.randint(0, span_days), hours=rng.randint(0, 23))
        fam = f"b{n:03d}"
        paras = _body_paras(base["text"])
        if len(paras) >= 14 and rng.random() < 0.5:
            # same topic, different article: the two halves of a long text, run by two outlets a day apart
            half = len(paras) // 2
            for h, part in enumerate((paras[:half], paras[half:])):
                docs.append(
                    Doc(
                        f"{fam}-half{h}",
                        f"{base['title']} ({'part two' if h else 'first report'})",
                        _wrap(rng, "\n".join(part), others, outlets[h]),
                        outlets[h][0],
                        pub + timedelta(days=h),
                        pub + timedelta(days=h, hours=1),
                        f"{fam}h{h}",
                        fam,
                        "half",
                    )
                )
            continue
        text = base["text"]
        if n % 7 in (3, 4):
            # shared quotes: two consecutive bases quote the same statement verbatim
            text = text + "\n" + "\n".join(QUOTES)
        docs.append(
            Doc(
                fam,
                base["title"],
                _wrap(rng, text, others, outlets[0]),
                outlets[0][0],
                pub,
                pub + timedelta(hours=2),
                fam,
                fam,
                "original",
            )
        )
        for c in range(rng.choice(copies)):
            title, ctext, ops = make_copy(rng, base["title"], text, others, outlets[c + 1])
            delay = timedelta(hours=rng.uniform(0.5, 60))
            published: datetime | None = pub + delay
            if rng.random() < 0.15:
                published = None  # no date on the page: first seen decides
            # some copies are seen before their original (feeds are polled in any order)
            seen = pub + delay + timedelta(hours=rng.uniform(-6, 6))
            docs.append(
                Doc(f"{fam}-c{c}", title, ctext, outlets[c + 1][0], published, seen, fam, fam, "copy", ops)
            )
        if n % 5 == 2 and fresh and dated:
            # follow-up months later: a fresh text plus two background paragraphs of this one
            new = fresh.pop()
            nxt = _body_paras(new["text"])[:6]
            background = paras[1:3]
            later = pub + timedelta(days=rng.randint(45, 200))
            docs.append(
                Doc(
                    f"{fam}-followup",
                    f"Update: {new['title']}",
                    _wrap(rng, "\n".join(nxt[:3] + background + nxt[3:]), others, outlets[0]),
                    outlets[0][0],
                    later,
                    later + timedelta(hours=1),
                    f"{fam}f",
                    f"{fam}f",
                    "followup",
                )
            )
    if source is not None or not dated:
        docs = [_restamp(d, source, dated) for d in docs]
    return docs


def _restamp(d: Doc, source: str | None, dated: bool) -> Doc:
    """The same document under one shared source and/or without a publication date (seen in one run)."""
    from dataclasses import replace

    seen = d.first_seen_at if dated else T0 + timedelta(minutes=int(d.first_seen_at.timestamp()) % 997)
    return replace(
        d,
        source=source if source is not None else d.source,
        published_at=d.published_at if dated else None,
        first_seen_at=seen,
    )


def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
    """All unordered pairs of ids that share a label."""
    groups: dict[str, list[str]] = {}
    for k, v in labels.items():
        groups.setdefault(v, []).append(k)
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        members.sort()
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out


def pair_scores(truth: dict[str, str], pred: dict[str, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a predicted clustering against the truth (same keys)."""
    t, p = pairs(truth), pairs(pred)
    tp = len(t & p)
    prec = tp / len(p) if p else 1.0
    rec = tp / len(t) if t else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "true_pairs": len(t),
        "predicted_pairs": len(p),
        "correct_pairs": tp,
    }


def ari(truth: dict[str, str], pred: dict[str, str]) -> float:
    """Adjusted Rand index of two clusterings of the same items."""
    from collections import Counter
    from math import comb

    keys = sorted(truth)
    cont = Counter((truth[k], pred[k]) for k in keys)
    a = Counter(truth[k] for k in keys)
    b = Counter(pred[k] for k in keys)
    n = len(keys)
    sum_ij = sum(comb(v, 2) for v in cont.values())
    sum_a = sum(comb(v, 2) for v in a.values())
    sum_b = sum(comb(v, 2) for v in b.values())
    expected = sum_a * sum_b / comb(n, 2) if n > 1 else 0.0
    maximum = (sum_a + sum_b) / 2
    return round((sum_ij - expected) / (maximum - expected), 4) if maximum != expected else 1.0
