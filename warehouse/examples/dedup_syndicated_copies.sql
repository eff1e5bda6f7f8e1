-- Syndicated copies: who ran which copy of a text, when, and how much they changed
SELECT syndication_id, copy_rank, role, source, title, published_at, lag,
       round(shared_ratio, 2) AS shared_ratio, headline_changed, figures_added, figures_removed
FROM syndication
WHERE group_size > 1
ORDER BY syndication_id, copy_rank;
