-- Syndicated copies: who ran which copy of a text, when, and how much they changed (the 10 most copied texts)
WITH big AS (
    -- The syndication view's columns, read from its core tables for these 10 texts only: through the view DuckDB
    -- joined every article first, 0.6 s at 1M articles. The 10 most copied are among the texts at least as big
    -- as the 10th biggest, so only those are joined with their articles for the date that orders ties.
    SELECT syndication_id, group_size FROM core.syndication_members
    WHERE article_id = syndication_id AND group_size >= coalesce((
        SELECT group_size FROM core.syndication_members
        WHERE article_id = syndication_id AND group_size > 1
        ORDER BY group_size DESC LIMIT 1 OFFSET 9), 2)
), top AS (
    SELECT b.syndication_id, b.group_size, a.published_at
    FROM big b JOIN core.articles a ON a.article_id = b.syndication_id
    ORDER BY b.group_size DESC, a.published_at DESC, b.syndication_id
    LIMIT 10
)
SELECT m.syndication_id, m.copy_rank, CASE WHEN m.article_id = m.syndication_id THEN 'original' ELSE 'copy' END AS role,
       a.source, a.title, a.published_at, m.lag,
       round(CASE WHEN m.article_id = m.syndication_id THEN 1.0 ELSE e.shared_ratio END, 2) AS shared_ratio,
       CAST(json_extract(e.changes, '$.headline_changed') AS BOOLEAN) AS headline_changed,
       CAST(json_extract(e.changes, '$.figures_added') AS VARCHAR[]) AS figures_added,
       CAST(json_extract(e.changes, '$.figures_removed') AS VARCHAR[]) AS figures_removed
FROM top t
JOIN core.syndication_members m ON m.syndication_id = t.syndication_id
JOIN core.articles a ON a.article_id = m.article_id
LEFT JOIN core.syndication_edges e ON e.article_id = m.article_id AND e.copy_of = m.syndication_id
ORDER BY t.group_size DESC, t.published_at DESC, m.syndication_id, m.copy_rank;
