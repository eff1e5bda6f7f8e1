"""Link teasers: a body sentence with the words of another article's headline is no evidence of a copy (issue 10
§1: two different briefs by one outlet, both linking to a third article with its two-sentence headline, were
one text on the generated cross-source development split). An article's own headline, or its original's, is
its text: copies that keep it, and identical copies, are still found."""

from __future__ import annotations

import pytest
from dedup_helpers import STORY, T0, article_row, days, load
from test_dedup_stage import group, groups

from extractors.dedup import link_teasers
from extractors.fingerprint import fingerprint, headline_simhashes
from warehouse import dedup as wd
from warehouse.db import connect

# The headline of the article the teasers link to: two sentences, both long enough to be units.
TARGET_TITLE = "Council confirms the new bridge will open in spring. Here is what drivers need to know now."
TARGET_BODY = [
    "The bridge over the estuary will carry two lanes of traffic and a separate path for cyclists.",
    "Engineers said the final load tests had been passed without any problem last week.",
    "Tolls will not be charged during the first year, the transport committee decided.",
    "Local businesses hope the shorter route will bring more visitors to the harbour.",
]
BRIEF_A = [
    "A primary school in the north of the town has won a national prize for its reading scheme.",
    "Pupils read with volunteers from a care home nearby twice a week during term time.",
    "The head teacher said the prize money would be spent on new books for the library.",
    "Parents said their children now ask to visit the town library at the weekend.",
]
BRIEF_B = [
    "Firefighters rescued a horse that had fallen into a drainage ditch on a farm on Sunday.",
    "The animal was lifted out with a harness after a two hour operation in heavy rain.",
    "A vet checked the horse at the scene and said it had escaped with only minor cuts.",
    "The owner thanked the crews and said the ditch would be fenced off this week.",
]


def _brief(body: list[str]) -> str:
    """A brief as the outlet prints it: the link teaser (the other article's headline) between its paragraphs."""
    return "\n".join([*body[:2], TARGET_TITLE, *body[2:]])


def _target(published=T0, source="Courier") -> dict:
    return article_row("target", "\n".join(TARGET_BODY), title=TARGET_TITLE, source=source, published_at=published)


@pytest.mark.parametrize("sources", [("Rundschau", "Rundschau"), ("Rundschau", "Courier")])
def test_two_briefs_with_the_same_teaser_are_not_copies(tmp_path, sources):
    # Before: 2 of 6 units shared (the teaser's two sentences), ratio 0.33, narrative: a copy.
    con = connect(tmp_path / "w.duckdb")
    load(con, [_target()])
    group(con, ["target"])
    load(con, [article_row("a", _brief(BRIEF_A), title="Reading prize", source=sources[0], published_at=T0 + days(1))])
    group(con, ["a"])
    load(con, [article_row("b", _brief(BRIEF_B), title="Horse rescue", source=sources[1], published_at=T0 + days(1.1))])
    group(con, ["b"])
    g = groups(con)
    assert len({g["a"][0], g["b"][0], g["target"][0]}) == 3
    assert con.execute("SELECT count(*) FROM core.syndication_edges").fetchone()[0] == 0


def test_the_teasers_target_in_the_same_batch_counts(tmp_path):
    # The linked article arrives in the same batch, published after both briefs (so processed after them).
    con = connect(tmp_path / "w.duckdb")
    rows = [
        article_row("a", _brief(BRIEF_A), title="Reading prize", source="Rundschau", published_at=T0),
        article_row("b", _brief(BRIEF_B), title="Horse rescue", source="Rundschau", published_at=T0 + days(0.1)),
        _target(published=T0 + days(0.5)),
    ]
    load(con, rows)
    group(con, [r["article_id"] for r in rows])
    g = groups(con)
    assert len({g["a"][0], g["b"][0], g["target"][0]}) == 3


def test_the_teasers_target_stored_before_the_headline_table_counts(tmp_path):
    # A warehouse whose articles were fingerprinted before core.headline_units existed: their headlines are filled
    # in once, by the next batch, before it looks them up.
    con = connect(tmp_path / "w.duckdb")
    load(con, [_target()])
    group(con, ["target"])
    con.execute("DELETE FROM core.headline_units")
    con.execute("DELETE FROM core.meta WHERE key = ?", [wd.HEADLINES_FILLED])
    load(con, [article_row("a", _brief(BRIEF_A), title="Reading prize", source="Rundschau", published_at=T0 + days(1))])
    group(con, ["a"])
    assert con.execute("SELECT count(*) FROM core.headline_units WHERE article_id = 'target'").fetchone()[0] == 3
    load(con, [article_row("b", _brief(BRIEF_B), title="Horse rescue", source="Rundschau", published_at=T0 + days(1.1))])
    group(con, ["b"])
    g = groups(con)
    assert g["a"][0] != g["b"][0]


OWN_TITLE = "Water company fined 12 million pounds for pumping sewage into two rivers"


def _original_and_brief(con, published=T0) -> None:
    """Store and group an original whose body opens with its headline, then a brief by another outlet that keeps
    that lede and one sentence and adds two of its own, under a new headline, a few hours later."""
    lede = OWN_TITLE + "."
    load(con, [article_row("orig", "\n".join([lede, *STORY[1:]]), title=OWN_TITLE, source="Bugle",
                           published_at=published)])
    group(con, ["orig"])
    brief = "\n".join([
        lede, STORY[1],
        "The Courier understands that the company will not appeal against the sentence.",
        "Further hearings about a third river are expected to take place later this year.",
    ])
    load(con, [article_row("brief", brief, title="Sewage fine: what we know", source="Courier",
                           published_at=T0 + days(0.2))])
    group(con, ["brief"])


def test_an_article_that_starts_with_its_own_headline_still_matches_its_copy(tmp_path):
    # The original's body opens with its headline; a brief by another outlet keeps that lede, one sentence and
    # adds two of its own, under a new headline. The headline sentence is half its evidence: a rule that dropped
    # every unit equal to another article's headline (here the original's) would lose the copy.
    con = connect(tmp_path / "w.duckdb")
    _original_and_brief(con)
    g = groups(con)
    assert g["brief"][0] == g["orig"][0]
    shared = con.execute("SELECT shared_units FROM core.syndication_edges WHERE article_id = 'brief'").fetchone()
    assert shared == (2,)


def test_identical_copies_of_an_article_that_starts_with_its_headline_are_found(tmp_path):
    # The same headline and short text at three outlets: every one owns the headline, none is a third text (a
    # two-unit text that lost its headline sentence would have one unit of evidence left, not a copy).
    con = connect(tmp_path / "w.duckdb")
    text = "\n".join([OWN_TITLE + ".", STORY[1]])
    rows = [
        article_row(f"run{i}", text, title=OWN_TITLE, source=f"Outlet {i}", published_at=T0 + days(0.1 * i))
        for i in range(3)
    ]
    load(con, rows[:2])
    group(con, ["run0", "run1"])
    load(con, rows[2:])
    group(con, ["run2"])
    g = groups(con)
    assert {g[f"run{i}"][0] for i in range(3)} == {"run0"}
    ratios = con.execute("SELECT shared_ratio FROM core.syndication_edges ORDER BY article_id").fetchall()
    assert ratios == [(1.0,), (1.0,)]


def test_headline_units_are_normalised_as_body_units():
    # case, punctuation and spacing do not matter (the unit simhash is over lowercased word tokens), and each
    # sentence of a two-sentence headline is a unit of its own
    fp = fingerprint("x", "Some first sentence of the body that is long enough.\n"
                          "COUNCIL confirms the new  bridge will open in spring! Here is what drivers need to know now")
    heads = headline_simhashes(TARGET_TITLE)
    assert len(heads) == 3  # the whole headline and its two sentences
    assert set(fp.unit_simhashes[1:]) <= set(heads)
    assert headline_simhashes("Bridge opens in spring") == ()  # under MIN_UNIT_WORDS


def test_link_teasers_leave_out_the_pairs_own_groups():
    heads = {1: {"g-target"}, 2: {"g-a"}, 3: {"g-b", "g-target"}}
    assert link_teasers([1, 2, 3, 4], heads, exclude={"g-a", "g-b"}) == {1, 3}
    assert link_teasers([1, 2, 3, 4], heads, exclude={"g-a", "g-target"}) == {3}


def test_identical_copies_in_one_batch_keep_their_headline(tmp_path):
    # Three outlets' identical copies arrive in one call: while the first is not grouped yet, each later one saw
    # the other two as third texts carrying its headline and dropped it (review of fa3cefc: three groups).
    con = connect(tmp_path / "w.duckdb")
    text = "\n".join([OWN_TITLE + ".", STORY[1]])
    load(con, [article_row(f"run{i}", text, title=OWN_TITLE, source=f"Outlet {i}", published_at=T0 + days(0.1 * i))
               for i in range(3)])
    group(con, ["run0", "run1", "run2"])
    g = groups(con)
    assert {g[f"run{i}"][0] for i in range(3)} == {"run0"}


def test_a_third_article_with_the_same_headline_does_not_turn_it_into_a_teaser(tmp_path):
    # An unrelated article stored under the same (wire) headline: the pair's own headline is still its text.
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("other", "\n".join(TARGET_BODY), title=OWN_TITLE, source="Gazette", published_at=T0)])
    group(con, ["other"])
    _original_and_brief(con, T0 + days(0.1))
    g = groups(con)
    assert g["brief"][0] == g["orig"][0] != g["other"][0]


def test_the_headline_fill_of_an_older_warehouse_goes_a_chunk_per_batch(tmp_path, monkeypatch):
    # A million-article warehouse is not filled in one transaction: HEADLINES_FILL_CHUNK titles per batch, in
    # article id order, until none is left; titles too short to be a unit do not hold the fill back.
    con = connect(tmp_path / "w.duckdb")
    load(con, [_target(), article_row("short", "\n".join(BRIEF_A), title="Prize", source="Post", published_at=T0)])
    group(con, ["target", "short"])
    con.execute("DELETE FROM core.headline_units")
    con.execute("DELETE FROM core.meta WHERE key = ?", [wd.HEADLINES_FILLED])
    monkeypatch.setattr(wd, "HEADLINES_FILL_CHUNK", 1)
    filled = []
    for i, body in enumerate((BRIEF_B, STORY, TARGET_BODY[:3] + BRIEF_B[:1])):
        load(con, [article_row(f"n{i}", "\n".join(body), title=f"New article number {i} about something else",
                               source="Post", published_at=T0 + days(1 + i))])
        group(con, [f"n{i}"])
        filled.append(con.execute("SELECT count(*) FROM core.headline_units WHERE article_id = 'target'").fetchone()[0])
        done = con.execute("SELECT count(*) FROM core.meta WHERE key = ?", [wd.HEADLINES_FILLED]).fetchone()[0]
        if done:
            break
    # 'short' (id order first) has no headline unit, 'target' comes with the second chunk; then the fill ends
    assert filled[0] == 0 and filled[1] == 3
    assert done == 1 and wd.headlines_to_fill(con) is None
