"""A warehouse of N articles over two years for the trend benchmark, built from real texts.

Texts are the real pages of ../shared/corpus/html (extracted with trafilatura through bench/dedup_corpus.py's
cache) and the seeds; every article's body is paragraphs of one real text plus a line of its own. The structure
follows what the pipeline stores:

* stories: sizes heavy-tailed (Zipf, a = 2, capped at 400: about 60 % single articles, mean ~4), coverage spread
  over the days after the story starts (exponential, mean 1 day, cap 30), start days with a weekly rhythm
  (weekends at 55 %) and ~25 news days a year on which many stories start (the spikes to find);
* outlets: 300, popularity Zipf (s = 0.8); 30 % of later articles of a story are syndicated copies of its first
  article (same text), run mostly by smaller outlets;
* entities: capitalised names found in the real texts, popularity Zipf (s = 1.1); each story has 3-8 core
  entities that its articles mention 1-3 times, plus 0-6 incidental names per article;
* three watches sharing the articles 60/30/10;
* a syndication edge (core.syndication_edges) from every copy to its original, with changes drawn from a hash of
  the copy's id (a quarter change the headline, a fifth the lede, a sixth add a figure, 0-2 added or removed
  sentences), so that the syndication views and their examples read rows at scale.

Rows go in through Arrow (no executemany); the Arrow tables are named gen_* so that no catalog view
(articles!) shadows them in the INSERT ... SELECT. Run: .venv/bin/python -m bench.trends_gen N DB
(`--edges DB` adds the edges to a warehouse generated before they were.)
"""

from __future__ import annotations

import json
import re
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.dedup_corpus import ensure_corpus
from warehouse.db import connect

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
END = datetime(2026, 11, 30, tzinfo=UTC)
DAYS = 730
N_OUTLETS = 300
WATCHES = ("politics", "health", "local")
WATCH_SHARE = (0.6, 0.3, 0.1)
CHUNK = 100_000  # articles per Arrow insert
ENTITY_RE = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})\b")
ENTITY_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT")


def real_texts() -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of every real text: the extracted corpus pages, then the seeds."""
    out = []
    for line in ensure_corpus().read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        paras = [p for p in d["text"].split("\n") if len(p.split()) >= 8]
        if len(paras) >= 3:
            out.append((d["title"], paras))
    for f in sorted(SEEDS.glob("0*.txt")):
        lines = [x.strip() for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
        paras = [p for p in lines[1:] if len(p.split()) >= 8]
        if len(paras) >= 3:
            out.append((lines[0], paras))
    return out


def entity_vocabulary(texts: list[tuple[str, list[str]]]) -> list[str]:
    names: dict[str, int] = {}
    stop = {"The", "This", "That", "But", "And", "In", "It", "He", "She", "They", "We", "A", "An", "On", "At", "For"}
    for _, paras in texts:
        for p in paras:
            for m in ENTITY_RE.findall(p):
                if m.split()[0] not in stop and len(m) > 3:
                    names[m] = names.get(m, 0) + 1
    return [n for n, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))]


def zipf_weights(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def generate(n_articles: int, db: str, seed: int = 20261201) -> dict:
    rng = np.random.default_rng(seed)
    t0 = time.monotonic()
    texts = real_texts()
    vocab = entity_vocabulary(texts)
    vocab_arr = pa.array(vocab)
    vocab_types = pa.array([ENTITY_TYPES[zlib.crc32(v.encode()) % len(ENTITY_TYPES)] for v in vocab])
    ent_w = zipf_weights(len(vocab), 1.1)
    outlets = [f"Outlet {i:03d}" for i in range(N_OUTLETS)]
    out_w = zipf_weights(N_OUTLETS, 0.8)
    copy_w = out_w[::-1].copy()  # copies run mostly by small outlets

    # story start days: weekly rhythm plus news days
    day_w = np.ones(DAYS)
    weekday = (np.arange(DAYS) + END.weekday() - DAYS + 1) % 7
    day_w[weekday >= 5] = 0.55
    news_days = rng.choice(DAYS, size=DAYS * 25 // 365, replace=False)
    day_w[news_days] *= rng.uniform(3, 8, size=len(news_days))
    day_w /= day_w.sum()

    # stories until n articles
    sizes = np.minimum(rng.zipf(2.0, size=n_articles), 400)
    cum = np.cumsum(sizes)
    n_stories = int(np.searchsorted(cum, n_articles) + 1)
    sizes = sizes[:n_stories]
    sizes[-1] -= int(cum[n_stories - 1] - n_articles)
    story_of = np.repeat(np.arange(n_stories), sizes)
    first_of_story = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank_in_story = np.arange(n_articles) - first_of_story[story_of]
    story_day = rng.choice(DAYS, size=n_stories, p=day_w)
    story_watch = rng.choice(len(WATCHES), size=n_stories, p=WATCH_SHARE)
    story_text = rng.integers(0, len(texts), size=n_stories)
    offset = np.where(rank_in_story == 0, 0, np.minimum(rng.exponential(1.0, n_articles).astype(int), 30))
    day = np.minimum(story_day[story_of] + offset, DAYS - 1)
    seconds = rng.integers(6 * 3600, 23 * 3600, size=n_articles)
    end_ts = int(END.timestamp())
    published = (end_ts - (DAYS - day) * 86400 + seconds).astype("int64")
    # an article's time must not precede its story's first article
    first_pub = published[first_of_story[story_of]]
    published = np.maximum(published, first_pub + np.where(rank_in_story == 0, 0, 60))
    is_copy = (rank_in_story > 0) & (rng.random(n_articles) < 0.30)
    source = np.where(is_copy, rng.choice(N_OUTLETS, size=n_articles, p=copy_w),
                      rng.choice(N_OUTLETS, size=n_articles, p=out_w))
    article_ids = np.array([f"{i:016x}" for i in range(n_articles)], dtype=object)
    story_ids = article_ids[first_of_story[story_of]]
    synd_ids = np.where(is_copy, story_ids, article_ids)

    # entities: core per story, incidental per article
    core_n = rng.integers(3, 9, size=n_stories)
    core_ent = [rng.choice(len(vocab), size=k, p=ent_w, replace=False) for k in core_n]

    con = connect(db)
    stats = {"articles": 0, "mentions": 0, "stories": n_stories}
    try:
        for lo in range(0, n_articles, CHUNK):
            hi = min(lo + CHUNK, n_articles)
            idx = np.arange(lo, hi)
            titles, bodies = [], []
            for i in idx:
                s = story_of[i]
                title, paras = texts[story_text[s]]
                if is_copy[i] or rank_in_story[i] == 0:
                    k = story_of[i]  # the original's text (copies carry the same body)
                    body = "\n".join(paras[: 2 + k % 5]) + f"\nStory {k}."
                    titles.append(title)
                else:
                    start = int(i % max(1, len(paras) - 2))
                    body = "\n".join(paras[start:start + 2 + i % 4]) + f"\nFollow-up {i}."
                    titles.append(f"{title} ({i % 97})")
                bodies.append(body)
            pub = pa.array(published[lo:hi] * 1_000_000, type=pa.timestamp("us", tz="UTC"))
            gen_articles = pa.table({  # noqa: F841 - read by name in the SQL below
                "article_id": pa.array(article_ids[lo:hi]),
                "watch": pa.DictionaryArray.from_arrays(pa.array(story_watch[story_of[lo:hi]].astype("int32")),
                                                        pa.array(WATCHES)),
                "url": pa.array([f"https://news{source[i]:03d}.test/a/{i}" for i in idx]),
                "source": pa.DictionaryArray.from_arrays(pa.array(source[lo:hi].astype("int32")), pa.array(outlets)),
                "title": pa.array(titles),
                "published_at": pub,
                "fetched_at": pub,
                "first_seen_at": pub,
                "text": pa.array(bodies),
                "word_count": pa.array([b.count(" ") + 1 for b in bodies], type=pa.int32()),
            })
            con.execute(
                "INSERT INTO core.articles (article_id, watch, url, canonical_url, source, title, published_at, "
                "published_origin, fetched_at, first_seen_at, fetch_status, text, raw_text, word_count, content_hash, "
                "revision) SELECT article_id, watch, url, url, source, title, published_at, 'page_meta', fetched_at, "
                "first_seen_at, 'ok', text, text, word_count, md5(text), 1 FROM gen_articles"
            )
            gen_groups = pa.table({  # noqa: F841 - read by name in the SQL below
                "article_id": pa.array(article_ids[lo:hi]),
                "syndication_id": pa.array(synd_ids[lo:hi]),
                "story_id": pa.array(story_ids[lo:hi]),
                "assigned_at": pub,
            })
            con.execute("INSERT INTO core.article_groups SELECT * FROM gen_groups")
            # mentions: the story's core entities (1-3 times each) and 0-6 incidental names
            m_article, m_entity, m_count = [], [], []
            extra_n = rng.integers(0, 7, size=hi - lo)
            extra = rng.choice(len(vocab), size=int(extra_n.sum()), p=ent_w)
            pos = 0
            for j, i in enumerate(idx):
                ents = core_ent[story_of[i]]
                more = extra[pos:pos + extra_n[j]]
                pos += extra_n[j]
                allents = np.unique(np.concatenate([ents, more]))
                m_article.append(np.full(len(allents), i))
                m_entity.append(allents)
                m_count.append(np.where(np.isin(allents, ents), 1 + (i + allents) % 3, 1))
            a_idx = np.concatenate(m_article)
            e_idx = np.concatenate(m_entity)
            reps = np.concatenate(m_count)
            a_idx, e_idx = np.repeat(a_idx, reps), np.repeat(e_idx, reps)
            seq = np.arange(len(a_idx)) - np.searchsorted(a_idx, a_idx)  # a_idx is sorted: 0, 1, ... per article
            gen_mentions = pa.table({  # noqa: F841 - read by name in the SQL below
                "article_id": pa.array(article_ids[a_idx]),
                "seq": pa.array(seq.astype("int32")),
                "entity": pa.DictionaryArray.from_arrays(pa.array(e_idx.astype("int32")), vocab_arr),
                "entity_type": pa.DictionaryArray.from_arrays(pa.array(e_idx.astype("int32")), vocab_types),
            })
            con.execute(
                "INSERT INTO core.entity_mentions SELECT article_id, seq, entity, entity_type, entity, 0, "
                "length(entity), entity FROM gen_mentions"
            )
            stats["articles"] += hi - lo
            stats["mentions"] += len(a_idx)
            print(f"  {hi:,} articles, {stats['mentions']:,} mentions ({time.monotonic() - t0:.0f} s)", flush=True)
        firsts = first_of_story
        gen_stories = pa.table({  # noqa: F841 - read by name in the SQL below
            "story_id": pa.array(article_ids[firsts]),
            "n": pa.array(sizes.astype("int32")),
        })
        con.execute(
            "INSERT INTO core.stories SELECT s.story_id, a.title, a.published_at, a.published_at, s.n, '{}', "
            "a.published_at, a.published_at FROM gen_stories s JOIN core.articles a ON a.article_id = s.story_id"
        )
        add_edges(con)
        from warehouse.dedup import rebuild_aggregates  # groups written here, not by the dedup stage

        rebuild_aggregates(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    stats["seconds"] = round(time.monotonic() - t0, 1)
    stats["texts"] = len(texts)
    stats["entities"] = len(vocab)
    return stats


# one edge per copy, its numbers and changes from bits of a hash of the copy's id (deterministic)
_EDGES = """
INSERT INTO core.syndication_edges
SELECT article_id, syndication_id, shared, shared, shared + added, shared + removed,
       shared / (shared + least(added, removed)), CAST((h >> 24) % 20 AS INTEGER),
       CAST(json_object(
           'headline_changed', (h >> 32) % 4 = 0, 'lede_changed', (h >> 34) % 5 = 0,
           'figures_added', CASE WHEN (h >> 36) % 6 = 0 THEN ['1400'] ELSE []::VARCHAR[] END,
           'figures_removed', CASE WHEN (h >> 38) % 9 = 0 THEN ['1,200'] ELSE []::VARCHAR[] END,
           'quotes_added', []::VARCHAR[], 'quotes_removed', []::VARCHAR[],
           'sentences_added', list_transform(range(added), i -> 'A sentence only in the copy.'),
           'sentences_removed', list_transform(range(removed), i -> 'A sentence only in the original.'),
           'sentences_edited', []::VARCHAR[]) AS JSON),
       'bench', assigned_at
FROM (SELECT article_id, syndication_id, assigned_at, hash(article_id) AS h,
             CAST(8 + hash(article_id) % 20 AS INTEGER) AS shared,
             CAST((hash(article_id) >> 8) % 3 AS INTEGER) AS added,
             CAST((hash(article_id) >> 16) % 3 AS INTEGER) AS removed
      FROM core.article_groups WHERE article_id <> syndication_id)
"""


def add_edges(con) -> int:
    """The edges of every copy (none when the warehouse has edges already); returns how many were added."""
    if con.execute("SELECT count(*) FROM core.syndication_edges").fetchone()[0]:
        return 0
    con.execute(_EDGES)
    return con.execute("SELECT count(*) FROM core.syndication_edges").fetchone()[0]


def main() -> None:
    if sys.argv[1] == "--edges":
        con = connect(sys.argv[2])
        try:
            print(f"{add_edges(con):,} edges added")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        return
    n = int(sys.argv[1].replace("_", "").replace("k", "000").replace("M", "000000"))
    db = sys.argv[2]
    if Path(db).exists():
        sys.exit(f"{db} exists; remove it first")
    stats = generate(n, db)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
