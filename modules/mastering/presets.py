"""Mastering presets: named settings for the master (loudness, true-peak ceiling, EQ tilt, stereo
width, bus compression), built in here or made by users (models.MasteringPreset), and the bounds
every preset's values keep.

A preset's `target_lufs` of None means "the genre's loudness target" (the default master).
A `compression_threshold_db` of None means 9 dB under the ceiling (where the default master's
gentle compressor starts). Compression ratio 1 turns the compressor off (the limiter stays).

Loudness figures: -14 LUFS is the common streaming normalisation; -9 LUFS is a loud club/DJ
master; -16 LUFS is the podcast norm (Apple's spec); -23 LUFS with -1 dBTP is EBU R128 broadcast.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from modules.composition.stages import InputError

# (field, GraphQL name, lowest, highest, unit)
BOUNDS: dict[str, tuple[str, float, float, str]] = {
    "target_lufs": ("targetLufs", -30.0, -7.0, "LUFS"),
    "ceiling_dbtp": ("ceilingDbtp", -6.0, -0.1, "dBTP"),
    "eq_tilt_db_per_octave": ("eqTiltDbPerOctave", -3.0, 3.0, "dB/octave"),
    "stereo_width": ("stereoWidth", 0.0, 2.0, "x"),
    "compression_ratio": ("compressionRatio", 1.0, 10.0, ":1"),
    "compression_threshold_db": ("compressionThresholdDb", -40.0, 0.0, "dBFS"),
}
MAX_NAME = 60
DEFAULT_PRESET = "default"


@dataclass(frozen=True)
class PresetValues:
    target_lufs: float | None = None  # None: the genre's loudness target
    ceiling_dbtp: float = -1.0
    eq_tilt_db_per_octave: float = 0.0  # + brighter, - darker; pivot 1 kHz
    stereo_width: float = 1.0  # side gain: 0 mono, 1 as mixed, 2 twice the side
    compression_ratio: float = 2.0
    compression_threshold_db: float | None = None  # 50 ms RMS level; None: 9 dB under the ceiling

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BuiltInPreset:
    name: str
    description: str
    values: PresetValues


BUILT_IN: dict[str, BuiltInPreset] = {
    p.name: p
    for p in (
        BuiltInPreset(
            DEFAULT_PRESET,
            "The genre's loudness target, -1 dBTP, gentle 2:1 compression near the ceiling; nothing else.",
            PresetValues(),
        ),
        BuiltInPreset(
            "streaming",
            "-14 LUFS, -1 dBTP: what streaming services normalise to, so nothing is turned down.",
            PresetValues(target_lufs=-14.0),
        ),
        BuiltInPreset(
            "club",
            "-9 LUFS, -1 dBTP, 3:1 from -14 dBFS, a touch darker and narrower for big mono-ish rigs.",
            PresetValues(
                target_lufs=-9.0,
                eq_tilt_db_per_octave=-0.3,
                stereo_width=0.9,
                compression_ratio=3.0,
                compression_threshold_db=-14.0,
            ),
        ),
        BuiltInPreset(
            "podcast",
            "-16 LUFS, -1.5 dBTP (the podcast norm), 3:1 from -22 dBFS, a little brighter for speech beds.",
            PresetValues(
                target_lufs=-16.0,
                ceiling_dbtp=-1.5,
                eq_tilt_db_per_octave=0.3,
                compression_ratio=3.0,
                compression_threshold_db=-22.0,
            ),
        ),
        BuiltInPreset(
            "broadcast",
            "-23 LUFS, -1 dBTP (EBU R128), 2:1 from -28 dBFS.",
            PresetValues(target_lufs=-23.0, compression_threshold_db=-28.0),
        ),
        BuiltInPreset(
            "warm",
            "-14 LUFS, -1 dB/octave around 1 kHz: fuller lows, softer highs.",
            PresetValues(target_lufs=-14.0, eq_tilt_db_per_octave=-1.0),
        ),
        BuiltInPreset(
            "bright",
            "-14 LUFS, +1 dB/octave around 1 kHz, a little wider.",
            PresetValues(target_lufs=-14.0, eq_tilt_db_per_octave=1.0, stereo_width=1.2),
        ),
    )
}


def check_values(values: dict[str, Any]) -> dict[str, float | None]:
    """Preset values within their bounds (None allowed where PresetValues allows it), or an
    InputError naming the GraphQL field."""
    checked: dict[str, float | None] = {}
    for name, value in values.items():
        graphql_name, low, high, unit = BOUNDS[name]
        if value is None:
            if name not in ("target_lufs", "compression_threshold_db"):
                raise InputError(graphql_name, f"{graphql_name} needs a value")
            checked[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InputError(graphql_name, f"{graphql_name} must be a number, not {value!r}")
        if not low <= float(value) <= high:
            raise InputError(graphql_name, f"{graphql_name} must be between {low:g} and {high:g} {unit}")
        checked[name] = float(value)
    return checked


def check_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InputError("name", "give the preset a name")
    if len(cleaned) > MAX_NAME:
        raise InputError("name", f"a preset name is at most {MAX_NAME} characters")
    if cleaned.lower() in BUILT_IN:
        raise InputError("name", f"{cleaned!r} is a built-in preset's name; choose another")
    return cleaned
