"""Phrase rhythms (the vocal syllable slots) and melodic lines over the chords.

A phrase spans two bars: an optional eighth-note pickup, whole beats each
sung as a quarter or two eighths (so beats 1 and 3 always carry an onset), a
longer last note and a rest before the next phrase. Melodies move mostly by
step, put chord tones on strong beats and long notes, turn back after a leap
and end phrases on stable degrees (1, 3, 5), as MUSIC-NOTES asks.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable

from modules.composition.context import SCALES, ChordEvent

PHRASE_BEATS = 8.0
Rhythm = list[tuple[float, float]]  # (offset from phrase start, duration) in beats

# Syllables per two-bar phrase by section: verses tell, choruses hook with fewer, longer notes.
_SYLLABLES: dict[str, tuple[int, int]] = {
    "verse": (8, 10),
    "pre-chorus": (7, 9),
    "chorus": (6, 8),
    "bridge": (6, 8),
}


def syllable_range(section: str, tempo: float, density: float) -> tuple[int, int]:
    low, high = _SYLLABLES.get(section, (6, 8))
    if tempo >= 135:  # eighths fly by at fast tempos: sing fewer, longer notes
        low, high = low - 2, high - 2
    elif tempo < 80:  # slow songs leave room for more syllables
        low, high = low + 1, high + 1
    if density >= 0.7:
        low, high = low + 1, high + 1
    return max(6, min(10, low)), max(6, min(10, high))


def phrase_rhythm(rng: random.Random, section: str, tempo: float, density: float) -> Rhythm:
    """One singable two-bar rhythm with 6..10 onsets, a long last note and a closing rest."""
    low, high = syllable_range(section, tempo, density)
    count = rng.randint(low, high)
    # Where the phrase starts: on beat 1, on beat 2, or with an eighth pickup before beat 2.
    start_weights = {0.0: 3.0, 1.0: 1.0, 0.5: 1.0} if section != "chorus" else {0.0: 4.0, 0.5: 1.0}
    options: list[tuple[float, float, float, int, int]] = []  # weight, start, last, beats, eighth pairs
    for start, start_weight in start_weights.items():
        pickup = start == 0.5
        for last in (1.5, 2.0, 3.0):
            for rest in (1.0, 1.5, 2.0):
                body = PHRASE_BEATS - math.ceil(start) - last - rest
                if body < 1 or body % 1.0:
                    continue
                beats = int(body)
                eighth_pairs = count - 1 - int(pickup) - beats
                if 0 <= eighth_pairs <= beats:
                    # Choruses favour long held last notes, verses keep moving.
                    held = 2.0 if (section == "chorus") == (last >= 2.0) else 1.0
                    options.append((start_weight * held, start, last, beats, eighth_pairs))
    if not options:  # unreachable for 6..10 onsets in two bars; a plain line keeps the contract anyway
        return [(float(i), 0.5) for i in range(count - 1)] + [(count - 1.0, 1.5)]
    _, start, last, beats, eighth_pairs = rng.choices(options, weights=[o[0] for o in options], k=1)[0]
    first_beat = math.ceil(start)
    # Eighth pairs go preferably on the weak beats (2 and 4) so the strong beats keep a clear quarter.
    body_beats = list(range(first_beat, first_beat + beats))
    weights = [2.0 if b % 2 else 1.0 for b in body_beats]
    split: set[int] = set()
    while len(split) < eighth_pairs:
        beat = rng.choices(body_beats, weights=weights, k=1)[0]
        split.add(beat)
        weights[body_beats.index(beat)] = 0.0
    rhythm: Rhythm = [(0.5, 0.5)] if start == 0.5 else []
    for beat in body_beats:
        if beat in split:
            rhythm += [(float(beat), 0.5), (beat + 0.5, 0.5)]
        else:
            rhythm.append((float(beat), 1.0))
    rhythm.append((float(first_beat + beats), last))
    return rhythm


def section_rhythms(
    rng: random.Random, section: str, phrases: int, tempo: float, density: float
) -> list[Rhythm]:
    """Rhythms for the phrases of one section: A B A B... so matching lines can rhyme."""
    a = phrase_rhythm(rng, section, tempo, density)
    b = phrase_rhythm(rng, section, tempo, density)
    return [a if i % 2 == 0 else b for i in range(phrases)]


# ---------------------------------------------------------------- melody


class ChordTimeline:
    """Which chord sounds at a given beat."""

    def __init__(self, chords: list[ChordEvent]) -> None:
        self.chords = chords
        self.starts = [c.start for c in chords]

    def at(self, beat: float) -> ChordEvent:
        i = bisect.bisect_right(self.starts, beat + 1e-6) - 1
        return self.chords[max(0, i)]

    def next_change(self, beat: float) -> float | None:
        i = bisect.bisect_right(self.starts, beat + 1e-6)
        return self.starts[i] if i < len(self.starts) else None


def scale_notes(tonic: int, scale: str, low: int, high: int) -> list[int]:
    pcs = {(tonic + s) % 12 for s in SCALES[scale]}
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def stable_pcs(tonic: int, scale: str) -> set[int]:
    steps = SCALES[scale]
    return {(tonic + steps[i]) % 12 for i in (0, 2, 4)}


def melodize(
    onsets: list[tuple[float, float]],
    timeline: ChordTimeline,
    tonic: int,
    scale: str,
    low: int,
    high: int,
    rng: random.Random,
    is_strong: Callable[[float], bool],
    start_pitch: int | None = None,
) -> list[int]:
    """Pitches for absolute onsets: arch contour, stepwise motion, chord tones where they matter."""
    notes = scale_notes(tonic, scale, low, high)
    stable = stable_pcs(tonic, scale)
    centre = (low + high) / 2.0
    span = (high - low) / 4.0
    previous = start_pitch if start_pitch is not None else min(notes, key=lambda p: abs(p - centre + 2))
    last_interval = 0
    pitches: list[int] = []
    n = len(onsets)
    peak = rng.uniform(0.45, 0.7)  # where the arch of the phrase tops out
    for i, (start, duration) in enumerate(onsets):
        chord = timeline.at(start)
        tones = {p % 12 for p in chord.pitches}
        position = i / max(1, n - 1)
        target = centre - span * 0.5 + span * math.sin(math.pi * min(1.0, position / (2 * peak)))
        pool = [p for p in notes if abs(p - previous) <= 9]  # no leap beyond a sixth
        final = i == n - 1
        if final:
            wanted = [p for p in pool if p % 12 in tones and p % 12 in stable]
            pool = wanted or [p for p in pool if p % 12 in stable] or pool
        elif is_strong(start) or duration >= 1.5:
            pool = [p for p in pool if p % 12 in tones] or pool

        best: tuple[float, int] | None = None
        for p in pool:
            interval = p - previous
            size = abs(interval)
            c = {0: 1.2, 1: 0.0, 2: 0.0, 3: 0.6, 4: 0.8}.get(size, 1.5 + 0.4 * size)
            if abs(last_interval) > 4 and interval * last_interval > 0:
                c += 3.0  # after a leap, turn back
            if pitches[-2:] == [p, p]:
                c += 4.0  # no three repeated notes
            c += 0.35 * abs(p - target) + rng.uniform(0.0, 0.9)
            if best is None or c < best[0]:
                best = (c, p)
        choice = best[1] if best else previous
        last_interval = choice - previous
        previous = choice
        pitches.append(choice)
    return pitches
