-- Periods the coverage talks about: each year range, how many texts give it, and where it was first reported
SELECT start_year, end_year, texts, articles, first_reported_at, first_sentence
FROM period_ranges
ORDER BY texts DESC, start_year, end_year;
