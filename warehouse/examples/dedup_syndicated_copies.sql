-- Syndicated copies: who ran which copy of a text, when, and how much they changed (the 10 most copied texts)
WITH top AS (
    -- Below, s.group_size = t.group_size repeats what the id implies: it lets DuckDB narrow the scan of the copy
    -- groups to these 10 texts before it joins their articles, and s.group_size > 1 makes it join them the
    -- cheap way round (without them it joined every article of the warehouse first: 8.5 s at 1M articles).
    SELECT syndication_id, group_size, published_at
    FROM syndication
    WHERE role = 'original' AND group_size > 1
    ORDER BY group_size DESC, published_at DESC, syndication_id
    LIMIT 10
)
SELECT s.syndication_id, s.copy_rank, s.role, s.source, s.title, s.published_at, s.lag,
       round(s.shared_ratio, 2) AS shared_ratio, s.headline_changed, s.figures_added, s.figures_removed
FROM top t
JOIN syndication s ON s.syndication_id = t.syndication_id AND s.group_size = t.group_size
WHERE s.group_size > 1
ORDER BY t.group_size DESC, t.published_at DESC, s.syndication_id, s.copy_rank;
