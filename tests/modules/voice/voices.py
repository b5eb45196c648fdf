# ruff: noqa: RUF001  (IPA vowel symbols are the test data)
"""Voices made by the tests themselves: a source-filter synthesizer (numpy), so a test knows the
pitch and the formants of the voice it uploads.

Source: a pulse train at the pitch (with a gentle 5.5 Hz vibrato), shaped like glottal flow
(two one-pole low-passes at 100 Hz) and radiated from the lips (a first difference), plus a
little breath. Filter: eight cascaded formant resonators (Klatt's), the first three from a vowel
table scaled by the vocal tract (`scale` < 1: a longer tract, lower formants), the rest fixed
multiples of 1000 Hz (without them the spectrum above F3 falls away and no formant tracker reads
a real voice in it). Vowels are separated by short silences, as sung or spoken syllables are.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile
from scipy.signal import lfilter

SR = 44100
# Peterson & Barney's men's vowels (F1, F2, F3 in Hz), and a neutral schwa.
VOWELS = {
    "i": (270, 2290, 3010),
    "ɪ": (390, 1990, 2550),
    "ɛ": (530, 1840, 2480),
    "æ": (660, 1720, 2410),
    "ɑ": (730, 1090, 2440),
    "ɔ": (570, 840, 2410),
    "ʊ": (440, 1020, 2240),
    "u": (300, 870, 2240),
    "ʌ": (640, 1190, 2390),
    "ə": (500, 1500, 2500),
}
HIGHER = (3500, 4500, 5500, 6500, 7500)
BANDWIDTHS = (60, 80, 120, 200, 250, 300, 400, 500)
# A mix of vowels like sung English: schwa and the short vowels most, long ones less.
SONG_VOWELS = ("ə", "ɪ", "ɛ", "æ", "ə", "ʌ", "i", "ɑ", "ɪ", "ə", "u", "ɔ", "ʊ", "ɛ")


def _resonator(x: np.ndarray, frequency: float, bandwidth: float, sr: int) -> np.ndarray:
    c = -np.exp(-2 * np.pi * bandwidth / sr)
    b = 2 * np.exp(-np.pi * bandwidth / sr) * np.cos(2 * np.pi * frequency / sr)
    return lfilter([1 - b - c], [1, -b, -c], x)


def synthetic_voice(
    scale: float,
    pitch_hz: tuple[float, ...],
    vowels: tuple[str, ...] = SONG_VOWELS,
    vowel_seconds: float = 0.4,
    gap_seconds: float = 0.1,
    sr: int = SR,
) -> np.ndarray:
    """Vowels one after another, `vowel_seconds` each with `gap_seconds` of silence after; the
    pitch glides through `pitch_hz` (evenly spaced over the whole), formants scaled by `scale`."""
    step = vowel_seconds + gap_seconds
    n = round(step * len(vowels) * sr)
    t = np.arange(n) / sr
    f0 = np.interp(t, np.linspace(0.0, t[-1], len(pitch_hz)), pitch_hz) * (
        1 + 0.01 * np.sin(2 * np.pi * 5.5 * t)
    )
    phase = np.cumsum(f0) / sr
    pulses = np.zeros(n)
    pulses[np.nonzero(np.diff(np.floor(phase)) > 0)[0] + 1] = 1.0
    pole = np.exp(-2 * np.pi * 100.0 / sr)
    source = lfilter([1.0], [1.0, -pole], lfilter([1.0], [1.0, -pole], pulses))
    source = np.diff(source, prepend=0.0) + 0.002 * np.random.default_rng(7).standard_normal(n)
    out = np.zeros(n)
    fade = int(0.02 * sr)
    for k, vowel in enumerate(vowels):
        a, b = round(k * step * sr), round((k * step + vowel_seconds) * sr)
        y = source[a:b]
        for frequency, bandwidth in zip((*VOWELS[vowel], *HIGHER), BANDWIDTHS, strict=True):
            y = _resonator(y, frequency * scale, bandwidth, sr)
        ramp = np.ones(b - a)
        ramp[:fade] = np.linspace(0.0, 1.0, fade)
        ramp[-fade:] = np.linspace(1.0, 0.0, fade)
        out[a:b] = y * ramp
    return (0.5 * out / np.abs(out).max()).astype(np.float64)


def true_formants(scale: float, vowels: tuple[str, ...] = SONG_VOWELS) -> tuple[float, float, float]:
    """The medians of F1-F3 over the vowels, as synthesized."""
    table = np.array([VOWELS[v] for v in vowels], dtype=float) * scale
    return tuple(float(v) for v in np.median(table, axis=0))  # type: ignore[return-value]


def encoded(x: np.ndarray, sr: int = SR, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, x, sr, format=fmt, subtype="PCM_16" if fmt in ("WAV", "FLAC") else None)
    return buffer.getvalue()
