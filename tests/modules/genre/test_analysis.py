"""Reference analysis on tracks synthesised here at a known tempo and key (drums, bass and chords in
numpy), the tempo fold into a genre blend, and the reference steering the engines."""

from __future__ import annotations

import numpy as np
import pytest

from modules.arrangement.engine import arrange
from modules.composition.context import CompositionContext, MoodInfo, scale_pitch_classes
from modules.genre.analysis import AnalysisError, analyse_reference
from modules.genre.engine import blend_genres, reference_tempo
from tests.tracks import MAJOR, MINOR, RATE, synthesise


@pytest.mark.parametrize(
    ("bpm", "chords", "key", "scale"),
    [
        (100, [("D", MINOR), ("G", MINOR), ("A", MAJOR), ("D", MINOR)] * 2, "D", "minor"),
        (128, [("A", MAJOR), ("D", MAJOR), ("E", MAJOR), ("A", MAJOR)] * 2, "A", "major"),
        # i-VI-III-VII: every note also in the relative major (A); starting and ending on F#m decides it.
        (90, [("F#", MINOR), ("D", MAJOR), ("A", MAJOR), ("E", MAJOR), ("F#", MINOR)], "F#", "minor"),
    ],
)
def test_tempo_and_key_of_a_synthesised_track(
    bpm: float, chords: list[tuple[str, tuple[int, ...]]], key: str, scale: str
) -> None:
    analysis = analyse_reference(synthesise(bpm, chords), RATE)
    assert analysis.tempo == pytest.approx(bpm, abs=1.0)
    assert (analysis.key, analysis.scale) == (key, scale), analysis
    assert analysis.key_margin > 0.05
    assert analysis.beat_jitter_ms < 15
    assert max(analysis.chroma) == 1.0 and len(analysis.chroma) == 12


def test_a_track_without_a_beat_is_refused_with_the_reason() -> None:
    hum = 0.2 * np.sin(2 * np.pi * 220 * np.arange(6 * RATE) / RATE)
    with pytest.raises(AnalysisError, match="steady beat"):
        analyse_reference(np.repeat(hum[:, None], 2, axis=1), RATE)


@pytest.mark.parametrize(
    ("detected", "blend", "tempo"),
    [
        (100.0, (100.0, 128.0), 100.0),  # inside: as detected
        (93.4, (120.0, 130.0), 93.4),  # outside, no octave fits: the reference still wins
        (180.0, (80.0, 98.0), 90.0),  # a hip-hop reference read at double tempo
        (61.0, (110.0, 140.0), 122.0),  # read at half tempo
        (230.0, (60.0, 90.0), 115.0),  # beyond the bounds any tempo keeps
    ],
)
def test_a_reference_tempo_folds_by_an_octave_into_the_blend_only_when_that_fits(
    detected: float, blend: tuple[float, float], tempo: float
) -> None:
    assert reference_tempo(detected, blend) == tempo


def context(**inputs: object) -> CompositionContext:
    ctx = CompositionContext(prompt="dreamy pop song", seed=5, duration_seconds=30, inputs=dict(inputs))
    ctx.mood = MoodInfo("dreamy", 0.4, 0.45)
    ctx.energy = 0.45
    return ctx


REFERENCE = {"id": 1, "name": "ref", "sha256": "0" * 64, "tempo": 103.47, "key": "D", "scale": "minor"}


def test_the_reference_sets_tempo_key_and_scale_with_source_reference() -> None:
    ctx = context(genre_reference=REFERENCE)
    genre = blend_genres(ctx, 1)
    assert (genre.tempo, genre.tempo_source, genre.reference) == (103.5, "reference", REFERENCE)
    ctx.genres, ctx.style, ctx.tempo = genre.genres, genre.style, genre.tempo
    arranged = arrange(ctx, 2)
    assert (arranged.key, arranged.key_source, arranged.scale, arranged.scale_source) == (
        "D",
        "reference",
        "minor",
        "reference",
    )
    in_key = scale_pitch_classes("D", "minor")
    for layer in arranged.layers:
        if not layer.is_drum:
            assert {int(n[0]) % 12 for n in layer.notes} <= in_key, layer.name


def test_explicit_inputs_say_otherwise() -> None:
    ctx = context(genre_reference=REFERENCE, tempo=90, key="E")
    genre = blend_genres(ctx, 1)
    assert (genre.tempo, genre.tempo_source) == (90.0, "input")
    ctx.genres, ctx.style, ctx.tempo = genre.genres, genre.style, genre.tempo
    arranged = arrange(ctx, 2)
    assert (arranged.key, arranged.key_source) == ("E", "input")
    assert (arranged.scale, arranged.scale_source) == ("minor", "reference")
