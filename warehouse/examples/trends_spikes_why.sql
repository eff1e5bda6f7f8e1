-- What spiked and why: the strongest days of abnormal attention, with the biggest stories of that day and the entities that spiked with it
WITH top AS (
    SELECT watch, day, stories, baseline, score FROM spikes WHERE entity IS NULL ORDER BY score DESC, day DESC LIMIT 20
), stories_that_day AS (
    SELECT t.watch, t.day, list(st.title ORDER BY st.outlets DESC, st.articles DESC)[1:3] AS top_stories
    FROM top t JOIN story_timeline st ON st.watch = t.watch AND st.day = t.day
    GROUP BY t.watch, t.day
), entities_that_day AS (
    SELECT t.watch, t.day, list(e.entity ORDER BY e.score DESC)[1:5] AS entities_spiking
    FROM top t JOIN spikes e ON e.watch = t.watch AND e.day = t.day AND e.entity IS NOT NULL
    GROUP BY t.watch, t.day
)
SELECT t.watch, t.day, t.stories, t.baseline, round(t.score, 1) AS score, s.top_stories, e.entities_spiking
FROM top t
LEFT JOIN stories_that_day s USING (watch, day)
LEFT JOIN entities_that_day e USING (watch, day)
ORDER BY t.score DESC, t.day DESC;
