"""Voice profiles, the pure part: what a voice sounds like, measured, and how Coda sings like it.

`analyse` measures recordings of one voice with Praat (through praat-parselmouth):

- pitch: Praat's autocorrelation tracker in two passes (De Looze & Hirst): a wide first pass
  (50-1000 Hz) finds the quartiles, the second tracks between 0.75 x Q1 and 1.5 x Q3, which
  keeps octave jumps out. Median pitch, and the range as the 5th and 95th percentiles (a few
  stray frames never set the range);
- formants: Burg LPC, five formants under the ceiling (4000-7000 Hz) whose tracks are smoothest
  (`formant_ceiling`: a fixed ceiling misnumbers the formants of a long or short vocal tract),
  F1-F3 as medians over the voiced frames;
- spectral centroid: the magnitude-weighted mean frequency of the sounding frames, up to 8 kHz
  (so a 16 kHz phone recording and a 48 kHz studio take are comparable);
- voiced ratio: the share of the recordings' frames in which a pitch was found.

`singer_for` turns an analysis into what the singing needs: a register (MIDI range centred on
the median pitch, as wide as the voice's range allows), the catalog singer nearest that register
(its espeak speaker says the words), and a formant shift ratio that moves the singer's formants
to the voice's (see singing.py: the speech is resampled before it is reshaped onto the notes).

No Django, no I/O: plain numbers in, plain numbers out. The same `analyse` measures the sung
vocal in the tests, so "closer" is measured with one ruler.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import parselmouth
from parselmouth.praat import call

ANALYSIS_VERSION = "1"
FIRST_PASS = (50.0, 1000.0)  # Hz, pitch floor and ceiling of the first pass
TIME_STEP = 0.01  # s between analysis frames
CEILINGS = tuple(range(4000, 7001, 250))  # Hz, formant ceilings searched (formant_ceiling)
SEARCH_TIME_STEP = 0.025  # s between frames while searching the ceiling (then TIME_STEP)
SEARCH_CHUNKS, SEARCH_CHUNK = 8, 1.0  # the ceiling is searched on the 8 most voiced seconds
CENTROID_TOP_HZ = 8000.0
SILENCE_DB = 40.0  # frames this far under the loudest frame are silence (not counted for the centroid)
MIN_VOICED_SECONDS = 1.0  # a profile needs at least this much voiced sound

# Register: MIDI notes either side of the median pitch (a sung line needs room; the catalog voices
# span 20-24 semitones), and the notes Coda will ever sing.
MIN_HALF_RANGE, MAX_HALF_RANGE = 7.0, 11.0
LOWEST_NOTE, HIGHEST_NOTE = 36, 84  # C2-C6
# Formant shift ratios Praat's resynthesis carries without the voice falling apart.
MIN_FORMANT_SHIFT, MAX_FORMANT_SHIFT = 0.75, 1.35


class NotEnoughVoice(ValueError):
    """The recordings hold too little voiced sound to measure a voice."""


@dataclass(frozen=True)
class VoiceAnalysis:
    median_pitch_hz: float
    pitch_low_hz: float  # 5th percentile
    pitch_high_hz: float  # 95th percentile
    f1_hz: float
    f2_hz: float
    f3_hz: float
    spectral_centroid_hz: float
    voiced_ratio: float  # 0..1
    sample_seconds: float
    voiced_seconds: float

    @property
    def formants(self) -> tuple[float, float, float]:
        return (self.f1_hz, self.f2_hz, self.f3_hz)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def hz_to_midi(hz: float) -> float:
    return 69.0 + 12.0 * math.log2(hz / 440.0)


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def semitones(a_hz: float, b_hz: float) -> float:
    """Signed distance from b to a in semitones."""
    return 12.0 * math.log2(a_hz / b_hz)


def formant_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Mean absolute log-ratio of F1-F3, in percent (about the mean relative difference)."""
    return 100.0 * float(np.mean([abs(math.log(x / y)) for x, y in zip(a, b, strict=True)]))


def _pitch_values(sounds: list[parselmouth.Sound], floor: float, ceiling: float) -> list[np.ndarray]:
    return [s.to_pitch_ac(time_step=TIME_STEP, pitch_floor=floor, pitch_ceiling=ceiling) for s in sounds]  # type: ignore[return-value]


def analyse(recordings: Sequence[tuple[np.ndarray, int]]) -> VoiceAnalysis:
    """Measure one voice from its recordings: (mono samples, sample rate) each."""
    sounds = [
        parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=sr) for x, sr in recordings
    ]
    if not sounds:
        raise NotEnoughVoice("no recordings")
    first = _voiced(_pitch_values(sounds, *FIRST_PASS))
    if len(first) < 10:
        raise NotEnoughVoice(_too_little(len(first) * TIME_STEP))
    q1, q3 = np.percentile(first, [25, 75])
    floor, ceiling = max(40.0, 0.75 * float(q1)), min(1200.0, 1.5 * float(q3))
    pitches = _pitch_values(sounds, floor, ceiling)
    f0 = _voiced(pitches)
    voiced_seconds = len(f0) * TIME_STEP
    if voiced_seconds < MIN_VOICED_SECONDS:
        raise NotEnoughVoice(_too_little(voiced_seconds))
    median = float(np.median(f0))
    low, high = (float(v) for v in np.percentile(f0, [5, 95]))
    frames = sum(p.get_number_of_frames() for p in pitches)  # type: ignore[attr-defined]
    formants = _formants(sounds, pitches)
    return VoiceAnalysis(
        median_pitch_hz=round(median, 2),
        pitch_low_hz=round(low, 2),
        pitch_high_hz=round(high, 2),
        f1_hz=round(formants[0], 1),
        f2_hz=round(formants[1], 1),
        f3_hz=round(formants[2], 1),
        spectral_centroid_hz=round(_centroid(sounds), 1),
        voiced_ratio=round(len(f0) / max(frames, 1), 4),
        sample_seconds=round(sum(s.duration for s in sounds), 3),  # type: ignore[attr-defined]
        voiced_seconds=round(voiced_seconds, 2),
    )


def _too_little(seconds: float) -> str:
    return (
        f"the recordings hold {seconds:.2f} s of voiced sound; at least {MIN_VOICED_SECONDS:g} s is "
        "needed (sing or speak, with sustained vowels)"
    )


def _voiced(pitches: list[parselmouth.Pitch]) -> np.ndarray:
    values = [p.selected_array["frequency"] for p in pitches]
    f0 = np.concatenate(values) if values else np.zeros(0)
    return f0[f0 > 0]


def _formant_tracks(
    sounds: list[parselmouth.Sound], pitches: list[parselmouth.Pitch], ceiling: float, time_step: float
) -> list[np.ndarray]:
    """F1-F3 of every voiced frame, per recording: arrays of shape (frames, 3), NaN where unvoiced
    or where the tracker found fewer than three formants."""
    tracks = []
    for sound, pitch in zip(sounds, pitches, strict=True):
        formant = sound.to_formant_burg(
            time_step=time_step, max_number_of_formants=5, maximum_formant=ceiling, window_length=0.025
        )
        times = np.asarray(formant.xs())
        values = np.stack(
            [np.asarray(call(formant, "To Matrix", i).values[0], dtype=np.float64) for i in (1, 2, 3)], axis=1
        )
        values[values <= 0] = np.nan
        f0 = np.interp(times, pitch.xs(), pitch.selected_array["frequency"], left=0.0, right=0.0)
        voiced = f0 > 0
        # Only frames whose pitch neighbours are both voiced (interpolation across a gap is not voice).
        step = pitch.time_step  # type: ignore[attr-defined]
        before = np.interp(
            times - step / 2, pitch.xs(), pitch.selected_array["frequency"], left=0.0, right=0.0
        )
        after = np.interp(
            times + step / 2, pitch.xs(), pitch.selected_array["frequency"], left=0.0, right=0.0
        )
        values[~(voiced & (before > 0) & (after > 0))] = np.nan
        tracks.append(values)
    return tracks


def _roughness(tracks: list[np.ndarray]) -> float:
    """Mean |change of ln F1-F3| between neighbouring voiced frames: a ceiling that makes the tracker
    trade formants (F2 read as F1 in one frame, as F2 in the next) jumps; the right one glides."""
    jumps = [np.abs(np.diff(np.log(t), axis=0)).mean(axis=1) for t in tracks if len(t) > 1]
    pooled = np.concatenate(jumps) if jumps else np.zeros(0)
    pooled = pooled[np.isfinite(pooled)]
    return float(pooled.mean()) if pooled.size else math.inf


def formant_ceiling(sounds: list[parselmouth.Sound], pitches: list[parselmouth.Pitch]) -> float:
    """The Burg ceiling (Hz) under which this voice's formants track most smoothly.

    Praat's advice (5000 Hz for men, 5500 for women) assumes a typical vocal tract; a longer or
    shorter one puts one formant more or fewer under the ceiling, and the tracker then merges or
    splits them. So the ceiling is searched, as FastTrack does (Barreda 2021): the one whose
    tracks change least from frame to frame, on the most voiced seconds of the recordings."""
    chunks, chunk_pitches = _most_voiced(sounds, pitches)
    scores = [(_roughness(_formant_tracks(chunks, chunk_pitches, c, SEARCH_TIME_STEP)), c) for c in CEILINGS]
    return min(scores)[1]


def _most_voiced(
    sounds: list[parselmouth.Sound], pitches: list[parselmouth.Pitch]
) -> tuple[list[parselmouth.Sound], list[parselmouth.Pitch]]:
    """The SEARCH_CHUNKS one-second stretches with the most voiced frames (times preserved)."""
    ranked: list[tuple[int, int, int, float]] = []
    for index, (sound, pitch) in enumerate(zip(sounds, pitches, strict=True)):
        times, f0 = np.asarray(pitch.xs()), pitch.selected_array["frequency"]
        for start in np.arange(
            sound.xmin, max(sound.xmax - SEARCH_CHUNK / 2, sound.xmin + 1e-9), SEARCH_CHUNK
        ):
            inside = (times >= start) & (times < start + SEARCH_CHUNK) & (f0 > 0)
            ranked.append((int(np.count_nonzero(inside)), -len(ranked), index, float(start)))
    chosen = sorted(ranked, reverse=True)[:SEARCH_CHUNKS]
    chunks = [
        sounds[i].extract_part(
            from_time=start, to_time=min(start + SEARCH_CHUNK, sounds[i].xmax), preserve_times=True
        )
        for _, _, i, start in chosen
    ]
    return chunks, [pitches[i] for _, _, i, _ in chosen]


def _formants(
    sounds: list[parselmouth.Sound], pitches: list[parselmouth.Pitch]
) -> tuple[float, float, float]:
    """Median F1-F3 over the voiced frames (unvoiced frames measure noise, not a vocal tract)."""
    tracks = _formant_tracks(sounds, pitches, formant_ceiling(sounds, pitches), TIME_STEP)
    frames = np.concatenate(tracks)
    frames = frames[np.isfinite(frames).all(axis=1)]
    if not len(frames):
        raise NotEnoughVoice("no formants could be measured in the voiced frames")
    return tuple(float(v) for v in np.median(frames, axis=0))  # type: ignore[return-value]


def _centroid(sounds: list[parselmouth.Sound]) -> float:
    """Magnitude-weighted mean frequency (<= 8 kHz) over 40 ms frames that are not silence."""
    weighted, total = 0.0, 0.0
    for sound in sounds:
        sr = float(sound.sampling_frequency)
        x = np.asarray(sound.values[0], dtype=np.float64)
        size = int(0.04 * sr)
        if len(x) < size:
            continue
        count = len(x) // size
        frames = x[: count * size].reshape(count, size) * np.hanning(size)
        spectra = np.abs(np.fft.rfft(frames, axis=1))
        freqs = np.fft.rfftfreq(size, 1.0 / sr)
        band = freqs <= CENTROID_TOP_HZ
        energy = 10.0 * np.log10(np.sum(frames**2, axis=1) + 1e-20)
        loud = energy >= energy.max() - SILENCE_DB
        spectra = spectra[loud][:, band]
        weighted += float(np.sum(spectra * freqs[band]))
        total += float(np.sum(spectra))
    return weighted / total if total > 0 else 0.0


# --------------------------------------------------------------------------- singing like the voice


@dataclass(frozen=True)
class ProfileSinger:
    """What the voice stage needs to sing like a profile."""

    low: int  # MIDI, the register the melody is written in
    high: int
    voice: str  # the catalog voice whose speaker says the words
    formant_shift: float  # ratio applied to that speaker's formants


def register_for(analysis: VoiceAnalysis) -> tuple[int, int]:
    """A MIDI range centred on the median pitch: the voice's own 5-95% range, widened to at least
    MIN_HALF_RANGE either side (a melody needs room) and narrowed to MAX_HALF_RANGE."""
    centre = hz_to_midi(analysis.median_pitch_hz)
    spread = (hz_to_midi(analysis.pitch_high_hz) - hz_to_midi(analysis.pitch_low_hz)) / 2.0
    half = min(max(spread, MIN_HALF_RANGE), MAX_HALF_RANGE)
    centre = min(max(centre, LOWEST_NOTE + half), HIGHEST_NOTE - half)
    return round(centre - half), round(centre + half)


def singer_for(
    analysis: VoiceAnalysis,
    voices: dict[str, tuple[int, int]],
    speaker_formants: dict[str, tuple[float, float, float]],
) -> ProfileSinger:
    """The register, the nearest catalog singer and the formant shift for a profile.

    `voices` maps catalog voice -> (low, high) MIDI; `speaker_formants` maps it to the F1-F3 its
    speaker's speech measures with `analyse`. The shift is the geometric mean of the three
    ratios (one ratio scales the whole vocal tract, which is what resampling does)."""
    low, high = register_for(analysis)
    centre = (low + high) / 2.0
    voice = min(sorted(voices), key=lambda v: abs((voices[v][0] + voices[v][1]) / 2.0 - centre))
    ratios = [math.log(p / s) for p, s in zip(analysis.formants, speaker_formants[voice], strict=True)]
    shift = math.exp(sum(ratios) / len(ratios))
    shift = min(max(shift, MIN_FORMANT_SHIFT), MAX_FORMANT_SHIFT)
    return ProfileSinger(low=low, high=high, voice=voice, formant_shift=round(shift, 4))
