-- Facts: entity mentions, figures, periods, quotes, aliases, and the cross-source views built on them.
-- Written by warehouse/facts.py (store_facts replaces one article's rows; link/conflict tables are rebuilt by
-- flows/facts_stage.link_aliases). Idempotent: run on every connect.

CREATE SCHEMA IF NOT EXISTS core;

-- Which extractor version produced an article's facts (an upgrade recomputes instead of mixing versions).
CREATE TABLE IF NOT EXISTS core.fact_runs (
    article_id      VARCHAR PRIMARY KEY,
    extractor       VARCHAR NOT NULL,
    content_hash    VARCHAR,
    extracted_at    TIMESTAMPTZ NOT NULL,
    entities        INTEGER NOT NULL,
    figures         INTEGER NOT NULL,
    periods         INTEGER NOT NULL,
    quotes          INTEGER NOT NULL
);
-- The languages (issue 10 §4), declared once here: added to new warehouses and to those made before them.
ALTER TABLE core.fact_runs ADD COLUMN IF NOT EXISTS language VARCHAR;        -- from the text (py3langid); NULL when too short to tell
ALTER TABLE core.fact_runs ADD COLUMN IF NOT EXISTS skipped_reason VARCHAR;  -- why no facts were extracted (no model for the language), else NULL

CREATE TABLE IF NOT EXISTS core.entity_mentions (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    entity          VARCHAR NOT NULL,   -- canonical name after cross-article aliases
    entity_type     VARCHAR NOT NULL,
    surface         VARCHAR NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    local_entity    VARCHAR NOT NULL,   -- canonical name inside the article, before cross-article aliases
    PRIMARY KEY (article_id, seq)
);

CREATE TABLE IF NOT EXISTS core.figures (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    value           DOUBLE NOT NULL,
    noun            VARCHAR NOT NULL,
    noun_head       VARCHAR NOT NULL,
    qualifier       VARCHAR,
    currency        VARCHAR,
    unit            VARCHAR,
    surface         VARCHAR NOT NULL,
    sentence        VARCHAR NOT NULL,
    PRIMARY KEY (article_id, seq)
);

CREATE TABLE IF NOT EXISTS core.periods (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    start_year      INTEGER NOT NULL,
    end_year        INTEGER NOT NULL,
    kind            VARCHAR NOT NULL,   -- 'range' or 'year'
    surface         VARCHAR NOT NULL,
    sentence        VARCHAR NOT NULL,
    PRIMARY KEY (article_id, seq)
);

CREATE TABLE IF NOT EXISTS core.quotes (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    quote_id        VARCHAR NOT NULL,
    quote           VARCHAR NOT NULL,
    speaker         VARCHAR,
    local_speaker   VARCHAR,
    speaker_surface VARCHAR,
    speaker_type    VARCHAR,
    sentence        VARCHAR NOT NULL,
    PRIMARY KEY (article_id, seq)
);

-- Aliases found inside one article (acronym definitions, titles, surnames, user aliases).
CREATE TABLE IF NOT EXISTS core.article_aliases (
    article_id      VARCHAR NOT NULL,
    alias           VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,
    entity_type     VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL,
    evidence        VARCHAR
);

-- Cross-article aliases decided by link_aliases (rebuilt on each link).
CREATE TABLE IF NOT EXISTS core.entity_aliases (
    alias           VARCHAR PRIMARY KEY,
    entity          VARCHAR NOT NULL,
    entity_type     VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL,
    evidence        VARCHAR,
    articles        INTEGER,
    linked_at       TIMESTAMPTZ NOT NULL
);

-- Near-identical quotes (one copy's quote contains another's, or nearly all words shared) share a cluster.
CREATE TABLE IF NOT EXISTS core.quote_clusters (
    quote_id        VARCHAR PRIMARY KEY,
    cluster_id      VARCHAR NOT NULL
);

-- The same claim reported with different values (rebuilt by link_aliases, which runs after each load).
CREATE TABLE IF NOT EXISTS core.fact_conflicts (
    conflict_id     VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- 'period', 'year', 'figure'
    claim           VARCHAR NOT NULL,   -- words the two sentences share: what the claim is about
    article_id      VARCHAR NOT NULL,
    value           VARCHAR NOT NULL,
    sentence        VARCHAR NOT NULL,
    similarity      DOUBLE NOT NULL
);

-- ---- public views --------------------------------------------------------------------------

CREATE OR REPLACE VIEW fact_runs AS
SELECT r.article_id, r.extractor, r.language, r.skipped_reason, r.extracted_at,
       r.entities, r.figures, r.periods, r.quotes
FROM core.fact_runs r;

COMMENT ON VIEW fact_runs IS 'One row per article whose facts were extracted, or deliberately not (skipped_reason says why).';
COMMENT ON COLUMN fact_runs.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN fact_runs.extractor IS 'Facts extractor version (FACTS_VERSION); an upgrade recomputes.';
COMMENT ON COLUMN fact_runs.language IS 'Language of the text, detected with py3langid (NULL when too short to tell).';
COMMENT ON COLUMN fact_runs.skipped_reason IS 'Why no facts were extracted, e.g. ''no facts model for language de'', else NULL.';
COMMENT ON COLUMN fact_runs.extracted_at IS 'When the facts were extracted.';
COMMENT ON COLUMN fact_runs.entities IS 'Entity mentions stored for the article.';
COMMENT ON COLUMN fact_runs.figures IS 'Figures stored for the article.';
COMMENT ON COLUMN fact_runs.periods IS 'Periods and years stored for the article.';
COMMENT ON COLUMN fact_runs.quotes IS 'Quotes stored for the article.';

CREATE OR REPLACE VIEW fact_languages AS
SELECT coalesce(r.language, 'unknown') AS language, count(*) AS articles,
       count(*) FILTER (WHERE r.skipped_reason IS NULL) AS with_facts,
       count(*) FILTER (WHERE r.skipped_reason IS NOT NULL) AS without_facts,
       any_value(r.skipped_reason) AS skipped_reason
FROM core.fact_runs r
GROUP BY ALL;

COMMENT ON VIEW fact_languages IS 'Articles per detected language, and whether they got facts (docs/facts.md, Languages).';
COMMENT ON COLUMN fact_languages.language IS 'ISO 639-1 code detected from the text, or ''unknown''.';
COMMENT ON COLUMN fact_languages.articles IS 'Articles in that language with a fact run.';
COMMENT ON COLUMN fact_languages.with_facts IS 'Of those, articles whose facts were extracted.';
COMMENT ON COLUMN fact_languages.without_facts IS 'Of those, articles left without facts.';
COMMENT ON COLUMN fact_languages.skipped_reason IS 'Why they were left without facts (one reason per language).';

CREATE OR REPLACE VIEW entity_mentions AS
SELECT m.article_id, m.entity, m.entity_type, m.surface, m.start_char, m.end_char, m.local_entity
FROM core.entity_mentions m;

COMMENT ON VIEW entity_mentions IS 'Every named entity mention in an article''s cleaned text, with its canonical name.';
COMMENT ON COLUMN entity_mentions.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN entity_mentions.entity IS 'Canonical name: titles dropped, acronyms and surnames resolved, cross-article aliases applied (entity_aliases).';
COMMENT ON COLUMN entity_mentions.entity_type IS 'PERSON, ORG, GPE, LOC, NORP, FAC or EVENT (one type per canonical name in an article).';
COMMENT ON COLUMN entity_mentions.surface IS 'The mention as written, e.g. ''Mrs Senior'' or ''IOPC''.';
COMMENT ON COLUMN entity_mentions.start_char IS 'Start offset of the mention in articles.text.';
COMMENT ON COLUMN entity_mentions.end_char IS 'End offset (exclusive) of the mention in articles.text.';
COMMENT ON COLUMN entity_mentions.local_entity IS 'Canonical name inside the article only, before cross-article aliases.';

CREATE OR REPLACE VIEW figures AS
SELECT f.article_id, f.value, f.noun, f.qualifier, f.currency, f.sentence, f.unit, f.surface, f.noun_head
FROM core.figures f;

COMMENT ON VIEW figures IS 'Numbers reported in articles (digits or words, money, percentages) with what they count.';
COMMENT ON COLUMN figures.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN figures.value IS 'Normalised value: ''1,400'' -> 1400, ''£6m'' -> 6000000, ''Fourteen'' -> 14.';
COMMENT ON COLUMN figures.noun IS 'The counted noun phrase as written after the number, e.g. ''children'', ''separate allegations''.';
COMMENT ON COLUMN figures.qualifier IS 'Normalised qualifier: at least, at most, more than, less than, up to, nearly, around, exactly, only; NULL when none.';
COMMENT ON COLUMN figures.currency IS 'ISO 4217 code for money (GBP, USD, EUR, JPY); NULL otherwise.';
COMMENT ON COLUMN figures.sentence IS 'The sentence the figure was found in.';
COMMENT ON COLUMN figures.unit IS 'percent, years, months, weeks, days, ... when the figure measures one; NULL for counts.';
COMMENT ON COLUMN figures.surface IS 'The figure as written with its qualifier and noun, e.g. ''at least 1,400 children''.';
COMMENT ON COLUMN figures.noun_head IS 'Last word of the noun phrase, lower case: how conflicts decides that two figures count the same thing.';

CREATE OR REPLACE VIEW periods AS
SELECT p.article_id, p.start_year, p.end_year, p.sentence, p.kind, p.surface
FROM core.periods p;

COMMENT ON VIEW periods IS 'Year ranges and single years mentioned in articles (''between 1997 and 2013'', ''from 2004-11'', ''in 2014'').';
COMMENT ON COLUMN periods.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN periods.start_year IS 'First year of the period.';
COMMENT ON COLUMN periods.end_year IS 'Last year of the period (equal to start_year for a single year; a decade ''the 1990s'' is 1990-1999).';
COMMENT ON COLUMN periods.sentence IS 'The sentence the period was found in.';
COMMENT ON COLUMN periods.kind IS '''range'' for a span of years, ''year'' for a single year mention.';
COMMENT ON COLUMN periods.surface IS 'The period as written, e.g. ''between 1997 and 2013''.';

CREATE OR REPLACE VIEW quotes AS
SELECT q.article_id, q.speaker, q.quote, q.quote_id, coalesce(c.cluster_id, q.quote_id) AS quote_key,
       q.speaker_type, q.speaker_surface, q.sentence
FROM core.quotes q
LEFT JOIN core.quote_clusters c USING (quote_id);

COMMENT ON VIEW quotes IS 'Direct quotes (three words or more) in articles, with their speakers.';
COMMENT ON COLUMN quotes.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN quotes.speaker IS 'Canonical entity name of the speaker, or a role as written (''a South Yorkshire Police spokeswoman''); NULL when not attributed.';
COMMENT ON COLUMN quotes.quote IS 'The quoted words; parts split by an attribution and paragraphs of one quote are joined with a space.';
COMMENT ON COLUMN quotes.quote_id IS 'Hash of the quote''s lower-cased letters, digits and spaces: the same words in two copies give the same id.';
COMMENT ON COLUMN quotes.quote_key IS 'The quote''s cluster: near-identical quotes (one contains the other, or almost all words shared) share it.';
COMMENT ON COLUMN quotes.speaker_type IS 'PERSON, ORG or ROLE.';
COMMENT ON COLUMN quotes.speaker_surface IS 'The speaker as written in the attribution (''Mrs Senior'', ''she'' resolved, ''The IOPC'').';
COMMENT ON COLUMN quotes.sentence IS 'The sentence where the quote starts, with its attribution when it is in that sentence.';

CREATE OR REPLACE VIEW entity_aliases AS
SELECT alias, entity, entity_type, origin, NULL::VARCHAR AS article_id, evidence, articles
FROM core.entity_aliases
UNION ALL
SELECT alias, entity, entity_type, origin, article_id, evidence, 1 AS articles
FROM core.article_aliases;

COMMENT ON VIEW entity_aliases IS 'Alternative names of entities: per article (article_id set) and across articles (article_id NULL).';
COMMENT ON COLUMN entity_aliases.alias IS 'The alternative name as written (''IOPC'', ''Mrs Senior'', ''Angela Heal'', ''IPOC'').';
COMMENT ON COLUMN entity_aliases.entity IS 'The canonical name it stands for.';
COMMENT ON COLUMN entity_aliases.entity_type IS 'Type of the canonical entity.';
COMMENT ON COLUMN entity_aliases.origin IS 'Why: acronym (defined in text or initials), title, surname, variant (spelling/case/misspelt acronym), user (config).';
COMMENT ON COLUMN entity_aliases.article_id IS 'The article where the alias was found; NULL for a cross-article alias.';
COMMENT ON COLUMN entity_aliases.evidence IS 'Text or rule that supports the alias.';
COMMENT ON COLUMN entity_aliases.articles IS 'Number of articles where the alias was seen.';

-- Each article's time is its publication time, else when we first saw it; copies collapse by syndication_id.
-- Per watch through core.watch_articles: an article in two watches reports its figures in both.
CREATE OR REPLACE VIEW figure_history AS
WITH f AS (
    SELECT f.*, a.source, wa.watch, coalesce(a.published_at, a.first_seen_at) AS reported_at,
           coalesce(g.syndication_id, f.article_id) AS syndication_id,
           coalesce(g.story_id, f.article_id) AS story_id
    FROM core.figures f
    JOIN core.articles a USING (article_id)
    JOIN core.watch_articles wa USING (article_id)
    LEFT JOIN core.article_groups g USING (article_id)
    WHERE f.noun <> '' OR f.currency IS NOT NULL OR f.unit = 'percent'
), per_copy AS (   -- one row per (claim key, value, syndication group): copies count once
    SELECT watch, lower(noun) AS noun_key, coalesce(currency, '') AS currency, coalesce(unit, '') AS unit, value,
           syndication_id,
           min(reported_at) AS reported_at,
           arg_min(source, reported_at) AS source,
           arg_min(article_id, reported_at) AS article_id,
           arg_min(qualifier, reported_at) AS qualifier,
           arg_min(surface, reported_at) AS surface,
           count(*) AS mentions
    FROM f
    GROUP BY ALL
), per_value AS (
    SELECT watch, noun_key, currency, unit, value,
           min(reported_at) AS first_reported_at,
           arg_min(source, reported_at) AS first_source,
           arg_min(article_id, reported_at) AS first_article_id,
           arg_min(qualifier, reported_at) AS qualifier,
           arg_min(surface, reported_at) AS surface,
           max(reported_at) AS last_reported_at,
           count(*) AS reports,
           list(DISTINCT source ORDER BY source) AS sources
    FROM per_copy
    GROUP BY ALL
)
SELECT watch, noun_key AS noun, nullif(currency, '') AS currency, nullif(unit, '') AS unit, value, qualifier,
       surface, first_reported_at, first_source, first_article_id, last_reported_at, reports, sources,
       lag(value) OVER w AS previous_value,
       value - lag(value) OVER w AS change
FROM per_value
WINDOW w AS (PARTITION BY watch, noun_key, currency, unit ORDER BY first_reported_at, value);

COMMENT ON VIEW figure_history IS 'Each figure''s values across articles and time: one row per (counted noun phrase, value), syndicated copies counted once. Money and percentages without a noun are keyed by currency/unit.';
COMMENT ON COLUMN figure_history.watch IS 'The watch the articles belong to (watch_articles; one row per watch when an article is in several).';
COMMENT ON COLUMN figure_history.noun IS 'What is counted, the noun phrase in lower case (figures.noun), e.g. ''children'', ''police officers''; empty for bare money or percentages.';
COMMENT ON COLUMN figure_history.currency IS 'ISO 4217 currency for money, else NULL.';
COMMENT ON COLUMN figure_history.unit IS 'Unit (percent, years, ...) or NULL for counts.';
COMMENT ON COLUMN figure_history.value IS 'The reported value.';
COMMENT ON COLUMN figure_history.qualifier IS 'Qualifier of the first report of this value (at least, around, ...).';
COMMENT ON COLUMN figure_history.surface IS 'The first report of this value as written.';
COMMENT ON COLUMN figure_history.first_reported_at IS 'Earliest publication (else first-seen) time of an article reporting this value.';
COMMENT ON COLUMN figure_history.first_source IS 'Outlet of that first article.';
COMMENT ON COLUMN figure_history.first_article_id IS 'That first article.';
COMMENT ON COLUMN figure_history.last_reported_at IS 'Latest time an article reported this value.';
COMMENT ON COLUMN figure_history.reports IS 'Number of syndication groups (distinct texts) reporting this value.';
COMMENT ON COLUMN figure_history.sources IS 'Outlets reporting this value.';
COMMENT ON COLUMN figure_history.previous_value IS 'The value of the same noun reported just before (by first report time), NULL for the first.';
COMMENT ON COLUMN figure_history.change IS 'value - previous_value.';

CREATE OR REPLACE VIEW conflicts AS
SELECT c.conflict_id, c.kind, c.claim, c.value, c.article_id, a.source,
       coalesce(a.published_at, a.first_seen_at) AS reported_at, c.sentence, c.similarity,
       count(*) OVER (PARTITION BY c.conflict_id, c.value) AS articles_with_value
FROM core.fact_conflicts c
JOIN core.articles a USING (article_id);

COMMENT ON VIEW conflicts IS 'The same claim reported with different values: one row per (conflict, article, value). Rebuilt after each load.';
COMMENT ON COLUMN conflicts.conflict_id IS 'Identifies one disagreement; its rows are the articles on each side.';
COMMENT ON COLUMN conflicts.kind IS '''period'' (year ranges), ''year'' (a single year) or ''figure'' (a number with the same noun).';
COMMENT ON COLUMN conflicts.claim IS 'Content words the disagreeing sentences share: what the claim is about.';
COMMENT ON COLUMN conflicts.value IS 'The value this article reports (''1999-2011'', ''2014'', ''1400 children'').';
COMMENT ON COLUMN conflicts.article_id IS 'The article reporting it.';
COMMENT ON COLUMN conflicts.source IS 'The article''s outlet.';
COMMENT ON COLUMN conflicts.reported_at IS 'Publication (else first-seen) time of the article.';
COMMENT ON COLUMN conflicts.sentence IS 'The sentence with the value.';
COMMENT ON COLUMN conflicts.similarity IS 'Word overlap (Jaccard, 0..1) between this sentence and the most similar sentence on the other side.';
COMMENT ON COLUMN conflicts.articles_with_value IS 'How many articles of this conflict report this value.';

CREATE OR REPLACE VIEW quote_registry AS
WITH q AS (
    SELECT q.*, coalesce(c.cluster_id, q.quote_id) AS quote_key, a.source,
           coalesce(a.published_at, a.first_seen_at) AS reported_at,
           coalesce(g.syndication_id, q.article_id) AS syndication_id
    FROM core.quotes q
    JOIN core.articles a USING (article_id)
    LEFT JOIN core.article_groups g USING (article_id)
    LEFT JOIN core.quote_clusters c USING (quote_id)
)
SELECT quote_key,
       -- the speaker most copies give (ties: the first report)
       mode(speaker) AS speaker,
       arg_max(quote, length(quote)) AS quote,
       arg_min(source, reported_at) AS first_source,
       arg_min(article_id, reported_at) AS first_article_id,
       min(reported_at) AS first_reported_at,
       max(reported_at) AS last_reported_at,
       count(DISTINCT article_id) AS appearances,
       count(DISTINCT source) AS outlets,
       count(DISTINCT syndication_id) AS texts,
       list(DISTINCT speaker ORDER BY speaker) FILTER (WHERE speaker IS NOT NULL) AS speakers
FROM q
GROUP BY quote_key;

COMMENT ON VIEW quote_registry IS 'Each distinct quote once: speaker, first outlet and time, and how often it appeared.';
COMMENT ON COLUMN quote_registry.quote_key IS 'Identity of the quote (quotes.quote_key): the same quote in several copies is one row.';
COMMENT ON COLUMN quote_registry.speaker IS 'The speaker most appearances give.';
COMMENT ON COLUMN quote_registry.quote IS 'The longest version of the quote.';
COMMENT ON COLUMN quote_registry.first_source IS 'Outlet that published it first (publication time, else first-seen time).';
COMMENT ON COLUMN quote_registry.first_article_id IS 'Article that published it first.';
COMMENT ON COLUMN quote_registry.first_reported_at IS 'When it was first published.';
COMMENT ON COLUMN quote_registry.last_reported_at IS 'When it was last published.';
COMMENT ON COLUMN quote_registry.appearances IS 'Number of articles quoting it.';
COMMENT ON COLUMN quote_registry.outlets IS 'Number of distinct outlets quoting it.';
COMMENT ON COLUMN quote_registry.texts IS 'Number of distinct texts (syndication groups) quoting it.';
COMMENT ON COLUMN quote_registry.speakers IS 'Every speaker the appearances give (disagreement shows here).';
