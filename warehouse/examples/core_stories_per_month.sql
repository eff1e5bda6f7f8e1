-- New stories per month (trend counts use stories, not copies)
SELECT date_trunc('month', first_published) AS month, count(*) AS new_stories
FROM (SELECT story_id, min(published_at) AS first_published FROM articles GROUP BY story_id)
GROUP BY 1
ORDER BY 1;
