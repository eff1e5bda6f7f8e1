-- Who reported it first: for the most covered stories, the first outlet and how far behind the others followed
WITH top AS (
    SELECT watch, story_id, first_source, first_at AS first_reported_at, outlets
    FROM outlet_coverage
    WHERE is_first
    ORDER BY outlets DESC, first_reported_at DESC
    LIMIT 50
)
SELECT t.watch, t.story_id, t.first_source, t.first_reported_at, t.outlets,
       list(c.source || ' +' || CAST(c.lag AS VARCHAR) ORDER BY c.rank) FILTER (WHERE NOT c.is_first) AS followers
FROM top t
JOIN outlet_coverage c ON c.watch = t.watch AND c.story_id = t.story_id
GROUP BY ALL
ORDER BY t.outlets DESC, t.first_reported_at DESC;
