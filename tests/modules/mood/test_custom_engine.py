"""Custom moods in the mood engine: they come in the context's inputs, never from the database."""

from __future__ import annotations

import pytest

from modules.composition.context import SOURCE_INPUT, SOURCE_PROMPT, CompositionContext
from modules.mood.engine import MOODS, CustomMood, MoodResult, analyse_mood, custom_mood_mentioned, mood_key

GLOOM = CustomMood("Rainy Sunday", -0.7, 0.12, ("drizzle", "grey afternoon"))
STORM = CustomMood("Storm Chaser", 0.6, 0.95, ("rain",))


def read(prompt: str, *moods: CustomMood, **inputs: object) -> MoodResult:
    ctx = CompositionContext(
        prompt=prompt, seed=1, inputs={"custom_moods": [m.to_dict() for m in moods], **inputs}
    )
    return analyse_mood(ctx, seed=1)


def test_a_custom_mood_named_in_the_input_is_used_as_defined() -> None:
    result = read("a song for the weekend", GLOOM, mood="rainy  SUNDAY")
    mood = result.mood
    assert (mood.name, mood.valence, mood.energy, mood.custom) == ("Rainy Sunday", -0.7, 0.12, True)
    assert result.source == SOURCE_INPUT
    assert mood.tags[:2] == ["drizzle", "grey afternoon"], "its words describe it to later stages"


def test_a_custom_mood_named_in_the_prompt_wins_and_keeps_its_point() -> None:
    result = read("a rainy sunday song", GLOOM)
    assert (result.mood.name, result.mood.valence, result.mood.energy) == ("Rainy Sunday", -0.7, 0.12)
    assert result.mood.custom and result.source == SOURCE_PROMPT
    # Without it the same words are the built-in reading of "rainy" and "sunday".
    plain = read("a rainy sunday song")
    assert plain.mood.name in MOODS and not plain.mood.custom


def test_its_words_call_it_up_and_take_over_the_built_in_reading() -> None:
    assert read("music for the rain").mood.name == "melancholic"
    storm = read("music for the rain", STORM).mood
    assert (storm.name, storm.valence, storm.energy, storm.custom) == ("Storm Chaser", 0.6, 0.95, True)
    assert read("a drizzle on a grey afternoon", GLOOM).mood.name == "Rainy Sunday"


def test_other_words_still_count_towards_valence_and_energy() -> None:
    mood = read("a very upbeat rainy sunday song", GLOOM).mood
    assert mood.name == "Rainy Sunday"
    assert GLOOM.valence < mood.valence < MOODS["energetic"].valence
    assert GLOOM.energy < mood.energy


def test_negated_it_is_not_chosen() -> None:
    mood = read("not a rainy sunday, a bright morning", GLOOM).mood
    assert not mood.custom and mood.valence > 0


def test_mentions_are_found_as_the_prompt_is_read() -> None:
    assert custom_mood_mentioned("Rainy-Sunday vibes", GLOOM)
    assert custom_mood_mentioned("some DRIZZLE please", GLOOM)
    assert custom_mood_mentioned("a grey afternoon", GLOOM)
    assert not custom_mood_mentioned("a rainy song on a grey day", GLOOM)
    assert mood_key(" Rainy-Sunday!") == "rainy sunday"


def test_an_unknown_name_is_still_an_error() -> None:
    with pytest.raises(ValueError, match="unknown mood 'storm chaser'"):
        read("a song", GLOOM, mood="storm chaser")


def test_a_mood_name_is_spelled_as_the_stage_checks_it() -> None:
    # The stage accepts what mood_key makes a known name; the engine reads it the same way.
    assert read("a song", mood=" Happy! ").mood.name == "happy"
    assert read("a song", GLOOM, mood="Rainy-Sunday").mood.name == "Rainy Sunday"
