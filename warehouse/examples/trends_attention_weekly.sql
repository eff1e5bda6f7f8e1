-- Attention per week: stories (copies and follow-ups once), distinct texts and articles side by side
SELECT watch, day AS week, stories, new_stories, texts, articles, outlets
FROM attention
WHERE period = 'week'
ORDER BY watch, week;
