"""Automation lanes: how a layer's volume and filter move over the song.

A lane is `{"parameter": "volume" | "filter", "points": [[beat, value], ...]}`
with values 0..1, linear between points and held after the last. Volume
follows the section energy (the chorus peaks); the filter opens through the
intro, breathes with the sections and closes over the outro, on the layers
where a sweep is idiomatic (pads and chords).
"""

from __future__ import annotations

from typing import Any

from modules.composition.context import SectionPlan

BEATS_PER_BAR = 4
FILTERED_ROLES = {"pad", "harmony"}


def _volume_level(energy: float) -> float:
    return round(0.62 + 0.38 * energy, 3)


def _filter_level(section: SectionPlan) -> float:
    return round(min(1.0, 0.45 + 0.6 * section.energy), 3)


def automation_lanes(role: str, sections: list[SectionPlan]) -> list[dict[str, Any]]:
    if not sections:
        return []
    volume: list[list[float]] = []
    cutoff: list[list[float]] = []
    for section in sections:
        start = float(section.start_bar * BEATS_PER_BAR)
        end = start + section.bars * BEATS_PER_BAR
        level = _volume_level(section.energy)
        if section.name == "outro" and section is sections[-1]:
            volume += [[start, level], [end, 0.0]]  # fade out
        else:
            volume.append([start, level])
        if section.name == "intro" and section is sections[0]:
            cutoff += [[start, 0.2], [end, _filter_level(section)]]  # the sweep that opens the song
        elif section.name == "outro" and section is sections[-1]:
            cutoff += [[start, _filter_level(section)], [end, 0.25]]
        else:
            cutoff.append([start, _filter_level(section)])
    lanes = [{"parameter": "volume", "points": volume}]
    if role in FILTERED_ROLES:
        lanes.append({"parameter": "filter", "points": cutoff})
    return lanes
