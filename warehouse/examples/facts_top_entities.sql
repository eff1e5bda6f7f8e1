-- The most mentioned people and organisations, with how many distinct texts mention them
SELECT e.entity, e.entity_type, count(*) AS mentions, count(DISTINCT a.syndication_id) AS texts,
       list(DISTINCT e.surface ORDER BY e.surface) AS written_as
FROM entity_mentions e
JOIN articles a USING (article_id)
WHERE e.entity_type IN ('PERSON', 'ORG')
GROUP BY e.entity, e.entity_type
ORDER BY texts DESC, mentions DESC
LIMIT 25;
