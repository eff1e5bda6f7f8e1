-- New stories per watch and month (trend counts use stories, not copies), with the articles that covered them
SELECT watch, date_trunc('month', day) AS month, sum(new_stories) AS new_stories, sum(articles) AS articles
FROM attention
WHERE period = 'day'
GROUP BY watch, month
ORDER BY watch, month;
