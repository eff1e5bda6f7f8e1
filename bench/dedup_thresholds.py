"""Evidence for the verification thresholds: pairwise copy precision/recall on the labelled set for a grid of
UNIT_MIN_OVERLAP x min_shared_ratio, on every pair of articles that the lookup would make candidates
(sharing at least one sentence unit). Outlet footers are removed first (the stage's outlet-template rule
does that in the warehouse; tests/dedup/test_dedup_stage.py checks it), and the follow-up rule is applied.

Run: .venv/bin/python -m bench.dedup_thresholds
"""

from __future__ import annotations

import json
from itertools import combinations

from bench.dedup_gen import OUTLETS, build
from extractors.dedup import align, is_copy
from extractors.fingerprint import fingerprint


def main() -> None:
    docs = build()
    footers = [o[1] for o in OUTLETS]
    fps = {}
    for d in docs:
        text = d.text
        for f in footers:
            text = text.replace(f, "")
        fps[d.doc_id] = fingerprint(d.doc_id, text)
    index: dict[int, set[str]] = {}
    for i, fp in fps.items():
        for h in fp.unit_simhashes:
            index.setdefault(h, set()).add(i)
    cand = set()
    for ids in index.values():
        cand.update(combinations(sorted(ids), 2))
    by = {d.doc_id: d for d in docs}

    def when(d):
        return d.published_at or d.first_seen_at

    truth = {(a, b) for a, b in combinations(sorted(by), 2) if by[a].family == by[b].family}
    grid = []
    for overlap in (0.5, 0.6, 0.7, 0.8, 0.9):
        aligned = {}
        for a, b in cand:
            o, c = (a, b) if when(by[a]) <= when(by[b]) else (b, a)
            aligned[(a, b)] = (align(fps[o].units, fps[c].units, overlap), (when(by[c]) - when(by[o])).days)
        for ratio in (0.2, 0.3, 0.4, 0.5):
            pred = {p for p, (al, gap) in aligned.items() if is_copy(al, ratio, gap)}
            tp = len(pred & truth)
            grid.append(
                {
                    "unit_min_overlap": overlap,
                    "min_shared_ratio": ratio,
                    "precision": round(tp / len(pred), 4) if pred else 1.0,
                    "recall": round(tp / len(truth), 4),
                    "false_pairs": len(pred - truth),
                    "missed_pairs": len(truth - pred),
                }
            )
    print(json.dumps({"documents": len(docs), "candidate_pairs": len(cand), "true_pairs": len(truth)}))
    for row in grid:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
