-- New stories per month (trend counts use stories, not copies)
SELECT date_trunc('month', min(published_at)) AS month, count(*) AS new_stories
FROM (SELECT story_id, min(published_at) AS published_at FROM articles GROUP BY story_id)
GROUP BY 1
ORDER BY 1;
