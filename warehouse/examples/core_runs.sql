-- The last runs and what they did
SELECT run_id, command, status, started_at, articles_new, articles_revised, skipped, off_topic, digest_items
FROM runs
ORDER BY started_at DESC
LIMIT 10;
