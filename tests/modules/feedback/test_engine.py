"""The preference maths, as plain functions: exact weights, bounds, decay, numeric preferences,
explanations that add up."""

from __future__ import annotations

import math

import pytest

from modules.feedback.engine import (
    BASELINE_WEIGHT,
    DAY,
    HALF_LIFE_DAYS,
    RATE,
    FeedbackEvent,
    Profile,
    build_profile,
    signal,
    song_attributes,
)

JAZZ = {"genres": {"jazz": 1.0}, "tempo": {"value": 70.0, "share": 1.0}}
ROCK = {"genres": {"rock": 1.0}, "tempo": {"value": 130.0, "share": 1.0}}


def event(pk: int, kind: str, attributes: dict, at: float = 0.0, rating: int | None = None) -> FeedbackEvent:
    return FeedbackEvent(id=pk, element="COMPOSITION", kind=kind, rating=rating, attributes=attributes, at=at)


def test_signals_of_kinds_and_ratings() -> None:
    assert [signal(k, None) for k in ("LIKE", "ACCEPT", "TWEAK", "DECLINE", "DISLIKE")] == [
        1.0,
        0.6,
        0.0,
        -0.6,
        -1.0,
    ]
    assert [signal("TWEAK", r) for r in (1, 2, 3, 4, 5)] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert signal("LIKE", 5) == 1.0 and signal("LIKE", 3) == 0.5 and signal("LIKE", 1) == 0.0
    assert signal("DISLIKE", 2) == -0.75


def test_a_like_and_a_dislike_give_exact_bounded_weights_and_a_preferred_tempo() -> None:
    profile = build_profile([event(1, "LIKE", JAZZ, at=0.0), event(2, "DISLIKE", ROCK, at=0.0)])
    assert profile.weights["genres"] == {
        "jazz": round(math.tanh(RATE), 4),
        "rock": round(-math.tanh(RATE), 4),
    }
    assert profile.weights["genres"]["jazz"] == 0.4621
    tempo = profile.numbers["tempo"]
    # One like at 70 from the neutral 110 with a baseline weight of 0.5: (0.5*110 + 70) / 1.5 = 83.33,
    # then the rock dislike at 130, 46.7 bpm away, pushes it down a little more.
    liked = (BASELINE_WEIGHT * 110.0 + 70.0) / (BASELINE_WEIGHT + 1.0)
    push = 0.5 * 20.0 * math.exp(-0.5 * ((liked - 130.0) / 20.0) ** 2)
    assert tempo.preferred == round(liked - push, 2) == 82.68
    assert tempo.strength == 0.5  # positive weight 1 / (1 + 1)
    # The range: the preferred value +- the spread of the liked tempos around it (here one, at 70).
    assert (tempo.low, tempo.high) == (70.0, 95.35)
    assert profile.feedback_count == 2


def test_weights_stay_bounded_and_explanations_add_up_to_them() -> None:
    events = [
        event(i, "LIKE", {"genres": {"jazz": 1.0}, "voices": {"alto": 0.5}}, at=float(i)) for i in range(8)
    ]
    profile = build_profile(events)
    assert profile.weights["genres"]["jazz"] == round(math.tanh(8 * RATE), 4) == 0.9993  # never past 1
    for attribute, value in (("genres", "jazz"), ("voices", "alto")):
        total = sum(c.delta for c in profile.explanations if (c.attribute, c.value) == (attribute, value))
        assert total == pytest.approx(profile.weights[attribute][value], abs=1e-3)
    first = profile.explanations[0]
    assert (first.attribute, first.value, first.feedback_id, first.element) == (
        "genres",
        "jazz",
        0,
        "COMPOSITION",
    )
    assert first.delta > profile.explanations[-2].delta > 0, "each further like moves the weight less"


def test_older_feedback_counts_less() -> None:
    old_like = event(1, "LIKE", {"genres": {"jazz": 1.0}}, at=0.0)
    new_dislike = event(2, "DISLIKE", {"genres": {"jazz": 1.0}}, at=HALF_LIFE_DAYS * DAY)
    profile = build_profile([new_dislike, old_like])  # order of arrival does not matter, time does
    # The like, one half-life older than the dislike, counts half: 0.5 * 0.5 - 0.5 = -0.25.
    assert profile.weights["genres"]["jazz"] == round(math.tanh(-0.25), 4)
    assert [c.feedback_id for c in profile.explanations] == [1, 2]


def test_a_dislike_alone_starts_no_tempo_preference_and_a_tweak_without_rating_moves_nothing() -> None:
    profile = build_profile([event(1, "DISLIKE", ROCK), event(2, "TWEAK", JAZZ)])
    assert "tempo" not in profile.numbers
    assert profile.weights == {"genres": {"rock": -0.4621}}
    assert [c.feedback_id for c in profile.explanations] == [1]


def test_the_same_events_give_the_same_profile_and_it_round_trips() -> None:
    events = [
        event(i, ("LIKE", "DISLIKE")[i % 2], JAZZ if i % 3 else ROCK, at=i * DAY, rating=1 + i % 5)
        for i in range(12)
    ]
    profile = build_profile(events)
    assert build_profile(list(reversed(events))) == profile
    assert Profile.from_dict(profile.to_dict()) == profile


def test_song_attributes_read_a_stored_context() -> None:
    context = {
        "genres": [{"name": "jazz", "weight": 0.7}, {"name": "lo-fi", "weight": 0.3}],
        "mood": {"name": "calm", "valence": 0.2, "energy": 0.1},
        "tempo": 68.0,
        "key": "D",
        "scale": "dorian",
        "vocal_style": "alto",
        "loudness_target": -15.0,
        "style": {"programs": {"bass": 32, "chords": 0, "pad": 49, "lead": 66}},
    }
    assert song_attributes(context) == {
        "genres": {"jazz": 0.7, "lo-fi": 0.3},
        "moods": {"calm": 1.0},
        "keys": {"D": 0.5},
        "scales": {"dorian": 0.5},
        "voices": {"alto": 0.5},
        "programs": {"0": 0.3, "32": 0.3, "49": 0.3, "66": 0.3},
        "tempo": {"value": 68.0, "share": 1.0},
        "loudness": {"value": -15.0, "share": 0.5},
    }
    assert "voices" not in song_attributes({**context, "instrumental": True})
