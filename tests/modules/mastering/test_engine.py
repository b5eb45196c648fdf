"""Mastering engine against the real FluidR3 GM soundfont: rendering, loudness, peaks, encoding."""

from __future__ import annotations

import io
import os

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy import signal

from modules.mastering.encode import encode_audio, mime_type
from modules.mastering.engine import MasteringPlan, MasterResult, master, master_stems, render_and_master
from modules.mastering.render import RenderTrack, get_renderer
from tests.conftest import require

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 44100
TEMPO = 120.0
BEATS = 32.0  # 8 bars of 4/4 -> 16 s at 120 bpm


@pytest.fixture(autouse=True)
def soundfont() -> None:
    require(
        os.path.exists(SOUNDFONT),
        f"the FluidR3 GM soundfont is not at {SOUNDFONT} (make install puts it there)",
    )


def _song() -> list[RenderTrack]:
    """8 bars of Am-F-C-G: drums on channel 9, synth bass 38, piano chords 0, saw lead 81."""
    progression = [(57, [57, 60, 64]), (53, [53, 57, 60]), (48, [48, 52, 55]), (55, [55, 59, 62])]
    melody = [69, 72, 71, 69, 67, 64, 67, 69]
    drums, bass, chords, lead = [], [], [], []
    for bar in range(8):
        root, chord = progression[bar % 4]
        for beat in range(4):
            at = bar * 4 + beat
            drums.append([36 if beat in (0, 2) else 38, at, 0.25, 110 if beat in (0, 2) else 100])
            drums += [[42, at, 0.25, 80], [42, at + 0.5, 0.25, 64]]
            bass += [[root - 24, at, 0.45, 100], [root - 24, at + 0.5, 0.45, 88]]
        chords += [[p, bar * 4, 4, 80] for p in chord]
        lead += [[melody[(bar * 2 + i) % 8], bar * 4 + i * 2, 1.5, 96] for i in range(2)]
    return [
        RenderTrack("drums", drums, program=0, channel=9, is_drum=True, volume=110, pan=64),
        RenderTrack("bass", bass, program=38, channel=1, is_drum=False, volume=100, pan=64),
        RenderTrack("chords", chords, program=0, channel=2, is_drum=False, volume=90, pan=50),
        RenderTrack("lead", lead, program=81, channel=3, is_drum=False, volume=95, pan=78),
    ]


def _lufs(audio: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64)))


def _true_peak_db(audio: np.ndarray) -> float:
    up = signal.resample_poly(audio.astype(np.float64), 4, 1, axis=0)
    return float(20 * np.log10(np.max(np.abs(up))))


def _rms_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-30))


def _dominant_hz(mono: np.ndarray) -> float:
    n = 1 << 20  # zero-padded: ~0.04 Hz bins
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n))
    return float(np.argmax(spectrum) * RATE / n)


@pytest.fixture(scope="module")
def raw_stems() -> dict[str, np.ndarray]:
    renderer = get_renderer(SOUNDFONT, RATE)
    return {t.name: renderer.render_stem(t, TEMPO, BEATS * 60 / TEMPO) for t in _song()}


@pytest.fixture(scope="module")
def mastered() -> tuple[MasterResult, dict[str, np.ndarray]]:
    return render_and_master(_song(), TEMPO, BEATS, -14.0, SOUNDFONT, RATE)


def test_get_renderer_loads_the_soundfont_once() -> None:
    assert get_renderer(SOUNDFONT, RATE) is get_renderer(SOUNDFONT, RATE)


def test_every_stem_sounds_including_drums_on_bank_128(raw_stems: dict[str, np.ndarray]) -> None:
    for name, stem in raw_stems.items():
        assert stem.dtype == np.float32 and stem.shape[1] == 2
        assert _rms_db(stem) > -45.0, name
    # The drum stem carries a kick: strong energy below 120 Hz on the beats.
    drums = raw_stems["drums"][:, 0].astype(np.float64)
    b, a = signal.butter(4, 120 / (RATE / 2), "low")
    low = signal.lfilter(b, a, drums)
    on_beat = low[: int(0.1 * RATE)]  # kick at beat 0
    off_beat = low[int(0.75 * RATE) : int(0.85 * RATE)]  # between snare (0.5 s) and kick (1.0 s)
    assert np.max(np.abs(on_beat)) > 10 * np.max(np.abs(off_beat))


def test_rendered_length_is_the_song_length(raw_stems: dict[str, np.ndarray], mastered) -> None:
    seconds = BEATS * 60 / TEMPO
    for stem in raw_stems.values():
        assert abs(stem.shape[0] / RATE - seconds) <= 0.010
    result, stems = mastered
    assert abs(result.duration_seconds - seconds) <= 0.010
    assert result.audio.shape == (round(seconds * RATE), 2)
    assert set(stems) == {"drums", "bass", "chords", "lead"}


@pytest.mark.parametrize("target", [-9.0, -14.0, -17.0])
def test_master_hits_loudness_target_under_the_true_peak_ceiling(
    raw_stems: dict[str, np.ndarray], target: float
) -> None:
    result = master(list(raw_stems.values()), RATE, target, ceiling_dbtp=-1.0)
    measured = _lufs(result.audio)
    assert abs(measured - target) <= 0.5
    assert abs(result.integrated_lufs - measured) < 0.01
    assert _true_peak_db(result.audio) <= -1.0
    assert result.true_peak_dbtp <= -1.0
    assert result.sample_peak_dbfs <= result.true_peak_dbtp + 1e-6
    assert result.loudness_before == pytest.approx(_lufs(sum(raw_stems.values())), abs=0.01)
    assert result.audio.dtype == np.float32 and np.all(np.isfinite(result.audio))


def test_loud_target_needs_and_gets_real_limiting(raw_stems: dict[str, np.ndarray]) -> None:
    loud = master(list(raw_stems.values()), RATE, -9.0)
    soft = master(list(raw_stems.values()), RATE, -17.0)
    assert loud.dynamics_reduction_db > soft.dynamics_reduction_db + 3.0
    # The limiter only turns the gain down: the loud master is a gain-envelope of the gained sum.
    pre = sum(raw_stems.values()).astype(np.float64) * 10 ** (loud.gain_db / 20)
    assert np.all(np.abs(loud.audio) <= np.abs(pre) + 1e-5)


def test_rendering_is_deterministic(raw_stems: dict[str, np.ndarray]) -> None:
    renderer = get_renderer(SOUNDFONT, RATE)
    tracks = {t.name: t for t in _song()}
    # Render in a different order after other work: history must not leak into a stem.
    for name in ("lead", "drums"):
        again = renderer.render_stem(tracks[name], TEMPO, BEATS * 60 / TEMPO)
        assert np.array_equal(again, raw_stems[name]), name


def test_stems_sum_to_the_mix_before_limiting(raw_stems: dict[str, np.ndarray], mastered) -> None:
    result, stems = mastered
    # At -14 LUFS every stem has headroom (the drums peak at -2.6 dBFS): no headroom gain.
    assert result.stem_gain_db == 0.0
    gain = 10 ** (result.gain_db / 20)
    for name, stem in stems.items():
        np.testing.assert_allclose(stem, raw_stems[name] * gain, rtol=1e-5, atol=1e-6)
    pre = np.sum([s.astype(np.float64) for s in stems.values()], axis=0)
    # audio = pre * envelope: one envelope for both channels, never above 1.
    loud = np.all(np.abs(pre) > 1e-2, axis=1)
    ratio = result.audio[loud] / pre[loud]
    assert np.all(ratio <= 1.0 + 1e-4) and np.all(ratio > 0)
    np.testing.assert_allclose(ratio[:, 0], ratio[:, 1], atol=1e-3)
    # Where the dynamics are idle, the master is exactly the sum of the stems.
    idle = np.abs(ratio[:, 0] - 1.0) < 1e-4
    assert idle.mean() > 0.3
    quiet = master(list(raw_stems.values()), RATE, -30.0)
    assert quiet.dynamics_reduction_db == 0.0
    np.testing.assert_allclose(
        quiet.audio, sum(raw_stems.values()) * 10 ** (quiet.gain_db / 20), rtol=1e-5, atol=1e-6
    )


def test_heavy_compression_scales_every_stem_alike_so_none_clips(raw_stems: dict[str, np.ndarray]) -> None:
    """4:1 from -24 dBFS at -14 LUFS: the gain before the limiter is ~39 dB, so with the master gain
    alone the drum stem would peak ~+25 dBFS and clip in its 16-bit FLAC. One headroom gain for all
    stems brings the loudest to -1 dBFS, and un-gained they still sum to the pre-limiter mix."""
    plan = MasteringPlan(compression_ratio=4.0, compression_threshold_db=-24.0)
    result, stems = master_stems(raw_stems, RATE, -14.0, plan)
    pre = sum(s.astype(np.float64) for s in raw_stems.values()) * 10 ** (result.gain_db / 20)
    assert np.max(np.abs(pre)) > 10.0  # the mix before the limiter is far over full scale
    decoded = {
        name: soundfile.read(io.BytesIO(encode_audio(stem, RATE, "flac")), dtype="float64")[0]
        for name, stem in stems.items()
    }
    peaks = {name: float(np.max(np.abs(d))) for name, d in decoded.items()}
    assert max(peaks.values()) < 1.0, peaks  # nothing reached full scale, so nothing clipped
    assert max(peaks.values()) == pytest.approx(10 ** (-1 / 20), abs=2 / 32768)  # the loudest at -1 dBFS
    assert -40.0 < result.stem_gain_db < -10.0, result.stem_gain_db
    # Un-gained, the decoded stems sum to the pre-limiter mix: off by at most the 16-bit rounding
    # of each stem (and libsndfile's 32767/32768 scale), scaled back by the headroom gain.
    ungain = 10 ** (-result.stem_gain_db / 20)
    total = sum(decoded.values()) * ungain
    assert np.max(np.abs(total - pre)) <= len(stems) * 2 / 32768 * ungain
    # Each stem is its raw stem times one and the same gain.
    for name, stem in stems.items():
        np.testing.assert_allclose(
            stem, raw_stems[name] * 10 ** ((result.gain_db + result.stem_gain_db) / 20), rtol=1e-5, atol=1e-7
        )


def test_encoded_files_decode_to_the_master(mastered) -> None:
    result, _ = mastered
    frames = result.audio.shape[0]
    flac = encode_audio(result.audio, RATE, "flac")
    decoded, rate = soundfile.read(io.BytesIO(flac), dtype="float32")
    assert rate == RATE and decoded.shape == (frames, 2)
    assert np.max(np.abs(decoded - result.audio)) <= 1.5 / 32768
    assert encode_audio(result.audio, RATE, "flac") == flac
    wav = encode_audio(result.audio, RATE, "wav24")
    assert soundfile.info(io.BytesIO(wav)).subtype == "PCM_24"
    assert soundfile.read(io.BytesIO(wav))[0].shape == (frames, 2)
    mp3 = encode_audio(result.audio, RATE, "mp3")
    decoded_mp3, rate = soundfile.read(io.BytesIO(mp3), dtype="float32")
    assert rate == RATE and abs(decoded_mp3.shape[0] / RATE - frames / RATE) < 0.1
    assert 150_000 < len(mp3) < len(flac)  # a real 16 s stereo MP3, smaller than lossless
    assert (mime_type("mp3"), mime_type("flac"), mime_type("wav")) == (
        "audio/mpeg",
        "audio/flac",
        "audio/wav",
    )
    with pytest.raises(ValueError):
        encode_audio(result.audio, RATE, "ogg-vorbis")


@pytest.mark.parametrize("program", [0, 80])
def test_a4_renders_at_440_hz(program: int) -> None:
    track = RenderTrack(
        "a4", [[69, 0, 4, 100]], program=program, channel=0, is_drum=False, volume=100, pan=64
    )
    stem = get_renderer(SOUNDFONT, RATE).render_stem(track, TEMPO, 2.0, reverb=False)
    body = stem[int(0.2 * RATE) : int(1.8 * RATE), 0].astype(np.float64)
    assert _dominant_hz(body) == pytest.approx(440.0, abs=2.0)


def test_note_onsets_are_on_time_and_pan_places_the_sound() -> None:
    # The same side stick at beat 0 and at beat 1.37 (0.685 s at 120 bpm), panned hard left.
    renderer = get_renderer(SOUNDFONT, RATE)

    def onset(beat: float) -> tuple[float, np.ndarray]:
        track = RenderTrack(
            "rim", [[37, beat, 0.25, 120]], program=0, channel=9, is_drum=True, volume=110, pan=0
        )
        stem = renderer.render_stem(track, TEMPO, 1.0, reverb=False)
        return int(np.argmax(np.abs(stem[:, 0]) > 1e-3)) / RATE, stem

    first, stem = onset(0.0)
    later, _ = onset(1.37)
    assert first < 0.01
    assert abs((later - first) - 0.685) <= 0.0015  # fluidsynth starts voices on 64-frame blocks (1.45 ms)
    assert np.max(np.abs(stem[:, 1])) == 0.0  # hard left leaves nothing on the right
    for pan, louder in ((0, 0), (127, 1)):
        piano = RenderTrack("p", [[60, 0, 1, 100]], program=0, channel=0, is_drum=False, volume=100, pan=pan)
        audio = renderer.render_stem(piano, TEMPO, 0.5, reverb=False)
        assert _rms_db(audio[:, louder]) > -40.0 and np.max(np.abs(audio[:, 1 - louder])) == 0.0


def test_silence_cannot_be_mastered() -> None:
    with pytest.raises(ValueError, match="nothing to master: all stems are silent"):
        master([], RATE, -14.0)
    with pytest.raises(ValueError, match="nothing to master: all stems are silent"):
        master([np.zeros((RATE, 2), dtype=np.float32)], RATE, -14.0)
    empty = RenderTrack("empty", [], program=0, channel=0, is_drum=False, volume=100, pan=64)
    with pytest.raises(ValueError, match="nothing to master: all stems are silent"):
        render_and_master([empty], TEMPO, 8.0, -14.0, SOUNDFONT, RATE)
