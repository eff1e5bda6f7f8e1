"""Quality gate: precision/recall of the facts extractors on the gold annotations must stay above pinned floors.

The floors are a little below the scores measured when they were pinned (docs/facts.md, "Quality"), so that a
change that makes extraction worse fails here. Raise them when the extractors improve; never lower them to make
a change pass without saying why in docs/facts.md.
"""

from __future__ import annotations

import pytest

from extractors.facts.quality import evaluate, load_gold, score
from newswatch.models import Facts
from tests.nwtest import skip_unless_shared

# kind: (precision floor, recall floor)
FLOORS = {
    "entities": (0.84, 0.90),  # facts-1.6: 0.853 / 0.910 (facts-1.5: 0.842 / 0.899; facts-1.4: 0.822 / 0.882)
    "names": (0.87, 0.93),  # facts-1.6 and 1.5: 0.884 / 0.944
    "aliases": (0.93, 0.89),  # facts-1.6: 0.958 / 0.908
    "figures": (0.95, 0.93),
    "periods": (0.95, 0.97),
    "quotes": (0.95, 0.95),
}
# Entity-only corpus pages (seeds/gold/ent_*, chosen and split by a fixed rule, annotated before any run), per split:
# kind -> (precision floor, recall floor). Measured at facts-1.6 (docs/facts.md, "Entities on unseen pages"):
# held-out entities 0.521 / 0.581, names 0.714 / 0.796; dev entities 0.771 / 0.898, names 0.795 / 0.926.
# facts-1.5: held-out 0.519 / 0.576, dev 0.500 / 0.614; the first run (facts-1.4): held-out 0.484 / 0.560,
# dev 0.354 / 0.511. The dev floors guard against regressions of rules tuned on those pages: the held-out
# figures are the estimate (facts-1.6 gained +0.002 / +0.005 there against +0.27 / +0.28 on dev). facts-1.7 (one
# rule narrowed after a code review, not re-measured) passes every floor. facts-1.8 (eleventh session: a person
# named by one word only with no evidence is not stored): held-out entities 0.547 / 0.581, names 0.729 / 0.775
# (four names that were typed wrongly, so right as names only, are no longer stored); dev entities 0.802 / 0.898,
# names 0.822 / 0.920.
ENTITY_PAGE_FLOORS = {
    "heldout": {"entities": (0.53, 0.57), "names": (0.71, 0.76)},
    "dev": {"entities": (0.79, 0.88), "names": (0.81, 0.91)},
}
# PolNeAR news articles (seeds/gold/news_*, chosen and split by a fixed rule, annotated before any run), per split.
# Four held-out sets were annotated in turn, each scored once on its first run and then moved to dev
# (docs/facts.md, "Entities in political news"): 10 articles at facts-1.10, 0.827 / 0.836; 15 at facts-1.11,
# 0.838 / 0.868; 20 at facts-1.12, 0.814 / 0.869; the current 20 at facts-1.13, entities 0.810 / 0.810, names
# 0.876 / 0.876 (facts-1.12 on them: 0.807 / 0.812). Dev (70 articles) at facts-1.13: entities 0.883 / 0.901,
# names 0.914 / 0.934.
NEWS_PAGE_FLOORS = {
    "heldout": {"entities": (0.80, 0.80), "names": (0.86, 0.86)},
    "dev": {"entities": (0.87, 0.89), "names": (0.90, 0.92)},
}
QUALIFIER_FLOOR = 0.95
SPEAKER_FLOOR = 0.94


@pytest.fixture(scope="module")
def report():
    skip_unless_shared("corpus/html")  # several gold documents are real corpus pages, read at run time
    # the 13 fully annotated documents; the entity-only pages (ent_*) have their own floors below
    return evaluate(exclude_prefix=("ent_", "news_"))


def test_gold_covers_seeds_and_more() -> None:
    ids = [d["id"] for d in load_gold()]
    assert sum(i.startswith("seed_") for i in ids) == 5
    assert len(ids) >= 11
    assert len(load_gold(split="heldout")) >= 2


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_precision_and_recall_floors(report, kind: str) -> None:
    s = report.scores[kind]
    p_floor, r_floor = FLOORS[kind]
    assert s.tp + s.fn >= 20, f"too little gold for {kind}"
    assert s.precision >= p_floor, f"{kind} precision {s.precision:.3f} < {p_floor}; false hits: {s.false_hits[:10]}"
    assert s.recall >= r_floor, f"{kind} recall {s.recall:.3f} < {r_floor}; misses: {s.misses[:10]}"


def test_qualifier_and_speaker_accuracy(report) -> None:
    assert report.qualifier.total >= 30 and report.qualifier.value >= QUALIFIER_FLOOR, report.qualifier.wrong
    assert report.speakers.total >= 40 and report.speakers.value >= SPEAKER_FLOOR, report.speakers.wrong


def test_the_gate_can_fail() -> None:
    """An extractor that finds nothing, or invents, scores low: the harness is not vacuous."""
    docs = load_gold(exclude_prefix=("ent_", "news_"))
    empty = score(docs, [Facts(article_id=d["id"]) for d in docs])
    assert all(empty.scores[k].recall == 0.0 for k in FLOORS)
    from newswatch.models import Period

    noisy = [Facts(article_id=d["id"], periods=tuple(Period(d["id"], y, y, "", "") for y in range(1990, 2000)))
             for d in docs]
    assert score(docs, noisy).scores["periods"].precision < 0.1


# the entity-only pages: id prefix -> (the shared data they are read from, floors per split)
ENTITY_ONLY_SETS = {"ent_": ("corpus/html", ENTITY_PAGE_FLOORS), "news_": ("eval/polnear-train", NEWS_PAGE_FLOORS)}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("prefix", "split"), [(p, s) for p, (_, floors) in ENTITY_ONLY_SETS.items() for s in sorted(floors)])
def test_entity_floors_on_unseen_pages(prefix: str, split: str) -> None:
    """The corpus pages (ent_) and the PolNeAR news articles (news_), read at run time, never copied here."""
    shared, floors = ENTITY_ONLY_SETS[prefix]
    skip_unless_shared(shared)
    docs = load_gold(split=split, prefix=prefix)
    assert len(docs) >= 10, f"the {split} {prefix} entity pages are missing"
    rep = evaluate(split=split, prefix=prefix)
    for kind, (p_floor, r_floor) in floors[split].items():
        s = rep.scores[kind]
        assert s.tp + s.fn >= 150, f"too little gold for {kind}"
        assert s.precision >= p_floor, f"{split} {kind} precision {s.precision:.3f} < {p_floor}: {s.false_hits[:10]}"
        assert s.recall >= r_floor, f"{split} {kind} recall {s.recall:.3f} < {r_floor}: {s.misses[:10]}"
    # entity-only pages are not scored on figures, periods or quotes (they were not annotated for them)
    assert all(rep.scores[k].tp + rep.scores[k].fp + rep.scores[k].fn == 0 for k in ("figures", "periods", "quotes"))


def test_entity_only_pages_are_not_scored_on_figures_periods_or_quotes() -> None:
    """A page annotated for entities only ("kinds") must not count what the extractors find there as false hits."""
    from newswatch.models import EntityMention, Figure

    doc = {"id": "ent_x", "kinds": ["entities", "names", "aliases"], "entities": [["Redonda", "LOC"]],
           "aliases": [], "figures": [], "periods": [], "quotes": []}
    fx = Facts(article_id="ent_x",
               entities=(EntityMention("ent_x", "Redonda", "LOC", "Redonda", 0, 7),),
               figures=(Figure("ent_x", 60.0, "goats", None, None, "60 goats", "60 goats"),))
    rep = score([doc], [fx])
    assert rep.scores["entities"].tp == 1 and rep.scores["figures"].fp == 0
    full = score([{**doc, "kinds": ["entities", "names", "aliases", "figures", "periods", "quotes"]}], [fx])
    assert full.scores["figures"].fp == 1
