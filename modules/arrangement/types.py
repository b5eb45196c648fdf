from __future__ import annotations

import strawberry_django

from modules.composition.gm import instrument_name
from modules.composition.types import ArtifactType
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

    @strawberry_django.field(only=["program", "is_drum"], description="The General MIDI instrument name.")
    def instrument(self, root: models.Layer) -> str:
        return instrument_name(root.program, root.is_drum)


class CompositionFields:
    sections: list[SectionType] = strawberry_django.field(description="The song's form, in order.")
    layers: list[LayerType] = strawberry_django.field(description="Instrument layers, in order.")
