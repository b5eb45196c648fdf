"""Song form: which sections, how many bars each, and their energy curve.

The form follows MUSIC-NOTES "Form by duration". Section lengths are chosen by
a small exhaustive search so that the song lasts the requested time at the
given tempo (to within half a bar whenever possible) while staying as close as
it can to the conventional sizes: 4/8-bar verses and choruses, 2-bar intros
and outros. Repeated sections keep one length so their material can be reused.
"""

from __future__ import annotations

import itertools
import math

from modules.composition.context import SectionPlan

BEATS_PER_BAR = 4

# (upper bound of duration in seconds, form); the last one covers everything longer.
FORMS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (30.0, ("intro", "chorus", "outro")),
    (75.0, ("intro", "verse", "chorus", "outro")),
    (150.0, ("intro", "verse", "chorus", "verse", "chorus", "outro")),
    (
        math.inf,
        (
            "intro",
            "verse",
            "pre-chorus",
            "chorus",
            "verse",
            "pre-chorus",
            "chorus",
            "bridge",
            "chorus",
            "outro",
        ),
    ),
)

VOCAL_SECTIONS = frozenset({"verse", "pre-chorus", "chorus", "bridge"})
EDGE_SECTIONS = ("intro", "outro")

# Conventional length of each body section in bars.
PREFERRED_BARS: dict[str, int] = {"verse": 8, "pre-chorus": 4, "chorus": 8, "bridge": 8}
BODY_OPTIONS: tuple[int, ...] = (2, 4, 8, 12, 16, 24, 32)
EDGE_OPTIONS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)

# Relative energy of each section type before the mood scales it; the chorus is the peak.
BASE_ENERGY: dict[str, float] = {
    "intro": 0.3,
    "verse": 0.5,
    "pre-chorus": 0.65,
    "chorus": 0.9,
    "bridge": 0.55,
    "outro": 0.35,
}


def form_for_duration(duration_seconds: float) -> tuple[str, ...]:
    for limit, form in FORMS:
        if duration_seconds < limit:
            return form
    return FORMS[-1][1]


def _body_cost(bars: int, name: str) -> float:
    # Squared log-distance: doubling one section is tolerable, quadrupling it is not.
    preferred = PREFERRED_BARS.get(name, 8)
    cost = 3.0 * math.log2(bars / preferred) ** 2
    if bars not in (4, 8):
        cost += 0.5
    if bars == 2:
        cost += 4.0  # only for very short songs at slow tempos
    return cost


def _edge_cost(bars: int) -> float:
    return 1.5 * math.log2(bars / 2) ** 2 + (0.0 if bars in (2, 4) else 0.5)


def _best_edges(total_edge_bars: int) -> tuple[float, int, int]:
    """Cheapest (intro, outro) split of a given number of bars; the intro gets the extra bar."""
    best: tuple[float, int, int] | None = None
    for intro in EDGE_OPTIONS:
        outro = total_edge_bars - intro
        if outro not in EDGE_OPTIONS:
            continue
        cost = _edge_cost(intro) + _edge_cost(outro) + (0.01 if outro > intro else 0.0)
        if best is None or cost < best[0]:
            best = (cost, intro, outro)
    assert best is not None
    return best


def section_lengths(form: tuple[str, ...], target_bars: float) -> dict[str, int]:
    """Bars per section name, minimising distance to target_bars first and size oddness second."""
    names = sorted({n for n in form if n not in EDGE_SECTIONS})
    counts = {n: form.count(n) for n in names}
    edges = {total: _best_edges(total) for total in range(2 * EDGE_OPTIONS[0], 2 * EDGE_OPTIONS[-1] + 1)}
    best: tuple[float, dict[str, int]] | None = None
    for sizes in itertools.product(BODY_OPTIONS, repeat=len(names)):
        chosen = dict(zip(names, sizes, strict=True))
        body = sum(chosen[n] * counts[n] for n in names)
        shape = sum(_body_cost(chosen[n], n) * counts[n] for n in names)
        if chosen.get("chorus", 8) < chosen.get("verse", 0):
            shape += 1.0  # a chorus shorter than its verse sounds cut off
        for total_edges, (edge_cost, intro, outro) in edges.items():
            miss = abs(body + total_edges - target_bars)
            # Within a bar of the requested length is a promise; beyond that, any shape is better.
            cost = 10.0 * miss + (100.0 if miss > 0.75 else 0.0) + shape + edge_cost
            if best is None or cost < best[0]:
                best = (cost, {**chosen, "intro": intro, "outro": outro})
    assert best is not None
    return best[1]


def plan_sections(
    duration_seconds: float, tempo: float, mood_energy: float, instrumental: bool
) -> list[SectionPlan]:
    """The sections of the song, in order, with bars, energy and whether the voice sings."""
    target_bars = duration_seconds * tempo / 60.0 / BEATS_PER_BAR
    form = form_for_duration(duration_seconds)
    lengths = section_lengths(form, target_bars)
    # The mood's energy scales the whole curve; later repeats lift a little so the song builds.
    scale = 0.7 + 0.3 * max(0.0, min(1.0, mood_energy))
    seen: dict[str, int] = {}
    sections: list[SectionPlan] = []
    start = 0
    for index, name in enumerate(form):
        repeat = seen.get(name, 0)
        seen[name] = repeat + 1
        energy = min(1.0, BASE_ENERGY[name] * scale + 0.03 * repeat)
        sections.append(
            SectionPlan(
                index=index,
                name=name,
                start_bar=start,
                bars=lengths[name],
                energy=round(energy, 3),
                vocal=name in VOCAL_SECTIONS and not instrumental,
            )
        )
        start += lengths[name]
    return sections
