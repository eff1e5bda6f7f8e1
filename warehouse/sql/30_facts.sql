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
