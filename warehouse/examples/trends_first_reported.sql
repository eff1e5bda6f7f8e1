-- Who reported it first: for each story the first outlet, and how far behind the others followed
SELECT watch, story_id, first_source, min(first_at) AS first_reported_at, outlets,
       list(source || ' +' || CAST(lag AS VARCHAR) ORDER BY rank) FILTER (WHERE NOT is_first) AS followers
FROM outlet_coverage
GROUP BY watch, story_id, first_source, outlets
ORDER BY outlets DESC, first_reported_at DESC
LIMIT 50;
