from __future__ import annotations

import strawberry
import strawberry_django

from modules.composition.gm import instrument_name
from modules.composition.types import ArtifactType
from schema.resolvers import loaded_only
from schema.scalars import NoteList

from . import models


@strawberry_django.type(models.Section, name="Section", description="A section of the song's form.")
class SectionType:
    index: int
    name: str
    start_bar: int
    bars: int
    energy: float
    vocal: bool
    chords: list[str] = strawberry_django.field(description="Chord symbols in order.")


@strawberry.type(description="A value (0..1) at a beat; values are linear between points.")
class AutomationPoint:
    beat: float
    value: float


@strawberry.type(
    description="How one parameter of a layer moves over the song: volume (expression) or filter."
)
class AutomationLane:
    parameter: str
    points: list[AutomationPoint]


@strawberry_django.type(models.Layer, name="Layer", description="An instrument layer with its MIDI.")
class LayerType:
    index: int
    name: str
    role: str
    program: int = strawberry_django.field(description="General MIDI program (0-based).")
    channel: int
    is_drum: bool
    volume: int
    pan: int
    note_count: int
    notes: NoteList
    midi: ArtifactType | None

    @strawberry_django.field(
        only=["automation"], description="Volume and filter lanes, applied in the render."
    )
    @loaded_only
    def automation(self, root: models.Layer) -> list[AutomationLane]:
        return [
            AutomationLane(
                parameter=lane["parameter"],
                points=[AutomationPoint(beat=b, value=v) for b, v in lane["points"]],
            )
            for lane in root.automation
        ]

    @strawberry_django.field(only=["program", "is_drum"], description="The General MIDI instrument name.")
    @loaded_only
    def instrument(self, root: models.Layer) -> str:
        return instrument_name(root.program, root.is_drum)


class CompositionFields:
    sections: list[SectionType] = strawberry_django.field(description="The song's form, in order.")
    layers: list[LayerType] = strawberry_django.field(description="Instrument layers, in order.")
