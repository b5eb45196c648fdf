"""Hand-built contexts for the arrangement engine: realistic genre styles and moods."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pytest

from modules.arrangement.engine import ArrangementResult, arrange
from modules.composition.context import CompositionContext, MoodInfo, Style


def _grid(steps: dict[int, float]) -> list[float]:
    return [float(steps.get(i, 0.0)) for i in range(16)]


STYLES: dict[str, Style] = {
    # Four on the floor, clap on 2 and 4, off-beat open hat, 16th closed hats.
    "electronic": Style(
        swing=0.0,
        drums={
            "36": _grid({0: 1.0, 4: 1.0, 8: 1.0, 12: 1.0}),
            "39": _grid({4: 0.9, 12: 0.9}),
            "42": _grid({i: (0.6 if i % 2 == 0 else 0.35) for i in range(16)}),
            "46": _grid({2: 0.7, 6: 0.7, 10: 0.7, 14: 0.7}),
        },
        programs={"bass": 39, "chords": 90, "pad": 88, "lead": 81},
        bass_rhythm=_grid({0: 1.0, 2: 0.6, 6: 0.6, 8: 0.9, 10: 0.6, 14: 0.6}),
        chord_rhythm=_grid({0: 1.0, 6: 0.7, 10: 0.8}),
        density=0.7,
        progressions=["vi-IV-I-V", "I-V-vi-IV"],
    ),
    # Kick on 1 and 3, snare on 2 and 4, straight 8th hats.
    "pop": Style(
        swing=0.0,
        drums={
            "36": _grid({0: 1.0, 8: 0.9, 10: 0.5}),
            "38": _grid({4: 1.0, 12: 1.0}),
            "42": _grid({i: 0.6 for i in range(0, 16, 2)}),
        },
        programs={"bass": 38, "chords": 0, "pad": 89, "lead": 80},
        bass_rhythm=_grid({0: 1.0, 6: 0.6, 8: 0.9, 14: 0.5}),
        chord_rhythm=_grid({0: 1.0, 8: 0.8}),
        density=0.5,
        progressions=["I-V-vi-IV", "vi-IV-I-V", "I-IV-V"],
    ),
    # Boom-bap with swung 16th hats and soft ghost snares.
    "hip-hop": Style(
        swing=0.25,
        drums={
            "36": _grid({0: 1.0, 7: 0.6, 10: 0.8}),
            "38": _grid({4: 1.0, 12: 1.0, 15: 0.3}),
            "42": _grid({i: (0.55 if i % 2 == 0 else 0.3) for i in range(16)}),
        },
        programs={"bass": 33, "chords": 4, "lead": 49},
        bass_rhythm=_grid({0: 1.0, 7: 0.5, 10: 0.8}),
        chord_rhythm=_grid({0: 0.9, 11: 0.6}),
        density=0.6,
        progressions=["i-VI-III-VII", "ii-V-I"],
    ),
    # Ride swing and a walking bass on the quarters; ii-V-I with sevenths.
    "jazz": Style(
        swing=0.3,
        drums={
            "51": _grid({0: 0.8, 4: 0.8, 6: 0.5, 8: 0.8, 12: 0.8, 14: 0.5}),
            "44": _grid({4: 0.5, 12: 0.5}),
            "36": _grid({0: 0.4}),
        },
        programs={"bass": 32, "chords": 0, "lead": 66},
        bass_rhythm=_grid({0: 1.0, 4: 0.8, 8: 0.9, 12: 0.8}),
        chord_rhythm=_grid({0: 0.8, 7: 0.6}),
        density=0.4,
        progressions=["ii-V-I", "Imaj7-IVmaj7"],
    ),
    # No drums, long pads.
    "ambient": Style(
        swing=0.0,
        drums={},
        programs={"bass": 38, "chords": 0, "pad": 89, "lead": 88},
        bass_rhythm=_grid({0: 1.0}),
        chord_rhythm=_grid({0: 1.0}),
        density=0.2,
        progressions=["Imaj7-IVmaj7", "i-VI-III-VII"],
    ),
}

INSTRUMENTS: dict[str, list[str]] = {
    "electronic": ["drums", "bass", "chords", "pad", "lead"],
    "pop": ["drums", "bass", "chords", "pad", "lead"],
    "hip-hop": ["drums", "bass", "chords", "lead"],
    "jazz": ["drums", "bass", "chords", "lead"],
    "ambient": ["pad", "bass", "chords", "lead"],
}
TEMPOS = {"electronic": 126.0, "pop": 112.0, "hip-hop": 90.0, "jazz": 132.0, "ambient": 72.0}

MOODS: dict[str, MoodInfo] = {
    "uplifting": MoodInfo("uplifting", 0.8, 0.8, ["uplifting", "happy"]),
    "melancholic": MoodInfo("melancholic", -0.8, 0.3, ["sad"]),
    "dreamy": MoodInfo("dreamy", 0.5, 0.4, ["dreamy"]),
    "tense": MoodInfo("tense", -0.6, 0.85, ["tense", "dark"]),
    "neutral": MoodInfo("calm", 0.0, 0.5, []),
}


def make_context(
    style: str = "pop",
    mood: str = "uplifting",
    duration: int = 60,
    tempo: float | None = None,
    instrumental: bool = False,
    key: str | None = None,
    scale: str | None = None,
    instruments: tuple[str, ...] | None = None,
) -> CompositionContext:
    inputs: dict[str, str] = {}
    if key:
        inputs["key"] = key
    if scale:
        inputs["scale"] = scale
    m = MOODS[mood]
    return CompositionContext(
        prompt=f"{mood} {style}",
        seed=0,
        duration_seconds=duration,
        instrumental=instrumental,
        inputs=inputs,
        mood=MoodInfo(m.name, m.valence, m.energy, list(m.tags)),
        energy=m.energy,
        style=STYLES[style],
        tempo=tempo or TEMPOS[style],
        instruments=list(instruments) if instruments is not None else list(INSTRUMENTS[style]),
    )


@lru_cache(maxsize=512)
def arranged(
    style: str = "pop",
    mood: str = "uplifting",
    duration: int = 60,
    seed: int = 1,
    tempo: float | None = None,
    instrumental: bool = False,
    key: str | None = None,
    scale: str | None = None,
    instruments: tuple[str, ...] | None = None,
) -> ArrangementResult:
    """Cached: the engine is pure, and many tests look at the same songs. Do not mutate the result."""
    ctx = make_context(style, mood, duration, tempo, instrumental, key, scale, instruments)
    return arrange(ctx, seed)


# A small grid: every style, every mood, two seeds, a length that gives each form.
GRID = [
    (style, mood, duration, seed)
    for style in STYLES
    for mood in MOODS
    for duration, seed in ((25, 3), (100, 1), (200, 2))
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", GRID, ids=["-".join(map(str, c)) for c in GRID])


@pytest.fixture
def song() -> Callable[..., ArrangementResult]:
    return arranged


@pytest.fixture
def context() -> Callable[..., CompositionContext]:
    return make_context


@pytest.fixture
def styles() -> dict[str, Style]:
    return STYLES
