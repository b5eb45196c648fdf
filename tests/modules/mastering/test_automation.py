"""Automation lanes are applied in the render: volume through CC11, filter as a low-pass sweep."""

from __future__ import annotations

import numpy as np
import pytest

from modules.mastering.render import RenderTrack, get_renderer

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TEMPO = 120.0  # half a second per beat


def pad(automation: list[dict], program: int = 89) -> RenderTrack:
    # A C major chord held for 16 beats (8 s); Pad 2 (warm) unless told otherwise.
    notes = [[p, 0.0, 16.0, 100] for p in (48, 55, 60, 64)]
    return RenderTrack("pad", notes, program=program, channel=2, automation=automation, reverb=0.0)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio**2)))


def energy_above(audio: np.ndarray, hz: float, rate: int = 44100) -> float:
    mono = audio.mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    return float(spectrum[np.fft.rfftfreq(len(mono), 1 / rate) > hz].sum())


@pytest.fixture(scope="module")
def renderer():  # type: ignore[no-untyped-def]
    return get_renderer(SOUNDFONT)


def test_volume_lane_turns_the_layer_down(renderer) -> None:  # type: ignore[no-untyped-def]
    plain = renderer.render_stem(pad([]), TEMPO, 8.0, reverb=False)
    ducked = renderer.render_stem(
        pad([{"parameter": "volume", "points": [[0, 1.0], [8, 1.0], [8.25, 0.2]]}]), TEMPO, 8.0, reverb=False
    )
    first, second = slice(44100, 3 * 44100), slice(5 * 44100, 7 * 44100)
    assert rms(ducked[first]) == pytest.approx(rms(plain[first]), rel=0.05)
    # Expression 0.2 of full: GM's CC11 curve takes it down by well over 12 dB.
    assert 20 * np.log10(rms(ducked[second]) / rms(plain[second])) < -12


def test_filter_lane_darkens_where_it_is_closed(renderer) -> None:  # type: ignore[no-untyped-def]
    sweep = [{"parameter": "filter", "points": [[0, 0.05], [8, 0.05], [8.5, 1.0]]}]
    saw = 81  # Lead 2 (sawtooth): bright, so the filter has something to take away
    plain = renderer.render_stem(pad([], saw), TEMPO, 8.0, reverb=False)
    swept = renderer.render_stem(pad(sweep, saw), TEMPO, 8.0, reverb=False)
    closed, opened = slice(44100, 3 * 44100), slice(5 * 44100, 7 * 44100)
    # Cutoff ~310 Hz: above 1.5 kHz the closed filter removes more than 30 dB.
    assert 10 * np.log10(energy_above(swept[closed], 1500) / energy_above(plain[closed], 1500)) < -30
    # Wide open (16 kHz) it leaves the band within 1 dB.
    assert abs(10 * np.log10(energy_above(swept[opened], 1500) / energy_above(plain[opened], 1500))) < 1
