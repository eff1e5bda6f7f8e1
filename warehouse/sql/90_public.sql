-- The public SQL contract for articles and runs. Column names here are relied on by users and tests:
-- add columns freely, never rename or drop one. Fact views are in 30_facts.sql, dedup views in 20_dedup.sql.

CREATE OR REPLACE VIEW articles AS
SELECT
    a.article_id,
    a.url,
    a.source,
    a.title,
    a.published_at,
    a.fetched_at,
    a.text,
    a.word_count,
    fp.simhash,
    coalesce(g.syndication_id, a.article_id) AS syndication_id,
    coalesce(g.story_id, a.article_id) AS story_id,
    a.watch,
    a.canonical_url,
    a.author,
    a.language,
    a.published_origin,
    a.published_confidence,
    a.first_seen_at,
    a.fetch_status,
    a.revision,
    a.raw_text,
    coalesce(wa.watches, []::VARCHAR[]) AS watches
FROM core.articles a
LEFT JOIN (SELECT article_id, list(watch ORDER BY watch) AS watches FROM core.watch_articles GROUP BY article_id) wa
    USING (article_id)
LEFT JOIN core.article_groups g USING (article_id)
LEFT JOIN (SELECT article_id, doc_simhash AS simhash FROM core.fingerprints) fp USING (article_id);

CREATE OR REPLACE VIEW runs AS
SELECT * FROM core.runs;

COMMENT ON VIEW articles IS 'One row per article (the newest revision). Copies of one text share syndication_id; coverage of one event by different writers shares story_id. Count stories, not rows, for trends.';
COMMENT ON COLUMN articles.article_id IS 'Stable id: hash of the canonical URL (local files: of their file:// URI).';
COMMENT ON COLUMN articles.url IS 'The URL the article was fetched from (file:// URI for local files).';
COMMENT ON COLUMN articles.source IS 'Outlet name: the page''s og:site_name, else the feed title, else the host.';
COMMENT ON COLUMN articles.title IS 'Headline.';
COMMENT ON COLUMN articles.published_at IS 'Publication time (UTC) chosen among the date candidates; see published_origin.';
COMMENT ON COLUMN articles.fetched_at IS 'When this revision was fetched (UTC).';
COMMENT ON COLUMN articles.text IS 'Cleaned body text (teasers, ad markers and repeated captions removed); facts and fingerprints use it.';
COMMENT ON COLUMN articles.word_count IS 'Words in text.';
COMMENT ON COLUMN articles.simhash IS 'Whole-document 64-bit simhash of text (see docs/dedup.md; paragraph fingerprints are in core).';
COMMENT ON COLUMN articles.syndication_id IS 'Shared by copies of one text (possibly edited): the article_id of the original (earliest published, else first seen).';
COMMENT ON COLUMN articles.story_id IS 'Shared by articles about the same event, written independently or copied.';
COMMENT ON COLUMN articles.watch IS 'The watch that first stored the article. An article can belong to several watches: see watches and watch_articles.';
COMMENT ON COLUMN articles.canonical_url IS 'Canonical URL (tracking parameters, AMP forms and fragments removed).';
COMMENT ON COLUMN articles.author IS 'Byline, when the page names one.';
COMMENT ON COLUMN articles.language IS 'Language of the text (ISO 639-1, detected with py3langid); the page''s declared language when the text is too short to tell.';
COMMENT ON COLUMN articles.published_origin IS 'Where published_at came from: feed, page_meta, url or text.';
COMMENT ON COLUMN articles.published_confidence IS 'Confidence in published_at, 0 to 1.';
COMMENT ON COLUMN articles.first_seen_at IS 'When newswatch first stored this article (UTC).';
COMMENT ON COLUMN articles.fetch_status IS 'ok, or paywalled / empty_text when the text is the feed summary.';
COMMENT ON COLUMN articles.revision IS 'Revision number: 1, then +1 each time the text at this URL changed.';
COMMENT ON COLUMN articles.raw_text IS 'Text as extracted, before cleaning.';
COMMENT ON COLUMN articles.watches IS 'Every watch whose query matched the article (watch_articles), sorted; digests, trends and facts by watch use these.';

COMMENT ON VIEW runs IS 'One row per run (newswatch run / ingest, or a Prefect flow run) with what it did.';
COMMENT ON COLUMN runs.run_id IS 'Run id.';
COMMENT ON COLUMN runs.started_at IS 'Start time (UTC).';
COMMENT ON COLUMN runs.finished_at IS 'End time (UTC); NULL while running or when the process was killed.';
COMMENT ON COLUMN runs.status IS 'running, succeeded, partial (some feeds or pages failed), failed (no feed could be polled, nothing could be ingested, or a digest was not delivered; see error), interrupted (SIGINT/SIGTERM; stored batches kept), or killed (found still running by a later run).';
COMMENT ON COLUMN runs.feeds_disabled IS 'Feeds not polled because repeated failures disabled them (they count as failing).';
COMMENT ON COLUMN runs.pages_failed IS 'Article pages that could not be fetched (timeout, connection error, HTTP error); transient ones are retried next run.';
COMMENT ON COLUMN runs.command IS 'run, ingest or digest.';
COMMENT ON COLUMN runs.watches IS 'Comma-separated watch names.';
COMMENT ON COLUMN runs.feeds_polled IS 'Feeds requested.';
COMMENT ON COLUMN runs.feeds_not_modified IS 'Feeds that answered 304 Not Modified.';
COMMENT ON COLUMN runs.feeds_failed IS 'Feeds that failed (status in core.skips with stage feed).';
COMMENT ON COLUMN runs.entries_seen IS 'Feed entries read.';
COMMENT ON COLUMN runs.pages_fetched IS 'Article pages fetched successfully.';
COMMENT ON COLUMN runs.articles_new IS 'Articles stored for the first time.';
COMMENT ON COLUMN runs.articles_revised IS 'Articles whose text changed (a new revision).';
COMMENT ON COLUMN runs.articles_unchanged IS 'Articles fetched again with the same text.';
COMMENT ON COLUMN runs.skipped IS 'Items dropped, every reason (see the skips view).';
COMMENT ON COLUMN runs.off_topic IS 'Articles that did not match a watch query, counted once per watch that judged them (per watch: run_watches).';
COMMENT ON COLUMN runs.copies_grouped IS 'New articles found to be a copy of another.';
COMMENT ON COLUMN runs.stories IS 'Distinct stories among the new articles.';
COMMENT ON COLUMN runs.facts IS 'Fact rows written (entity mentions, figures, periods, quotes).';
COMMENT ON COLUMN runs.digest_items IS 'Items put in digests by this run.';
COMMENT ON COLUMN runs.error IS 'Why the run failed, one line.';

CREATE OR REPLACE VIEW skips AS
SELECT run_id, url, stage, reason, detail, skipped_at, watch FROM core.skips;
COMMENT ON VIEW skips IS 'Everything a run dropped, and why (one bad feed or page never fails a run).';
COMMENT ON COLUMN skips.run_id IS 'The run.';
COMMENT ON COLUMN skips.url IS 'Feed, page or file URL.';
COMMENT ON COLUMN skips.stage IS 'feed, fetch, extract, topic, facts, load or digest.';
COMMENT ON COLUMN skips.reason IS 'Short reason: a fetch status (timeout, too_large, blocked, not_html, http_error...), off_topic, parse_warning, no_link...';
COMMENT ON COLUMN skips.detail IS 'One human-readable line.';
COMMENT ON COLUMN skips.skipped_at IS 'When (UTC).';
COMMENT ON COLUMN skips.watch IS 'The watch that dropped it (topic skips: off_topic, language are per watch); NULL for feed, fetch and extract skips, which concern every watch.';

CREATE OR REPLACE VIEW article_revisions AS
SELECT article_id, revision, content_hash, fetched_at, run_id, title, text FROM core.article_revisions;
COMMENT ON VIEW article_revisions IS 'Every distinct text an article URL has had; articles shows the newest.';
COMMENT ON COLUMN article_revisions.article_id IS 'The article.';
COMMENT ON COLUMN article_revisions.revision IS '1 for the first text seen, then +1 per change.';
COMMENT ON COLUMN article_revisions.content_hash IS 'Hash of title and cleaned text.';
COMMENT ON COLUMN article_revisions.fetched_at IS 'When this revision was fetched (UTC).';
COMMENT ON COLUMN article_revisions.run_id IS 'The run that stored it.';
COMMENT ON COLUMN article_revisions.title IS 'Headline of this revision.';
COMMENT ON COLUMN article_revisions.text IS 'Cleaned text of this revision.';
