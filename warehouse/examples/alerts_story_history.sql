-- Each story's digest history: when it first went out and how many updates followed (the 50 told last)
SELECT story_id, min(created_at) AS first_told, count(*) - 1 AS updates, arg_min(title, created_at) AS title
FROM digest_items
WHERE status IN ('sent', 'written')
GROUP BY story_id
ORDER BY first_told DESC, story_id
LIMIT 50;
