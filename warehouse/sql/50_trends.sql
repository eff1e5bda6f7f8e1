-- Trend views: attention over time, story timelines, entity trends, new entities, spikes, outlet coverage.
-- The views read pre-aggregated tables (core.trend_*) that warehouse/trends.py's refresh_aggregates keeps up to
-- date incrementally after stored batches (only the days and stories that changed are recomputed; at a million
-- articles the views computed from the base tables took seconds, see docs/benchmarks.md); docs/trends.md explains
-- the method.
-- An article's time is its publication time, else when newswatch first saw it; its day is that time's UTC date.
-- An article belongs to every watch that matched it (core.watch_articles, sql/12_watches.sql) and counts in each;
-- core.articles.watch (the watch that stored it first) is not used here.

CREATE SCHEMA IF NOT EXISTS core;

-- One slim row per watch and article with its day, story and text: the base of every view below (internal).
CREATE OR REPLACE VIEW core.article_days AS
SELECT
    a.article_id,
    w.watch,
    a.source,
    a.title,
    coalesce(g.story_id, a.article_id) AS story_id,
    coalesce(g.syndication_id, a.article_id) AS syndication_id,
    coalesce(a.published_at, a.first_seen_at) AS ran_at,
    CAST(timezone('UTC', coalesce(a.published_at, a.first_seen_at)) AS DATE) AS day
FROM core.watch_articles w
JOIN core.articles a USING (article_id)
LEFT JOIN core.article_groups g USING (article_id);


-- ---- pre-aggregated tables (maintained by warehouse/trends.py refresh_aggregates) ----------------------

-- What the aggregates were last computed from: one row per watch and article (compared with core.article_days
-- to find the articles, days and stories that changed since). It replaces core.trend_articles (one row per
-- article, from when an article had one watch); the trend tables are rebuilt whole after a schema change anyway.
DROP TABLE IF EXISTS core.trend_articles;
CREATE TABLE IF NOT EXISTS core.trend_watch_articles (
    watch           VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    syndication_id  VARCHAR NOT NULL,
    ran_at          TIMESTAMPTZ NOT NULL,
    day             DATE NOT NULL,
    PRIMARY KEY (watch, article_id)
);

-- The articles whose entity mentions or quote speakers cross-article linking re-canonicalised (an alias came,
-- went or changed its target) since the trend tables were last refreshed: written by warehouse/facts.py
-- write_links, read and emptied by each refresh, which recomputes these articles' days only. Linking rewrites
-- every alias after each run, so a signature of the alias table alone would rebuild every entity day each time.
CREATE TABLE IF NOT EXISTS core.relinked_articles (
    article_id      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.trend_attention (
    watch           VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    day             DATE NOT NULL,
    stories         BIGINT NOT NULL,
    texts           BIGINT NOT NULL,
    articles        BIGINT NOT NULL,
    outlets         BIGINT NOT NULL,
    new_stories     BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS core.trend_entity_days (
    watch           VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,
    entity_type     VARCHAR,
    day             DATE NOT NULL,
    stories         BIGINT NOT NULL,
    texts           BIGINT NOT NULL,
    articles        BIGINT NOT NULL,
    mentions        BIGINT NOT NULL,
    first_at        TIMESTAMPTZ NOT NULL,
    first_article_id VARCHAR NOT NULL,
    first_story_id  VARCHAR NOT NULL,
    first_source    VARCHAR NOT NULL,
    first_title     VARCHAR NOT NULL
);
-- the columns an entity series shares with attention (for `newswatch trends --entity` by day)
ALTER TABLE core.trend_entity_days ADD COLUMN IF NOT EXISTS outlets BIGINT;
ALTER TABLE core.trend_entity_days ADD COLUMN IF NOT EXISTS new_stories BIGINT;

-- An entity's weeks, counted from its articles like attention's weeks (distinct stories do not add up from
-- days): what `newswatch trends --entity X --by week` reads.
CREATE TABLE IF NOT EXISTS core.trend_entity_weeks (
    watch           VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,
    week            DATE NOT NULL,
    stories         BIGINT NOT NULL,
    new_stories     BIGINT NOT NULL,
    texts           BIGINT NOT NULL,
    articles        BIGINT NOT NULL,
    outlets         BIGINT NOT NULL,
    mentions        BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS core.trend_story_days (
    watch           VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    title           VARCHAR,
    day             DATE NOT NULL,
    articles        BIGINT NOT NULL,
    texts           BIGINT NOT NULL,
    outlets         BIGINT NOT NULL,
    sources         VARCHAR[],
    first_source    VARCHAR,
    first_at        TIMESTAMPTZ,
    is_first_day    BOOLEAN
);

CREATE TABLE IF NOT EXISTS core.trend_outlet_coverage (
    watch           VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    first_at        TIMESTAMPTZ NOT NULL,
    first_article_id VARCHAR NOT NULL,
    articles        BIGINT NOT NULL,
    copies          BIGINT NOT NULL,
    rank            BIGINT NOT NULL,
    is_first        BOOLEAN NOT NULL,
    lag             INTERVAL,
    first_source    VARCHAR,
    outlets         BIGINT NOT NULL
);

-- ---- attention ------------------------------------------------------------------------------------

CREATE OR REPLACE VIEW attention AS
SELECT watch, period, day, stories, texts, articles, outlets, new_stories FROM core.trend_attention;

COMMENT ON VIEW attention IS 'Attention per watch and day (period = ''day'') or ISO week (period = ''week''): stories, distinct texts and articles side by side. Syndicated copies count once as a story; a story counts on every day (or week) it gets coverage. Days without coverage have no row. Filter period first.';
COMMENT ON COLUMN attention.watch IS 'The watch (watch_articles.watch): an article matched by several watches counts in each.';
COMMENT ON COLUMN attention.period IS '''day'' or ''week'' (ISO weeks, starting Monday).';
COMMENT ON COLUMN attention.day IS 'The day, or the Monday of the week; UTC dates of publication time (first-seen time when undated).';
COMMENT ON COLUMN attention.stories IS 'Distinct stories with at least one article that day: the attention measure (copies and follow-ups of one event count once).';
COMMENT ON COLUMN attention.texts IS 'Distinct texts (syndication groups) that ran that day: an original and its copies count once.';
COMMENT ON COLUMN attention.articles IS 'Articles that ran that day, every copy counted.';
COMMENT ON COLUMN attention.outlets IS 'Distinct outlets (articles.source) with an article that day.';
COMMENT ON COLUMN attention.new_stories IS 'Stories whose first article ran that day (or week).';

-- ---- stories over time -------------------------------------------------------------------------

CREATE OR REPLACE VIEW story_timeline AS
SELECT watch, story_id, title, day, articles, texts, outlets, sources, first_source, first_at, is_first_day
FROM core.trend_story_days;

COMMENT ON VIEW story_timeline IS 'Each story day by day: one row per story and day with coverage, and who ran it first.';
COMMENT ON COLUMN story_timeline.watch IS 'The watch.';
COMMENT ON COLUMN story_timeline.story_id IS 'The story (stories.story_id).';
COMMENT ON COLUMN story_timeline.title IS 'Headline of the article that started the story.';
COMMENT ON COLUMN story_timeline.day IS 'UTC day of publication (first seen when undated).';
COMMENT ON COLUMN story_timeline.articles IS 'Articles of the story that ran that day, copies included.';
COMMENT ON COLUMN story_timeline.texts IS 'Distinct texts of the story that ran that day.';
COMMENT ON COLUMN story_timeline.outlets IS 'Distinct outlets covering the story that day.';
COMMENT ON COLUMN story_timeline.sources IS 'Those outlets, sorted.';
COMMENT ON COLUMN story_timeline.first_source IS 'Outlet of the story''s first article (any day).';
COMMENT ON COLUMN story_timeline.first_at IS 'When the story''s first article ran (publication time, else first seen).';
COMMENT ON COLUMN story_timeline.is_first_day IS 'True on the day the story started.';

-- ---- entities over time --------------------------------------------------------------------------

CREATE OR REPLACE VIEW entity_trends AS
SELECT watch, entity, entity_type, day, stories, texts, articles, mentions FROM core.trend_entity_days;

COMMENT ON VIEW entity_trends IS 'Attention per canonical entity, watch and day: how many stories and articles mention it (days without a mention have no row).';
COMMENT ON COLUMN entity_trends.watch IS 'The watch.';
COMMENT ON COLUMN entity_trends.entity IS 'Canonical entity name (entity_mentions.entity, cross-article aliases applied).';
COMMENT ON COLUMN entity_trends.entity_type IS 'Its most frequent type that day (PERSON, ORG, GPE, ...).';
COMMENT ON COLUMN entity_trends.day IS 'UTC day of publication (first seen when undated).';
COMMENT ON COLUMN entity_trends.stories IS 'Distinct stories with an article mentioning the entity that day.';
COMMENT ON COLUMN entity_trends.texts IS 'Distinct texts (copies once) mentioning it that day.';
COMMENT ON COLUMN entity_trends.articles IS 'Articles mentioning it that day, copies included.';
COMMENT ON COLUMN entity_trends.mentions IS 'Mentions in those articles (several per article possible).';

-- Scopes of a refresh: while the refresh runs (one transaction) they hold the (watch, entity) series, and for
-- spikes the day ranges, that changed, so that the two computed views below recompute only those; empty (as
-- every reader sees them) means everything.
CREATE TABLE IF NOT EXISTS core.trend_entity_scope (watch VARCHAR NOT NULL, entity VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS core.trend_spike_scope (
    watch VARCHAR NOT NULL, entity VARCHAR, lo DATE NOT NULL, hi DATE NOT NULL   -- entity NULL: the whole watch
);

CREATE OR REPLACE VIEW core.new_entities_computed AS
SELECT watch, entity, mode(entity_type) AS entity_type, min(day) AS first_day, min(first_at) AS first_at,
       arg_min(first_story_id, first_at) AS story_id, arg_min(first_article_id, first_at) AS article_id,
       arg_min(first_source, first_at) AS source, arg_min(first_title, first_at) AS title,
       arg_min(stories, day) AS first_day_stories, sum(articles)::BIGINT AS articles, count(*) AS days
FROM core.trend_entity_days t
WHERE NOT EXISTS (SELECT 1 FROM core.trend_entity_scope)
   OR EXISTS (SELECT 1 FROM core.trend_entity_scope k WHERE k.watch = t.watch AND k.entity = t.entity)
GROUP BY watch, entity;

CREATE TABLE IF NOT EXISTS core.trend_new_entities (
    watch           VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,
    entity_type     VARCHAR,
    first_day       DATE NOT NULL,
    first_at        TIMESTAMPTZ NOT NULL,
    story_id        VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    first_day_stories BIGINT NOT NULL,
    articles        BIGINT NOT NULL,
    days            BIGINT NOT NULL
);

CREATE OR REPLACE VIEW new_entities AS
SELECT watch, entity, entity_type, first_day, first_at, story_id, article_id, source, title, first_day_stories,
       articles, days
FROM core.trend_new_entities;

COMMENT ON VIEW new_entities IS 'When each entity first appeared in a watch, and the story that brought it: one row per watch and entity. Filter first_day for what is new.';
COMMENT ON COLUMN new_entities.watch IS 'The watch.';
COMMENT ON COLUMN new_entities.entity IS 'Canonical entity name.';
COMMENT ON COLUMN new_entities.entity_type IS 'Its most frequent type.';
COMMENT ON COLUMN new_entities.first_day IS 'UTC day of the first article mentioning it.';
COMMENT ON COLUMN new_entities.first_at IS 'Time of that first article (publication, else first seen).';
COMMENT ON COLUMN new_entities.story_id IS 'The story of that first article: what brought the entity in.';
COMMENT ON COLUMN new_entities.article_id IS 'That first article.';
COMMENT ON COLUMN new_entities.source IS 'Its outlet.';
COMMENT ON COLUMN new_entities.title IS 'Its headline.';
COMMENT ON COLUMN new_entities.first_day_stories IS 'Stories mentioning it on its first day.';
COMMENT ON COLUMN new_entities.articles IS 'Articles mentioning the entity so far.';
COMMENT ON COLUMN new_entities.days IS 'Days on which it was mentioned so far.';

-- ---- spikes ------------------------------------------------------------------------------------------
-- A day is a spike when its story count is abnormally high against the series' own trailing window:
-- robust z-score = (stories - median) / max(1.4826 * MAD, 1), median and MAD (median absolute deviation)
-- over the 28 days before the day (days without coverage count as 0; days before the watch's first
-- coverage are not counted), a spike when score >= 3.5 (Iglewicz and Hoaglin's cut-off for the modified
-- z-score) and stories >= 3 (minimum volume), with at least 7 days of history. 1.4826 makes MAD comparable
-- with a standard deviation; the floor of 1 keeps a quiet series (MAD 0) from calling every story a spike.
-- Only days with the minimum volume are candidates, so entities are scored on a handful of days each.

CREATE OR REPLACE VIEW core.spike_scores AS
WITH everything AS (   -- no scope: every series and day (see core.trend_spike_scope)
    SELECT NOT EXISTS (SELECT 1 FROM core.trend_spike_scope) AS yes
), all_series AS (
    SELECT watch, NULL::VARCHAR AS entity, day, stories FROM attention WHERE period = 'day'
    UNION ALL
    SELECT watch, entity, day, stories FROM entity_trends
), series AS (   -- in scope: the ranges' days and the 28 days before them (their windows)
    SELECT s.*, (SELECT yes FROM everything) OR EXISTS (
               SELECT 1 FROM core.trend_spike_scope r WHERE r.watch = s.watch
                  AND r.entity IS NOT DISTINCT FROM s.entity AND s.day BETWEEN r.lo AND r.hi) AS candidate
    FROM all_series s
    WHERE (SELECT yes FROM everything) OR EXISTS (
        SELECT 1 FROM core.trend_spike_scope r WHERE r.watch = s.watch
           AND r.entity IS NOT DISTINCT FROM s.entity AND s.day BETWEEN r.lo - 28 AND r.hi)
), watch_start AS (
    SELECT watch, min(day) AS first_day FROM core.trend_attention WHERE period = 'day' GROUP BY watch
), candidates AS (
    SELECT s.watch, s.entity, s.day, s.stories,
           CAST(least(28, s.day - greatest(w.first_day, s.day - 28)) AS INTEGER) AS history_days
    FROM series s JOIN watch_start w USING (watch)
    WHERE s.stories >= 3 AND s.candidate
), windows AS (   -- the non-zero days of each candidate's trailing window
    SELECT c.watch, c.entity, c.day, c.stories, c.history_days,
           list(p.stories) FILTER (WHERE p.stories IS NOT NULL) AS nonzero
    FROM candidates c
    LEFT JOIN series p
      ON p.watch = c.watch AND p.entity IS NOT DISTINCT FROM c.entity
     AND p.day >= c.day - c.history_days AND p.day < c.day
    WHERE c.history_days >= 7
    GROUP BY ALL
), filled AS (    -- ... plus a zero for each day of the window without coverage
    SELECT *, list_concat(coalesce(nonzero, []), list_resize([0]::BIGINT[], history_days - len(coalesce(nonzero, [])), 0))
              AS window_values
    FROM windows
), scored AS (
    SELECT *, list_median(window_values) AS baseline FROM filled
), mad AS (
    SELECT *, list_median(list_transform(window_values, x -> abs(x - baseline))) AS mad FROM scored
)
SELECT watch, entity, day, stories, baseline, (stories - baseline) / greatest(1.4826 * mad, 1.0) AS score,
       mad, history_days
FROM mad
WHERE (stories - baseline) / greatest(1.4826 * mad, 1.0) >= 3.5;

-- The scores above are recomputed by each refresh that changed anything, for the changed series from the first
-- changed day to 28 days after the last (a changed day moves the windows of the 28 days after it; a watch whose
-- first day moved is recomputed whole); the public view reads the stored result.
CREATE TABLE IF NOT EXISTS core.trend_spikes (
    watch           VARCHAR NOT NULL,
    entity          VARCHAR,
    day             DATE NOT NULL,
    stories         BIGINT NOT NULL,
    baseline        DOUBLE NOT NULL,
    score           DOUBLE NOT NULL,
    mad             DOUBLE NOT NULL,
    history_days    INTEGER NOT NULL
);

CREATE OR REPLACE VIEW spikes AS
SELECT watch, entity, day, stories, baseline, score, mad, history_days FROM core.trend_spikes;

COMMENT ON VIEW spikes IS 'Days on which a watch''s attention (entity NULL) or an entity''s is abnormally high against its own previous 28 days: robust z-score (stories - median) / max(1.4826 * MAD, 1) >= 3.5, with at least 3 stories and 7 days of history. See docs/trends.md.';
COMMENT ON COLUMN spikes.watch IS 'The watch.';
COMMENT ON COLUMN spikes.entity IS 'The entity whose attention spiked; NULL for the whole watch.';
COMMENT ON COLUMN spikes.day IS 'The day (UTC).';
COMMENT ON COLUMN spikes.stories IS 'Stories that day (attention.stories, or entity_trends.stories).';
COMMENT ON COLUMN spikes.baseline IS 'Median stories per day over the previous 28 days (days without coverage count as 0).';
COMMENT ON COLUMN spikes.score IS 'Robust z-score: (stories - baseline) / max(1.4826 * MAD, 1); a spike from 3.5.';
COMMENT ON COLUMN spikes.mad IS 'Median absolute deviation of the window from its median.';
COMMENT ON COLUMN spikes.history_days IS 'Days in the trailing window (28, fewer near the start of the watch; at least 7).';

-- ---- outlets ---------------------------------------------------------------------------------------

CREATE OR REPLACE VIEW outlet_coverage AS
SELECT watch, story_id, source, first_at, first_article_id, articles, copies, rank, is_first, lag, first_source,
       outlets
FROM core.trend_outlet_coverage;

COMMENT ON VIEW outlet_coverage IS 'Who covers each story: one row per story and outlet, in order of coverage, with who was first and how far behind the others were.';
COMMENT ON COLUMN outlet_coverage.watch IS 'The watch.';
COMMENT ON COLUMN outlet_coverage.story_id IS 'The story.';
COMMENT ON COLUMN outlet_coverage.source IS 'The outlet.';
COMMENT ON COLUMN outlet_coverage.first_at IS 'When this outlet first ran an article of the story.';
COMMENT ON COLUMN outlet_coverage.first_article_id IS 'That article.';
COMMENT ON COLUMN outlet_coverage.articles IS 'Articles of the story this outlet ran.';
COMMENT ON COLUMN outlet_coverage.copies IS 'How many of them are syndicated copies of another outlet''s (or its own earlier) text.';
COMMENT ON COLUMN outlet_coverage.rank IS '1 for the first outlet, then 2, 3... (ties by name).';
COMMENT ON COLUMN outlet_coverage.is_first IS 'True for the outlet that reported the story first.';
COMMENT ON COLUMN outlet_coverage.lag IS 'How long after the first outlet this one first covered the story (0 for the first).';
COMMENT ON COLUMN outlet_coverage.first_source IS 'The outlet that reported the story first.';
COMMENT ON COLUMN outlet_coverage.outlets IS 'Outlets covering the story.';

CREATE OR REPLACE VIEW core.outlet_copies_computed AS
SELECT s.source AS copy_source, o.source AS original_source, s.watch,
       count(*) AS copies,
       count(DISTINCT s.syndication_id) AS texts,
       to_seconds(median(epoch(s.ran_at) - epoch(o.ran_at))) AS median_lag,
       min(s.ran_at) AS first_copy_at,
       max(s.ran_at) AS last_copy_at
FROM core.trend_watch_articles s
-- the original is looked up as an article: it may belong to other watches than its copy
JOIN (SELECT article_id, source, coalesce(published_at, first_seen_at) AS ran_at FROM core.articles) o
  ON o.article_id = s.syndication_id
WHERE s.article_id <> s.syndication_id
GROUP BY s.source, o.source, s.watch;

CREATE TABLE IF NOT EXISTS core.trend_outlet_copies (
    copy_source     VARCHAR NOT NULL,
    original_source VARCHAR NOT NULL,
    watch           VARCHAR NOT NULL,
    copies          BIGINT NOT NULL,
    texts           BIGINT NOT NULL,
    median_lag      INTERVAL,
    first_copy_at   TIMESTAMPTZ,
    last_copy_at    TIMESTAMPTZ
);

CREATE OR REPLACE VIEW outlet_copies AS
SELECT copy_source, original_source, watch, copies, texts, median_lag, first_copy_at, last_copy_at
FROM core.trend_outlet_copies;

COMMENT ON VIEW outlet_copies IS 'Who copies whom: one row per (copying outlet, original outlet) pair and watch, counted from the syndication groups (see the syndication view).';
COMMENT ON COLUMN outlet_copies.copy_source IS 'The outlet that ran copies.';
COMMENT ON COLUMN outlet_copies.original_source IS 'The outlet whose original text it ran (may equal copy_source when an outlet reruns its own text).';
COMMENT ON COLUMN outlet_copies.watch IS 'The watch of the copies.';
COMMENT ON COLUMN outlet_copies.copies IS 'Articles of copy_source that copy a text first run by original_source.';
COMMENT ON COLUMN outlet_copies.texts IS 'Distinct original texts copied.';
COMMENT ON COLUMN outlet_copies.median_lag IS 'Median time between the original and the copy.';
COMMENT ON COLUMN outlet_copies.first_copy_at IS 'The earliest such copy.';
COMMENT ON COLUMN outlet_copies.last_copy_at IS 'The latest such copy.';

-- ---- freshness of the database being read ------------------------------------------------------------

CREATE OR REPLACE VIEW freshness AS
SELECT
    (SELECT try_cast(value AS TIMESTAMPTZ) FROM core.meta WHERE key = 'read_copy_published_at') AS published_at,
    (SELECT value FROM core.meta WHERE key = 'read_copy_source') AS source_db,
    (SELECT max(first_seen_at) FROM core.articles) AS latest_article_at,
    (SELECT max(started_at) FROM core.runs) AS latest_run_started_at,
    (SELECT try_cast(value AS TIMESTAMPTZ) FROM core.meta WHERE key = 'trends_refreshed_at') AS trends_refreshed_at;

COMMENT ON VIEW freshness IS 'How fresh this database is. In the read copy (<db>.read.duckdb, published after stored batches and at the end of a run) published_at says when it was copied; in the live file it is NULL.';
COMMENT ON COLUMN freshness.published_at IS 'When this read copy was published (UTC); NULL in the live database.';
COMMENT ON COLUMN freshness.source_db IS 'The live database this read copy was copied from; NULL in the live database.';
COMMENT ON COLUMN freshness.latest_article_at IS 'When the newest article was first stored.';
COMMENT ON COLUMN freshness.latest_run_started_at IS 'When the latest run started.';
COMMENT ON COLUMN freshness.trends_refreshed_at IS 'When the trend views (attention, spikes, ...) were last brought up to date (after stored batches and at the end of a run).';
