-- Names linked across articles (acronyms, spelling variants, misspelt acronyms) and why
SELECT alias, entity, entity_type, origin, evidence, articles
FROM entity_aliases
WHERE article_id IS NULL
ORDER BY entity, alias;
