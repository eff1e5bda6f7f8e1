-- Feed polling state and history (owned by warehouse/feeds.py) and the public `feeds` health view.
-- Idempotent: runs on every connect.

-- One row per configured feed URL: validators for conditional GET, health, adaptive schedule.
CREATE TABLE IF NOT EXISTS core.feed_state (
    feed_url              VARCHAR PRIMARY KEY,   -- the URL as configured (the key users know)
    watch                 VARCHAR,               -- watch that last polled it
    etag                  VARCHAR,               -- ETag of the last 200 (sent back as If-None-Match)
    last_modified         VARCHAR,               -- Last-Modified of the last 200 (sent back as If-Modified-Since)
    body_hash             VARCHAR,               -- sha256 of the last 200 body
    validators_unreliable BOOLEAN NOT NULL DEFAULT false,
    validators_note       VARCHAR,
    last_status           VARCHAR,
    last_http_status      INTEGER,
    last_detail           VARCHAR,
    last_polled_at        TIMESTAMPTZ,
    last_ok_at            TIMESTAMPTZ,
    last_new_entry_at     TIMESTAMPTZ,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    polls_total           INTEGER NOT NULL DEFAULT 0,
    failures_total        INTEGER NOT NULL DEFAULT 0,
    disabled              BOOLEAN NOT NULL DEFAULT false,
    disabled_reason       VARCHAR,
    disabled_at           TIMESTAMPTZ,
    items_per_day         DOUBLE,
    poll_interval_s       INTEGER NOT NULL DEFAULT 3600,
    next_poll_at          TIMESTAMPTZ,
    title                 VARCHAR,
    site_link             VARCHAR,
    format                VARCHAR,
    redirected_to         VARCHAR,               -- set by a 301/308: polled instead of feed_url from then on
    entries_last_poll     INTEGER,
    warnings_last_poll    INTEGER,
    last_warning          VARCHAR,
    last_run_id           VARCHAR
);

-- The schedule's politeness hints (issue 12 section 3), added to warehouses made before them.
ALTER TABLE core.feed_state ADD COLUMN IF NOT EXISTS feed_hint_s INTEGER;      -- RSS <ttl> / sy:updatePeriod, last parse
ALTER TABLE core.feed_state ADD COLUMN IF NOT EXISTS feed_hint_note VARCHAR;
ALTER TABLE core.feed_state ADD COLUMN IF NOT EXISTS http_fresh_s INTEGER;     -- Cache-Control max-age / Expires
ALTER TABLE core.feed_state ADD COLUMN IF NOT EXISTS http_fresh_note VARCHAR;
ALTER TABLE core.feed_state ADD COLUMN IF NOT EXISTS interval_source VARCHAR;  -- what set poll_interval_s

-- robots.txt kept across runs for up to 24 h (RFC 9309 section 2.4), one row per origin; written and read
-- through the callbacks of extractors/robots.py (RobotsCache). Only answers worth keeping are stored: a 2xx
-- body, or a 4xx (no robots.txt = everything allowed). Unreachable answers (5xx, timeouts) never are.
CREATE TABLE IF NOT EXISTS core.robots_txt (
    origin       VARCHAR PRIMARY KEY,   -- scheme://host:port, as the Fetcher normalises it
    fetched_at   TIMESTAMPTZ NOT NULL,
    http_status  INTEGER NOT NULL,
    body         BLOB NOT NULL          -- at most 500 KiB (extractors/robots.py MAX_ROBOTS_BYTES)
);

-- Every poll of every feed (append-only history; one row per poll).
CREATE TABLE IF NOT EXISTS core.feed_polls (
    run_id         VARCHAR,
    feed_url       VARCHAR NOT NULL,
    polled_url     VARCHAR,
    polled_at      TIMESTAMPTZ NOT NULL,
    status         VARCHAR NOT NULL,
    http_status    INTEGER,
    unchanged      BOOLEAN NOT NULL DEFAULT false,
    entries        INTEGER,
    new_entries    INTEGER NOT NULL DEFAULT 0,
    warnings       INTEGER,
    body_hash      VARCHAR,
    elapsed_s      DOUBLE,
    detail         VARCHAR
);

CREATE OR REPLACE VIEW feeds AS
SELECT
    s.feed_url,
    s.watch,
    s.title,
    coalesce(s.redirected_to, s.feed_url) AS poll_url,
    CASE
        WHEN s.disabled THEN 'disabled'
        WHEN s.consecutive_failures > 0 THEN 'failing'
        WHEN s.last_ok_at IS NULL THEN 'never_ok'
        WHEN s.last_new_entry_at IS NULL OR s.last_new_entry_at < s.last_polled_at - INTERVAL 30 DAY THEN 'quiet'
        ELSE 'ok'
    END AS health,
    s.last_status,
    s.last_http_status,
    s.last_detail,
    s.last_polled_at,
    s.last_ok_at,
    s.last_new_entry_at,
    s.consecutive_failures,
    s.polls_total,
    s.failures_total,
    s.disabled,
    s.disabled_reason,
    s.disabled_at,
    s.poll_interval_s,
    s.interval_source,
    s.feed_hint_s,
    s.feed_hint_note,
    s.http_fresh_s,
    s.http_fresh_note,
    s.next_poll_at,
    s.items_per_day,
    s.etag,
    s.last_modified,
    s.validators_unreliable,
    s.validators_note,
    s.redirected_to,
    s.format,
    s.entries_last_poll,
    s.warnings_last_poll,
    s.last_warning,
    coalesce(e.entries_seen, 0) AS entries_seen,
    coalesce(a.articles, 0) AS articles
FROM core.feed_state s
LEFT JOIN (SELECT feed_url, count(*) AS entries_seen FROM core.feed_entries GROUP BY feed_url) e USING (feed_url)
LEFT JOIN (SELECT feed_url, count(*) AS articles FROM core.articles GROUP BY feed_url) a USING (feed_url);

COMMENT ON VIEW feeds IS 'Feed health: one row per polled feed, with its conditional-GET validators, failure count, disabled state and adaptive schedule.';
COMMENT ON COLUMN feeds.feed_url IS 'The feed URL as configured in the watch (the key of this view).';
COMMENT ON COLUMN feeds.watch IS 'A watch listing this feed (the first in the config when several do: the feed is polled once for all of them; per-watch articles are in watch_articles).';
COMMENT ON COLUMN feeds.title IS 'Feed title from the last successful parse (plain text).';
COMMENT ON COLUMN feeds.poll_url IS 'URL polled next: redirected_to after a permanent redirect, else feed_url.';
COMMENT ON COLUMN feeds.health IS 'disabled | failing (last poll failed) | never_ok | quiet (no new entry for 30 days) | ok.';
COMMENT ON COLUMN feeds.last_status IS 'Status of the last poll: a fetch status (ok, not_modified, timeout, http_error, gone, ...) or invalid_feed (fetched but not a parseable feed).';
COMMENT ON COLUMN feeds.last_http_status IS 'HTTP status code of the last poll (NULL when no response, e.g. timeout).';
COMMENT ON COLUMN feeds.last_detail IS 'Human-readable detail of the last poll (error message, redirect, parse problem).';
COMMENT ON COLUMN feeds.last_polled_at IS 'When the feed was last polled (UTC).';
COMMENT ON COLUMN feeds.last_ok_at IS 'When a poll last succeeded (200 with a parseable feed, or 304).';
COMMENT ON COLUMN feeds.last_new_entry_at IS 'When a poll last found an entry not seen before.';
COMMENT ON COLUMN feeds.consecutive_failures IS 'Failed polls since the last success; the feed is disabled when this reaches fetch.disable_feed_after_failures.';
COMMENT ON COLUMN feeds.polls_total IS 'Number of polls recorded for this feed.';
COMMENT ON COLUMN feeds.failures_total IS 'Number of failed polls recorded for this feed.';
COMMENT ON COLUMN feeds.disabled IS 'True when the feed is no longer polled (HTTP 410 Gone, or too many consecutive failures).';
COMMENT ON COLUMN feeds.disabled_reason IS 'Why the feed was disabled, e.g. ''HTTP 410 Gone'' or ''10 consecutive failures; last: timeout''.';
COMMENT ON COLUMN feeds.disabled_at IS 'When the feed was disabled.';
COMMENT ON COLUMN feeds.poll_interval_s IS 'Current polling interval in seconds (between 600 and 86400): the adaptive one, or longer when the feed or its HTTP caching headers ask for longer (interval_source).';
COMMENT ON COLUMN feeds.interval_source IS 'What set poll_interval_s: adaptive (items per day), feed_hint (the feed''s ttl / sy:updatePeriod asked for longer) or http_cache (Cache-Control max-age / Expires asked for longer).';
COMMENT ON COLUMN feeds.feed_hint_s IS 'Seconds between polls the feed asks for: RSS <ttl>, or sy:updatePeriod / sy:updateFrequency (the longer), from the last parse; at most 86400 is honoured.';
COMMENT ON COLUMN feeds.feed_hint_note IS 'The hint as the feed wrote it, e.g. ''ttl 60'' or ''sy:updatePeriod hourly x 2''.';
COMMENT ON COLUMN feeds.http_fresh_s IS 'Seconds the last response stays fresh per Cache-Control max-age (else Expires); NULL with no-cache / no-store or without either header; at most 86400 is honoured.';
COMMENT ON COLUMN feeds.http_fresh_note IS 'The header that gave http_fresh_s, e.g. ''Cache-Control: max-age=1800''.';
COMMENT ON COLUMN feeds.next_poll_at IS 'Earliest time of the next poll; the feed is due when this is in the past.';
COMMENT ON COLUMN feeds.items_per_day IS 'Estimated new items per day (from entry dates, else a moving average of new entries per poll).';
COMMENT ON COLUMN feeds.etag IS 'ETag validator of the last 200 response, sent back as If-None-Match.';
COMMENT ON COLUMN feeds.last_modified IS 'Last-Modified validator of the last 200 response, sent back as If-Modified-Since.';
COMMENT ON COLUMN feeds.validators_unreliable IS 'True once the server was caught lying: 200 with an unchanged body despite our validators, or a new ETag for the same body. The body hash then decides whether to re-parse.';
COMMENT ON COLUMN feeds.validators_note IS 'What was observed when validators_unreliable was set.';
COMMENT ON COLUMN feeds.redirected_to IS 'New URL announced by a permanent redirect (301/308); NULL if none. Temporary redirects (302/307) are not recorded.';
COMMENT ON COLUMN feeds.format IS 'Feed format reported by the parser: rss20, atom10, json11, ...';
COMMENT ON COLUMN feeds.entries_last_poll IS 'Entries in the feed at the last parse.';
COMMENT ON COLUMN feeds.warnings_last_poll IS 'Parse warnings at the last parse (bad entries, dropped links, implausible dates).';
COMMENT ON COLUMN feeds.last_warning IS 'First parse warning of the last parse, if any.';
COMMENT ON COLUMN feeds.entries_seen IS 'Distinct entries ever seen in this feed (core.feed_entries).';
COMMENT ON COLUMN feeds.articles IS 'Articles stored that came through this feed.';

CREATE OR REPLACE VIEW feed_polls AS
SELECT run_id, feed_url, polled_url, polled_at, status, http_status, unchanged, entries, new_entries, warnings,
       body_hash, elapsed_s, detail
FROM core.feed_polls;

COMMENT ON VIEW feed_polls IS 'History: one row per poll of a feed, successful or not.';
COMMENT ON COLUMN feed_polls.run_id IS 'Run that made the poll (runs.run_id).';
COMMENT ON COLUMN feed_polls.feed_url IS 'Feed URL as configured (feeds.feed_url).';
COMMENT ON COLUMN feed_polls.polled_url IS 'URL actually requested (differs from feed_url after a permanent redirect).';
COMMENT ON COLUMN feed_polls.polled_at IS 'When the poll was recorded (UTC).';
COMMENT ON COLUMN feed_polls.status IS 'Poll status: a fetch status or invalid_feed.';
COMMENT ON COLUMN feed_polls.http_status IS 'HTTP status code, NULL when there was no response.';
COMMENT ON COLUMN feed_polls.unchanged IS 'True when a 200 body had the same hash as the previous one (nothing new to parse).';
COMMENT ON COLUMN feed_polls.entries IS 'Entries parsed from the body (NULL when nothing was parsed).';
COMMENT ON COLUMN feed_polls.new_entries IS 'Entries not seen before in this feed.';
COMMENT ON COLUMN feed_polls.warnings IS 'Number of parse warnings.';
COMMENT ON COLUMN feed_polls.body_hash IS 'sha256 of the response body (NULL without a body).';
COMMENT ON COLUMN feed_polls.elapsed_s IS 'Seconds the request took.';
COMMENT ON COLUMN feed_polls.detail IS 'Error or redirect detail.';
