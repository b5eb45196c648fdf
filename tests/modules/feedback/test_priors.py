"""Priors lean only what the prompt and inputs leave open: each stage engine with and without them,
and the core's hook that gathers them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from modules.arrangement.engine import arrange
from modules.composition.context import CompositionContext, GenreWeight, MoodInfo
from modules.composition.pipeline import execute_stage, run_inline
from modules.composition.priors import context_priors
from modules.composition.services import composition_create, composition_update
from modules.genre.engine import blend_genres
from modules.mastering.stage import STAGE as MASTERING
from modules.mastering.stage import mastering_plan
from modules.mood.engine import analyse_mood
from modules.voice.engine import choose_voice


def profile(**priors: Any) -> dict[str, dict[str, Any]]:
    return {choice: {"source": "profile", **prior} for choice, prior in priors.items()}


def context(prompt: str, priors: dict | None = None, **inputs: Any) -> CompositionContext:
    return CompositionContext(prompt=prompt, seed=3, inputs=inputs, priors=priors or {})


CALM = profile(moods={"weights": {"calm": 0.6, "epic": -0.5}})


def test_the_mood_prior_speaks_only_for_a_prompt_that_says_nothing() -> None:
    assert (
        analyse_mood(context("a song for tonight"), 0).mood.name,
        analyse_mood(context("a song"), 0).source,
    ) == (
        "hopeful",
        "default",
    )
    leaned = analyse_mood(context("a song for tonight", CALM), 0)
    assert (leaned.mood.name, leaned.source, leaned.mood.energy) == ("calm", "profile", 0.15)
    assert analyse_mood(context("a dark and brooding song", CALM), 0).mood.name == "dark"
    assert analyse_mood(context("a song", CALM, mood="happy"), 0).source == "input"
    only_dislikes = profile(moods={"weights": {"hopeful": -0.9}})
    assert analyse_mood(context("a song", only_dislikes), 0).source == "default"


def moody(prompt: str, priors: dict | None = None, **inputs: Any) -> CompositionContext:
    ctx = context(prompt, priors, **inputs)
    ctx.mood, ctx.energy = MoodInfo("calm", 0.25, 0.15), 0.15
    return ctx


JAZZ = profile(
    genres={"weights": {"jazz": 0.8, "ambient": -0.8}},
    tempo={"value": 70.0, "strength": 0.6},
    loudness={"value": -16.0, "strength": 0.5},
)


def test_genre_and_tempo_priors_lean_only_open_choices() -> None:
    plain = blend_genres(moody("a song for tonight"), 3)
    assert [(g.name, g.weight) for g in plain.genres] == [("ambient", 0.5807), ("lo-fi", 0.4193)]
    assert (plain.genres_source, plain.tempo, plain.tempo_source) == ("mood", 67.4, "genre")
    assert plain.loudness_target == -15.7

    leaned = blend_genres(moody("a song for tonight", JAZZ), 3)
    assert [(g.name, g.weight) for g in leaned.genres] == [("jazz", 0.8122), ("lo-fi", 0.1878)]
    assert (leaned.genres_source, leaned.tempo, leaned.tempo_source) == ("profile", 68.8, "profile")
    assert leaned.loudness_target == leaned.style.loudness_target == -14.8, "the blend's own: not leaned here"

    named = blend_genres(moody("an ambient piece", JAZZ), 3)
    assert ([g.name for g in named.genres], named.genres_source) == (["ambient"], "prompt")
    assert named.tempo_source == "profile", "ambient named; its tempo still left open"
    asked = blend_genres(moody("a song", JAZZ, genres=[{"name": "rock", "weight": 1}], tempo=150), 3)
    assert ([g.name for g in asked.genres], asked.tempo, asked.tempo_source) == (["rock"], 150.0, "input")
    fast = blend_genres(moody("a fast song", JAZZ, genres=[{"name": "rock", "weight": 1}]), 3)
    assert fast.tempo_source == "genre", "a prompt that speaks of tempo settles it"
    rock = blend_genres(moody("a song", JAZZ, genres=[{"name": "rock", "weight": 1}]), 3)
    assert rock.tempo_source == "profile" and rock.tempo == 110.0, "pulled down, never below rock's own 110"


def test_program_prior_swaps_within_the_blend_or_the_gm_family_only() -> None:
    ctx = moody("a song", genres=[{"name": "rock", "weight": 1}])
    own = blend_genres(ctx, 3).style.programs
    assert own["bass"] == 34  # electric bass (pick)
    liked = profile(programs={"weights": {"33": 0.5, "34": -0.3, "80": 0.9}})
    leaned = blend_genres(moody("a song", liked, genres=[{"name": "rock", "weight": 1}]), 3)
    assert leaned.style.programs["bass"] == 33, "a liked bass of the same GM family"
    assert leaned.style.programs["lead"] == own["lead"], "a liked synth lead is no organ: other family"
    assert leaned.programs_source == "profile"


def arranged(priors: dict | None = None, **inputs: Any) -> Any:
    ctx = moody("a song", priors, **inputs)
    ctx.genres = [GenreWeight("pop", 1.0)]
    return arrange(ctx, 3)


def test_key_and_mode_priors_lean_the_draw_and_inputs_win() -> None:
    plain = arranged()
    assert (plain.key_source, plain.scale_source) == ("seed", "mood")
    keys = Counter(arrange(moody_seeded(s, profile(keys={"weights": {"A": 1.0}})), s).key for s in range(60))
    unleaned = Counter(arrange(moody_seeded(s), s).key for s in range(60))
    assert keys["A"] > 2 * unleaned["A"]
    assert arranged(profile(keys={"weights": {"A": 1.0}}), key="F").key_source == "input"
    assert (plain.scale, arranged(profile(scales={"weights": {"dorian": 1.0}})).scale) == (
        "mixolydian",
    ) * 2, "a prior only leans: the genre's progressions still fit mixolydian best"
    avoided = arranged(profile(scales={"weights": {"mixolydian": -1.0}}))
    assert (avoided.scale, avoided.scale_source) == ("major", "profile"), "another of the mood's candidates"
    assert arranged(profile(scales={"weights": {"dorian": 1.0}}), scale="minor").scale == "minor"


def moody_seeded(seed: int, priors: dict | None = None) -> CompositionContext:
    ctx = moody("a song", priors)
    ctx.seed = seed
    return ctx


def test_the_voice_prior_never_overrides_the_prompt_or_input() -> None:
    dislike_all_but_bass = profile(
        voices={"weights": {v: -1.0 for v in ("soprano", "mezzo", "alto", "tenor")}}
    )
    ctx = moody("a song with a soprano singer", dislike_all_but_bass)
    assert choose_voice(ctx, 1)[0].name == "soprano"
    assert choose_voice(moody("a song", dislike_all_but_bass, voice="alto"), 1)[1] == "input"
    drawn = Counter(choose_voice(moody("a song", dislike_all_but_bass), s)[0].name for s in range(200))
    plain = Counter(choose_voice(moody("a song"), s)[0].name for s in range(200))
    assert drawn["soprano"] + drawn["mezzo"] < plain["soprano"] + plain["mezzo"]


def leaning(**_: Any) -> dict[str, Any]:
    return {
        "genres": {"weights": {"jazz": 0.7, "rock": 0.004, "pop": "x"}},
        "tempo": {"value": 72.0, "strength": 0.5},
        "voices": {"weights": {"alto": 2.0}},
        "loudness": {"value": -15.0, "strength": 0},
        "colour": {"weights": {"blue": 1}},
    }


def failing(**_: Any) -> dict[str, Any]:
    raise RuntimeError("profile store away")


def test_the_hook_cleans_priors_drops_settled_choices_and_survives_a_failing_provider(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    here = "tests.modules.feedback.test_priors"
    settings.CODA_CONTEXT_PRIORS = [f"{here}.failing", f"{here}.leaning"]
    found = context_priors(caller=None, prompt="a song", inputs={"tempo": 100})
    assert found == {
        "genres": {"source": "profile", "weights": {"jazz": 0.7}},  # tiny and non-numbers dropped
        "voices": {"source": "profile", "weights": {"alto": 1.0}},  # bounded
    }  # tempo: given as an input; loudness: no strength; colour: not a choice
    assert "context prior tests.modules.feedback.test_priors.failing failed" in caplog.text


LEANS_EVERYTHING = profile(
    tempo={"value": 70.0, "strength": 0.6},
    keys={"weights": {"A": 1.0, "D": -1.0}},
    scales={"weights": {"major": 1.0, "minor": -1.0}},
)


def test_a_tempo_or_key_the_prompt_states_is_used_and_no_prior_leans_it() -> None:
    # The tempo prior leans an open jazz tempo, but not one the prompt states or speaks of.
    assert blend_genres(moody("jazz", LEANS_EVERYTHING), 3).tempo_source == "profile"
    stated = blend_genres(moody("jazz at 80bpm", LEANS_EVERYTHING), 3)
    assert (stated.tempo, stated.tempo_source) == (80.0, "prompt")
    per_minute = blend_genres(moody("jazz, 90 beats per minute", LEANS_EVERYTHING), 3)
    assert (per_minute.tempo, per_minute.tempo_source) == (90.0, "prompt")
    assert blend_genres(moody("andante jazz", LEANS_EVERYTHING), 3).tempo_source == "genre"
    # A key and mode the prompt names are the song's, whatever the profile likes.
    ctx = moody("a sad piano piece in D minor", LEANS_EVERYTHING)
    ctx.genres = [GenreWeight("pop", 1.0)]
    result = arrange(ctx, 3)
    assert (result.key, result.key_source, result.scale, result.scale_source) == (
        "D",
        "prompt",
        "minor",
        "prompt",
    )
    d_minor = {2, 4, 5, 7, 9, 10, 0}
    for lay in result.layers:
        if not lay.is_drum:
            assert {pitch % 12 for pitch, *_ in lay.notes} <= d_minor, lay.name
    assert result.chords[0].symbol.startswith("D")  # the tonic chord opens it
    # An input still wins over the prompt: the key given, the mode the prompt's.
    ctx.inputs["key"] = "E"
    given = arrange(ctx, 3)
    assert (given.key, given.key_source, given.scale, given.scale_source) == ("E", "input", "minor", "prompt")


def leaning_everything(**_: Any) -> dict[str, Any]:
    return LEANS_EVERYTHING


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_in_the_pipeline_a_prompts_tempo_and_key_win_over_the_profile(settings: Any) -> None:
    settings.CODA_CONTEXT_PRIORS = ["tests.modules.feedback.test_priors.leaning_everything"]
    song = composition_create(prompt="jazz at 80bpm in D minor", seed=4, duration_seconds=20, start=False)
    assert {"tempo", "keys", "scales"} <= set(song.context["priors"])
    for stage in ("mood", "genre", "arrangement"):
        assert execute_stage(song.pk, stage) == "SUCCEEDED"
    song.refresh_from_db()
    context = song.context
    assert (context["tempo"], context["key"], context["scale"]) == (80.0, "D", "minor")
    assert {f: context["sources"][f] for f in ("tempo", "key", "scale")} == dict.fromkeys(
        ("tempo", "key", "scale"), "prompt"
    )
    d_minor = {2, 4, 5, 7, 9, 10, 0}
    for lay in song.layers.exclude(is_drum=True):
        assert {note[0] % 12 for note in lay.notes} <= d_minor, lay.name
    bass = song.layers.get(name="bass")
    assert round(bass.midi.duration_seconds, 1) == round(context["total_beats"] * 60 / 80.0, 1)


def test_the_loudness_prior_leans_only_a_loudness_no_preset_or_reference_decides() -> None:
    prefers_quiet = (-16.0, 0.5)
    assert mastering_plan({}, -15.4, None)[:2] == (-15.4, "genre")
    assert mastering_plan({}, -15.4, prefers_quiet)[:2] == (-15.7, "profile")
    assert mastering_plan({}, -9.0, (-30.0, 1.0))[:2] == (-12.0, "profile"), "at most 3 LU from the genre's"
    club = {"preset": "club", "values": {"target_lufs": -9.0}}
    assert mastering_plan(club, -15.4, prefers_quiet)[:2] == (-9.0, "input")
    reference = {"preset": "default", "values": {}, "reference": {"integrated_lufs": -11.26, "bands": [0.0]}}
    assert mastering_plan(reference, -15.4, prefers_quiet)[:2] == (-11.26, "reference")
    # Such a choice settles loudness: the profile's loudness is not even stored with the composition.
    assert (MASTERING.settles({"mastering": club}), MASTERING.settles({"mastering": reference})) == (
        frozenset({"loudness"}),
        frozenset({"loudness"}),
    )
    assert (
        MASTERING.settles({"mastering": {"preset": "default", "values": {"target_lufs": None}}})
        == frozenset()
    )


def quiet_listener(**_: Any) -> dict[str, Any]:
    return {"loudness": {"value": -20.0, "strength": 0.8}}


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root", "sync_pipeline")
def test_in_the_pipeline_a_preset_with_a_target_decides_loudness_and_the_context_says_so(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CODA_CONTEXT_PRIORS = ["tests.modules.feedback.test_priors.quiet_listener"]
    # Created with the club preset: no loudness prior is stored, none leans, none is claimed.
    club = composition_create(
        prompt="rock anthem", seed=2, duration_seconds=15, inputs={"mastering_preset": "club"}, start=False
    )
    assert "loudness" not in club.context["priors"]
    run_inline(club.pk)
    club.refresh_from_db()
    assert club.status == "SUCCEEDED", club.error
    assert (club.context["loudness_target"], club.context["sources"]["loudness_target"]) == (-9.0, "input")
    assert club.master.target_lufs == -9.0

    # Created without: the profile leans the genre's target; then edited to a preset with a target,
    # only mastering runs again and the context no longer claims the profile.
    song = composition_create(prompt="rock anthem", seed=2, duration_seconds=15, start=False)
    run_inline(song.pk)
    song.refresh_from_db()
    genre_own = song.context["style"]["loudness_target"]
    leaned = song.context["loudness_target"]
    assert (genre_own, leaned, song.context["sources"]["loudness_target"]) == (-9.0, -12.0, "profile")
    assert song.master.target_lufs == leaned
    with django_capture_on_commit_callbacks(execute=True):
        composition_update(song, inputs={"mastering_preset": "broadcast"})
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    assert dict(song.stages.values_list("name", "reused")) == {
        "mood": True,
        "genre": True,
        "arrangement": True,
        "lyrics": True,
        "voice": True,
        "mastering": False,
    }
    assert (song.context["loudness_target"], song.context["sources"]["loudness_target"]) == (-23.0, "input")
    assert song.master.target_lufs == -23.0
