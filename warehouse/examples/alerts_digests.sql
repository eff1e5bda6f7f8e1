-- Digests: what went out (or was written) when, how many stories, and how delivery went
SELECT watch, created_at, status, items, updates, articles, subject, attempts, last_error, delivered_at
FROM digests
ORDER BY created_at DESC
LIMIT 20;
