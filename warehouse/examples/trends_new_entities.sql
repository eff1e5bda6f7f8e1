-- Which entities are new: entities first mentioned in the last 7 days of each watch's coverage, and the story that brought them
WITH latest AS (SELECT watch, max(day) AS last_day FROM attention WHERE period = 'day' GROUP BY watch)
SELECT n.watch, n.entity, n.entity_type, n.first_day, n.source, n.title, n.first_day_stories, n.articles
FROM new_entities n
JOIN latest l ON l.watch = n.watch
WHERE n.first_day > l.last_day - 7
ORDER BY n.watch, n.first_day_stories DESC, n.articles DESC, n.entity
LIMIT 50;
