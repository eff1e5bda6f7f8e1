-- Stories counted once, however many outlets and copies covered them (the 50 newest)
SELECT story_id, title, first_seen, last_seen, article_count, outlet_count, text_count, copy_count
FROM stories
ORDER BY first_seen DESC, story_id
LIMIT 50;
