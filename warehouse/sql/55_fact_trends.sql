-- Fact trends: figure_history, quote_registry and period_ranges. Computed from the base tables they took 5 s,
-- 1.5 s and 0.7 s at a million articles (docs/benchmarks.md); like the trend views (sql/50_trends.sql) they read
-- tables that warehouse/trends.py's refresh_aggregates keeps up to date after stored batches and at the end of a
-- run: a slim row per fact (with the article's watch, outlet, time and text) and one row per key, recomputed only
-- for the keys of the articles whose facts, outlet, time, groups or watches changed.
-- Each article's time is its publication time, else when we first saw it; copies collapse by syndication_id.
-- Ties on time go to the smaller article id, then the earlier fact in the article (so a refresh and a rebuild
-- from scratch give the same rows).

CREATE SCHEMA IF NOT EXISTS core;

-- Figures that count something (a noun, money or a percentage), per watch (core.watch_articles): an article in
-- two watches reports its figures in both.
CREATE TABLE IF NOT EXISTS core.trend_figure_rows (
    watch           VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    noun_key        VARCHAR NOT NULL,   -- lower(noun)
    currency        VARCHAR NOT NULL,   -- '' when none
    unit            VARCHAR NOT NULL,   -- '' when none
    value           DOUBLE NOT NULL,
    syndication_id  VARCHAR NOT NULL,
    reported_at     TIMESTAMPTZ NOT NULL,
    source          VARCHAR,
    qualifier       VARCHAR,
    surface         VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.trend_figure_values (
    watch             VARCHAR NOT NULL,
    noun_key          VARCHAR NOT NULL,
    currency          VARCHAR NOT NULL,
    unit              VARCHAR NOT NULL,
    value             DOUBLE NOT NULL,
    first_reported_at TIMESTAMPTZ NOT NULL,
    first_source      VARCHAR,
    first_article_id  VARCHAR NOT NULL,
    qualifier         VARCHAR,
    surface           VARCHAR NOT NULL,
    last_reported_at  TIMESTAMPTZ NOT NULL,
    reports           BIGINT NOT NULL,
    sources           VARCHAR[]
);

-- Quotes, with their cluster (quote_key) and the article's outlet, time and text.
CREATE TABLE IF NOT EXISTS core.trend_quote_rows (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    quote_id        VARCHAR NOT NULL,
    quote_key       VARCHAR NOT NULL,
    quote           VARCHAR NOT NULL,
    speaker         VARCHAR,
    source          VARCHAR,
    reported_at     TIMESTAMPTZ NOT NULL,
    syndication_id  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS core.trend_quote_registry (
    quote_key         VARCHAR NOT NULL,
    speaker           VARCHAR,
    quote             VARCHAR NOT NULL,
    first_source      VARCHAR,
    first_article_id  VARCHAR NOT NULL,
    first_reported_at TIMESTAMPTZ NOT NULL,
    last_reported_at  TIMESTAMPTZ NOT NULL,
    appearances       BIGINT NOT NULL,
    outlets           BIGINT NOT NULL,
    texts             BIGINT NOT NULL,
    speakers          VARCHAR[]
);

-- Year ranges (periods of kind 'range').
CREATE TABLE IF NOT EXISTS core.trend_period_rows (
    article_id      VARCHAR NOT NULL,
    seq             INTEGER NOT NULL,
    start_year      INTEGER NOT NULL,
    end_year        INTEGER NOT NULL,
    sentence        VARCHAR NOT NULL,
    syndication_id  VARCHAR NOT NULL,
    reported_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS core.trend_period_ranges (
    start_year        INTEGER NOT NULL,
    end_year          INTEGER NOT NULL,
    texts             BIGINT NOT NULL,
    articles          BIGINT NOT NULL,
    first_reported_at TIMESTAMPTZ NOT NULL,
    first_article_id  VARCHAR NOT NULL,
    first_sentence    VARCHAR NOT NULL,
    last_reported_at  TIMESTAMPTZ NOT NULL
);

-- ---- public views ------------------------------------------------------------------------------------

CREATE OR REPLACE VIEW figure_history AS
SELECT watch, noun_key AS noun, nullif(currency, '') AS currency, nullif(unit, '') AS unit, value, qualifier,
       surface, first_reported_at, first_source, first_article_id, last_reported_at, reports, sources,
       lag(value) OVER w AS previous_value,
       value - lag(value) OVER w AS change
FROM core.trend_figure_values
WINDOW w AS (PARTITION BY watch, noun_key, currency, unit ORDER BY first_reported_at, value);

COMMENT ON VIEW figure_history IS 'Each figure''s values across articles and time: one row per (counted noun phrase, value), syndicated copies counted once. Money and percentages without a noun are keyed by currency/unit. Read from tables brought up to date with the trend views, after stored batches and at the end of a run (see freshness).';
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


CREATE OR REPLACE VIEW quote_registry AS
SELECT quote_key, speaker, quote, first_source, first_article_id, first_reported_at, last_reported_at, appearances,
       outlets, texts, speakers
FROM core.trend_quote_registry;

COMMENT ON VIEW quote_registry IS 'Each distinct quote once: speaker, first outlet and time, and how often it appeared. Read from tables brought up to date with the trend views, after stored batches and at the end of a run (see freshness).';
COMMENT ON COLUMN quote_registry.quote_key IS 'Identity of the quote (quotes.quote_key): the same quote in several copies is one row.';
COMMENT ON COLUMN quote_registry.speaker IS 'The speaker most appearances give (ties: the one reported first).';
COMMENT ON COLUMN quote_registry.quote IS 'The longest version of the quote.';
COMMENT ON COLUMN quote_registry.first_source IS 'Outlet that published it first (publication time, else first-seen time).';
COMMENT ON COLUMN quote_registry.first_article_id IS 'Article that published it first.';
COMMENT ON COLUMN quote_registry.first_reported_at IS 'When it was first published.';
COMMENT ON COLUMN quote_registry.last_reported_at IS 'When it was last published.';
COMMENT ON COLUMN quote_registry.appearances IS 'Number of articles quoting it.';
COMMENT ON COLUMN quote_registry.outlets IS 'Number of distinct outlets quoting it.';
COMMENT ON COLUMN quote_registry.texts IS 'Number of distinct texts (syndication groups) quoting it.';
COMMENT ON COLUMN quote_registry.speakers IS 'Every speaker the appearances give (disagreement shows here).';

CREATE OR REPLACE VIEW period_ranges AS
SELECT start_year, end_year, texts, articles, first_reported_at, first_article_id, first_sentence, last_reported_at
FROM core.trend_period_ranges;

COMMENT ON VIEW period_ranges IS 'Each year range the coverage gives (periods of kind range) once: how many texts and articles give it, and where it was first reported. Read from tables brought up to date with the trend views, after stored batches and at the end of a run (see freshness).';
COMMENT ON COLUMN period_ranges.start_year IS 'First year of the range.';
COMMENT ON COLUMN period_ranges.end_year IS 'Last year of the range.';
COMMENT ON COLUMN period_ranges.texts IS 'Number of distinct texts (syndication groups) giving it: copies count once.';
COMMENT ON COLUMN period_ranges.articles IS 'Number of articles giving it.';
COMMENT ON COLUMN period_ranges.first_reported_at IS 'Earliest publication (else first-seen) time of an article giving it.';
COMMENT ON COLUMN period_ranges.first_article_id IS 'That first article.';
COMMENT ON COLUMN period_ranges.first_sentence IS 'The sentence of that first article that gives the range.';
COMMENT ON COLUMN period_ranges.last_reported_at IS 'Latest time an article gave it.';
