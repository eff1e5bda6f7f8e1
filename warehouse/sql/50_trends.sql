-- Trend views: attention over time, story timelines, entity trends, new entities, spikes, outlet coverage.
-- Read-only views over the core tables (written by load, dedup and facts); docs/trends.md explains the method.
-- An article's time is its publication time, else when newswatch first saw it; its day is that time's UTC date.
-- Articles belong to one watch (articles.watch).

CREATE SCHEMA IF NOT EXISTS core;

-- One slim row per article with its day, story and text: the base of every view below (internal).
CREATE OR REPLACE VIEW core.article_days AS
SELECT
    a.article_id,
    a.watch,
    a.source,
    a.title,
    coalesce(g.story_id, a.article_id) AS story_id,
    coalesce(g.syndication_id, a.article_id) AS syndication_id,
    coalesce(a.published_at, a.first_seen_at) AS ran_at,
    CAST(timezone('UTC', coalesce(a.published_at, a.first_seen_at)) AS DATE) AS day
FROM core.articles a
LEFT JOIN core.article_groups g USING (article_id);

-- ---- attention ------------------------------------------------------------------------------------

CREATE OR REPLACE VIEW attention AS
WITH story_first AS (
    SELECT story_id, min(day) AS first_day FROM core.article_days GROUP BY story_id
), d AS (
    SELECT a.*, date_trunc('week', a.day)::DATE AS week, f.first_day
    FROM core.article_days a JOIN story_first f USING (story_id)
)
SELECT watch, 'day' AS period, day, count(DISTINCT story_id) AS stories,
       count(DISTINCT syndication_id) AS texts, count(*) AS articles, count(DISTINCT source) AS outlets,
       count(DISTINCT story_id) FILTER (WHERE first_day = day) AS new_stories
FROM d
GROUP BY watch, day
UNION ALL
SELECT watch, 'week' AS period, week AS day, count(DISTINCT story_id) AS stories,
       count(DISTINCT syndication_id) AS texts, count(*) AS articles, count(DISTINCT source) AS outlets,
       count(DISTINCT story_id) FILTER (WHERE date_trunc('week', first_day)::DATE = week) AS new_stories
FROM d
GROUP BY watch, week;

COMMENT ON VIEW attention IS 'Attention per watch and day (period = ''day'') or ISO week (period = ''week''): stories, distinct texts and articles side by side. Syndicated copies count once as a story; a story counts on every day (or week) it gets coverage. Days without coverage have no row. Filter period first.';
COMMENT ON COLUMN attention.watch IS 'The watch (articles.watch).';
COMMENT ON COLUMN attention.period IS '''day'' or ''week'' (ISO weeks, starting Monday).';
COMMENT ON COLUMN attention.day IS 'The day, or the Monday of the week; UTC dates of publication time (first-seen time when undated).';
COMMENT ON COLUMN attention.stories IS 'Distinct stories with at least one article that day: the attention measure (copies and follow-ups of one event count once).';
COMMENT ON COLUMN attention.texts IS 'Distinct texts (syndication groups) that ran that day: an original and its copies count once.';
COMMENT ON COLUMN attention.articles IS 'Articles that ran that day, every copy counted.';
COMMENT ON COLUMN attention.outlets IS 'Distinct outlets (articles.source) with an article that day.';
COMMENT ON COLUMN attention.new_stories IS 'Stories whose first article ran that day (or week).';

-- ---- stories over time -------------------------------------------------------------------------

CREATE OR REPLACE VIEW story_timeline AS
WITH s AS (
    SELECT story_id, min(ran_at) AS first_at, arg_min(source, (ran_at, article_id)) AS first_source,
           arg_min(title, (ran_at, article_id)) AS first_title
    FROM core.article_days GROUP BY story_id
)
SELECT a.watch, a.story_id, coalesce(st.title, s.first_title) AS title, a.day,
       count(*) AS articles, count(DISTINCT a.syndication_id) AS texts, count(DISTINCT a.source) AS outlets,
       list(DISTINCT a.source ORDER BY a.source) AS sources,
       s.first_source, s.first_at,
       a.day = CAST(timezone('UTC', s.first_at) AS DATE) AS is_first_day
FROM core.article_days a
JOIN s USING (story_id)
LEFT JOIN core.stories st ON st.story_id = a.story_id
GROUP BY a.watch, a.story_id, st.title, s.first_title, a.day, s.first_source, s.first_at;

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
WITH m AS (   -- one row per (article, entity): several mentions in one article count once
    SELECT article_id, entity, arg_min(entity_type, seq) AS entity_type, count(*) AS mentions
    FROM core.entity_mentions GROUP BY article_id, entity
)
SELECT a.watch, m.entity, mode(m.entity_type) AS entity_type, a.day,
       count(DISTINCT a.story_id) AS stories, count(DISTINCT a.syndication_id) AS texts, count(*) AS articles,
       sum(m.mentions)::BIGINT AS mentions
FROM m
JOIN core.article_days a USING (article_id)
GROUP BY a.watch, m.entity, a.day;

COMMENT ON VIEW entity_trends IS 'Attention per canonical entity, watch and day: how many stories and articles mention it (days without a mention have no row).';
COMMENT ON COLUMN entity_trends.watch IS 'The watch.';
COMMENT ON COLUMN entity_trends.entity IS 'Canonical entity name (entity_mentions.entity, cross-article aliases applied).';
COMMENT ON COLUMN entity_trends.entity_type IS 'Its most frequent type that day (PERSON, ORG, GPE, ...).';
COMMENT ON COLUMN entity_trends.day IS 'UTC day of publication (first seen when undated).';
COMMENT ON COLUMN entity_trends.stories IS 'Distinct stories with an article mentioning the entity that day.';
COMMENT ON COLUMN entity_trends.texts IS 'Distinct texts (copies once) mentioning it that day.';
COMMENT ON COLUMN entity_trends.articles IS 'Articles mentioning it that day, copies included.';
COMMENT ON COLUMN entity_trends.mentions IS 'Mentions in those articles (several per article possible).';

CREATE OR REPLACE VIEW new_entities AS
WITH m AS (
    SELECT DISTINCT article_id, entity, entity_type FROM core.entity_mentions
), e AS (
    SELECT a.watch, m.entity, mode(m.entity_type) AS entity_type,
           min(a.ran_at) AS first_at,
           arg_min(a.story_id, (a.ran_at, a.article_id)) AS story_id,
           arg_min(a.article_id, (a.ran_at, a.article_id)) AS article_id,
           arg_min(a.source, (a.ran_at, a.article_id)) AS source,
           arg_min(a.title, (a.ran_at, a.article_id)) AS title,
           count(DISTINCT a.story_id) AS stories,
           count(*) AS articles
    FROM m JOIN core.article_days a USING (article_id)
    GROUP BY a.watch, m.entity
)
SELECT watch, entity, entity_type, CAST(timezone('UTC', first_at) AS DATE) AS first_day, first_at, story_id,
       article_id, source, title, stories, articles
FROM e;

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
COMMENT ON COLUMN new_entities.stories IS 'Stories mentioning the entity so far.';
COMMENT ON COLUMN new_entities.articles IS 'Articles mentioning the entity so far.';

-- ---- spikes ------------------------------------------------------------------------------------------
-- A day is a spike when its story count is abnormally high against the series' own trailing window:
-- robust z-score = (stories - median) / max(1.4826 * MAD, 1), median and MAD (median absolute deviation)
-- over the 28 days before the day (days without coverage count as 0; days before the watch's first
-- coverage are not counted), a spike when score >= 3.5 (Iglewicz and Hoaglin's cut-off for the modified
-- z-score) and stories >= 3 (minimum volume), with at least 7 days of history. 1.4826 makes MAD comparable
-- with a standard deviation; the floor of 1 keeps a quiet series (MAD 0) from calling every story a spike.
-- Only days with the minimum volume are candidates, so entities are scored on a handful of days each.

CREATE OR REPLACE VIEW spikes AS
WITH series AS (
    SELECT watch, NULL::VARCHAR AS entity, day, stories FROM attention WHERE period = 'day'
    UNION ALL
    SELECT watch, entity, day, stories FROM entity_trends
), watch_start AS (
    SELECT watch, min(day) AS first_day FROM core.article_days GROUP BY watch
), candidates AS (
    SELECT s.watch, s.entity, s.day, s.stories,
           CAST(least(28, s.day - greatest(w.first_day, s.day - 28)) AS INTEGER) AS history_days
    FROM series s JOIN watch_start w USING (watch)
    WHERE s.stories >= 3
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
WITH per_outlet AS (
    SELECT watch, story_id, source, min(ran_at) AS first_at, count(*) AS articles,
           count(*) FILTER (WHERE article_id <> syndication_id) AS copies,
           arg_min(article_id, (ran_at, article_id)) AS first_article_id
    FROM core.article_days
    GROUP BY watch, story_id, source
)
SELECT watch, story_id, source, first_at, first_article_id, articles, copies,
       row_number() OVER w AS rank,
       row_number() OVER w = 1 AS is_first,
       first_at - first_value(first_at) OVER w AS lag,
       first_value(source) OVER w AS first_source,
       count(*) OVER (PARTITION BY watch, story_id) AS outlets
FROM per_outlet
WINDOW w AS (PARTITION BY watch, story_id ORDER BY first_at, source);

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

CREATE OR REPLACE VIEW outlet_copies AS
SELECT s.source AS copy_source, o.source AS original_source, a.watch,
       count(*) AS copies,
       count(DISTINCT s.syndication_id) AS texts,
       to_seconds(median(epoch(s.ran_at) - epoch(o.ran_at))) AS median_lag,
       min(s.ran_at) AS first_copy_at,
       max(s.ran_at) AS last_copy_at
FROM (SELECT g.article_id, g.syndication_id, a.source, coalesce(a.published_at, a.first_seen_at) AS ran_at
      FROM core.article_groups g JOIN core.articles a USING (article_id)
      WHERE g.article_id <> g.syndication_id) s
JOIN (SELECT article_id, source, coalesce(published_at, first_seen_at) AS ran_at FROM core.articles) o
  ON o.article_id = s.syndication_id
JOIN core.articles a ON a.article_id = s.article_id
GROUP BY s.source, o.source, a.watch;

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
    (SELECT max(started_at) FROM core.runs) AS latest_run_started_at;

COMMENT ON VIEW freshness IS 'How fresh this database is. In the read copy (<db>.read.duckdb, published after each stored batch) published_at says when it was copied; in the live file it is NULL.';
COMMENT ON COLUMN freshness.published_at IS 'When this read copy was published (UTC); NULL in the live database.';
COMMENT ON COLUMN freshness.source_db IS 'The live database this read copy was copied from; NULL in the live database.';
COMMENT ON COLUMN freshness.latest_article_at IS 'When the newest article was first stored.';
COMMENT ON COLUMN freshness.latest_run_started_at IS 'When the latest run started.';
