"""The cross-article part of the facts stage: alias linking, quote clusters and conflicts over stored facts.

Extraction and per-article storage are extractors.facts.extract_facts_batch and warehouse.facts.store_facts,
called by flows/pipeline.py; link_aliases runs once per run, after every batch is stored.
"""

from __future__ import annotations

import duckdb

from extractors.facts.linking import cluster_quotes, find_aliases, find_conflicts
from warehouse.facts import read_link_inputs, write_links


def link_aliases(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the cross-article alias table and re-canonicalise stored mentions and quotes.

    Also rebuilds the quote clusters and the conflicts table, which depend on canonical names and on the
    set of stored articles. Returns the number of mention and quote rows whose canonical name changed.
    It reads every stored fact (about a second per 10k articles), so the pipeline runs it once per run after
    all batches, not after each batch.
    """
    inputs = read_link_inputs(con)
    aliases = find_aliases(inputs["mentions"], inputs["aliases"])
    clusters = cluster_quotes(inputs["quotes"])
    conflicts = find_conflicts(inputs["facts"])
    return write_links(con, aliases, clusters, conflicts)


__all__ = ["link_aliases"]
