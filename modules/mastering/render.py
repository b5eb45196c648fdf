"""MIDI note lists to stereo float stems, in-process through pyfluidsynth.

One `Renderer` keeps the soundfont loaded for the life of the process
(loading FluidR3 costs far more than rendering a song with it) and is shared
through `get_renderer`. Rendering is deterministic (same track -> same samples):

- every stem is rendered by a fresh synth (see `Renderer`), so no voice,
  reverb, chorus or half-rendered 64-frame block of one stem reaches the next;
- fluidsynth's own reverb and chorus are off anyway (their LFO/tail state is
  history-dependent); space comes from `add_room`, a fixed convolution reverb
  in numpy;
- each stem asks for whole 64-frame blocks and is trimmed afterwards;
- output is read as float (`fluid_synth_write_float`), never 16-bit, so
  nothing clips or gets dithered inside the synth.

Volume is CC7 (fluidsynth's MIDI curve); pan is a numpy balance (`apply_pan`).
Events are applied between render calls, at the frame their beat falls on.
fluidsynth itself starts voices on its 64-frame block grid (1.45 ms at
44.1 kHz), which is the timing resolution of every renderer built on it.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fluidsynth
import numpy as np
from scipy import signal

from modules.composition.automation import CONTROLLERS, lane, lane_steps, lane_values

BLOCK = 64  # fluidsynth's internal block size, in frames
FADE_SECONDS = 0.01  # end fade, so a note cut by the song's end doesn't click
SYNTH_GAIN = 0.4  # float output: headroom only, the master sets the level
DRUM_BANK = 128  # GM percussion bank in the soundfont

_write_float = fluidsynth.cfunc(
    "fluid_synth_write_float",
    ctypes.c_int,
    ("synth", ctypes.c_void_p, 1),
    ("len", ctypes.c_int, 1),
    ("lout", ctypes.c_void_p, 1),
    ("loff", ctypes.c_int, 1),
    ("lincr", ctypes.c_int, 1),
    ("rout", ctypes.c_void_p, 1),
    ("roff", ctypes.c_int, 1),
    ("rincr", ctypes.c_int, 1),
)


class RenderStopped(RuntimeError):
    """The caller asked a render in progress to stop."""


@dataclass
class RenderTrack:
    name: str
    notes: list[list[float]]  # [pitch, start_beat, duration_beats, velocity]
    program: int = 0  # GM program, 0-based (ignored for drums)
    channel: int = 0
    is_drum: bool = False
    volume: int = 100  # CC7, 0..127
    pan: int = 64  # 0 left .. 64 centre .. 127 right (a balance, see `apply_pan`)
    reverb: float | None = None  # send 0..1; None = by instrument family (see `reverb_send`)
    # Lanes {"parameter": "volume" | "filter", "points": [[beat, 0..1], ...]}: volume as CC11
    # expression in the synth, filter as a time-varying low-pass (see `apply_filter_lane`).
    automation: list[dict[str, Any]] = field(default_factory=list)


def reverb_send(track: RenderTrack) -> float:
    """How much room a layer gets: bass and kick stay dry, pads and strings float."""
    if track.reverb is not None:
        return float(min(1.0, max(0.0, track.reverb)))
    if track.is_drum:
        return 0.12
    program = int(track.program)
    family = program // 8
    if family == 4:  # basses 32..39: dry keeps the low end tight
        return 0.03
    if family in (5, 6, 11) or program in (
        88,
        89,
        90,
        91,
        92,
        94,
        95,
        52,
        53,
        54,
    ):  # strings, ensembles, pads
        return 0.35
    if family == 10:  # synth leads
        return 0.18
    return 0.22


@functools.lru_cache(maxsize=4)
def _room_impulse(sample_rate: int, seconds: float = 1.6) -> np.ndarray:
    """A fixed stereo reverb impulse: decaying noise, darker as it decays.

    Built from a fixed-seed generator, so every process gets the same room."""
    rng = np.random.default_rng(20240611)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    noise = rng.standard_normal((n, 2))
    # Two bands with different decay times (RT60 ~1.5 s lows, ~0.7 s highs).
    low_b, low_a = signal.butter(2, 2500 / (sample_rate / 2), "low")
    low = signal.lfilter(low_b, low_a, noise, axis=0)
    high = noise - low
    env_low = np.exp(-6.9 * t / 1.5)[:, None]
    env_high = np.exp(-6.9 * t / 0.7)[:, None]
    ir = low * env_low + 0.5 * high * env_high
    predelay = int(0.012 * sample_rate)
    ir = np.concatenate([np.zeros((predelay, 2)), ir])[:n]
    ir[: int(0.003 * sample_rate)] = 0.0
    # Unit energy per channel: a send of s adds a reverb about s times the dry level.
    ir /= np.sqrt(np.sum(ir**2, axis=0, keepdims=True))
    return ir.astype(np.float32)


def add_room(stem: np.ndarray, send: float, sample_rate: int) -> np.ndarray:
    """Stem plus its convolution reverb (same length: the tail past the end is cut)."""
    if send <= 0.0 or not np.any(stem):
        return stem
    ir = _room_impulse(sample_rate)
    # Overlap-add in float32: ~0.17 s for a minute of stereo, deterministic (single-threaded FFT).
    wet = signal.oaconvolve(stem, ir, mode="full", axes=0)[: stem.shape[0]]
    return (stem + np.float32(send) * wet).astype(np.float32)


def apply_pan(stem: np.ndarray, pan: int) -> np.ndarray:
    """Constant-power balance, 0 = hard left, 64 = centre (unchanged), 127 = hard right.

    Done here rather than with CC10 because FluidR3's stereo presets (piano,
    strings, the kit) pan each sample of a pair separately, so CC10 = 0 still
    leaves most of the sound in the right channel."""
    position = min(1.0, max(-1.0, (int(pan) - 64) / 63.0))
    if position == 0.0:
        return stem
    angle = (position + 1.0) * np.pi / 4.0
    gains = np.sqrt(2.0) * np.array([np.cos(angle), np.sin(angle)])
    gains[np.abs(gains) < 1e-9] = 0.0  # cos(pi/2) is 6e-17, not 0: hard means silent on the far side
    return stem * gains.astype(np.float32)[None, :]


FILTER_BLOCK = 512  # frames per cutoff step of the filter lane (~12 ms)
FILTER_MIN_HZ, FILTER_MAX_HZ = 250.0, 16000.0


def cutoff_hz(value: np.ndarray | float) -> np.ndarray | float:
    """Lane value 0..1 to a cutoff, exponentially (equal steps sound equal)."""
    return FILTER_MIN_HZ * (FILTER_MAX_HZ / FILTER_MIN_HZ) ** np.clip(value, 0.0, 1.0)


def lowpass_coefficients(hz: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """2nd-order Butterworth low-pass (bilinear transform) for many cutoffs at once: b, a of shape (n, 3)."""
    k = np.tan(np.pi * hz / rate)
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    b = np.stack([b0, 2.0 * b0, b0], axis=1)
    a = np.stack(
        [np.ones_like(k), 2.0 * (k * k - 1.0) * norm, (1.0 - np.sqrt(2.0) * k + k * k) * norm], axis=1
    )
    return b, a


def apply_filter_lane(
    audio: np.ndarray, points: list[list[float]], seconds_per_beat: float, rate: int
) -> np.ndarray:
    """A 2nd-order low-pass whose cutoff follows the lane, one step per block; the filter
    state carries across blocks so the sweep is continuous."""
    frames = audio.shape[0]
    if frames == 0:
        return audio
    starts = np.arange(0, frames, FILTER_BLOCK)
    centres = (starts + FILTER_BLOCK / 2) / rate / seconds_per_beat
    cutoffs = np.minimum(cutoff_hz(lane_values(points, centres)), 0.45 * rate)
    bs, as_ = lowpass_coefficients(cutoffs, rate)
    out = np.empty_like(audio)
    state = np.zeros((2, audio.shape[1]))
    for start, b, a in zip(starts, bs, as_, strict=True):
        block = audio[start : start + FILTER_BLOCK]
        out[start : start + FILTER_BLOCK], state = signal.lfilter(b, a, block, axis=0, zi=state)
    return out.astype(np.float32)


def _frame(beat: float, seconds_per_beat: float, sample_rate: int) -> int:
    return round(beat * seconds_per_beat * sample_rate)


def _events(track: RenderTrack, tempo_bpm: float, total_frames: int, sample_rate: int) -> list[tuple]:
    """(frame, order, kind, pitch, velocity) sorted; note-offs sort before note-ons on one frame
    so a repeated pitch re-strikes instead of being cut."""
    spb = 60.0 / float(tempo_bpm)
    events: list[tuple[int, int, str, int, int]] = []
    for note in track.notes:
        pitch, start, duration, velocity = note[0], note[1], note[2], note[3]
        pitch = round(float(pitch))
        if not 0 <= pitch <= 127:
            continue
        on = max(0, _frame(float(start), spb, sample_rate))
        if on >= total_frames:
            continue
        off = max(on + 1, _frame(float(start) + float(duration), spb, sample_rate))
        vel = int(min(127, max(1, round(velocity))))
        events.append((on, 1, "on", pitch, vel))
        if off < total_frames:
            events.append((off, 0, "off", pitch, 0))
    volume = lane(track.automation, "volume")
    if volume is not None:
        for beat, value in lane_steps(volume, total_frames / sample_rate / spb):
            frame = _frame(beat, spb, sample_rate)
            if frame < total_frames:
                events.append((frame, 0, "cc", CONTROLLERS["volume"], value))
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    return events


class Renderer:
    """Renders stems one at a time (thread-safe) from one soundfont loaded once.

    `_anchor` keeps the soundfont loaded for the life of the renderer; each stem
    is rendered by a fresh synth whose `sfload` of the same file is served by
    fluidsynth's process-wide sample cache (~40 ms instead of a full load).
    A fresh synth per stem is what makes stems bit-identical whatever was
    rendered before: a reused synth recycles voices whose ramp state shifts
    the first block of a note, and its reverb/chorus state survives resets."""

    def __init__(self, soundfont_path: str, sample_rate: int = 44100) -> None:
        self.soundfont_path = str(soundfont_path)
        self.sample_rate = int(sample_rate)
        self._lock = threading.Lock()
        self._anchor = self._new_synth()
        self._anchor_sfid = self._anchor.sfload(self.soundfont_path)
        if self._anchor_sfid < 0:
            self._anchor.delete()
            raise ValueError(f"cannot load soundfont: {self.soundfont_path}")

    def _new_synth(self) -> fluidsynth.Synth:
        return fluidsynth.Synth(
            gain=SYNTH_GAIN,
            samplerate=float(self.sample_rate),
            **{
                "synth.reverb.active": 0,
                "synth.chorus.active": 0,
                "synth.cpu-cores": 1,
                "synth.polyphony": 512,
            },
        )

    @staticmethod
    def _render(synth: fluidsynth.Synth, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), dtype=np.float32)
        if frames > 0:
            ptr = out.ctypes.data
            # Interleaved: left at offset 0, right at offset 1, stride 2.
            _write_float(synth.synth, frames, ptr, 0, 2, ptr, 1, 2)
        return out

    def render_stem(
        self,
        track: RenderTrack,
        tempo_bpm: float,
        total_seconds: float,
        progress: Callable[[float], None] | None = None,
        reverb: bool = True,
        stop: threading.Event | None = None,
    ) -> np.ndarray:
        """The track alone as float32 (frames, 2), exactly round(total_seconds * rate) frames long."""
        if tempo_bpm <= 0:
            raise ValueError("tempo must be positive")
        total_frames = max(0, round(float(total_seconds) * self.sample_rate))
        padded = -(-total_frames // BLOCK) * BLOCK  # whole blocks, trimmed below
        events = _events(track, tempo_bpm, total_frames, self.sample_rate)
        chan = int(track.channel) % 16
        # Only creating a synth and loading the soundfont touch shared state (fluidsynth's
        # sample cache); each stem then renders on its own synth, so stems render in parallel.
        with self._lock:
            synth = self._new_synth()
            sfid = synth.sfload(self.soundfont_path)
        try:
            if track.is_drum:
                synth.program_select(chan, sfid, DRUM_BANK, 0)
            else:
                synth.program_select(chan, sfid, 0, int(track.program) % 128)
            synth.cc(chan, 7, int(min(127, max(0, track.volume))))
            synth.cc(chan, 10, 64)  # pan is a balance in numpy: see `apply_pan`
            synth.cc(chan, 91, 0)  # no synth reverb/chorus sends: see module docstring
            synth.cc(chan, 93, 0)
            chunks: list[np.ndarray] = []
            now = 0
            step = max(1, len(events) // 20)
            for i, (frame, _, kind, pitch, vel) in enumerate(events):
                if frame > now:
                    chunks.append(self._render(synth, frame - now))
                    now = frame
                if kind == "on":
                    synth.noteon(chan, pitch, vel)
                elif kind == "cc":
                    synth.cc(chan, pitch, vel)
                else:
                    synth.noteoff(chan, pitch)
                if i % step == 0:
                    if stop is not None and stop.is_set():
                        raise RenderStopped(f"rendering of {track.name} stopped")
                    if progress is not None:
                        progress(i / max(1, len(events)))
            chunks.append(self._render(synth, padded - now))
        finally:
            synth.delete()
        audio = np.concatenate(chunks, axis=0)[:total_frames]
        cutoff = lane(track.automation, "filter")
        if cutoff is not None:
            audio = apply_filter_lane(audio, cutoff, 60.0 / float(tempo_bpm), self.sample_rate)
        audio = apply_pan(audio, track.pan)
        if reverb:
            audio = add_room(audio, reverb_send(track), self.sample_rate)
        fade = min(total_frames, int(FADE_SECONDS * self.sample_rate))
        if fade > 0:
            audio[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
        if progress is not None:
            progress(1.0)
        return np.ascontiguousarray(audio, dtype=np.float32)

    def close(self) -> None:
        with self._lock:
            self._anchor.delete()


_renderers_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached_renderer(soundfont_path: str, sample_rate: int) -> Renderer:
    return Renderer(soundfont_path, sample_rate)


def get_renderer(soundfont_path: str, sample_rate: int = 44100) -> Renderer:
    """The process-wide renderer for this soundfont and rate: the soundfont is loaded once per process.

    The lock makes concurrent first calls build one synth, not two."""
    with _renderers_lock:
        return _cached_renderer(str(soundfont_path), int(sample_rate))
