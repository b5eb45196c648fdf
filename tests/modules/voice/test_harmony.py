"""The harmony voice sings under the melody on choruses only, in key, mostly on chord tones."""

from __future__ import annotations

import bisect

import pytest

from modules.composition.context import CompositionContext, scale_pitch_classes
from tests.modules.composition.test_properties import composed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.mark.parametrize(("prompt", "seed"), [("happy pop song with a chorus", 1), ("sad piano ballad", 2)])
def test_harmony_follows_the_chorus_melody_a_third_to_a_sixth_below(prompt: str, seed: int) -> None:
    song = composed(prompt, seed, duration=60)
    ctx = CompositionContext.from_dict(song.context)
    melody = {n[1]: n[0] for n in song.voice.notes}
    chorus_starts = {s.start for line in ctx.lyrics if line.section_name == "chorus" for s in line.syllables}
    harmony = song.voice.harmony
    assert harmony, "a song with a chorus gets a harmony voice"
    assert {n[1] for n in harmony} <= chorus_starts, "harmony only on choruses"
    assert len(harmony) >= 0.9 * len(chorus_starts)
    in_key = scale_pitch_classes(ctx.key, ctx.scale)
    starts = [c.start for c in ctx.chords]
    on_chord = 0
    for pitch, start, _duration, _velocity in harmony:
        assert 3 <= melody[start] - pitch <= 9
        assert pitch % 12 in in_key
        chord = ctx.chords[bisect.bisect_right(starts, start) - 1]
        on_chord += pitch % 12 in {p % 12 for p in chord.pitches}
    assert on_chord / len(harmony) >= 0.7
