from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from modules.composition.context import SOURCE_DEFAULT, SOURCE_INPUT, SOURCE_PROMPT, CompositionContext
from modules.mood.engine import DEFAULT_MOOD, MOODS, MoodResult, analyse_mood


def read(prompt: str, **inputs: object) -> MoodResult:
    return analyse_mood(CompositionContext(prompt=prompt, seed=7, inputs=dict(inputs)), seed=7)


# --- the catalog ---------------------------------------------------------------------------


def test_catalog_has_the_moods_a_musician_names() -> None:
    expected = {"uplifting", "happy", "energetic", "euphoric", "calm", "peaceful", "dreamy", "romantic"}
    expected |= {
        "nostalgic",
        "melancholic",
        "sad",
        "dark",
        "tense",
        "epic",
        "aggressive",
        "mysterious",
        "playful",
    }
    assert expected <= set(MOODS)
    for name, spec in MOODS.items():
        assert spec.name == name
        assert -1.0 <= spec.valence <= 1.0 and 0.0 <= spec.energy <= 1.0
        assert spec.description and spec.words, name


def test_catalog_points_are_ordered_like_their_names() -> None:
    assert (
        MOODS["happy"].valence
        > MOODS["nostalgic"].valence
        > MOODS["melancholic"].valence
        > MOODS["sad"].valence
    )
    assert (
        MOODS["aggressive"].energy
        > MOODS["energetic"].energy
        > MOODS["chill"].energy
        > MOODS["peaceful"].energy
    )


@pytest.mark.parametrize("name", sorted(MOODS))
def test_every_mood_name_is_read_as_itself(name: str) -> None:
    result = read(f"a {name} song")
    assert result.mood.name == name
    assert result.source == SOURCE_PROMPT


# --- the expected readings (MUSIC-NOTES / brief) -------------------------------------------


def test_uplifting_dreamy_is_bright_where_general_lexicons_hear_nothing() -> None:
    prompt = "uplifting electronic music with dreamy vocals"
    # FIELD-NOTES trap 16: a general lexicon reads this as exactly neutral.
    assert SentimentIntensityAnalyzer().polarity_scores(prompt)["compound"] == 0.0
    result = read(prompt)
    assert result.mood.name in {"uplifting", "dreamy"}
    assert result.mood.valence > 0.3
    assert result.source == SOURCE_PROMPT
    assert {"uplifting", "dreamy"} <= set(result.mood.tags)


def test_dark_brooding_techno_has_negative_valence() -> None:
    result = read("dark brooding techno")
    assert result.mood.valence < 0
    assert result.mood.name == "dark"


def test_calm_ambient_piano_for_sleep_is_low_energy() -> None:
    result = read("calm ambient piano for sleep")
    assert result.mood.energy < 0.35
    assert result.mood.name in {"calm", "peaceful"}


def test_aggressive_fast_metal_riff_is_high_energy() -> None:
    result = read("aggressive fast metal riff")
    assert result.mood.energy > 0.7
    assert result.mood.name == "aggressive"
    assert result.mood.valence < 0


# --- language handling ---------------------------------------------------------------------


def test_negation_flips_valence_and_votes_against_the_word() -> None:
    sad, not_sad = read("a sad song"), read("a song that is not sad")
    assert sad.mood.valence < 0 < not_sad.mood.valence
    assert not_sad.mood.name != "sad"
    assert not_sad.scores["sad"] < 0
    assert "not sad" in not_sad.mood.tags


def test_negation_stops_at_the_clause_boundary() -> None:
    result = read("not slow but happy")
    assert result.mood.name == "happy"
    assert "happy" in result.mood.tags and "not happy" not in result.mood.tags


def test_intensifiers_and_diminishers_scale_the_reading() -> None:
    very, plain, slightly = read("a very sad song"), read("a sad song"), read("a slightly sad song")
    assert very.mood.valence < plain.mood.valence < slightly.mood.valence < 0
    assert very.scores["sad"] > plain.scores["sad"] > slightly.scores["sad"]


@pytest.mark.parametrize(
    ("prompt", "mood"),
    [
        ("sweet dreams", "dreamy"),
        ("the darkest of nights", "dark"),
        ("happily dancing", "happy"),
        ("relaxing", "calm"),
        ("laid-back beats", "chill"),
        ("memories of my childhood", "nostalgic"),
    ],
)
def test_stemming_plurals_and_phrases(prompt: str, mood: str) -> None:
    assert read(prompt).mood.name == mood


def test_tempo_words_move_energy() -> None:
    slow, plain, fast = read("a slow happy song"), read("a happy song"), read("a fast happy song")
    assert slow.mood.energy < plain.mood.energy < fast.mood.energy
    assert slow.mood.name == plain.mood.name == "happy"


def test_values_stay_in_bounds_for_stacked_modifiers() -> None:
    for prompt in ("very very extremely sad", "super euphoric ecstatic party", "not not calm", "so so slow"):
        mood = read(prompt).mood
        assert -1.0 <= mood.valence <= 1.0 and 0.0 <= mood.energy <= 1.0, prompt


def test_scores_cover_the_catalog_and_the_winner_leads() -> None:
    result = read("a haunting, eerie night with a little sadness")
    assert set(result.scores) == set(MOODS)
    assert result.scores[result.mood.name] == max(result.scores.values())
    assert result.mood.name == "mysterious"


# --- sources -------------------------------------------------------------------------------


def test_vader_backs_off_only_when_the_vocabulary_is_silent() -> None:
    bad = read("a terrible horrible day")
    assert bad.source == SOURCE_PROMPT
    assert bad.mood.valence < -0.3
    assert set(bad.mood.tags) == {"terrible", "horrible"}
    good = read("a fantastic day")
    assert good.mood.valence > 0.3
    assert good.mood.tags == ["fantastic"]


def test_a_prompt_without_mood_gets_the_default() -> None:
    result = read("a song about my cat")
    assert result.source == SOURCE_DEFAULT
    assert result.mood.name == DEFAULT_MOOD
    assert (result.mood.valence, result.mood.energy) == (
        MOODS[DEFAULT_MOOD].valence,
        MOODS[DEFAULT_MOOD].energy,
    )
    assert result.mood.tags == []


def test_explicit_mood_wins_over_the_prompt() -> None:
    result = read("a happy sunny party anthem", mood="Melancholic")
    assert result.source == SOURCE_INPUT
    assert result.mood.name == "melancholic"
    assert (result.mood.valence, result.mood.energy) == (
        MOODS["melancholic"].valence,
        MOODS["melancholic"].energy,
    )
    assert "happy" in result.mood.tags  # the prompt's evidence is still reported
    assert result.scores["happy"] > 0


def test_unknown_explicit_mood_is_refused_with_the_valid_names() -> None:
    with pytest.raises(ValueError) as excinfo:
        read("a song", mood="grumpy")
    message = str(excinfo.value)
    assert "grumpy" in message
    assert all(name in message for name in MOODS)


def test_deterministic_and_pure() -> None:
    ctx = CompositionContext(prompt="bittersweet memories of a rainy summer", seed=3, inputs={})
    before = ctx.to_dict()
    first, second = analyse_mood(ctx, 3), analyse_mood(ctx, 3)
    assert first == second
    assert ctx.to_dict() == before  # the engine does not write the context
