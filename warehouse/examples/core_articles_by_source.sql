-- Articles per outlet and watch, with syndicated copies apart and stories counted once (from outlet_coverage)
SELECT watch, source,
       sum(articles)                       AS articles,
       sum(articles - copies)              AS own_texts,
       sum(copies)                         AS copies,
       count(*)                            AS stories,
       count(*) FILTER (WHERE is_first)    AS stories_first
FROM outlet_coverage
GROUP BY watch, source
ORDER BY watch, stories DESC, source;
