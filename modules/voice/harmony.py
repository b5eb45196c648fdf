"""The harmony voice: a second line under the melody on choruses.

Each chorus note gets the nearest pitch a third to a sixth below it that is in
the scale, preferring a tone of the chord sounding at that moment, so the pair
moves in parallel thirds and sixths the way backing vocals do. Verses stay solo.
"""

from __future__ import annotations

import bisect

from modules.composition.context import ChordEvent, CompositionContext, LyricLine, scale_pitch_classes

HARMONY_SECTIONS = {"chorus"}
# Below the melody: minor/major third first, then fourth, then minor/major sixth.
INTERVALS_BELOW = (3, 4, 5, 8, 9)


def _chord_tones(beat: float, chords: list[ChordEvent], starts: list[float]) -> set[int]:
    i = bisect.bisect_right(starts, beat) - 1
    return {p % 12 for p in chords[i].pitches} if i >= 0 else set()


# The voice that sings the harmony: the next lower voice of the same kind.
HARMONY_SINGER = {
    "soprano": "alto",
    "mezzo": "alto",
    "alto": "alto",
    "tenor": "baritone",
    "baritone": "baritone",
    "bass": "bass",
}


def harmony_lines(ctx: CompositionContext) -> list[LyricLine]:
    """The lyric lines the harmony voice sings along with."""
    return [line for line in ctx.lyrics if line.section_name in HARMONY_SECTIONS]


def harmony_line(ctx: CompositionContext, melody: list[list[float]], low: int) -> list[list[float]]:
    """Notes under the melody notes sung in chorus lines (same timing, softer), never below `low`."""
    in_key = scale_pitch_classes(ctx.key or "C", ctx.scale or "major")
    starts = [c.start for c in ctx.chords]
    syllable_sections = [line.section_name for line in ctx.lyrics for _ in line.syllables]
    harmony: list[list[float]] = []
    for (pitch, start, duration, velocity), section in zip(melody, syllable_sections, strict=False):
        if section not in HARMONY_SECTIONS:
            continue
        tones = _chord_tones(start, ctx.chords, starts)
        options = [
            int(pitch) - i
            for i in INTERVALS_BELOW
            if (int(pitch) - i) % 12 in in_key and int(pitch) - i >= low
        ]
        if not options:
            continue
        chosen = next((p for p in options if p % 12 in tones), options[0])
        harmony.append([chosen, start, duration, max(1, round(velocity * 0.8))])
    return harmony
