"""The mastering DSP, measured: spectra, tilt and matching EQ, width, compression, and that the
default master is what it was before presets existed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from modules.mastering import tone
from modules.mastering.engine import MasteringPlan, master, master_stems

RATE = 44100


def pink(seconds: float, seed: int = 0, channels: int = 2) -> np.ndarray:
    """Pink noise (equal energy per octave), by shaping white noise's spectrum by 1/sqrt(f)."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal((frames, channels)), axis=0)
    freqs = np.fft.rfftfreq(frames, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])[:, None]
    spectrum[0] = 0
    out = np.fft.irfft(spectrum, n=frames, axis=0)
    return (0.1 * out / np.sqrt(np.mean(out**2))).astype(np.float32)


def third_octave_slope(before: np.ndarray, after: np.ndarray) -> float:
    """dB/octave of the change between two signals, measured here with plain FFT band sums
    (independent of tone.band_levels), 63 Hz-8 kHz."""

    def bands(x: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        centres = 1000 * 2.0 ** (np.arange(-12, 10) / 3)
        return centres, np.array(
            [
                10 * np.log10(power[(freqs >= c / 2 ** (1 / 6)) & (freqs < c * 2 ** (1 / 6))].sum())
                for c in centres
            ]
        )

    centres, b = bands(before)
    _, a = bands(after)
    return float(np.polyfit(np.log2(centres), a - b, 1)[0])


def test_pink_noise_reads_flat_and_level_changes_are_no_distance() -> None:
    levels = tone.band_levels(pink(8), RATE)
    useful = [v for c, v in zip(tone.BAND_CENTRES, levels, strict=True) if 60 <= c <= 10000]
    assert max(useful) - min(useful) < 1.5
    louder = tone.band_levels(pink(8) * 3.0, RATE)
    assert tone.spectral_distance(levels, louder) == pytest.approx(0.0, abs=1e-6)


def test_bands_past_nyquist_are_missing_not_zero() -> None:
    levels = tone.band_levels(pink(4)[::2], RATE // 2)  # 22.05 kHz: Nyquist 11 kHz
    assert levels[-1] is None and levels[-2] is None and levels[-4] is not None
    assert tone.spectral_distance(levels, tone.band_levels(pink(4, seed=1), RATE)) < 1.0


@pytest.mark.parametrize("tilt", [-2.0, 1.5])
def test_a_tilt_eq_tilts_by_what_it_says_with_no_delay(tilt: float) -> None:
    noise = pink(8)
    shaped = tone.apply_eq(noise, tone.eq_filter(tone.tilt_curve(tilt), RATE))
    assert third_octave_slope(noise, shaped) == pytest.approx(tilt, abs=0.1)
    assert tone.measured_tilt(tone.band_levels(noise, RATE), tone.band_levels(shaped, RATE)) == pytest.approx(
        tilt, abs=0.1
    )
    click = np.zeros((RATE, 2), np.float32)
    click[RATE // 2] = 1.0
    out = tone.apply_eq(click, tone.eq_filter(tone.tilt_curve(tilt), RATE))
    assert int(np.argmax(np.abs(out[:, 0]))) == RATE // 2  # linear phase, centred: no delay
    assert len(out) == len(click)


def test_width_scales_the_side_and_leaves_the_mid() -> None:
    rng = np.random.default_rng(3)
    left, right = rng.standard_normal(RATE), rng.standard_normal(RATE)
    stereo = np.stack([left + 0.5 * right, right + 0.5 * left], axis=1).astype(np.float32)
    narrow = tone.apply_width(stereo, 0.5)
    assert np.allclose(narrow.sum(axis=1), stereo.sum(axis=1), atol=1e-5)  # the mid is untouched
    assert np.allclose(narrow[:, 0] - narrow[:, 1], 0.5 * (stereo[:, 0] - stereo[:, 1]), atol=1e-5)
    assert tone.measured_width(stereo, narrow) == pytest.approx(0.5, abs=1e-3)
    mono = tone.apply_width(stereo, 0.0)
    assert np.array_equal(mono[:, 0], mono[:, 1])


def test_matching_moves_a_spectrum_most_of_the_way_to_the_reference_within_bounds() -> None:
    dark = tone.apply_eq(pink(8, seed=1), tone.eq_filter(tone.tilt_curve(-1.0), RATE))
    # The reference: brighter, with a broad bump around 200 Hz.
    curve = [1.0 * np.log2(c / 1000) + 6 * np.exp(-(np.log2(c / 200) ** 2)) for c in tone.BAND_CENTRES]
    reference = tone.apply_eq(pink(8, seed=2), tone.eq_filter(curve, RATE))
    ref_levels = tone.band_levels(reference, RATE)
    gains = tone.matching_gains(dark, RATE, ref_levels)
    assert max(abs(g) for g in gains) <= tone.MAX_MATCH_GAIN_DB
    matched = tone.apply_eq(dark, tone.eq_filter(gains, RATE))
    before = tone.spectral_distance(tone.band_levels(dark, RATE), ref_levels)
    after = tone.spectral_distance(tone.band_levels(matched, RATE), ref_levels)
    assert before > 4.0
    assert after < before / 4, (before, after)


def test_gains_are_bounded_even_for_a_reference_far_away() -> None:
    ref_levels = tone.band_levels(
        tone.apply_eq(pink(6, seed=4), tone.eq_filter(tone.tilt_curve(3.0), RATE)), RATE
    )
    far = tone.band_levels(tone.apply_eq(pink(6, seed=5), tone.eq_filter(tone.tilt_curve(-3.0), RATE)), RATE)
    curve = tone.match_curve(far, ref_levels)
    assert min(curve) == -tone.MAX_MATCH_GAIN_DB and max(curve) == tone.MAX_MATCH_GAIN_DB


def song_like(seconds: float = 12.0) -> dict[str, np.ndarray]:
    """Two stems with loud and quiet passages: a stereo pad and a centred pulsing bass."""
    t = np.arange(int(seconds * RATE)) / RATE
    swell = 0.25 + 0.75 * (np.sin(2 * np.pi * t / 4.0) > 0)  # 2 s loud, 2 s quiet
    pad = pink(seconds, seed=7) * swell[:, None]
    bass = (0.3 * np.sin(2 * np.pi * 55 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2) * swell)[:, None]
    return {"pad": pad, "bass": np.repeat(bass, 2, axis=1).astype(np.float32)}


def test_the_default_plan_is_the_master_it_always_was() -> None:
    stems = song_like()
    plain = master(list(stems.values()), RATE, -14.0)
    result, _ = master_stems(stems, RATE, -14.0)
    assert np.array_equal(result.audio, plain.audio)


def test_a_plan_is_applied_and_measured_and_the_stems_still_sum_to_the_mix() -> None:
    stems = song_like()
    plan = MasteringPlan(
        eq_tilt_db_per_octave=1.0, stereo_width=0.5, compression_ratio=4.0, compression_threshold_db=-24.0
    )
    result, shaped = master_stems(stems, RATE, -14.0, plan)
    measures = {m["name"]: m for m in result.report["measures"]}
    assert abs(result.integrated_lufs + 14.0) <= 0.5 and result.true_peak_dbtp <= -1.0
    assert measures["eq_tilt"]["achieved"] == pytest.approx(1.0, abs=0.25)
    assert measures["stereo_width"]["achieved"] == pytest.approx(0.5, abs=0.1)
    # Compression is measured on the audio: the ratio within the compressor's character (its
    # gain is held over the ramp either side of a peak, so it compresses a little beyond the
    # ratio), and the loud/quiet swing of the song is smaller.
    assert 4.0 <= measures["compression_ratio"]["achieved"] <= 6.0
    mix = sum(shaped.values())
    assert np.all(np.abs(result.audio) <= np.abs(mix) + 1e-4)  # audio = mix * envelope, envelope <= 1

    def swing(audio: np.ndarray) -> float:
        level = 10 * np.log10(
            signal.convolve(np.mean(audio**2, axis=1), np.ones(2205) / 2205, "same") + 1e-12
        )
        return float(np.percentile(level, 90) - np.percentile(level, 10))

    loose, _ = master_stems(
        stems, RATE, -14.0, MasteringPlan(compression_ratio=1.0, compression_threshold_db=-24.0)
    )
    assert swing(loose.audio) - swing(result.audio) > 3.0
    assert {m["name"]: m["achieved"] for m in loose.report["measures"]}["compression_ratio"] == 1.0


def test_a_reference_sets_the_eq_and_the_report_shows_the_distance_shrink() -> None:
    stems = song_like()
    reference = tone.apply_eq(pink(8, seed=9), tone.eq_filter(tone.tilt_curve(1.0), RATE))
    plan = MasteringPlan(reference_bands=tuple(tone.band_levels(reference, RATE)))
    result, _ = master_stems(stems, RATE, -12.0, plan)
    match = result.report["reference"]
    assert match["distance_after_db"] < match["distance_before_db"] / 2
    assert len(match["bands"]) == len(tone.BAND_CENTRES)
    assert {m["name"]: m["target"] for m in result.report["measures"]}["eq_tilt"] is None
