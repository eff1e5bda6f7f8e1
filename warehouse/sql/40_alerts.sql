-- Alert digests: what each digest carried (the "never the same thing twice" ledger) and the SMTP outbox.
-- Written only by warehouse/digests.py. docs/alerts.md explains the rules.

CREATE SCHEMA IF NOT EXISTS core;

-- One row per digest. status: pending | sending | sent | failed | written | superseded.
-- 'written' = rendered to files (no mail server configured); 'superseded' = a failed digest whose articles
-- were carried by a later digest.
CREATE TABLE IF NOT EXISTS core.digests (
    digest_id       VARCHAR PRIMARY KEY,
    watch           VARCHAR NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    since           TIMESTAMPTZ,
    status          VARCHAR NOT NULL,
    items           INTEGER NOT NULL,
    updates         INTEGER NOT NULL DEFAULT 0,
    articles        INTEGER NOT NULL,
    subject         VARCHAR NOT NULL,
    message_id      VARCHAR NOT NULL,
    recipients      VARCHAR,
    eml_path        VARCHAR,
    html_path       VARCHAR,
    finished_at     TIMESTAMPTZ
);

-- One row per story item of a digest.
CREATE TABLE IF NOT EXISTS core.digest_items (
    digest_id       VARCHAR NOT NULL,
    position        INTEGER NOT NULL,
    story_id        VARCHAR NOT NULL,
    is_update       BOOLEAN NOT NULL,
    title           VARCHAR NOT NULL,
    lead_article_id VARCHAR NOT NULL,
    articles        INTEGER NOT NULL,
    copies          INTEGER NOT NULL,
    outlets         INTEGER NOT NULL,
    new_facts       VARCHAR[],
    PRIMARY KEY (digest_id, position)
);

-- Every article a digest carried (lead, other coverage or folded copy). An article in a digest whose status is
-- sent, written, pending or sending is never selected again.
CREATE TABLE IF NOT EXISTS core.digest_articles (
    digest_id       VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    story_id        VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,         -- lead | coverage | copy
    copy_of         VARCHAR,                  -- for a copy: the article shown for its text
    PRIMARY KEY (digest_id, article_id)
);

-- The SMTP outbox: one row per digest sent by mail. state: pending -> sending -> sent | failed.
-- message holds the exact bytes, so a resend after a crash is byte-identical (same Message-ID).
CREATE TABLE IF NOT EXISTS core.outbox (
    digest_id       VARCHAR PRIMARY KEY,
    message_id      VARCHAR NOT NULL,
    recipients      VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    message         BLOB NOT NULL
);

CREATE OR REPLACE VIEW digests AS
SELECT
    d.digest_id,
    d.watch,
    d.created_at,
    d.since,
    d.status,
    d.items,
    d.updates,
    d.articles,
    d.subject,
    d.message_id,
    d.recipients,
    d.eml_path,
    d.html_path,
    coalesce(o.sent_at, CASE WHEN d.status = 'written' THEN d.finished_at END) AS delivered_at,
    o.state AS outbox_state,
    coalesce(o.attempts, 0) AS attempts,
    o.last_error
FROM core.digests d
LEFT JOIN core.outbox o USING (digest_id);

COMMENT ON VIEW digests IS 'One row per digest: what was sent or written, when, how many items, and how delivery went.';
COMMENT ON COLUMN digests.digest_id IS 'Content-hash id of the digest (watch + the articles it carries); the Message-ID is derived from it.';
COMMENT ON COLUMN digests.watch IS 'The watch the digest is for.';
COMMENT ON COLUMN digests.created_at IS 'When the digest was assembled (UTC).';
COMMENT ON COLUMN digests.since IS 'When the previous delivered digest of this watch was created; NULL for the first digest.';
COMMENT ON COLUMN digests.status IS 'pending | sending | sent | failed (mail), written (rendered to files, no mail server), superseded (failed, its articles went out in a later digest).';
COMMENT ON COLUMN digests.items IS 'Story items in the digest (one per story).';
COMMENT ON COLUMN digests.updates IS 'How many of the items are updates to stories that were in an earlier digest.';
COMMENT ON COLUMN digests.articles IS 'Articles carried, syndicated copies included.';
COMMENT ON COLUMN digests.subject IS 'Subject line as sent (before RFC 2047 encoding).';
COMMENT ON COLUMN digests.message_id IS 'Message-ID header; the same for every (re)send of this digest so mail clients can deduplicate.';
COMMENT ON COLUMN digests.recipients IS 'Comma-separated recipient addresses.';
COMMENT ON COLUMN digests.eml_path IS 'The rendered message written to disk (.eml).';
COMMENT ON COLUMN digests.html_path IS 'The HTML part written to disk (.html).';
COMMENT ON COLUMN digests.delivered_at IS 'When the mail server accepted the digest, or when it was written to files; NULL if not delivered.';
COMMENT ON COLUMN digests.outbox_state IS 'SMTP outbox state: pending | sending | sent | failed; NULL when no mail server was configured.';
COMMENT ON COLUMN digests.attempts IS 'SMTP delivery attempts so far (0 when written to files).';
COMMENT ON COLUMN digests.last_error IS 'Last SMTP error, e.g. "550 mailbox unavailable"; NULL when none.';

CREATE OR REPLACE VIEW digest_items AS
SELECT
    i.digest_id,
    d.watch,
    d.created_at,
    d.status,
    i.position,
    i.story_id,
    i.is_update,
    i.title,
    i.lead_article_id,
    i.articles,
    i.copies,
    i.outlets,
    i.new_facts
FROM core.digest_items i
JOIN core.digests d USING (digest_id);

COMMENT ON VIEW digest_items IS 'One row per story item of each digest, in the order shown in the message.';
COMMENT ON COLUMN digest_items.digest_id IS 'The digest (see the digests view).';
COMMENT ON COLUMN digest_items.watch IS 'The watch the digest is for.';
COMMENT ON COLUMN digest_items.created_at IS 'When the digest was assembled (UTC).';
COMMENT ON COLUMN digest_items.status IS 'Status of the digest (see digests.status).';
COMMENT ON COLUMN digest_items.position IS 'Position of the item in the digest, from 1.';
COMMENT ON COLUMN digest_items.story_id IS 'The story (articles.story_id).';
COMMENT ON COLUMN digest_items.is_update IS 'True when the story was in an earlier delivered digest; the item then carries only what is new.';
COMMENT ON COLUMN digest_items.title IS 'Item title: the lead article title, or for an update the title the story first went out with.';
COMMENT ON COLUMN digest_items.lead_article_id IS 'The article shown first (articles.article_id).';
COMMENT ON COLUMN digest_items.articles IS 'Articles carried by this item, copies included.';
COMMENT ON COLUMN digest_items.copies IS 'Syndicated copies folded into this item ("also ran in ...").';
COMMENT ON COLUMN digest_items.outlets IS 'Distinct outlets (articles.source) among the articles carried.';
COMMENT ON COLUMN digest_items.new_facts IS 'Fact lines shown for the item (e.g. a figure that changed), when the facts stage provides them.';

CREATE OR REPLACE VIEW digest_articles AS
SELECT
    da.digest_id,
    d.watch,
    d.created_at,
    d.status,
    da.article_id,
    da.story_id,
    da.role,
    da.copy_of
FROM core.digest_articles da
JOIN core.digests d USING (digest_id);

COMMENT ON VIEW digest_articles IS 'The delivery ledger: every article each digest carried. An article in a sent, written, pending or sending digest is never selected again.';
COMMENT ON COLUMN digest_articles.digest_id IS 'The digest (see the digests view).';
COMMENT ON COLUMN digest_articles.watch IS 'The watch the digest is for.';
COMMENT ON COLUMN digest_articles.created_at IS 'When the digest was assembled (UTC).';
COMMENT ON COLUMN digest_articles.status IS 'Status of the digest (see digests.status).';
COMMENT ON COLUMN digest_articles.article_id IS 'The article carried (articles.article_id).';
COMMENT ON COLUMN digest_articles.story_id IS 'The story the article belonged to when the digest was assembled.';
COMMENT ON COLUMN digest_articles.role IS 'lead (the headline of its item), coverage (another text on the same story) or copy (a syndicated copy folded into "also ran in").';
COMMENT ON COLUMN digest_articles.copy_of IS 'For a copy: the article shown for its text; NULL otherwise.';

-- Attention spikes (the trends stage's spikes view) a digest reported, so a spike is told once.
CREATE TABLE IF NOT EXISTS core.digest_spikes (
    digest_id       VARCHAR NOT NULL,
    entity          VARCHAR NOT NULL,         -- '' for the whole watch
    day             DATE NOT NULL,
    line            VARCHAR NOT NULL,
    PRIMARY KEY (digest_id, entity, day)
);

CREATE OR REPLACE VIEW digest_spikes AS
SELECT ds.digest_id, d.watch, d.created_at, d.status, ds.entity, ds.day, ds.line
FROM core.digest_spikes ds
JOIN core.digests d USING (digest_id);

COMMENT ON VIEW digest_spikes IS 'Attention spikes each digest reported (spikes kind of the digest rules); a spike in a sent, written, pending or sending digest is not reported again.';
COMMENT ON COLUMN digest_spikes.digest_id IS 'The digest (see the digests view).';
COMMENT ON COLUMN digest_spikes.watch IS 'The watch the digest is for.';
COMMENT ON COLUMN digest_spikes.created_at IS 'When the digest was assembled (UTC).';
COMMENT ON COLUMN digest_spikes.status IS 'Status of the digest (see digests.status).';
COMMENT ON COLUMN digest_spikes.entity IS 'The entity whose attention spiked (spikes.entity); empty for the whole watch.';
COMMENT ON COLUMN digest_spikes.day IS 'The day of the spike (UTC).';
COMMENT ON COLUMN digest_spikes.line IS 'The line shown in the digest.';

-- The webhook/chat outbox: one row per digest and channel (apprise URL of the watch's `channels`), with the
-- same states as core.outbox. The URL itself is not stored (webhook URLs carry tokens): channel_key is a hash
-- of the config entry, channel its masked label. A transient failure stays 'pending' for the next run.
CREATE TABLE IF NOT EXISTS core.channel_outbox (
    digest_id       VARCHAR NOT NULL,
    channel_key     VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    title           VARCHAR NOT NULL,
    body            VARCHAR NOT NULL,
    PRIMARY KEY (digest_id, channel_key)
);

CREATE OR REPLACE VIEW channel_deliveries AS
SELECT c.digest_id, d.watch, c.channel, c.state, c.attempts, c.last_error, c.created_at, c.sent_at
FROM core.channel_outbox c
JOIN core.digests d USING (digest_id);

COMMENT ON VIEW channel_deliveries IS 'One row per digest and webhook/chat channel: how its notification went (never sent twice; transient failures retried).';
COMMENT ON COLUMN channel_deliveries.digest_id IS 'The digest (see the digests view).';
COMMENT ON COLUMN channel_deliveries.watch IS 'The watch the digest is for.';
COMMENT ON COLUMN channel_deliveries.channel IS 'The channel, masked: scheme and host for json/form/xml webhooks, the scheme only for chats (tokens are never stored).';
COMMENT ON COLUMN channel_deliveries.state IS 'pending | sending | sent | failed (permanent error, or the channel was removed from the config).';
COMMENT ON COLUMN channel_deliveries.attempts IS 'Delivery attempts so far, all runs together.';
COMMENT ON COLUMN channel_deliveries.last_error IS 'Last error, e.g. "HTTP 503 (...); will retry"; NULL when none.';
COMMENT ON COLUMN channel_deliveries.created_at IS 'When the digest was recorded for this channel (UTC).';
COMMENT ON COLUMN channel_deliveries.sent_at IS 'When the receiver accepted the notification; NULL if not yet.';
