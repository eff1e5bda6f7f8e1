"""Stories fade (issue 10 §2): concurrent coverage of an event beats an older story on the same topic, and a
story weeks old takes an article only on strong similarity. The decision is choose_story's, on plain stories."""

from __future__ import annotations

import math
from datetime import timedelta

from dedup_helpers import T0

from extractors.dedup import (
    STORY_FADE_AFTER_DAYS,
    STORY_FADE_DAYS,
    STORY_MIN_SIMILARITY,
    choose_story,
    story_fade,
)

UNIT = {"w:senate": 1.0}  # an article whose story_score with a centroid is the centroid's weight of this term


class _Story:
    def __init__(self, story_id: str, sim: float, first_days: float, last_days: float | None = None):
        self.story_id, self.profile = story_id, {"w:senate": sim}
        self.first_at = T0 + timedelta(days=first_days)
        self.last_at = T0 + timedelta(days=first_days if last_days is None else last_days)


def test_concurrent_coverage_beats_an_older_story_on_the_same_topic():
    older = _Story("a-older", 0.55, -9)  # more similar, but its last article is nine days before this one
    concurrent = _Story("b-today", 0.30, -1)
    assert choose_story(UNIT, [older], T0, 21)[0] == "a-older"  # joinable on its own (0.55 faded is 0.233) ...
    assert choose_story(UNIT, [older, concurrent], T0, 21) == ("b-today", "similar", 0.3)  # ... but outranked


def test_a_story_weeks_old_needs_strong_similarity():
    assert choose_story(UNIT, [_Story("s", 0.40, -10)], T0, 21) == (None, "new", None)
    # 0.7 faded over 10 days is 0.7 * exp(-1) = 0.26, above the threshold; the similarity reported is 0.7
    assert choose_story(UNIT, [_Story("s", 0.70, -10)], T0, 21) == ("s", "similar", 0.7)


def test_no_fade_within_a_story_span_or_a_few_days_of_it():
    long_story = _Story("s", STORY_MIN_SIMILARITY, -30, 5)  # the article falls inside the story's span
    assert choose_story(UNIT, [long_story], T0, 21) == ("s", "similar", STORY_MIN_SIMILARITY)
    for days in (-STORY_FADE_AFTER_DAYS, 0.0, STORY_FADE_AFTER_DAYS):  # before or after the story, either side
        assert story_fade(T0 + timedelta(days=days), T0 + timedelta(days=days), T0) == 1.0
        assert choose_story(UNIT, [_Story("s", 0.25, days)], T0, 21)[0] == "s"


def test_fade_is_exponential_in_the_gap_beyond_the_grace_days():
    for gap in (4.0, 7.0, 10.0, 20.0):
        want = math.exp(-(gap - STORY_FADE_AFTER_DAYS) / STORY_FADE_DAYS)
        before, after = T0 - timedelta(days=gap), T0 + timedelta(days=gap)
        assert math.isclose(story_fade(before, before, T0), want, rel_tol=1e-12)  # a story that ended earlier
        assert math.isclose(story_fade(after, after, T0), want, rel_tol=1e-12)  # one that starts later
    assert story_fade(T0 - timedelta(days=30), T0 - timedelta(days=10), T0) < story_fade(
        T0 - timedelta(days=30), T0 - timedelta(days=5), T0)


def test_outside_the_window_the_strong_threshold_applies_unfaded():
    # a story that shares text with the article (stories_to_compare lets it in) 40 days back, similarity 0.62
    assert choose_story(UNIT, [_Story("s", 0.62, -40)], T0, 21) == ("s", "similar", 0.62)
    assert choose_story(UNIT, [_Story("s", 0.55, -40)], T0, 21) == (None, "new", None)


def test_strong_similarity_joins_at_any_distance_and_nearer_ranks_first():
    # 15 days away inside the window the faded score is under the threshold, yet 0.95 is strong evidence
    assert choose_story(UNIT, [_Story("s", 0.95, -15)], T0, 21) == ("s", "similar", 0.95)
    # a strong story 10 days away outranks a weaker one 40 days away (both are joinable)
    assert choose_story(UNIT, [_Story("a-old", 0.62, -40), _Story("b-ten", 0.9, -10)], T0, 21)[0] == "b-ten"
