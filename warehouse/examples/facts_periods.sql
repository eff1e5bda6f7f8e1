-- Periods the coverage talks about: each year range, how many texts give it, and the first sentence
SELECT p.start_year, p.end_year, count(DISTINCT a.syndication_id) AS texts, min(a.published_at) AS first_published,
       arg_min(p.sentence, a.published_at) AS first_sentence
FROM periods p
JOIN articles a USING (article_id)
WHERE p.kind = 'range'
GROUP BY p.start_year, p.end_year
ORDER BY texts DESC, p.start_year;
