"""A hand-made song skeleton for engine tests: what arrangement would leave in the context."""

from __future__ import annotations

import random

from modules.composition.context import SCALES, ChordEvent, SectionPlan, VocalPhrase, pitch_class

FORM = ("intro", "verse", "chorus", "verse", "chorus", "outro")
ENERGY = {"intro": 0.3, "verse": 0.5, "chorus": 0.9, "outro": 0.3}


def song_skeleton(
    key: str, scale: str, seed: int, progression: tuple[int, ...]
) -> tuple[list[SectionPlan], list[ChordEvent], list[VocalPhrase], int]:
    """Sections of FORM, one triad a bar on the scale degrees of `progression`, and 2-bar vocal
    phrases of 5..11 onsets in verses and choruses (a repeated section reuses its rhythm).
    Returns (sections, chords, phrases, total bars)."""
    sections: list[SectionPlan] = []
    chords: list[ChordEvent] = []
    phrases: list[VocalPhrase] = []
    tonic, steps = pitch_class(key), SCALES[scale]
    rhythms: dict[str, list[list[list[float]]]] = {}
    bar = 0
    for index, name in enumerate(FORM):
        bars = 2 if name in ("intro", "outro") else 8
        vocal = name in ("verse", "chorus")
        sections.append(SectionPlan(index, name, bar, bars, ENERGY[name], vocal))
        for b in range(bars):
            degree = progression[b % len(progression)]
            pcs = [(tonic + steps[(degree + k) % 7]) % 12 for k in (0, 2, 4)]
            pitches = [
                48 + pcs[0],
                48 + pcs[0] + (pcs[1] - pcs[0]) % 12,
                48 + pcs[0] + (pcs[2] - pcs[0]) % 12,
            ]
            chords.append(ChordEvent((bar + b) * 4.0, 4.0, pcs[0], "triad", "", pitches, index))
        if vocal:
            if name not in rhythms:
                rng = random.Random(f"{seed}:{name}")
                rhythms[name] = []
                for _ in range(bars // 2):
                    count = rng.randint(5, 11)
                    grid = sorted(rng.sample(range(1, 14), count - 1))
                    rhythms[name].append([[0.0, 0.5]] + [[g * 0.5, 0.5] for g in grid])
            for j, rhythm in enumerate(rhythms[name]):
                base = (bar + 2 * j) * 4.0
                onsets = [[base + o, d] for o, d in rhythm]
                phrases.append(VocalPhrase(index, onsets, [abs(o[0] % 2.0) < 1e-9 for o in onsets]))
        bar += bars
    return sections, chords, phrases, bar
