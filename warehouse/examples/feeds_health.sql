-- Feed health: feeds that are failing or disabled first, then the quietest
SELECT feed_url, health, last_status, last_http_status, consecutive_failures, disabled_reason,
       last_ok_at, last_new_entry_at, poll_interval_s, next_poll_at, validators_unreliable, entries_seen, articles
FROM feeds
ORDER BY CASE health WHEN 'disabled' THEN 0 WHEN 'failing' THEN 1 WHEN 'never_ok' THEN 2 WHEN 'quiet' THEN 3 ELSE 4 END,
         last_new_entry_at NULLS FIRST, feed_url;
