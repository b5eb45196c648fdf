"""Audio made by tests at a known tempo and key: drums, bass and chords in numpy."""

from __future__ import annotations

import numpy as np

from modules.composition.context import pitch_class

RATE = 22050
MAJOR, MINOR = (0, 4, 7), (0, 3, 7)


def _tone(freq: float, seconds: float, level: float) -> np.ndarray:
    """A plucked, slightly bright note: four harmonics under a decaying envelope."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 2, 3, 4))
    return level * wave * np.exp(-2.5 * t)


def synthesise(bpm: float, chords: list[tuple[str, tuple[int, ...]]], seed: int = 0) -> np.ndarray:
    """One chord per bar of 4/4 (bass root and a triad), kick on every beat, snare on 2 and 4,
    hats on the eighths; stereo float32."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    out = np.zeros(int(len(chords) * 4 * beat * RATE) + RATE)
    for bar, (root_name, quality) in enumerate(chords):
        root = 48 + pitch_class(root_name)  # chord tones around C3-C4
        start = int(bar * 4 * beat * RATE)
        for interval in quality:
            note = _tone(440 * 2 ** ((root + interval - 69) / 12), 4 * beat, 0.12)
            out[start : start + len(note)] += note
        bass = _tone(440 * 2 ** ((root - 12 - 69) / 12), 4 * beat, 0.25)
        out[start : start + len(bass)] += bass
    t = np.arange(int(0.15 * RATE)) / RATE
    kick = 0.6 * np.sin(2 * np.pi * (50 + 80 * np.exp(-30 * t)) * t) * np.exp(-20 * t)
    for n in range(len(chords) * 8):
        at = int(n * beat / 2 * RATE)
        hat = 0.05 * rng.standard_normal(int(0.03 * RATE)) * np.exp(-np.arange(int(0.03 * RATE)) / 100)
        out[at : at + len(hat)] += hat
        if n % 2 == 0:
            out[at : at + len(kick)] += kick
        if n % 4 == 2:
            snare = 0.25 * rng.standard_normal(int(0.12 * RATE)) * np.exp(-np.arange(int(0.12 * RATE)) / 600)
            out[at : at + len(snare)] += snare
    return np.repeat(out[:, None], 2, axis=1).astype(np.float32)
