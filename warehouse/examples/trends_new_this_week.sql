-- What is new this week: stories that started in the last 7 days of each watch's coverage (use current_date for a live watch)
WITH latest AS (SELECT watch, max(day) AS last_day FROM attention WHERE period = 'day' GROUP BY watch)
SELECT t.watch, t.day, t.title, t.first_source, t.outlets, t.articles, t.story_id
FROM story_timeline t
JOIN latest l ON l.watch = t.watch
WHERE t.is_first_day AND t.day > l.last_day - 7
ORDER BY t.watch, t.outlets DESC, t.day DESC;
