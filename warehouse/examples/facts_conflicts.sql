-- Where sources disagree: the same claim reported with different values, side by side
SELECT kind, claim, value, list(DISTINCT source ORDER BY source) AS sources, count(*) AS articles,
       any_value(sentence) AS example
FROM conflicts
GROUP BY conflict_id, kind, claim, value
ORDER BY conflict_id, value;
