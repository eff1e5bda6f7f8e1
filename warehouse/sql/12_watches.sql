-- Which watches each article belongs to. A page is fetched and stored once (core.articles); every watch whose
-- query it matches gets one row here, so two watches on the same feeds each see their own articles. Stories,
-- trends, facts-by-watch and digests are per watch through this table, never through core.articles.watch (which
-- only records the watch that first stored the article).
CREATE TABLE IF NOT EXISTS core.watch_articles (
    watch           VARCHAR NOT NULL,
    article_id      VARCHAR NOT NULL,
    matched_at      TIMESTAMPTZ NOT NULL,
    matched_terms   VARCHAR[],
    PRIMARY KEY (watch, article_id)
);

-- Warehouses made before this table: every article belonged to the one watch that stored it. Done once (the
-- meta key), so a later reprocess that drops a match is not undone by the next schema change.
-- (Plain INSERT ... WHERE NOT EXISTS and MERGE: the same SQL runs on DuckLake, which has no keys for ON CONFLICT.)
INSERT INTO core.watch_articles
SELECT a.watch, a.article_id, a.first_seen_at, NULL
FROM core.articles a
WHERE NOT EXISTS (SELECT 1 FROM core.meta WHERE key = 'watch_articles_backfilled')
  AND NOT EXISTS (SELECT 1 FROM core.watch_articles w WHERE w.watch = a.watch AND w.article_id = a.article_id);
MERGE INTO core.meta AS t USING (SELECT 'watch_articles_backfilled' AS key, '1' AS value) AS s ON t.key = s.key
WHEN MATCHED THEN UPDATE SET value = s.value WHEN NOT MATCHED THEN INSERT (key, value) VALUES (s.key, s.value);

CREATE OR REPLACE VIEW watch_articles AS
SELECT watch, article_id, matched_at, matched_terms FROM core.watch_articles;
COMMENT ON VIEW watch_articles IS 'One row per watch and article it matched: an article can belong to several watches.';
COMMENT ON COLUMN watch_articles.watch IS 'Watch name from the config.';
COMMENT ON COLUMN watch_articles.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN watch_articles.matched_at IS 'When the watch''s query first matched the article.';
COMMENT ON COLUMN watch_articles.matched_terms IS 'The query terms found in the article (why it matched); NULL for rows carried over from before per-watch matching.';

-- What each run did per watch (the run's totals are in core.runs): articles newly matched, articles judged off
-- topic or in another language, stored articles judged for the watch without a fetch.
CREATE TABLE IF NOT EXISTS core.run_watches (
    run_id          VARCHAR NOT NULL,
    watch           VARCHAR NOT NULL,
    matched         INTEGER NOT NULL DEFAULT 0,
    off_topic       INTEGER NOT NULL DEFAULT 0,
    language        INTEGER NOT NULL DEFAULT 0,
    judged_stored   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, watch)
);

CREATE OR REPLACE VIEW run_watches AS
SELECT run_id, watch, matched, off_topic, language, judged_stored FROM core.run_watches;
COMMENT ON VIEW run_watches IS 'Per run and watch: what each watch''s query made of the pages of the run (runs has the totals).';
COMMENT ON COLUMN run_watches.run_id IS 'The run (runs.run_id).';
COMMENT ON COLUMN run_watches.watch IS 'Watch name from the config.';
COMMENT ON COLUMN run_watches.matched IS 'Articles the watch''s query matched for the first time in this run (new watch_articles rows).';
COMMENT ON COLUMN run_watches.off_topic IS 'Articles that did not match the watch''s query (skips with stage topic, reason off_topic, this watch).';
COMMENT ON COLUMN run_watches.language IS 'Articles dropped because they are not in one of the watch''s languages.';
COMMENT ON COLUMN run_watches.judged_stored IS 'Articles already stored (fetched for another watch, or before the watch or its query existed) judged for this watch without fetching them again.';
