-- Which figures changed over time (each counted noun with more than one reported value)
SELECT noun, value, previous_value, change, qualifier, first_source, first_reported_at, reports
FROM figure_history
WHERE (watch, noun) IN (SELECT watch, noun FROM figure_history GROUP BY ALL HAVING count(*) > 1)
ORDER BY noun, first_reported_at, value;
