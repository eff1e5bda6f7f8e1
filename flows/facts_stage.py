"""The facts stage as plain functions the pipeline calls: extract + store a batch, then link across articles.

No Prefect decorators here: flows/pipeline.py wraps these in tasks (a task per batch, not per article).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from extractors.facts import FACTS_VERSION, extract_facts_batch
from extractors.facts.linking import cluster_quotes, find_aliases, find_conflicts
from newswatch.models import Article, Facts
from warehouse.facts import read_link_inputs, store_facts, write_links


def extract_articles(
    articles: Sequence[Article],
    *,
    user_aliases: Mapping[str, str] | None = None,
    n_process: int = 1,
    batch_size: int = 32,
) -> list[Facts]:
    """Facts for each article's cleaned text (Article.text), in order."""
    return extract_facts_batch(
        [(a.article_id, a.text) for a in articles],
        user_aliases=user_aliases,
        n_process=n_process,
        batch_size=batch_size,
    )


def store_and_link(
    con: duckdb.DuckDBPyConnection,
    facts: Sequence[Facts],
    *,
    content_hashes: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """store_facts then link_aliases; returns (fact rows written, rows re-canonicalised)."""
    n = store_facts(con, facts, content_hashes=content_hashes)
    return n, link_aliases(con)


def link_aliases(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the cross-article alias table and re-canonicalise stored mentions and quotes.

    Also rebuilds the quote clusters and the conflicts table, which depend on canonical names and on the
    set of stored articles. Returns the number of mention and quote rows whose canonical name changed.
    Run it after each store_facts (it reads every stored fact; about a second per 10k articles).
    """
    inputs = read_link_inputs(con)
    aliases = find_aliases(inputs["mentions"], inputs["aliases"])
    clusters = cluster_quotes(inputs["quotes"])
    conflicts = find_conflicts(inputs["facts"])
    return write_links(con, aliases, clusters, conflicts)


__all__ = ["FACTS_VERSION", "extract_articles", "link_aliases", "store_and_link", "store_facts"]
