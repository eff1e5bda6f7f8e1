-- Articles each watch has not yet carried in a delivered digest (what its next digest will consider)
SELECT w.watch, a.story_id, a.source, a.title, a.published_at
FROM watch_articles w
JOIN articles a USING (article_id)
WHERE NOT EXISTS (
    SELECT 1 FROM digest_articles d
    WHERE d.article_id = w.article_id AND d.watch = w.watch AND d.status IN ('sent', 'written', 'pending', 'sending'))
ORDER BY a.published_at DESC NULLS LAST
LIMIT 50;
