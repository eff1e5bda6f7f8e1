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
* facts: the figures, periods and quotes the real extractor finds in the real texts, each article carrying those of
  its whole text (quote ids made per story); one fact run per article;
* a digest ledger: one written digest per watch and day, an item per story with coverage that day (an update when
  told before), every article of the day in it, the last day left untold.

Rows go in through Arrow (no executemany); the Arrow tables are named gen_* so that no catalog view
(articles!) shadows them in the INSERT ... SELECT. Run: .venv/bin/python -m bench.trends_gen N DB
(`--edges DB` adds the edges to a warehouse generated before they were, `--facts DB` the edges, the facts and the
digest ledger.)
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
from warehouse.facts import noun_head

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


def plan(n_articles: int, texts: list, vocab: list[str], seed: int = 20261201) -> dict:
    """The warehouse's shape, drawn from the seed: stories, days, outlets, copies, texts, core entities.

    generate() and add_facts() both call it, so that the facts added to a warehouse generated earlier fall on the
    same articles (the draws and their order must not change).
    """
    rng = np.random.default_rng(seed)
    ent_w = zipf_weights(len(vocab), 1.1)
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
    return dict(rng=rng, ent_w=ent_w, sizes=sizes, n_stories=n_stories, story_of=story_of,
                first_of_story=first_of_story, rank_in_story=rank_in_story, story_watch=story_watch,
                story_text=story_text, published=published, is_copy=is_copy, source=source,
                article_ids=article_ids, story_ids=story_ids, synd_ids=synd_ids, core_ent=core_ent)


def generate(n_articles: int, db: str, seed: int = 20261201) -> dict:
    t0 = time.monotonic()
    texts = real_texts()
    vocab = entity_vocabulary(texts)
    vocab_arr = pa.array(vocab)
    vocab_types = pa.array([ENTITY_TYPES[zlib.crc32(v.encode()) % len(ENTITY_TYPES)] for v in vocab])
    outlets = [f"Outlet {i:03d}" for i in range(N_OUTLETS)]
    pl = plan(n_articles, texts, vocab, seed)
    rng, ent_w, sizes, n_stories = pl["rng"], pl["ent_w"], pl["sizes"], pl["n_stories"]
    story_of, first_of_story, rank_in_story = pl["story_of"], pl["first_of_story"], pl["rank_in_story"]
    story_watch, story_text, published, is_copy = pl["story_watch"], pl["story_text"], pl["published"], pl["is_copy"]
    source, article_ids, story_ids, synd_ids = pl["source"], pl["article_ids"], pl["story_ids"], pl["synd_ids"]
    core_ent = pl["core_ent"]

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
            con.execute("INSERT INTO core.watch_articles SELECT watch, article_id, first_seen_at, NULL FROM gen_articles")
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
        stats["facts"] = add_facts(con, seed)
        stats["digests"] = add_digests(con)
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


def text_facts(texts: list) -> dict[str, list]:
    """The facts the real extractor finds in each real text, in text order.

    Returns rows per table (figures, periods, quotes), each row a dict of the table's columns plus `text`; a fact
    whose sentence is in no single paragraph (one that spans the paragraphs the generator joins) is left out.
    """
    from extractors.facts import extract_facts_batch

    facts = extract_facts_batch([(f"t{t}", "\n".join(paras)) for t, (_, paras) in enumerate(texts)])
    out: dict[str, list] = {"figures": [], "periods": [], "quotes": []}

    def in_a_paragraph(t: int, sentence: str) -> bool:
        probe = sentence.strip()[:60]
        return bool(probe) and any(probe in p for p in texts[t][1])

    for t, fx in enumerate(facts):
        for g in fx.figures:
            if in_a_paragraph(t, g.sentence):
                out["figures"].append(dict(text=t, value=g.value, noun=g.noun, noun_head=noun_head(g.noun),
                                           qualifier=g.qualifier, currency=g.currency, unit=g.unit, surface=g.surface,
                                           sentence=g.sentence))
        for r in fx.periods:
            if in_a_paragraph(t, r.sentence):
                out["periods"].append(dict(text=t, start_year=r.start_year, end_year=r.end_year,
                                           kind="year" if r.start_year == r.end_year else "range",
                                           surface=r.surface, sentence=r.sentence))
        for q in fx.quotes:
            if in_a_paragraph(t, q.sentence):
                out["quotes"].append(dict(text=t, quote_id=q.quote_id, quote=q.quote, speaker=q.speaker,
                                          local_speaker=q.speaker, speaker_surface=q.speaker_surface,
                                          speaker_type=q.speaker_type, sentence=q.sentence))
    return out


def _expand(rows: list[dict], text_of: np.ndarray) -> tuple[np.ndarray, ...]:
    """(article index, fact row index, seq) of every fact of each article's text (rows sorted by text here)."""
    rows.sort(key=lambda r: r["text"])  # stable: text order within a text
    keys = np.array([r["text"] for r in rows], dtype=np.int64)
    start = np.searchsorted(keys, text_of, "left")
    counts = np.searchsorted(keys, text_of, "right") - start
    a_idx = np.repeat(np.arange(len(text_of)), counts)
    seq = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return a_idx, np.repeat(start, counts) + seq, seq


def add_facts(con, seed: int = 20261201) -> dict:
    """Figures, periods and quotes for every article of a generated warehouse, and one fact run each.

    Each article carries the facts the real extractor found in its whole real text: a real warehouse stores
    whole articles, while the bodies generated are a few paragraphs (to keep the file small), so the facts of
    the whole text give the facts tables the size a real warehouse has. A quote's id is made per story
    (the same words quoted in one story are one quote, in another story another), so that the quote registry
    has as many quotes as a real warehouse would rather than the few hundred of the real texts.
    """
    if con.execute("SELECT count(*) FROM core.fact_runs").fetchone()[0]:
        return {}
    t0 = time.monotonic()
    texts = real_texts()
    vocab = entity_vocabulary(texts)
    n = con.execute("SELECT count(*) FROM core.articles").fetchone()[0]
    pl = plan(n, texts, vocab, seed)
    # the plan must be the one the warehouse was generated with
    sample = con.execute("SELECT article_id, story_id FROM core.article_groups USING SAMPLE 1000 ROWS").fetchall()
    index = {a: int(a, 16) for a, _ in sample}
    bad = [a for a, s in sample if pl["story_ids"][index[a]] != s]
    if bad:
        raise SystemExit(f"{len(bad)} of 1,000 sampled articles are not in the stories this seed draws")
    text_of = pl["story_text"][pl["story_of"]]
    found = text_facts(texts)
    ids = pl["article_ids"]
    stats = {}
    for table, rows in found.items():
        a_idx, f_idx, seq = _expand(rows, text_of)
        cols = {k: [r[k] for r in rows] for k in rows[0] if k != "text"}
        base = pa.table(cols).take(pa.array(f_idx))
        gen_facts = base.append_column("article_id", pa.array(ids[a_idx])).append_column(  # noqa: F841
            "seq", pa.array(seq.astype("int32"))).append_column("story", pa.array(pl["story_of"][a_idx]))
        names = [c for c in cols]
        select = ", ".join("substr(md5(quote_id || '/' || story), 1, 16)" if c == "quote_id" else c
                           for c in names)
        con.execute(f"INSERT INTO core.{table} (article_id, seq, {', '.join(names)}) "
                    f"SELECT article_id, seq, {select} FROM gen_facts")
        stats[table] = len(a_idx)
        print(f"  {table}: {len(a_idx):,} rows ({time.monotonic() - t0:.0f} s)", flush=True)
    con.execute("""
        INSERT INTO core.fact_runs (article_id, extractor, content_hash, extracted_at, entities, figures, periods,
                                    quotes, language)
        SELECT a.article_id, 'bench', a.content_hash, a.first_seen_at,
               coalesce(e.n, 0), coalesce(f.n, 0), coalesce(p.n, 0), coalesce(q.n, 0), 'en'
        FROM core.articles a
        LEFT JOIN (SELECT article_id, count(*) AS n FROM core.entity_mentions GROUP BY ALL) e USING (article_id)
        LEFT JOIN (SELECT article_id, count(*) AS n FROM core.figures GROUP BY ALL) f USING (article_id)
        LEFT JOIN (SELECT article_id, count(*) AS n FROM core.periods GROUP BY ALL) p USING (article_id)
        LEFT JOIN (SELECT article_id, count(*) AS n FROM core.quotes GROUP BY ALL) q USING (article_id)
    """)
    stats["seconds"] = round(time.monotonic() - t0, 1)
    return stats


# One digest per watch and day, sent at the end of the day, with one item per story that had coverage that day
# (an update when the story was told before) and every article of the day in its ledger; the last day is left
# untold, as it is between a run and the digest after it.
_DIGESTS = """
CREATE TEMP TABLE gen_day AS
SELECT w.watch, w.article_id, g.story_id, g.syndication_id, a.source, a.title,
       coalesce(a.published_at, a.first_seen_at) AS ts,
       CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) AS day
FROM core.watch_articles w JOIN core.articles a USING (article_id) JOIN core.article_groups g USING (article_id)
WHERE CAST(coalesce(a.published_at, a.first_seen_at) AS DATE) <
      (SELECT max(CAST(coalesce(published_at, first_seen_at) AS DATE)) FROM core.articles);
CREATE TEMP TABLE gen_items AS
SELECT 'bench-' || watch || '-' || strftime(day, '%Y%m%d') AS digest_id, watch, day, story_id,
       row_number() OVER (PARTITION BY watch, day ORDER BY count(*) DESC, story_id) AS position,
       day > min(day) OVER (PARTITION BY watch, story_id) AS is_update,
       arg_min(title, ts) AS title, arg_min(article_id, ts) AS lead_article_id, count(*) AS articles,
       count(*) FILTER (WHERE article_id <> syndication_id) AS copies, count(DISTINCT source) AS outlets
FROM gen_day GROUP BY watch, day, story_id;
INSERT INTO core.digests
SELECT digest_id, watch, day + INTERVAL 23 HOUR, day - INTERVAL 1 DAY + INTERVAL 23 HOUR, 'written', count(*),
       count(*) FILTER (WHERE is_update), sum(articles), 'newswatch: ' || watch || ', ' || strftime(day, '%d %b %Y'),
       '<' || digest_id || '@newswatch.invalid>', NULL, NULL, NULL, day + INTERVAL 23 HOUR
FROM gen_items GROUP BY digest_id, watch, day;
INSERT INTO core.digest_items
SELECT digest_id, position, story_id, is_update, title, lead_article_id, articles, copies, outlets, NULL
FROM gen_items;
INSERT INTO core.digest_articles
SELECT i.digest_id, d.article_id, d.story_id,
       CASE WHEN d.article_id = i.lead_article_id THEN 'lead' WHEN d.article_id <> d.syndication_id THEN 'copy'
            ELSE 'coverage' END,
       CASE WHEN d.article_id <> d.syndication_id THEN d.syndication_id END
FROM gen_day d JOIN gen_items i USING (watch, day, story_id);
DROP TABLE gen_items;
DROP TABLE gen_day;
"""


def add_digests(con) -> int:
    """The digest ledger of two years of daily digests (none when the warehouse has digests); returns how many."""
    if con.execute("SELECT count(*) FROM core.digests").fetchone()[0]:
        return 0
    con.execute(_DIGESTS)
    return con.execute("SELECT count(*) FROM core.digests").fetchone()[0]


def main() -> None:
    if sys.argv[1] in ("--edges", "--facts"):
        con = connect(sys.argv[2])
        try:
            print(f"{add_edges(con):,} edges added")
            if sys.argv[1] == "--facts":
                print(json.dumps(add_facts(con)))
                print(f"{add_digests(con):,} digests added")
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
