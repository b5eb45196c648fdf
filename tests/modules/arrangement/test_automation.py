import numpy as np

from modules.arrangement.automation import automation_lanes
from modules.composition.automation import lane, lane_values
from modules.composition.context import SectionPlan

SECTIONS = [
    SectionPlan(0, "intro", 0, 2, 0.3, False),
    SectionPlan(1, "verse", 2, 8, 0.5, True),
    SectionPlan(2, "chorus", 10, 8, 0.9, True),
    SectionPlan(3, "outro", 18, 2, 0.35, False),
]


def value(lanes: list, parameter: str, beat: float) -> float:
    return float(lane_values(lane(lanes, parameter), np.array([beat]))[0])


def test_volume_follows_section_energy_and_the_outro_fades_out() -> None:
    lanes = automation_lanes("bass", SECTIONS)
    assert (
        value(lanes, "volume", 44) > value(lanes, "volume", 12) > value(lanes, "volume", 2)
    )  # chorus > verse > intro
    assert value(lanes, "volume", 80) == 0.0  # end of the outro
    assert lane(lanes, "filter") is None  # bass keeps its full range


def test_pads_and_chords_sweep_the_filter_open_through_the_intro() -> None:
    for role in ("pad", "harmony"):
        lanes = automation_lanes(role, SECTIONS)
        assert value(lanes, "filter", 0) < value(lanes, "filter", 7) < value(lanes, "filter", 44)
        assert value(lanes, "filter", 80) < value(lanes, "filter", 72)  # closing over the outro
