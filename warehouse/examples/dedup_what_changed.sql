-- What each copy changed: headline, lede, figures and quotes against the original it copies (the 50 latest copies)
SELECT copy_source, original_source, copy_title, original_title, round(shared_ratio, 2) AS shared_ratio,
       distance AS doc_simhash_bits, lede_changed, figures_added, figures_removed,
       sentences_added, sentences_removed, sentences_edited, quotes_added, quotes_removed
FROM syndication_edges
ORDER BY detected_at DESC, article_id
LIMIT 50;
