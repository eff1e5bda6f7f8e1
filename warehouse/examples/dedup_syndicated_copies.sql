-- Syndicated copies: who ran which copy of a text, when, and how much they changed (the 10 most copied texts)
WITH top AS (
    SELECT syndication_id, group_size, published_at
    FROM syndication
    WHERE role = 'original' AND group_size > 1
    ORDER BY group_size DESC, published_at DESC, syndication_id
    LIMIT 10
)
SELECT s.syndication_id, s.copy_rank, s.role, s.source, s.title, s.published_at, s.lag,
       round(s.shared_ratio, 2) AS shared_ratio, s.headline_changed, s.figures_added, s.figures_removed
FROM syndication s
JOIN top t USING (syndication_id)
ORDER BY t.group_size DESC, t.published_at DESC, s.syndication_id, s.copy_rank;
