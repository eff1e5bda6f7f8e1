-- What spiked and why: days of abnormal attention, with the biggest stories of that day and the entities that spiked with it
SELECT s.watch, s.day, s.stories, s.baseline, round(s.score, 1) AS score,
       (SELECT list(t.title ORDER BY t.outlets DESC, t.articles DESC)[1:3]
          FROM story_timeline t WHERE t.watch = s.watch AND t.day = s.day) AS top_stories,
       (SELECT list(e.entity ORDER BY e.score DESC)[1:5]
          FROM spikes e WHERE e.watch = s.watch AND e.day = s.day AND e.entity IS NOT NULL) AS entities_spiking
FROM spikes s
WHERE s.entity IS NULL
ORDER BY s.score DESC, s.day DESC
LIMIT 20;
