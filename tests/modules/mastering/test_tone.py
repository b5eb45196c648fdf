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
    # Compression is measured on the finished audio: the ratio as set (the limiter is idle at
    # -14 LUFS here), and the loud/quiet swing of the song is smaller.
    assert measures["compression_ratio"]["achieved"] == pytest.approx(4.0, abs=0.2)
    # 4:1 from -24 dBFS takes ~29 dB of gain before the limiter: with it alone the pad would peak
    # ~+20 dBFS. One headroom gain for every stem keeps the loudest at -1 dBFS, and the stems,
    # un-gained by it, sum to the mix before the limiter.
    assert max(float(np.max(np.abs(s))) for s in shaped.values()) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert result.stem_gain_db < -15.0
    mix = sum(s.astype(np.float64) for s in shaped.values()) * 10 ** (-result.stem_gain_db / 20)
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
    assert (match["eq"], match["shrank"]) == ("matched", True)
    assert match["attempts"] == [{"eq": "matched", "distance_after_db": match["distance_after_db"]}]
    assert len(match["bands"]) == len(tone.BAND_CENTRES)
    assert {m["name"]: m["target"] for m in result.report["measures"]}["eq_tilt"] is None


def level_db(audio: np.ndarray) -> np.ndarray:
    """The 50 ms RMS level (dB) around every frame, computed here with a plain convolution."""
    power = np.mean(np.asarray(audio, dtype=np.float64) ** 2, axis=1)
    return 10 * np.log10(signal.convolve(power, np.ones(2205) / 2205, "same") + 1e-12)


def through_threshold_ratio(level_in: np.ndarray, level_out: np.ndarray, threshold: float) -> float:
    """Input rise over output rise above `threshold`, over the music frames past the 6 dB knee."""
    over = (level_in > level_in.max() - 40) & (level_in > threshold + 3)
    x, y = level_in[over] - threshold, level_out[over] - threshold
    return float(np.dot(x, x) / np.dot(x, y))


@pytest.mark.parametrize(("ratio", "threshold"), [(4.0, -24.0), (2.0, -30.0), (8.0, -24.0)])
def test_steady_levels_come_out_at_the_ratio_set(ratio: float, threshold: float) -> None:
    """Six 1.5 s steps of a 1 kHz tone, 6 dB apart: each step's level in the finished master,
    read here from the audio, rises 6/ratio dB per step past the knee."""
    steps = np.array([-36.0, -30.0, -24.0, -18.0, -12.0, -6.0])
    seconds = 1.5
    t = np.arange(int(seconds * RATE)) / RATE
    tone_steps = np.concatenate([10 ** (s / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * t) for s in steps])
    stems = {"tone": np.repeat(tone_steps[:, None], 2, axis=1).astype(np.float32)}
    plan = MasteringPlan(compression_ratio=ratio, compression_threshold_db=threshold)
    result, _ = master_stems(stems, RATE, -14.0, plan)
    level_in = steps + result.gain_db  # each step as the dynamics got it
    level_out = np.array(
        [
            10
            * np.log10(
                np.mean(result.audio[int((i + 0.3) * seconds * RATE) : int((i + 0.7) * seconds * RATE)] ** 2)
            )
            for i in range(len(steps))
        ]
    )
    past = level_in > threshold + 3
    assert past.sum() >= 3, level_in
    rises = np.diff(level_in[past]) / np.diff(level_out[past])
    np.testing.assert_allclose(rises, ratio, rtol=0.02)
    measured = {m["name"]: m for m in result.report["measures"]}["compression_ratio"]
    assert measured["target"] == ratio
    assert measured["achieved"] == pytest.approx(ratio, rel=0.02)


def test_the_reported_ratio_is_read_on_the_finished_master_limiter_and_all() -> None:
    """At a loud target the limiter works on top of the compressor: the ratio the report gives
    is what the finished audio shows against the dynamics' input (the stems as returned, un-gained
    by their common headroom gain, sum to it), measured here, and more than the compressor's own."""
    stems = song_like()
    result, shaped = master_stems(
        stems, RATE, -9.0, MasteringPlan(compression_ratio=3.0, compression_threshold_db=-14.0)
    )
    assert result.integrated_lufs == pytest.approx(-9.0, abs=0.5) and result.true_peak_dbtp <= -1.0
    dynamics_input = sum(s.astype(np.float64) for s in shaped.values()) * 10 ** (-result.stem_gain_db / 20)
    measured = through_threshold_ratio(level_db(dynamics_input), level_db(result.audio), -14.0)
    reported = {m["name"]: m["achieved"] for m in result.report["measures"]}["compression_ratio"]
    assert reported == pytest.approx(measured, abs=0.05)
    assert measured > 3.3, measured  # the limiter's share: the compressor alone gives 3.0


def test_a_match_that_would_move_the_master_away_from_the_reference_is_not_shipped() -> None:
    """A mix with nothing above 1 kHz against a reference brighter by 3 dB/octave: the matching
    EQ lifts the empty treble into the compared bands, ~40 dB short of the reference there, so
    the refined match ends further away than the mix started. The master falls back through
    one pass and a gentler EQ (both worse) to no EQ, and the report says so."""
    lowpass = signal.butter(8, 1000, fs=RATE, output="sos")
    stems = {
        name: signal.sosfiltfilt(lowpass, stem, axis=0).astype(np.float32)
        for name, stem in song_like().items()
    }
    reference = tone.band_levels(
        tone.apply_eq(pink(8, seed=9), tone.eq_filter(tone.tilt_curve(3.0), RATE)), RATE
    )
    result, shaped = master_stems(stems, RATE, -14.0, MasteringPlan(reference_bands=tuple(reference)))
    match = result.report["reference"]
    before = tone.spectral_distance(tone.band_levels(sum(stems.values()), RATE), reference)
    assert match["distance_before_db"] == pytest.approx(before, abs=1e-3)

    # What the unguarded master would have been: the refined match, mastered alike.
    gains = tone.matching_gains(sum(stems.values()), RATE, reference)
    fir = tone.eq_filter(gains, RATE)
    unguarded = master([tone.apply_eq(stem, fir) for stem in stems.values()], RATE, -14.0)
    grown = tone.spectral_distance(tone.band_levels(unguarded.audio, RATE), reference)
    assert grown > before + 0.5, (before, grown)

    assert [a["eq"] for a in match["attempts"]] == ["matched", "one_pass", "gentle", "none"]
    assert match["attempts"][0]["distance_after_db"] == pytest.approx(grown, abs=1e-3)
    assert all(a["distance_after_db"] >= before for a in match["attempts"][:3])
    shipped = tone.spectral_distance(tone.band_levels(result.audio, RATE), reference)
    assert match["eq"] == "none" and match["distance_after_db"] == pytest.approx(shipped, abs=1e-3)
    assert shipped < grown - 0.5 and shipped == pytest.approx(before, abs=0.2)
    assert match["shrank"] == (shipped < before)
    assert all(band["eq_gain_db"] == 0.0 for band in match["bands"])
    # No EQ: the stems go to the dynamics as they came, and the loudness is still the target.
    gain = 10 ** (result.gain_db / 20)
    for name, stem in stems.items():
        np.testing.assert_allclose(shaped[name], stem * gain, rtol=1e-5, atol=1e-6)
    assert result.integrated_lufs == pytest.approx(-14.0, abs=0.5)
