"""Mastering: sum the stems, bring the mix to a loudness target, keep true peaks under a ceiling.

Chain: sum -> one static gain -> dynamics (a gentle 2:1 compressor that only
acts within 9 dB of the ceiling, then a look-ahead true-peak limiter). Both
dynamics stages are gain envelopes shared by the two channels, so what holds is

    pre_limit = gain * sum(raw stems)              (gain = 10 ** (gain_db / 20))
    audio     = pre_limit * envelope[:, None]      (0 < envelope <= 1, per frame)

`render_and_master` returns the stems multiplied by `gain` and by one headroom
gain common to all of them, `stem_gain = 10 ** (stem_gain_db / 20)`: 0 dB when
every gained stem already peaks at or below STEM_PEAK_DBFS (-1 dBFS), else the
(negative) gain that brings the loudest stem sample there, so no stem clips in a
fixed-point file however far the pre-limiter mix sits above full scale. Then

    sum(stems) / stem_gain == pre_limit          (to float32 rounding)

and, with stem_gain_db == 0 (typical songs), |audio| <= |sum(stems)| on every
sample and `audio == sum(stems)` wherever the dynamics are idle (the whole song
when `dynamics_reduction_db == 0`, e.g. quiet targets).

Loudness is integrated LUFS (ITU-R BS.1770-4, pyloudnorm); true peak is the
peak of the 4x oversampled signal (BS.1770 annex 2 style, `scipy.signal.resample_poly`).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

from modules.mastering import tone
from modules.mastering.render import RenderTrack, get_renderer

SILENCE_DB = -120.0  # what "-inf" dB is reported as
OVERSAMPLE = 4  # for true-peak measurement and detection
LOUDNESS_TOLERANCE_LU = 0.1  # the iteration aims tighter than the 0.5 LU promise
MAX_PASSES = 12
PROGRESS_TICK_SECONDS = 0.25
# Limiter characters as (ramp, hold) seconds: the first is transparent (the gain
# doesn't chatter on bass cycles); when it can no longer raise the loudness
# (dense, bass-heavy mixes at -9 LUFS), the master switches to the second,
# nearly a smooth clipper, which is how loud masters get there.
LIMITER_MODES = ((0.004, 0.012), (0.001, 0.001))
SATURATED_SLOPE = 0.2  # LU gained per dB pushed, below which the limiter mode is changed
MIN_MEASURE_SECONDS = 0.5  # pyloudnorm needs at least one 400 ms block
COMP_WINDOW_SECONDS = 0.05  # RMS detector window
COMP_RAMP_SECONDS = 0.03  # compressor gain smoothing (two centred boxes of this length)
COMP_RATIO = 2.0
COMP_KNEE_DB = 6.0
# The compressor only works where the 50 ms RMS comes within this of the ceiling: it
# helps loud targets and leaves moderate masters untouched (then only the limiter acts).
COMP_THRESHOLD_BELOW_CEILING_DB = 9.0
# The loudest sample any returned stem may reach (sample peak, dBFS): stems are delivered as
# fixed-point files, and heavy presets push the pre-limiter mix tens of dB over full scale.
STEM_PEAK_DBFS = -1.0


# ----- numbers -----------------------------------------------------------------


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(gain)) if gain > 0 else SILENCE_DB


def peak_dbfs(audio: np.ndarray) -> float:
    """Sample peak in dBFS (1.0 = 0 dBFS)."""
    return gain_to_db(float(np.max(np.abs(audio)))) if audio.size else SILENCE_DB


def rms_dbfs(audio: np.ndarray) -> float:
    return (
        gain_to_db(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))) if audio.size else SILENCE_DB
    )


def _oversampled(audio: np.ndarray) -> np.ndarray:
    # float32 runs ~2.5x faster than float64; 1e-7 relative error is far below 0.01 dB.
    return signal.resample_poly(audio.astype(np.float32), OVERSAMPLE, 1, axis=0)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """Peak of the 4x oversampled signal in dBTP (catches inter-sample overs)."""
    if not audio.size:
        return SILENCE_DB
    return gain_to_db(float(np.max(np.abs(_oversampled(audio)))))


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """BS.1770 integrated loudness; short audio is zero-padded (the gate ignores the padding)."""
    data = np.asarray(audio, dtype=np.float64)
    minimum = int(MIN_MEASURE_SECONDS * sample_rate)
    if data.shape[0] < minimum:
        data = np.concatenate([data, np.zeros((minimum - data.shape[0], data.shape[1]))])
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(data))
    return value if np.isfinite(value) else SILENCE_DB


# ----- dynamics ----------------------------------------------------------------
# Both stages return gain envelopes (frames,) in dB; the master multiplies the
# pre-dynamics mix by their product, which keeps audio = mix * envelope exact.


def _smooth_min_db(required_db: np.ndarray, ramp: int, hold: int) -> np.ndarray:
    """Smoothed envelope that never exceeds `required_db` anywhere.

    A moving minimum (reach ramp + hold either side) then two centred boxes of
    length `ramp`: each output is an average of minima whose windows all contain
    that frame, so it is <= the requirement there, and it ramps before a peak
    (look-ahead) instead of jumping."""
    reach = ramp + hold
    held = ndimage.minimum_filter1d(required_db, size=2 * reach + 1, mode="nearest")
    smooth = ndimage.uniform_filter1d(held, size=ramp, mode="nearest")
    smooth = ndimage.uniform_filter1d(smooth, size=ramp, mode="nearest")
    return np.minimum(smooth, required_db)  # guards float rounding of the box filters


def _frame_true_peaks(audio: np.ndarray) -> np.ndarray:
    """Per original frame, the largest oversampled magnitude of any channel around it."""
    up = np.abs(_oversampled(audio))
    frames = audio.shape[0]
    per = up[: frames * OVERSAMPLE].reshape(frames, OVERSAMPLE, -1).max(axis=(1, 2))
    # An inter-sample peak just before a frame belongs to both neighbours.
    return np.maximum(per, np.concatenate([[0.0], per[:-1]]))


def _short_term_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-frame RMS level over a 50 ms window, in dB."""
    power = np.mean(np.square(audio), axis=1)
    window = max(1, int(COMP_WINDOW_SECONDS * sample_rate))
    return 10.0 * np.log10(ndimage.uniform_filter1d(power, size=window, mode="nearest") + 1e-20)


def compressor_db(
    level_db: np.ndarray, threshold_db: float, sample_rate: int, ratio: float = COMP_RATIO
) -> np.ndarray:
    """Bus compression: `ratio`:1 (gently, 2:1 by default) above `threshold_db` with a 6 dB soft
    knee, the gain (dB) smoothed by two centred 30 ms boxes.

    No hold: unlike the limiter, a compressor need not stay under its requirement on every
    frame, and holding the deepest gain over the ramp either side of a peak compressed the
    song's 50 ms levels about 15 % past the ratio (4:1 read 4.6:1 on Coda songs)."""
    over = level_db - threshold_db
    half = COMP_KNEE_DB / 2.0
    slope = 1.0 - 1.0 / ratio
    reduction = np.where(
        over <= -half,
        0.0,
        np.where(over >= half, slope * over, slope * (over + half) ** 2 / (2 * COMP_KNEE_DB)),
    )
    ramp = max(1, int(COMP_RAMP_SECONDS * sample_rate))
    smooth = ndimage.uniform_filter1d(-reduction, size=ramp, mode="nearest")
    return ndimage.uniform_filter1d(smooth, size=ramp, mode="nearest")


def limiter_db(
    frame_peaks: np.ndarray, ceiling: float, sample_rate: int, mode: tuple[float, float] = LIMITER_MODES[0]
) -> np.ndarray:
    """Look-ahead true-peak limiter: gain (dB) so that peak * gain <= ceiling on every frame."""
    required = np.minimum(0.0, 20.0 * np.log10(ceiling / np.maximum(frame_peaks, 1e-12)))
    if np.all(required >= 0.0):
        return np.zeros_like(frame_peaks)
    ramp_seconds, hold_seconds = mode
    return _smooth_min_db(required, max(1, int(ramp_seconds * sample_rate)), int(hold_seconds * sample_rate))


# ----- master ------------------------------------------------------------------


@dataclass
class MasterResult:
    audio: np.ndarray  # float32 (frames, 2), the finished master
    sample_rate: int
    loudness_before: float  # integrated LUFS of the raw stem sum
    integrated_lufs: float  # after mastering
    gain_db: float  # linear gain applied to the raw sum before the limiter
    sample_peak_dbfs: float
    true_peak_dbtp: float
    duration_seconds: float
    target_lufs: float
    dynamics_reduction_db: float = 0.0  # deepest compressor+limiter gain reduction (0 = dynamics idle)
    ceiling_dbtp: float = -1.0
    compression_ratio: float = COMP_RATIO  # asked for
    compression_threshold_db: float = -10.0  # where it starts (50 ms RMS, dBFS)
    # The effective ratio of the finished master against its input (the gained mix), read on the
    # audio by `measured_ratio`: the compressor and the limiter together. None when too little of
    # the song reached the threshold, or the limiter held it under the threshold, to tell.
    compression_ratio_measured: float | None = None
    compressed_share: float = 0.0  # share of the song's non-silent frames whose input is past the knee
    crest_before_db: float = 0.0  # peak-to-RMS of the mix before mastering
    crest_db: float = 0.0  # peak-to-RMS of the master
    report: dict[str, Any] = field(default_factory=dict)  # targets against measures (render_and_master)
    # The headroom gain common to every returned stem (master_stems), dB, <= 0: sum(stems) times
    # 10 ** (-stem_gain_db / 20) is the pre-limiter mix. 0 unless a stem would peak over STEM_PEAK_DBFS.
    stem_gain_db: float = 0.0


def _sum_stems(stems: list[np.ndarray]) -> np.ndarray:
    frames = max((s.shape[0] for s in stems), default=0)
    mix = np.zeros((frames, 2), dtype=np.float64)
    for stem in stems:
        data = np.asarray(stem, dtype=np.float64)
        if data.ndim == 1:
            data = np.repeat(data[:, None], 2, axis=1)  # mono stem: centre it
        mix[: data.shape[0]] += data[:, :2] if data.shape[1] >= 2 else np.repeat(data, 2, axis=1)
    return mix


MIN_COMPRESSED_SHARE = 0.02  # the ratio is measured only when this share of the song passed the knee
MEASURE_RANGE_DB = 40.0  # frames quieter than this under the loudest are silence, not music


def measured_ratio(level_in_db: np.ndarray, level_out_db: np.ndarray, threshold_db: float) -> float | None:
    """The compression ratio achieved: over the frames whose input (50 ms RMS) was past the knee,
    how far the input rose above the threshold for each dB the output did (a least-squares
    slope through the threshold). The master passes its finished audio as the output, so this is
    the effective ratio of everything after the gain (compressor and limiter together). None when
    under MIN_COMPRESSED_SHARE of the music got there, or when the output barely rises above the
    threshold (slope under 0.05, past 20:1: the limiter holds those passages down)."""
    music = level_in_db > float(np.max(level_in_db)) - MEASURE_RANGE_DB
    over = music & (level_in_db > threshold_db + COMP_KNEE_DB / 2.0)
    if over.sum() < max(1, MIN_COMPRESSED_SHARE * music.sum()):
        return None
    x = level_in_db[over] - threshold_db
    y = level_out_db[over] - threshold_db
    slope = float(np.dot(x, y) / np.dot(x, x))  # output rise per input rise, through the threshold
    return round(1.0 / slope, 2) if slope > 0.05 else None


def crest_db(audio: np.ndarray) -> float:
    """Peak-to-RMS ratio (dB) over the whole signal."""
    return round(peak_dbfs(audio) - rms_dbfs(audio), 3) if np.any(audio) else 0.0


def master(
    stems: list[np.ndarray],
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float = -1.0,
    ratio: float = COMP_RATIO,
    threshold_db: float | None = None,
) -> MasterResult:
    """Sum the stems, gain to `target_lufs` and limit true peaks to `ceiling_dbtp`, compressing
    `ratio`:1 above `threshold_db` (50 ms RMS, dBFS; default 9 dB under the ceiling) on the way.

    Guarantees (tested): integrated loudness within 0.5 LU of the target (the
    iteration aims for 0.1 LU) and true peak <= ceiling. Loud targets are met by
    raising the pre-limiter gain until the limited result measures on target."""
    mix = _sum_stems(stems)
    if mix.shape[0] == 0 or not np.any(np.abs(mix) > 1e-9):
        raise ValueError("nothing to master: all stems are silent")
    before = integrated_lufs(mix, sample_rate)
    if before <= SILENCE_DB:
        raise ValueError("nothing to master: all stems are silent")

    ceiling = db_to_gain(ceiling_dbtp)
    # The dynamics see `mix * gain`; since that is linear in the gain, the
    # expensive detectors run once on the mix and are shifted by the gain.
    mix_peaks = _frame_true_peaks(mix)
    mix_level_db = _short_term_db(mix, sample_rate)
    if threshold_db is None:
        threshold_db = float(ceiling_dbtp) - COMP_THRESHOLD_BELOW_CEILING_DB

    def compressor(gain_db: float) -> np.ndarray:
        return compressor_db(mix_level_db + gain_db, threshold_db, sample_rate, ratio)

    def chain(gain_db: float, margin_db: float, mode: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        comp = compressor(gain_db)
        # Compressor gain is smooth, so peak * its gain is the compressed peak to within a hair.
        lim = limiter_db(
            mix_peaks * db_to_gain(gain_db) * np.power(10.0, comp / 20.0),
            ceiling * db_to_gain(-margin_db),
            sample_rate,
            mode,
        )
        envelope = np.power(10.0, (comp + lim) / 20.0)
        return mix * (db_to_gain(gain_db) * envelope)[:, None], envelope

    gain_db = float(target_lufs) - before
    margin_db = 0.05  # aim the limiter a hair under the ceiling
    mode_index = 0
    tried: list[tuple[float, float]] = []  # (gain_db, loudness) for the secant steps
    # (miss, gain_db, out, envelope, true peak) of the closest pass under the ceiling
    best: tuple[float, float, np.ndarray, np.ndarray, float] | None = None
    for _ in range(MAX_PASSES):
        out, envelope = chain(gain_db, margin_db, LIMITER_MODES[mode_index])
        # The chain is the mix times a smooth gain envelope, so the mix's oversampled peaks
        # (measured once) times the envelope give this pass's true peak without oversampling
        # again; the chosen pass is measured exactly below.
        peak = gain_to_db(float(np.max(mix_peaks * db_to_gain(gain_db) * envelope)))
        if peak > ceiling_dbtp:
            margin_db += peak - ceiling_dbtp + 0.02
            tried.clear()
            continue
        loudness = integrated_lufs(out, sample_rate)
        miss = abs(loudness - float(target_lufs))
        if best is None or miss < best[0]:
            best = (miss, gain_db, out, envelope, peak)
        if miss <= LOUDNESS_TOLERANCE_LU:
            break
        tried.append((gain_db, loudness))
        # Secant on loudness(gain): the dynamics flatten it at loud targets, so a
        # plain "add the shortfall" step would crawl towards the target.
        slope = 1.0
        if len(tried) >= 2:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            if abs(g1 - g0) > 1e-6:
                slope = (l1 - l0) / (g1 - g0)
            if slope < SATURATED_SLOPE and loudness < target_lufs and mode_index + 1 < len(LIMITER_MODES):
                mode_index += 1  # this limiter can't get louder: switch to the harder one
                tried.clear()
                best = None  # compare only results of the final character
                continue
        gain_db += min(24.0, (float(target_lufs) - loudness) / min(1.0, max(0.05, slope)))
    if best is None:  # every pass was over the ceiling: keep the last, trimmed below
        best = (0.0, gain_db, out, envelope, peak)
    _, gain_db, out, envelope, _estimate = best
    peak = true_peak_dbtp(out)
    # Last resort, rarely needed: a plain trim keeps the ceiling promise.
    if peak > ceiling_dbtp:
        trim = db_to_gain(ceiling_dbtp - peak - 0.01)
        out, envelope = out * trim, envelope * trim
    audio = out.astype(np.float32)
    peak = true_peak_dbtp(audio) if peak > ceiling_dbtp else peak
    # The compression the master shows, measured on the finished audio (after the limiter and any
    # trim) against the input of the dynamics (the mix times the gain), both as 50 ms RMS levels.
    level_in = mix_level_db + gain_db
    level_out = _short_term_db(audio, sample_rate)
    music = level_in > float(np.max(level_in)) - MEASURE_RANGE_DB
    past_knee = music & (level_in > threshold_db + COMP_KNEE_DB / 2.0)
    return MasterResult(
        audio=audio,
        sample_rate=int(sample_rate),
        loudness_before=round(before, 3),
        integrated_lufs=round(integrated_lufs(audio, sample_rate), 3),
        gain_db=gain_db,
        sample_peak_dbfs=round(peak_dbfs(audio), 3),
        true_peak_dbtp=round(peak, 3),
        duration_seconds=audio.shape[0] / float(sample_rate),
        target_lufs=float(target_lufs),
        dynamics_reduction_db=round(-gain_to_db(float(np.min(envelope))), 3),
        ceiling_dbtp=float(ceiling_dbtp),
        compression_ratio=float(ratio),
        compression_threshold_db=float(threshold_db),
        compression_ratio_measured=measured_ratio(level_in, level_out, threshold_db),
        compressed_share=round(float(past_knee.sum()) / max(1, int(music.sum())), 4),
        crest_before_db=crest_db(mix),
        crest_db=crest_db(audio),
    )


def fit_stereo(audio: np.ndarray, frames: int) -> np.ndarray:
    """Mono or stereo audio as (frames, 2) float32, zero-padded or trimmed to `frames`."""
    stereo = np.repeat(audio[:, None], 2, axis=1) if audio.ndim == 1 else audio[:, :2]
    out = np.zeros((frames, 2), dtype=np.float32)
    n = min(frames, stereo.shape[0])
    out[:n] = stereo[:n]
    return out


def level_to(stem: np.ndarray, bed: np.ndarray, sample_rate: int, offset_lu: float) -> np.ndarray:
    """`stem` scaled to sit `offset_lu` from the bed in integrated loudness (as is if either is silent)."""
    stem_lufs, bed_lufs = integrated_lufs(stem, sample_rate), integrated_lufs(bed, sample_rate)
    if stem_lufs <= SILENCE_DB or bed_lufs <= SILENCE_DB:
        return stem
    return (stem * np.float32(db_to_gain(bed_lufs + offset_lu - stem_lufs))).astype(np.float32)


def render_and_master(
    tracks: list[RenderTrack],
    tempo_bpm: float,
    total_beats: float,
    target_lufs: float,
    soundfont_path: str,
    sample_rate: int = 44100,
    progress: Callable[[float, str], None] | None = None,
    audio_stems: dict[str, np.ndarray] | None = None,
    audio_offsets_lu: dict[str, float] | None = None,
    threads: int | None = None,
    plan: MasteringPlan | None = None,
) -> tuple[MasterResult, dict[str, np.ndarray]]:
    """Render every track once, master their sum, and return the master with the gained stems.

    Stems are keyed by track name (a repeated name gets " 2", " 3"...). Each
    returned stem is the raw stem times the master gain and the common headroom gain
    `result.stem_gain_db`, so the stems, un-gained by it, sum to the pre-limiter mix;
    see the module docstring for what holds exactly.

    `audio_stems` are already-made audio (the sung vocal, mono or stereo), fitted
    to the song's length and set `audio_offsets_lu[name]` (default -1 LU) relative
    to the rendered instruments before mastering, so the voices sit in the mix.

    `threads` stems render at once (default: one per core). `plan` says how to master (the
    default: loudness target, -1 dBTP, gentle compression near the ceiling; see `master_stems`)."""
    if tempo_bpm <= 0:
        raise ValueError("tempo must be positive")
    total_seconds = float(total_beats) * 60.0 / float(tempo_bpm)
    renderer = get_renderer(soundfont_path, sample_rate)
    names: list[str] = []
    for track in tracks:
        name, suffix = track.name, 2
        while name in names:
            name = f"{track.name} {suffix}"
            suffix += 1
        names.append(name)
    # Stems render in parallel (fluidsynth runs outside the GIL). Progress is reported from this
    # thread on a steady tick, so a caller's progress hook (its cancellation point) runs often
    # and never on another thread; if it raises, `stop` ends the stems still rendering.
    raw: dict[str, np.ndarray] = {}
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, threads or os.cpu_count() or 1)) as pool:
        futures = {
            pool.submit(renderer.render_stem, track, tempo_bpm, total_seconds, stop=stop): name
            for name, track in zip(names, tracks, strict=True)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_TICK_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    raw[futures[future]] = future.result()
                if progress is not None:
                    progress(
                        0.8 * len(raw) / max(1, len(tracks)), f"rendered {len(raw)} of {len(tracks)} stems"
                    )
        except BaseException:
            stop.set()
            raise
    raw = {name: raw[name] for name in names}  # track order, whatever order they finished in
    if audio_stems:
        frames = round(total_seconds * sample_rate)
        bed = np.sum(list(raw.values()), axis=0) if raw else np.zeros((frames, 2), np.float32)
        for name, audio in audio_stems.items():
            offset = (audio_offsets_lu or {}).get(name, -1.0)
            raw[name] = level_to(fit_stereo(audio, frames), bed, sample_rate, offset)
    if progress is not None:
        progress(0.8, "mastering")
    result, stems = master_stems(raw, sample_rate, target_lufs, plan)
    if progress is not None:
        progress(1.0, "mastered")
    return result, stems


@dataclass(frozen=True)
class MasteringPlan:
    """How to master beyond the loudness target (presets.PresetValues says what each means).
    With `reference_bands` (a reference track's long-term spectrum, tone.band_levels) the EQ is
    the curve that matches it, and the tilt is not used."""

    ceiling_dbtp: float = -1.0
    eq_tilt_db_per_octave: float = 0.0
    stereo_width: float = 1.0
    compression_ratio: float = COMP_RATIO
    compression_threshold_db: float | None = None
    reference_bands: tuple[float | None, ...] | None = None


# The EQs a reference match tries, in order, until one leaves the master nearer the reference
# than the mix was: the refined match (tone.matching_gains), the first pass alone, half of that
# pass, and none.
MATCH_ATTEMPTS = ("matched", "one_pass", "gentle", "none")
GENTLE_SHARE = 0.5


def _attempt_gains(
    name: str, mix: np.ndarray, sample_rate: int, reference: list[float | None]
) -> list[float] | None:
    """The band gains of one of MATCH_ATTEMPTS for `mix` (None: no EQ)."""
    if name == "matched":
        return tone.matching_gains(mix, sample_rate, reference)
    if name == "none":
        return None
    first = tone.matching_gains(mix, sample_rate, reference, passes=1)
    return first if name == "one_pass" else [GENTLE_SHARE * g for g in first]


def _shaped_master(
    raw: dict[str, np.ndarray],
    mix: np.ndarray,
    sample_rate: int,
    target_lufs: float,
    plan: MasteringPlan,
    gains: list[float] | None,
) -> tuple[MasterResult, dict[str, np.ndarray], np.ndarray]:
    """The stems through the EQ `gains` and the plan's width, mastered; with the shaped stems and
    the mix as the EQ alone left it (what the width is measured against)."""
    shaping = tone.Tone(tuple(gains) if gains is not None else None, plan.stereo_width)
    equalised = mix
    if not shaping.is_flat:
        fir = shaping.filter_for(sample_rate)
        raw = {name: shaping.apply(stem, fir) for name, stem in raw.items()}
        if fir is not None and plan.stereo_width != 1.0:
            equalised = tone.apply_eq(mix, fir)
    result = master(
        list(raw.values()),
        sample_rate,
        target_lufs,
        plan.ceiling_dbtp,
        plan.compression_ratio,
        plan.compression_threshold_db,
    )
    return result, raw, equalised


def master_stems(
    raw: dict[str, np.ndarray], sample_rate: int, target_lufs: float, plan: MasteringPlan | None = None
) -> tuple[MasterResult, dict[str, np.ndarray]]:
    """Master the sum of `raw` stems as `plan` says; returns the master and the stems as mixed.

    The EQ and width are linear, so they are applied to every stem (EQ(sum) == sum of EQ'd
    stems): the returned stems, times the master gain, still sum to the mix before its limiter,
    times the common headroom gain `result.stem_gain_db` (0 dB unless a stem would peak over
    STEM_PEAK_DBFS; see the module docstring).
    Every target is measured afterwards on the audio (`result.report`).

    With a reference, the master ships only if its spectral distance to the reference is below
    the mix's: otherwise the next of MATCH_ATTEMPTS is mastered instead (the last, no EQ, ships
    whatever it measures), and the report lists every attempt with its distance."""
    plan = plan or MasteringPlan()
    mix = _sum_stems(list(raw.values()))
    before_bands = tone.band_levels(mix, sample_rate)
    if plan.reference_bands is None:
        gains = tone.tilt_curve(plan.eq_tilt_db_per_octave) if plan.eq_tilt_db_per_octave else None
        result, shaped, equalised = _shaped_master(raw, mix, sample_rate, target_lufs, plan, gains)
        result.report = mastering_report(mix, before_bands, result, plan, gains, equalised)
    else:
        reference = list(plan.reference_bands)
        attempts: list[dict[str, Any]] = []
        for name in MATCH_ATTEMPTS:
            gains = _attempt_gains(name, mix, sample_rate, reference)
            result, shaped, equalised = _shaped_master(raw, mix, sample_rate, target_lufs, plan, gains)
            # The report measures the distances (the master's bands take ~0.4 s a minute of audio).
            result.report = mastering_report(mix, before_bands, result, plan, gains, equalised)
            match = result.report["reference"]
            attempts.append({"eq": name, "distance_after_db": match["distance_after_db"]})
            if match["shrank"]:
                break
        match.update(eq=name, attempts=attempts)
    gain = np.float32(db_to_gain(result.gain_db))
    stems = {name: (stem * gain).astype(np.float32) for name, stem in shaped.items()}
    result.stem_gain_db = stem_headroom_db(stems.values())
    if result.stem_gain_db < 0.0:  # one gain for all, so they still sum to the (scaled) mix
        gain = np.float32(db_to_gain(result.gain_db + result.stem_gain_db))
        stems = {name: (stem * gain).astype(np.float32) for name, stem in shaped.items()}
    return result, stems


def stem_headroom_db(stems: Iterable[np.ndarray], peak_dbfs_max: float = STEM_PEAK_DBFS) -> float:
    """The gain (dB, <= 0) that brings the loudest sample of any of `stems` to `peak_dbfs_max`,
    rounded down to 0.001 dB (so the figure reported is the gain applied, and the peak lands just
    under); 0 when they all peak there or below already."""
    loudest = max((float(np.max(np.abs(stem))) for stem in stems if stem.size), default=0.0)
    over = gain_to_db(loudest) - peak_dbfs_max
    if over <= 0.0:
        return 0.0
    return math.floor(-over * 1000.0) / 1000.0


def _centred(levels: list[float | None], mask: np.ndarray) -> list[float | None]:
    """Band levels relative to their own mean over `mask` (so spectra of any level line up)."""
    mean = float(np.mean([levels[i] for i in np.flatnonzero(mask)]))
    return [round(float(v) - mean, 2) if v is not None and mask[i] else None for i, v in enumerate(levels)]


def mastering_report(
    mix: np.ndarray,
    before_bands: list[float | None],
    result: MasterResult,
    plan: MasteringPlan,
    gains: list[float] | None,
    equalised: np.ndarray | None = None,
) -> dict[str, Any]:
    """Each target against what the master measures, and the reference match when there is one.

    The width is measured against the mix as the EQ left it (`equalised`), since an EQ alone
    moves the side-to-mid ratio when the side and the mid have different spectra. The match's
    `eq` and `attempts` say this master's EQ was the first tried; master_stems, which tries the
    others in turn when it did not shrink the distance, sets what it really tried."""
    after_bands = tone.band_levels(result.audio, result.sample_rate)
    width = tone.measured_width(mix if equalised is None else equalised, result.audio)
    matching = plan.reference_bands is not None

    def measure(
        name: str, unit: str, target: float | None, achieved: float | None, before: float | None = None
    ) -> dict[str, Any]:
        return {"name": name, "unit": unit, "target": target, "before": before, "achieved": achieved}

    tilt = round(tone.measured_tilt(before_bands, after_bands), 3)
    report: dict[str, Any] = {
        "measures": [
            measure(
                "integrated_loudness",
                "LUFS",
                result.target_lufs,
                result.integrated_lufs,
                result.loudness_before,
            ),
            measure("true_peak", "dBTP", result.ceiling_dbtp, result.true_peak_dbtp),
            measure("eq_tilt", "dB/octave", None if matching else plan.eq_tilt_db_per_octave, tilt, 0.0),
            measure("stereo_width", "x", plan.stereo_width, None if width is None else round(width, 3), 1.0),
            measure("compression_ratio", ":1", plan.compression_ratio, result.compression_ratio_measured),
            measure("crest_factor", "dB", None, result.crest_db, result.crest_before_db),
        ],
        "compression_threshold_db": result.compression_threshold_db,
        "compressed_share": result.compressed_share,
    }
    if matching:
        reference = list(plan.reference_bands or ())
        shared = tone.useful_bands(before_bands) & tone.useful_bands(reference)
        before = tone.spectral_distance(before_bands, reference)
        after = tone.spectral_distance(after_bands, reference)
        report["reference"] = {
            "distance_before_db": round(before, 3),
            "distance_after_db": round(after, 3),
            "eq": MATCH_ATTEMPTS[0],  # the EQ the master carries (one of MATCH_ATTEMPTS)
            "shrank": after < before,
            "attempts": [{"eq": MATCH_ATTEMPTS[0], "distance_after_db": round(after, 3)}],
            "bands": [
                {
                    "frequency": round(centre, 1),
                    "reference_db": ref,
                    "before_db": before,
                    "after_db": after,
                    "eq_gain_db": round(gain, 2),
                }
                for centre, ref, before, after, gain in zip(
                    tone.BAND_CENTRES,
                    _centred(reference, shared),
                    _centred(before_bands, shared),
                    _centred(after_bands, shared),
                    gains or [0.0] * len(tone.BAND_CENTRES),
                    strict=True,
                )
            ],
        }
    return report
