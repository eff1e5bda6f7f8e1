-- The public SQL contract for articles and runs. Column names here are relied on by users and tests:
-- add columns freely, never rename or drop one. Fact views are in 30_facts.sql, dedup views in 20_dedup.sql.

CREATE OR REPLACE VIEW articles AS
SELECT
    a.article_id,
    a.url,
    a.source,
    a.title,
    a.published_at,
    a.fetched_at,
    a.text,
    a.word_count,
    fp.simhash,
    coalesce(g.syndication_id, a.article_id) AS syndication_id,
    coalesce(g.story_id, a.article_id) AS story_id,
    a.watch,
    a.canonical_url,
    a.author,
    a.language,
    a.published_origin,
    a.published_confidence,
    a.first_seen_at,
    a.fetch_status,
    a.revision,
    a.raw_text
FROM core.articles a
LEFT JOIN core.article_groups g USING (article_id)
LEFT JOIN (SELECT article_id, doc_simhash AS simhash FROM core.fingerprints) fp USING (article_id);

CREATE OR REPLACE VIEW runs AS
SELECT * FROM core.runs;
