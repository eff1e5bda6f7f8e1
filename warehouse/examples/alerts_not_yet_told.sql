-- Articles each watch has not yet carried in a delivered digest (what its next digest will consider): the 50 latest matches
WITH untold AS (
    SELECT w.watch, w.article_id, w.matched_at
    FROM watch_articles w
    WHERE NOT EXISTS (
        SELECT 1 FROM digest_articles d
        WHERE d.article_id = w.article_id AND d.watch = w.watch AND d.status IN ('sent', 'written', 'pending', 'sending'))
    ORDER BY w.matched_at DESC, w.article_id
    LIMIT 50
)
SELECT u.watch, a.story_id, a.source, a.title, a.published_at, u.matched_at
FROM untold u
JOIN articles a USING (article_id)
ORDER BY u.matched_at DESC, a.published_at DESC NULLS LAST, a.article_id;
