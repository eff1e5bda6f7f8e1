-- Syndication and story detection (owned by the dedup stage: warehouse/dedup.py, flows/dedup_stage.py).
-- core.fingerprints and core.article_groups are defined in 00_core.sql; this file adds the candidate index,
-- the verified copy edges, the stories and the public views syndication_edges, syndication and stories.
-- docs/dedup.md explains the method and every threshold.

CREATE SCHEMA IF NOT EXISTS core;

-- What the dedup stage last computed for an article: lets a rerun skip unchanged articles (idempotence)
-- and recompute when the text or the fingerprint algorithm changes.
CREATE TABLE IF NOT EXISTS core.dedup_state (
    article_id      VARCHAR PRIMARY KEY,
    version         VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL,
    units           INTEGER NOT NULL,
    words           INTEGER NOT NULL,
    computed_at     TIMESTAMPTZ NOT NULL
);

-- The simhash of each sentence unit (boilerplate removed), in text order: one row per article, so that
-- verification loads a candidate's units with one primary-key lookup.
CREATE TABLE IF NOT EXISTS core.article_units (
    article_id      VARCHAR PRIMARY KEY,
    simhashes       UBIGINT[] NOT NULL,
    -- the units that were learned boilerplate (shared by two or more otherwise different texts) when the
    -- article was fingerprinted: a later article compared with this one leaves them out without a query
    boilerplate     UBIGINT[] NOT NULL DEFAULT []
);
ALTER TABLE core.article_units ADD COLUMN IF NOT EXISTS boilerplate UBIGINT[] DEFAULT [];

-- The sentence half of the candidate lookup: the top 32 bits of each distinct unit simhash, indexed. A copy
-- shares sentences verbatim (same simhash) with its original. 32-bit keys keep the ART index shallow: cold
-- lookups at 30M keys took 10-20 ms against 60-80 ms for 64-bit keys (docs/dedup.md); a rare collision
-- only adds a candidate that verification then rejects.
CREATE TABLE IF NOT EXISTS core.unit_keys (
    key32           UINTEGER NOT NULL,
    article_id      VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS unit_keys_key32 ON core.unit_keys (key32);

-- The unit simhashes of each article's headline (the whole headline and each of its sentences, hashed as a body
-- unit is: extractors/fingerprint.py headline_simhashes): a body unit with the words of another text's
-- headline is a link teaser to it and no evidence of a copy (extractors/dedup.py link_teasers). Looked up once per
-- batch by joining the batch's unit simhashes (warehouse/dedup.py headline_labels), a hash join that scans the
-- table (1-3 rows per article; 15 ms per batch at 200k rows, 45 ms at 2M): no index, since that join does not
-- use one and an IN list of the batch's 7,500 constants was slower (60 ms at 2M rows).
CREATE TABLE IF NOT EXISTS core.headline_units (
    simhash         UBIGINT NOT NULL,
    article_id      VARCHAR NOT NULL
);

-- LSH band index of the whole-document simhash: four 16-bit bands, band_key = band number * 65536 + band
-- value. Two documents within 3 bits always share a band. The other half of the candidate lookup.
CREATE TABLE IF NOT EXISTS core.simhash_bands (
    band_key        UINTEGER NOT NULL,
    article_id      VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS simhash_bands_key ON core.simhash_bands (band_key);

-- Verified syndicated copies: article_id is a later copy of copy_of (the earlier article).
CREATE TABLE IF NOT EXISTS core.syndication_edges (
    article_id      VARCHAR NOT NULL,
    copy_of         VARCHAR NOT NULL,
    shared_units    INTEGER NOT NULL,
    narrative_units INTEGER NOT NULL,
    units_copy      INTEGER NOT NULL,
    units_original  INTEGER NOT NULL,
    shared_ratio    DOUBLE NOT NULL,
    distance        INTEGER NOT NULL,
    changes         JSON NOT NULL,
    version         VARCHAR NOT NULL,
    detected_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, copy_of)
);

-- Stories: coverage of one event. Members are the rows of core.article_groups with this story_id.
CREATE TABLE IF NOT EXISTS core.stories (
    story_id        VARCHAR PRIMARY KEY,
    title           VARCHAR NOT NULL,
    first_at        TIMESTAMPTZ NOT NULL,
    last_at         TIMESTAMPTZ NOT NULL,
    members         INTEGER NOT NULL,
    profile         JSON NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Why each article is in its story.
CREATE TABLE IF NOT EXISTS core.story_assignments (
    article_id      VARCHAR PRIMARY KEY,
    story_id        VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    similarity      DOUBLE,
    profile         JSON NOT NULL,
    assigned_at     TIMESTAMPTZ NOT NULL
);

-- Document frequency of story-profile terms over all articles that have a story profile: the idf
-- weights of story similarity (a name every article mentions says little; a rare one says a lot).
CREATE TABLE IF NOT EXISTS core.story_terms (
    term            VARCHAR PRIMARY KEY,
    df              INTEGER NOT NULL
);

-- Per-story aggregates behind the public view stories, and per-article copy-group positions behind the
-- view syndication: computing them at query time took 13 s and 18 s at 1M articles (docs/dedup.md). The dedup
-- stage recomputes the rows of every story and copy group a batch touches, in the batch's transaction
-- (warehouse/dedup.py refresh_aggregates, the same SELECTs narrowed to the touched keys), so they always equal
-- the from-scratch values.
-- Created from the current groups, so a warehouse made before these tables gets them filled on its first
-- connect (CREATE ... IF NOT EXISTS ... AS does not run the query when the table exists).
CREATE TABLE IF NOT EXISTS core.story_stats AS
SELECT g.story_id,
       min(coalesce(a.published_at, a.first_seen_at)) AS first_seen,
       max(coalesce(a.published_at, a.first_seen_at)) AS last_seen,
       count(DISTINCT g.article_id) AS article_count,
       count(DISTINCT a.source) AS outlet_count,
       count(DISTINCT g.syndication_id) AS text_count,
       min(a.first_seen_at) AS first_fetched,
       max(a.first_seen_at) AS last_fetched
FROM core.article_groups g JOIN core.articles a ON a.article_id = g.article_id
GROUP BY g.story_id;

CREATE TABLE IF NOT EXISTS core.syndication_members AS
SELECT syndication_id, article_id,
       row_number() OVER (PARTITION BY syndication_id ORDER BY ran_at, article_id) AS copy_rank,
       count(*) OVER (PARTITION BY syndication_id) AS group_size,
       -- NULL when the original is not a member, as the self-join of the old view gave
       ran_at - max(CASE WHEN article_id = syndication_id THEN ran_at END) OVER (PARTITION BY syndication_id) AS lag
FROM (
    SELECT g.syndication_id, g.article_id, coalesce(a.published_at, a.first_seen_at) AS ran_at
    FROM core.article_groups g JOIN core.articles a ON a.article_id = g.article_id
);

-- Keyed lookups for the refresh of the two tables above (warehouse/dedup.py group_members, refresh_aggregates):
-- the members of a batch's stories and copy groups, and their aggregate rows. Without these, every batch
-- scanned core.article_groups (0.4-1.2 s per batch at 1M articles); with them a refresh reads only the rows of
-- the batch's stories and groups. (core.article_groups is declared in 00_core.sql; the dedup stage is the one
-- that looks it up by story and copy group. DuckLake has no indexes: warehouse/db.py drops these there.)
CREATE INDEX IF NOT EXISTS article_groups_story ON core.article_groups (story_id);
CREATE INDEX IF NOT EXISTS article_groups_syndication ON core.article_groups (syndication_id);
CREATE INDEX IF NOT EXISTS story_stats_story ON core.story_stats (story_id);
CREATE INDEX IF NOT EXISTS syndication_members_syndication ON core.syndication_members (syndication_id);

-- ---- public views -------------------------------------------------------------------------------

CREATE OR REPLACE VIEW syndication_edges AS
SELECT
    e.article_id,
    e.copy_of,
    e.shared_ratio,
    e.distance,
    e.shared_units,
    e.narrative_units,
    e.units_copy,
    e.units_original,
    c.source AS copy_source,
    o.source AS original_source,
    c.title AS copy_title,
    o.title AS original_title,
    CAST(json_extract(e.changes, '$.headline_changed') AS BOOLEAN) AS headline_changed,
    CAST(json_extract(e.changes, '$.lede_changed') AS BOOLEAN) AS lede_changed,
    CAST(json_extract(e.changes, '$.figures_added') AS VARCHAR[]) AS figures_added,
    CAST(json_extract(e.changes, '$.figures_removed') AS VARCHAR[]) AS figures_removed,
    CAST(json_extract(e.changes, '$.quotes_added') AS VARCHAR[]) AS quotes_added,
    CAST(json_extract(e.changes, '$.quotes_removed') AS VARCHAR[]) AS quotes_removed,
    json_array_length(json_extract(e.changes, '$.sentences_added')) AS sentences_added,
    json_array_length(json_extract(e.changes, '$.sentences_removed')) AS sentences_removed,
    json_array_length(json_extract(e.changes, '$.sentences_edited')) AS sentences_edited,
    e.changes,
    e.detected_at
FROM core.syndication_edges e
LEFT JOIN core.articles c ON c.article_id = e.article_id
LEFT JOIN core.articles o ON o.article_id = e.copy_of;

COMMENT ON VIEW syndication_edges IS 'Verified syndicated copies: article_id is a later copy (possibly edited) of the earlier article copy_of, with what changed between them. An article can be a copy of several earlier copies of the same text.';
COMMENT ON COLUMN syndication_edges.article_id IS 'The later article (the copy).';
COMMENT ON COLUMN syndication_edges.copy_of IS 'The earlier article it copies (earliest published, else first seen).';
COMMENT ON COLUMN syndication_edges.shared_ratio IS 'Aligned sentence units divided by the unit count of the shorter article (0..1); a copy needs at least DedupSettings.min_shared_ratio.';
COMMENT ON COLUMN syndication_edges.distance IS 'Hamming distance (0..64) between the two whole-document simhashes; edited copies are often far above 3.';
COMMENT ON COLUMN syndication_edges.shared_units IS 'Sentence units aligned one-to-one between the two articles.';
COMMENT ON COLUMN syndication_edges.narrative_units IS 'Aligned units that are not mostly quotation (shared quotes alone do not make a copy).';
COMMENT ON COLUMN syndication_edges.units_copy IS 'Content units (sentences, boilerplate removed) of the copy.';
COMMENT ON COLUMN syndication_edges.units_original IS 'Content units of the original.';
COMMENT ON COLUMN syndication_edges.copy_source IS 'Outlet that ran the copy.';
COMMENT ON COLUMN syndication_edges.original_source IS 'Outlet that ran the original.';
COMMENT ON COLUMN syndication_edges.copy_title IS 'Headline of the copy.';
COMMENT ON COLUMN syndication_edges.original_title IS 'Headline of the original.';
COMMENT ON COLUMN syndication_edges.headline_changed IS 'True when the headlines differ (ignoring case and punctuation).';
COMMENT ON COLUMN syndication_edges.lede_changed IS 'True when the first sentence of the copy has no counterpart in the original (a new lede).';
COMMENT ON COLUMN syndication_edges.figures_added IS 'Numbers in the copy that are not in the original, normalised (1,400 -> 1400).';
COMMENT ON COLUMN syndication_edges.figures_removed IS 'Numbers in the original that are not in the copy.';
COMMENT ON COLUMN syndication_edges.quotes_added IS 'Quoted passages only in the copy.';
COMMENT ON COLUMN syndication_edges.quotes_removed IS 'Quoted passages only in the original.';
COMMENT ON COLUMN syndication_edges.sentences_added IS 'Units of the copy with no counterpart in the original.';
COMMENT ON COLUMN syndication_edges.sentences_removed IS 'Units of the original dropped by the copy.';
COMMENT ON COLUMN syndication_edges.sentences_edited IS 'Aligned units whose words differ.';
COMMENT ON COLUMN syndication_edges.changes IS 'Everything above as JSON, with the texts of added, removed and edited sentences (sentences_edited: [{original, copy, overlap}]).';
COMMENT ON COLUMN syndication_edges.detected_at IS 'When the edge was found.';

CREATE OR REPLACE VIEW syndication AS
SELECT
    m.syndication_id,
    m.article_id,
    a.source,
    a.title,
    a.url,
    a.published_at,
    a.first_seen_at,
    CASE WHEN m.article_id = m.syndication_id THEN 'original' ELSE 'copy' END AS role,
    m.copy_rank,
    m.group_size,
    m.lag,
    CASE WHEN m.article_id = m.syndication_id THEN 1.0 ELSE e.shared_ratio END AS shared_ratio,
    CASE WHEN m.article_id = m.syndication_id THEN 0.0 ELSE 1.0 - e.shared_ratio END AS changed_ratio,
    CAST(json_extract(e.changes, '$.headline_changed') AS BOOLEAN) AS headline_changed,
    CAST(json_extract(e.changes, '$.figures_added') AS VARCHAR[]) AS figures_added,
    CAST(json_extract(e.changes, '$.figures_removed') AS VARCHAR[]) AS figures_removed
FROM core.syndication_members m
JOIN core.articles a ON a.article_id = m.article_id
LEFT JOIN core.syndication_edges e ON e.article_id = m.article_id AND e.copy_of = m.syndication_id;

COMMENT ON VIEW syndication IS 'Who ran which copy of a text, when, and how much it changed: one row per article, grouped by syndication_id (the original). Filter group_size > 1 for syndicated texts only.';
COMMENT ON COLUMN syndication.syndication_id IS 'Id of the original article of this text (earliest published, else first seen); equals articles.syndication_id.';
COMMENT ON COLUMN syndication.article_id IS 'The article (original or copy).';
COMMENT ON COLUMN syndication.source IS 'Outlet that ran it.';
COMMENT ON COLUMN syndication.title IS 'Headline as run by this outlet.';
COMMENT ON COLUMN syndication.url IS 'Where it ran.';
COMMENT ON COLUMN syndication.published_at IS 'Publication time (UTC), when known.';
COMMENT ON COLUMN syndication.first_seen_at IS 'When newswatch first saw it.';
COMMENT ON COLUMN syndication.role IS '''original'' for the earliest article of the text, ''copy'' for later ones.';
COMMENT ON COLUMN syndication.copy_rank IS '1 for the original, then 2, 3... in order of publication (else first seen).';
COMMENT ON COLUMN syndication.group_size IS 'How many articles ran this text.';
COMMENT ON COLUMN syndication.lag IS 'Time between the original and this article (publication time, else first seen).';
COMMENT ON COLUMN syndication.shared_ratio IS 'Share of units aligned with the original (1.0 for the original; NULL when this copy was linked through another copy rather than directly).';
COMMENT ON COLUMN syndication.changed_ratio IS '1 - shared_ratio: roughly how much of the shorter text was changed.';
COMMENT ON COLUMN syndication.headline_changed IS 'True when this copy ran a different headline from the original.';
COMMENT ON COLUMN syndication.figures_added IS 'Numbers in this copy that the original does not have.';
COMMENT ON COLUMN syndication.figures_removed IS 'Numbers of the original that this copy does not have.';

CREATE OR REPLACE VIEW stories AS
SELECT
    s.story_id,
    s.title,
    t.first_seen,
    t.last_seen,
    t.article_count,
    t.outlet_count,
    t.text_count,
    t.article_count - t.text_count AS copy_count,
    t.first_fetched,
    t.last_fetched,
    s.created_at,
    s.updated_at
FROM core.stories s
JOIN core.story_stats t ON t.story_id = s.story_id;

COMMENT ON VIEW stories IS 'Stories: coverage of one event by one or more outlets, syndicated copies included. Count events with this view, not with articles.';
COMMENT ON COLUMN stories.story_id IS 'Story id (the id of the article that started the story); equals articles.story_id.';
COMMENT ON COLUMN stories.title IS 'Headline of the article that started the story.';
COMMENT ON COLUMN stories.first_seen IS 'Earliest publication time of its articles (first seen when no date).';
COMMENT ON COLUMN stories.last_seen IS 'Latest publication time of its articles (first seen when no date).';
COMMENT ON COLUMN stories.article_count IS 'Articles in the story, syndicated copies included.';
COMMENT ON COLUMN stories.outlet_count IS 'Distinct outlets (articles.source) that covered the story.';
COMMENT ON COLUMN stories.text_count IS 'Distinct texts: articles after folding syndicated copies into their original.';
COMMENT ON COLUMN stories.copy_count IS 'Articles that are syndicated copies (article_count - text_count).';
COMMENT ON COLUMN stories.first_fetched IS 'When newswatch first saw any of its articles.';
COMMENT ON COLUMN stories.last_fetched IS 'When newswatch last added an article to it.';
COMMENT ON COLUMN stories.created_at IS 'When the story was created.';
COMMENT ON COLUMN stories.updated_at IS 'When an article last joined it.';
