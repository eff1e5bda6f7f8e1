-- Articles each watch has not yet carried in a delivered digest (what its next digest will consider): the 50 latest matches
WITH told AS (
    -- An ANTI JOIN against the ledger: DuckDB planned the equivalent correlated NOT EXISTS as a join over every
    -- watch_articles row, 2-3 s at 1M articles.
    SELECT watch, article_id FROM digest_articles WHERE status IN ('sent', 'written', 'pending', 'sending')
), untold AS (
    SELECT w.watch, w.article_id, w.matched_at
    FROM watch_articles w
    ANTI JOIN told d ON d.article_id = w.article_id AND d.watch = w.watch
    ORDER BY w.matched_at DESC, w.article_id, w.watch  -- one batch's matches share matched_at
    LIMIT 50
)
-- the 50 rows' outlet, title and story from the core tables: the articles view would build its watches lists for
-- every article first (0.3 s at 1M articles)
SELECT u.watch, coalesce(g.story_id, a.article_id) AS story_id, a.source, a.title, a.published_at, u.matched_at
FROM untold u
JOIN core.articles a USING (article_id)
LEFT JOIN core.article_groups g USING (article_id)
ORDER BY u.matched_at DESC, a.published_at DESC NULLS LAST, a.article_id, u.watch;
