-- Who said what: each distinct quote once, with its speaker, first outlet and how often it was repeated
SELECT speaker, left(quote, 120) AS quote, first_source, first_reported_at, appearances, texts
FROM quote_registry
WHERE speaker IS NOT NULL
ORDER BY appearances DESC, first_reported_at
LIMIT 50;
