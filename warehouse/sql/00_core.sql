-- Core tables: runs, feeds seen, articles and their revisions, skips.
-- Every file in warehouse/sql runs in name order on every connect and must be idempotent
-- (CREATE ... IF NOT EXISTS for tables, CREATE OR REPLACE for views). Tables live in schema `core`;
-- the public SQL contract is the views in schema `main` (see 90_public.sql and docs/schema.md).

CREATE SCHEMA IF NOT EXISTS core;

CREATE TABLE IF NOT EXISTS core.meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS core.runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,         -- running | succeeded | partial | failed | interrupted | killed
    command         VARCHAR,                  -- run | ingest | digest
    watches         VARCHAR,
    feeds_polled    INTEGER DEFAULT 0,
    feeds_not_modified INTEGER DEFAULT 0,
    feeds_failed    INTEGER DEFAULT 0,
    entries_seen    INTEGER DEFAULT 0,
    pages_fetched   INTEGER DEFAULT 0,
    articles_new    INTEGER DEFAULT 0,
    articles_revised INTEGER DEFAULT 0,
    articles_unchanged INTEGER DEFAULT 0,
    skipped         INTEGER DEFAULT 0,
    off_topic       INTEGER DEFAULT 0,
    copies_grouped  INTEGER DEFAULT 0,
    stories         INTEGER DEFAULT 0,
    facts           INTEGER DEFAULT 0,
    digest_items    INTEGER DEFAULT 0,
    error           VARCHAR
);
-- databases made before these columns existed
ALTER TABLE core.runs ADD COLUMN IF NOT EXISTS feeds_disabled INTEGER DEFAULT 0;
ALTER TABLE core.runs ADD COLUMN IF NOT EXISTS pages_failed INTEGER DEFAULT 0;

-- One row per article (stable id from the canonical URL); the newest revision's content.
CREATE TABLE IF NOT EXISTS core.articles (
    article_id      VARCHAR PRIMARY KEY,
    watch           VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    canonical_url   VARCHAR NOT NULL,
    feed_url        VARCHAR,
    source          VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    author          VARCHAR,
    language        VARCHAR,
    published_at    TIMESTAMPTZ,
    published_origin VARCHAR,
    published_confidence DOUBLE,
    date_candidates JSON,
    fetched_at      TIMESTAMPTZ NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    first_run_id    VARCHAR,
    fetch_status    VARCHAR NOT NULL,
    summary         VARCHAR,
    text            VARCHAR NOT NULL,
    raw_text        VARCHAR NOT NULL,
    word_count      INTEGER NOT NULL,
    content_hash    VARCHAR NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 1,
    extractor       VARCHAR
);

-- Every distinct content an article URL has had (revision 1 is the first seen).
CREATE TABLE IF NOT EXISTS core.article_revisions (
    article_id      VARCHAR NOT NULL,
    revision        INTEGER NOT NULL,
    content_hash    VARCHAR NOT NULL,
    fetched_at      TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR,
    title           VARCHAR NOT NULL,
    text            VARCHAR NOT NULL,
    PRIMARY KEY (article_id, revision)
);

-- Feed entries seen (so only new entries are fetched). An entry is recorded when its feed is polled, pending
-- (settled = false) until its page is stored or fails for good; pending entries are retried by later runs even
-- when the feed itself answers 304, so a timeout or a killed run never loses an entry.
CREATE TABLE IF NOT EXISTS core.feed_entries (
    feed_url        VARCHAR NOT NULL,
    entry_key       VARCHAR NOT NULL,
    link            VARCHAR,
    canonical_url   VARCHAR,
    title           VARCHAR,
    published_at    TIMESTAMPTZ,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR,
    summary         VARCHAR,
    settled         BOOLEAN NOT NULL DEFAULT TRUE,  -- false while its page is still to be fetched
    source          VARCHAR,                        -- the feed's title: the outlet name when the page has none
    PRIMARY KEY (feed_url, entry_key)
);
-- databases made before these columns existed
ALTER TABLE core.feed_entries ADD COLUMN IF NOT EXISTS summary VARCHAR;
ALTER TABLE core.feed_entries ADD COLUMN IF NOT EXISTS settled BOOLEAN DEFAULT TRUE;
ALTER TABLE core.feed_entries ADD COLUMN IF NOT EXISTS source VARCHAR;

-- What a run dropped, and why.
CREATE TABLE IF NOT EXISTS core.skips (
    run_id          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    stage           VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR,
    skipped_at      TIMESTAMPTZ NOT NULL
);
-- databases made before skips carried the watch that dropped the item (topic skips are per watch)
ALTER TABLE core.skips ADD COLUMN IF NOT EXISTS watch VARCHAR;

-- Group assignment of each article, written by the dedup stage (warehouse/dedup.py):
-- copies of one text share syndication_id (the id of the earliest copy); coverage of one event shares story_id.
CREATE TABLE IF NOT EXISTS core.article_groups (
    article_id      VARCHAR PRIMARY KEY,
    syndication_id  VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    assigned_at     TIMESTAMPTZ NOT NULL
);

-- Whole-document fingerprint of each article's cleaned text (written by warehouse/dedup.py; paragraph-level
-- fingerprints and the candidate index live in 20_dedup.sql). version names the algorithm so an upgrade recomputes.
CREATE TABLE IF NOT EXISTS core.fingerprints (
    article_id      VARCHAR PRIMARY KEY,
    doc_simhash     UBIGINT NOT NULL,
    version         VARCHAR NOT NULL,
    computed_at     TIMESTAMPTZ NOT NULL
);
