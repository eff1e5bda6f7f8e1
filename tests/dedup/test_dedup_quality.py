"""Quality gate: syndication and story detection on a slice of the labelled set (bench/dedup_gen.py).

Floors sit a little below what was measured (docs/dedup.md, "Evaluation") so that quality cannot drop
silently. The slice: seeds + 30 real texts with generated copies and hard negatives, originals published
within 20 days (many unrelated stories share one story window: the hard case for stories).
"""

from __future__ import annotations

import pytest

from bench.dedup_eval import evaluate
from bench.dedup_gen import build
from tests.nwtest import requires_shared

pytestmark = requires_shared("corpus/html")  # the labelled set is built from the real pages

# measured 2026-11-22 with seed 7, 30 bases, 20-day span: copies P 1.0 R 1.0 ARI 1.0; stories P 1.0
# R 0.891 F1 0.942; whole-document simhash at 3 bits: copies ARI 0.234 (package) / 0.0 (our shingles)
FLOORS = {
    ("copies", "precision"): 0.97,
    ("copies", "recall"): 0.95,
    ("copies", "ari"): 0.95,
    ("stories", "precision"): 0.95,
    ("stories", "f1"): 0.90,
    ("stories", "ari"): 0.90,
}


@pytest.fixture(scope="module")
def result():
    return evaluate(build(seed=7, max_bases=30, span_days=20))


@pytest.mark.timeout(120)
def test_quality_floors(result):
    assert result["seeds_ok"]
    low = {f"{a}.{b}": (result[a][b], floor) for (a, b), floor in FLOORS.items() if result[a][b] < floor}
    assert not low, f"below floor (measured, floor): {low}"


@pytest.mark.timeout(120)
def test_beats_whole_document_simhash(result):
    for name, base in result["baselines"].items():
        assert result["copies"]["ari"] >= base["ari"] + 0.5, name
        assert result["copies"]["recall"] > base["recall"], name


@pytest.mark.timeout(120)
def test_every_copy_operation_is_recovered(result):
    assert result["copy_recall_by_operation"]
    for op, recall in result["copy_recall_by_operation"].items():
        assert recall >= 0.9, op


# ---- issue 10: real pairs, copies carried by one source, seeds (bench/quality_dedup.py) -------------------
# Measured 2026-12-01 (docs/dedup.md, "Real data"): real pairs dev P 1.0 R 0.957 F1 0.978 (TF-IDF best
# threshold 0.93), held-out P 1.0 R 0.769 F1 0.87 (TF-IDF at the dev threshold 0.87, at its own best 0.96).
# One pair of slack under each measured recall (a pair is 0.04 of dev recall, 0.08 of held-out).
REAL_FLOORS = {
    "dev": {"precision": 0.95, "recall": 0.91},
    "held-out": {"precision": 0.9, "recall": 0.72},
}


@pytest.fixture(scope="module")
def real():
    from bench.quality_dedup import real_pairs
    from tests.nwtest import skip_unless_shared

    skip_unless_shared("eval/semeval2022-en-train/pairs.csv")
    return real_pairs()


@pytest.mark.timeout(900)
def test_real_pairs_floors_and_tfidf_baseline(real):
    low = {
        f"{split}.{k}": (real[split]["stories"][k], floor)
        for split, floors in REAL_FLOORS.items()
        for k, floor in floors.items()
        if real[split]["stories"][k] < floor
    }
    assert not low, f"below floor (measured, floor): {low}"
    # above TF-IDF cosine at its best threshold on the development split, and not below it on the held-out
    # split at the threshold chosen on development (its own best there is an oracle)
    assert real["dev"]["stories"]["f1"] > real["dev"]["tfidf_best_threshold"]["f1"]
    assert real["held-out"]["stories"]["f1"] >= real["held-out"]["tfidf_at_dev_threshold"]["f1"]
    # undated texts are grouped by content without growing into topics
    assert real["largest_story"] <= 6


# Stories are assigned incrementally, so they depend on arrival order: the mean over the fixed order and 7
# shuffled ones (bench.quality_dedup.ORDERS), measured 2026-12-03: dev P 0.984 R 0.946, held-out P 1.0
# R 0.836 (range 0.769-0.923). One pair of slack under each measured mean.
ORDER_MEAN_FLOORS = {
    "dev": {"precision": 0.94, "recall": 0.9},
    "held-out": {"precision": 0.92, "recall": 0.76},
}


@pytest.mark.timeout(900)
def test_real_pairs_over_arrival_orders(real):
    low = {}
    for split, floors in ORDER_MEAN_FLOORS.items():
        spread = real[split]["stories_over_orders"]
        assert spread["runs"] >= 8
        # the fixed order's result is one of the runs
        for k, floor in floors.items():
            assert spread[k]["min"] <= real[split]["stories"][k] <= spread[k]["max"]
            if spread[k]["mean"] < floor:
                low[f"{split}.{k}"] = (spread[k]["mean"], floor)
    assert not low, f"mean over arrival orders below floor (measured, floor): {low}"


@pytest.mark.timeout(600)
def test_copies_carried_by_one_source_are_found():
    # One source carries every copy (a folder of local files, no dates; then one outlet republishing, dated):
    # before, the copies' shared sentences counted as that source's template (recall 0.008 on real copies).
    from bench.dedup_gen import load_corpus

    bases = load_corpus()[:24]
    for kw in ({"source": "local file", "dated": False}, {"source": "Daily Bugle"}):
        r = evaluate(build(seed=7, corpus=bases, span_days=20, copies=(1, 2, 3, 4), **kw), with_baselines=False)
        assert r["copies"]["precision"] == 1.0, (kw, r["false_copy_pairs"])
        assert r["copies"]["recall"] >= 0.97, (kw, r["missed_copy_pairs"])


@pytest.mark.timeout(300)
def test_seed_stories_with_dates_and_without():
    from bench.quality_dedup import seeds

    s = seeds()
    assert s["dated"]["ok"], s["dated"]
    # without dates only content is left, and the two Rotherham events share their topic, actors and
    # background: the 2018 copies stay one story (what undated stories can promise), documented in docs/dedup.md
    assert any({"000", "001", "002"} <= set(g) for g in s["undated"]["stories"]), s["undated"]


# PolNeAR article pairs rated for newswatch (seeds/stories/polnear_pairs.csv; never used to tune stories), first run
# 2026-12-04 (docs/dedup.md, "PolNeAR pairs"): strict reading (10 same, 42 different) dated P 1.0 R 0.80 (mean over
# 8 orders 0.787), undated P 1.0 R 0.50 (mean 0.587). With stories fading (STORY_FADE_*, tuned on the dev pairs,
# fourteenth session) dated R 0.80, mean 0.838 (min 0.7, max 0.9); undated unchanged. Floors: undated one pair under
# its mean, dated above the 0.787 of the rule before the fade; the held-out figures that miss the target are pinned
# so that they cannot get worse unnoticed.
POLNEAR_MEAN_FLOORS = {
    "dated": {"precision": 0.9, "recall": 0.80},
    "undated": {"precision": 0.9, "recall": 0.48},
}


@pytest.mark.timeout(900)
def test_stories_on_polnear_pairs_rated_for_newswatch():
    from bench.quality_dedup import load_polnear_pairs, polnear_pairs
    from tests.nwtest import skip_unless_shared

    skip_unless_shared("eval/polnear-train/metadata.tsv")
    texts, pairs = load_polnear_pairs()
    assert len(pairs) == 128 and all(p["a"] in texts and p["b"] in texts for p in pairs)
    r = polnear_pairs()["strict"]
    assert r["same"] == 10 and r["clear_pairs"] == 52
    low = {f"{name}.{k}": (r[name]["stories_over_orders"][k]["mean"], floor)
           for name, floors in POLNEAR_MEAN_FLOORS.items() for k, floor in floors.items()
           if r[name]["stories_over_orders"][k]["mean"] < floor}
    assert not low, f"mean over arrival orders below floor (measured, floor): {low}"
    # with dates (the feed path) stories are above TF-IDF at the threshold a user would take from SemEval dev
    assert r["dated"]["stories"]["f1"] > r["tfidf_at_semeval_dev_threshold"]["f1"]
