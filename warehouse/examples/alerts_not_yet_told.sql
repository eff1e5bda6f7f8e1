-- Articles not yet in any delivered digest (what the next digest will consider)
SELECT a.watch, a.story_id, a.source, a.title, a.published_at
FROM articles a
WHERE a.article_id NOT IN (
    SELECT article_id FROM digest_articles WHERE status IN ('sent', 'written', 'pending', 'sending'))
ORDER BY a.published_at DESC NULLS LAST
LIMIT 50;
