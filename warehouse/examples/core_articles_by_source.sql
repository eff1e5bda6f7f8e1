-- Articles per outlet, with syndicated copies and stories counted once
SELECT source,
       count(*)                       AS articles,
       count(DISTINCT syndication_id) AS distinct_texts,
       count(DISTINCT story_id)       AS stories
FROM articles
GROUP BY source
ORDER BY stories DESC, source;
