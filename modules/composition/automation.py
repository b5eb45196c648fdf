"""Reading automation lanes: `{"parameter", "points": [[beat, value 0..1], ...]}`, linear between points."""

from __future__ import annotations

from typing import Any

import numpy as np

# MIDI controllers that carry each parameter in MIDI files and in the synth.
CONTROLLERS = {"volume": 11, "filter": 74}  # expression, brightness


def lane_values(points: list[list[float]], beats: np.ndarray) -> np.ndarray:
    """The lane's value at each beat (held before the first and after the last point)."""
    if not points:
        return np.ones_like(beats, dtype=float)
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    return np.interp(beats, xs, ys)


def lane_steps(points: list[list[float]], total_beats: float, step: float = 0.25) -> list[tuple[float, int]]:
    """(beat, 0..127) wherever the lane's MIDI value changes, sampled every `step` beats."""
    beats = np.arange(0.0, max(total_beats, step) + 1e-9, step)  # the end included: fades reach 0
    values = np.rint(np.clip(lane_values(points, beats), 0.0, 1.0) * 127).astype(int)
    changes = np.flatnonzero(np.diff(values, prepend=-1))
    return [(float(beats[i]), int(values[i])) for i in changes]


def lane(automation: list[dict[str, Any]], parameter: str) -> list[list[float]] | None:
    return next((a["points"] for a in automation if a["parameter"] == parameter), None)


def automation_controls(automation: list[dict[str, Any]], total_beats: float) -> list[tuple[float, int, int]]:
    """Every lane as (beat, controller, value) MIDI control changes."""
    return [
        (beat, CONTROLLERS[a["parameter"]], value)
        for a in automation
        for beat, value in lane_steps(a["points"], total_beats)
    ]
