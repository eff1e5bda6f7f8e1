-- The most mentioned people and organisations: the top 10 of each watch over its last 30 days of coverage
WITH latest AS (SELECT watch, max(day) AS last_day FROM attention WHERE period = 'day' GROUP BY watch)
SELECT t.watch, t.entity, mode(t.entity_type) AS entity_type, sum(t.mentions) AS mentions,
       sum(t.articles) AS articles, count(*) AS days_mentioned, max(t.day) AS last_mentioned
FROM entity_trends t
JOIN latest l ON l.watch = t.watch
WHERE t.day > l.last_day - 30 AND t.entity_type IN ('PERSON', 'ORG')
GROUP BY t.watch, t.entity
QUALIFY row_number() OVER (PARTITION BY t.watch ORDER BY sum(t.mentions) DESC, t.entity) <= 10
ORDER BY t.watch, mentions DESC, t.entity;
