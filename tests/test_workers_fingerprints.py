"""Fingerprints computed by the pool workers with the extraction: the dedup stage uses them instead of computing
its own, and the warehouse is the one it makes when it computes every fingerprint itself; a fingerprint whose
(article id, content hash) is not the stored article's is never used."""

from __future__ import annotations

from pathlib import Path

from extractors.fingerprint import fingerprint
from flows import dedup_stage
from newswatch.config import DedupSettings
from tests.dedup.dedup_helpers import STORY, T0, article_row, days, load
from warehouse.db import connect, transaction

OTHER = [
    "The city council has approved a new cycle lane along the length of the main shopping street.",
    "Shop owners said the loss of forty parking spaces would drive customers to the retail park.",
    "The council's transport lead said footfall had risen in every town that had built such lanes.",
    "Work on the lane is expected to begin in the spring and to take about four months to finish.",
    "A petition against the scheme collected more than two thousand signatures in three weeks.",
    "Cyclists welcomed the decision and asked for the lane to be extended to the railway station.",
]

TABLES = {
    "core.article_groups": "article_id, syndication_id, story_id",
    "core.dedup_state": "article_id, version, content_hash",
    "core.article_units": "*",
    "core.unit_keys": "*",
    "core.simhash_bands": "*",
    "core.syndication_edges": "* EXCLUDE (detected_at)",
    "core.stories": "story_id, title, first_at, last_at, members, profile",
    "core.story_assignments": "* EXCLUDE (assigned_at)",
    "core.story_terms": "*",
}


def _rows() -> list[dict]:
    rows = [article_row("orig", "\n".join(STORY), title="Water firm fined", source="Echo", published_at=T0),
            article_row("other", "\n".join(OTHER), title="Cycle lane approved", source="Post", published_at=T0)]
    for i in range(4):  # edited copies on other outlets, a day later
        body = [f"LONDON (Outlet {i}) - {STORY[0]}", *STORY[1:7 - i % 2]]
        rows.append(article_row(f"copy{i}", "\n".join(body), title="Water firm fined", source=f"Outlet {i}",
                                published_at=T0 + days(1)))
    return rows


def _run(db: Path, batches: list[list[dict]], fingerprints, remember: bool = True) -> dict[str, list]:
    """The batches grouped one after another; remember=False: the stored candidates of each batch are segmented
    again (the units the stage kept from earlier batches are forgotten), the stage's plain form."""
    con = connect(db)
    try:
        for rows in batches:
            if not remember:
                dedup_stage._SEGMENTED.clear()
            load(con, rows)
            with transaction(con):
                dedup_stage.group_articles(con, [r["article_id"] for r in rows], DedupSettings(), fingerprints(rows))
        return {t: sorted(map(repr, con.execute(f"SELECT {c} FROM {t}").fetchall())) for t, c in TABLES.items()}
    finally:
        con.close()


def _batches() -> list[list[dict]]:
    rows = _rows()
    return [rows[:3], rows[3:]]  # copies in the batch of their original and in a later batch


def test_fingerprints_from_the_workers_give_the_rows_the_stage_computes(tmp_path, monkeypatch) -> None:
    """...and the units kept from them verify the next batch's candidates as segmenting their texts again does."""
    segmented: list[str] = []
    real_segment = dedup_stage.segment

    def counted_segment(text: str):
        segmented.append(text)
        return real_segment(text)

    monkeypatch.setattr(dedup_stage, "segment", counted_segment)
    mine = _run(tmp_path / "own.duckdb", _batches(), lambda rows: None, remember=False)
    assert segmented  # the plain form segments the stored candidates it verifies
    segmented.clear()
    dedup_stage._SEGMENTED.clear()
    used: list[str] = []
    real = dedup_stage.fingerprint

    def counted(article_id: str, text: str, **kw):
        used.append(article_id)
        return real(article_id, text, **kw)

    monkeypatch.setattr(dedup_stage, "fingerprint", counted)
    given = _run(tmp_path / "given.duckdb", _batches(),
                 lambda rows: {(r["article_id"], r["content_hash"]): fingerprint(r["article_id"], r["text"],
                                                                                use_numpy=True) for r in rows})
    assert given == mine
    assert used == []  # every fingerprint came from the caller
    assert segmented == []  # the first batch's articles were candidates of the second: their units were kept
    assert len(mine["core.syndication_edges"]) == 4  # the copies were found: the comparison saw real groups


def test_a_fingerprint_of_another_text_is_not_used(tmp_path, monkeypatch) -> None:
    mine = _run(tmp_path / "own.duckdb", _batches(), lambda rows: None, remember=False)
    wrong = fingerprint("x", "\n".join(OTHER), use_numpy=True)
    # under each article's id but another content hash (a text revised since), and under the right key but made
    # for another article id: both recomputed
    given = _run(tmp_path / "given.duckdb", _batches(),
                 lambda rows: {**{(r["article_id"], "0" * 32): wrong for r in rows},
                               **{(r["article_id"], r["content_hash"]): wrong for r in rows[:1]}})
    assert given == mine
