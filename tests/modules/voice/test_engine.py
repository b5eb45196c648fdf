"""Voice engine: voice choice and a singable line, one note per syllable."""

from __future__ import annotations

import itertools

import pytest

from modules.composition.context import (
    SCALES,
    SOURCE_INPUT,
    SOURCE_PROMPT,
    SOURCE_SEED,
    CompositionContext,
    GenreWeight,
    MoodInfo,
    pitch_class,
    scale_pitch_classes,
)
from modules.lyrics.engine import write_lyrics
from modules.voice.engine import VOICES, VoiceResult, choose_voice, sing
from tests.songs import song_skeleton

# Progressions as scale degrees (0-based), one chord per bar.
PROGRESSIONS = {"major": (0, 4, 5, 3), "minor": (0, 5, 2, 6)}


def build_context(
    prompt: str = "a song about the ocean at night",
    seed: int = 1,
    key: str = "A",
    scale: str = "minor",
    voice: str | None = None,
    genres: list[GenreWeight] | None = None,
) -> CompositionContext:
    """Sections, chords, 2-bar phrases of 5..11 onsets (repeats reuse rhythms), and the lyrics."""
    steps = SCALES[scale]
    progression = PROGRESSIONS.get(scale, PROGRESSIONS["major"] if 4 in steps else PROGRESSIONS["minor"])
    sections, chords, phrases, bar = song_skeleton(key, scale, seed, progression)
    ctx = CompositionContext(prompt=prompt, seed=seed)
    ctx.mood = MoodInfo("dreamy", 0.3, 0.4, ["calm"])
    ctx.key, ctx.scale, ctx.tempo = key, scale, 100.0
    ctx.genres = genres or []
    ctx.sections, ctx.chords, ctx.vocal_phrases = sections, chords, phrases
    ctx.total_beats = bar * 4.0
    if voice is not None:
        ctx.inputs["voice"] = voice
    ctx.lyrics = write_lyrics(ctx, seed).lines
    return ctx


def chord_at(ctx: CompositionContext, beat: float) -> set[int]:
    chord = next(c for c in ctx.chords if c.start <= beat < c.start + c.duration)
    return {p % 12 for p in chord.pitches}


CASES = [
    ("A", "minor", None),
    ("C", "major", "soprano"),
    ("E", "major", "bass"),
    ("F#", "dorian", "tenor"),
    ("Bb", "mixolydian", "alto"),
    ("D", "harmonic_minor", "baritone"),
    ("G", "lydian", "mezzo"),
]


@pytest.fixture(scope="module")
def sung() -> list[tuple[CompositionContext, VoiceResult]]:
    out = []
    for seed, (key, scale, voice) in enumerate(CASES):
        ctx = build_context(seed=seed, key=key, scale=scale, voice=voice)
        out.append((ctx, sing(ctx, seed)))
    return out


def test_one_note_per_syllable(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        syllables = [s for line in ctx.lyrics for s in line.syllables]
        assert len(result.notes) == len(result.syllables) == len(syllables) > 0
        assert result.syllables == [s.text for s in syllables]
        for note, syllable in zip(result.notes, syllables, strict=True):
            assert note[1] == pytest.approx(syllable.start)
            assert 0 < note[2] <= syllable.duration + 1e-9
            assert 1 <= note[3] <= 127
        for a, b in itertools.pairwise(result.notes):
            assert a[1] + a[2] <= b[1] + 1e-9  # a voice sings one note at a time


def test_notes_in_range_and_in_key(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        spec = VOICES[result.voice]
        assert (result.low, result.high) == (spec.low, spec.high)
        allowed = scale_pitch_classes(ctx.key or "C", ctx.scale or "major")
        for pitch, *_ in result.notes:
            assert spec.low <= pitch <= spec.high
            assert int(pitch) % 12 in allowed


def test_mostly_steps_and_leaps_turn_back(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for _, result in sung:
        pitches = [int(n[0]) for n in result.notes]
        steps = [b - a for a, b in itertools.pairwise(pitches)]
        assert sum(abs(s) <= 4 for s in steps) / len(steps) >= 0.7
        big = [k for k, s in enumerate(steps) if abs(s) > 9]  # beyond a major sixth
        assert len(big) <= len(steps) * 0.05
        for k in big:
            if k + 1 < len(steps):
                assert 0 < abs(steps[k + 1]) <= 4 and (steps[k + 1] > 0) != (steps[k] > 0)


def test_strong_onsets_sing_chord_tones(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        strong_starts = {
            o[0] for p in ctx.vocal_phrases for o, s in zip(p.onsets, p.strong, strict=True) if s
        }
        strong_notes = [n for n in result.notes if n[1] in strong_starts]
        assert strong_notes
        tones = sum(int(n[0]) % 12 in chord_at(ctx, n[1]) for n in strong_notes)
        assert tones / len(strong_notes) >= 0.8


def test_phrases_end_on_stable_degrees(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        tonic, steps = pitch_class(ctx.key or "C"), SCALES[ctx.scale or "major"]
        stable = {(tonic + steps[d]) % 12 for d in (0, 2, 4)}
        k = 0
        for line in ctx.lyrics:
            k += len(line.syllables)
            assert int(result.notes[k - 1][0]) % 12 in stable


def test_tessitura_sits_in_the_middle(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for _, result in sung:
        pitches = [n[0] for n in result.notes]
        centre = (result.low + result.high) / 2
        assert abs(sum(pitches) / len(pitches) - centre) <= 4
        inner = sum(result.low + 2 <= p <= result.high - 2 for p in pitches)
        assert inner / len(pitches) >= 0.9


def test_chorus_text_gets_the_same_melody(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        melodies: dict[str, list[list[float]]] = {}
        k = 0
        for line in ctx.lyrics:
            n = len(line.syllables)
            if line.section_name == "chorus":
                pitches = [n_[0] for n_ in result.notes[k : k + n]]
                melodies.setdefault(line.text, []).append(pitches)
            k += n
        assert melodies and all(len(v) >= 2 for v in melodies.values())
        for versions in melodies.values():
            assert all(v == versions[0] for v in versions)


def test_choruses_sung_louder_than_verses(sung: list[tuple[CompositionContext, VoiceResult]]) -> None:
    for ctx, result in sung:
        names = [line.section_name for line in ctx.lyrics for _ in line.syllables]
        chorus = [n[3] for n, s in zip(result.notes, names, strict=True) if s == "chorus"]
        verse = [n[3] for n, s in zip(result.notes, names, strict=True) if s == "verse"]
        assert sum(chorus) / len(chorus) > sum(verse) / len(verse) + 5


def test_deterministic() -> None:
    ctx = build_context(seed=3)
    assert sing(ctx, 8) == sing(ctx, 8)
    assert sing(ctx, 8).notes != sing(ctx, 9).notes or sing(ctx, 8).voice != sing(ctx, 9).voice


def test_explicit_voice_is_honoured() -> None:
    for name in VOICES:
        result = sing(build_context(voice=name, seed=2), 2)
        assert (result.voice, result.voice_source) == (name, SOURCE_INPUT)


def test_unknown_voice_is_rejected_with_the_choices() -> None:
    ctx = build_context()
    ctx.inputs["voice"] = "castrato"
    with pytest.raises(ValueError) as error:
        sing(ctx, 1)
    assert all(name in str(error.value) for name in VOICES)


def test_voice_ranges_follow_the_music_notes() -> None:
    expected = {
        "soprano": (60, 81),
        "mezzo": (57, 77),
        "alto": (53, 74),
        "tenor": (48, 69),
        "baritone": (45, 65),
        "bass": (40, 64),
    }
    assert {name: (v.low, v.high) for name, v in VOICES.items()} == expected
    assert all(v.program in (52, 53, 54) for v in VOICES.values())


@pytest.mark.parametrize(
    ("prompt", "allowed"),
    [
        ("moody trip-hop with deep male vocals", {"bass", "baritone"}),
        ("pop song with a high female voice", {"soprano"}),
        ("female vocals over a house beat", {"soprano", "mezzo", "alto"}),
        ("rock ballad sung by a male singer", {"tenor", "baritone"}),
        ("jazz with a baritone singer", {"baritone"}),
    ],
)
def test_voice_from_prompt(prompt: str, allowed: set[str]) -> None:
    for seed in range(5):
        spec, source = choose_voice(CompositionContext(prompt=prompt, seed=seed), seed)
        assert source == SOURCE_PROMPT and spec.name in allowed


def test_instrument_words_do_not_pick_a_voice() -> None:
    ctx = CompositionContext(prompt="deep house with heavy bass and an alto sax", seed=1)
    _, source = choose_voice(ctx, 1)
    assert source == SOURCE_SEED


def test_seeded_voice_follows_genre() -> None:
    hip_hop = [GenreWeight("hip-hop", 1.0)]
    dream = [GenreWeight("dream-pop", 1.0)]
    low = {choose_voice(CompositionContext(prompt="", seed=s, genres=hip_hop), s)[0].name for s in range(20)}
    high = {choose_voice(CompositionContext(prompt="", seed=s, genres=dream), s)[0].name for s in range(20)}
    assert low <= {"baritone", "tenor", "alto"} and high <= {"soprano", "mezzo"}
    result = sing(build_context(genres=dream, seed=4), 4)
    assert result.voice_source == SOURCE_SEED and result.program == 54  # synth voice for dream-pop


def test_no_lyrics_no_notes() -> None:
    ctx = build_context()
    ctx.lyrics = []
    result = sing(ctx, 1)
    assert result.notes == [] and result.syllables == []
