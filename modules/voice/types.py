from __future__ import annotations

import strawberry
import strawberry_django

from modules.composition.gm import instrument_name
from modules.composition.types import ArtifactType
from schema.resolvers import loaded_only
from schema.scalars import NoteList

from . import models
from .engine import VOICES


@strawberry_django.type(
    models.VocalLine, name="VocalLine", description="The sung line: one note per syllable."
)
class VocalLineType:
    voice: str
    source: str
    low: int
    high: int
    program: int
    notes: NoteList
    syllables: list[str]
    harmony: NoteList = strawberry_django.field(description="The harmony voice under the melody on choruses.")
    midi: ArtifactType | None

    @strawberry_django.field(
        only=["program"], description="The General MIDI instrument that renders the line."
    )
    @loaded_only
    def instrument(self, root: models.VocalLine) -> str:
        return instrument_name(root.program)


@strawberry.type(description="A voice Coda can sing with.")
class VoiceInfo:
    name: str
    low: int
    high: int
    description: str


class CompositionFields:
    voice: VocalLineType | None = strawberry_django.field(description="The voice stage's result.")


class QueryFields:
    @strawberry.field(description="The voices Coda knows, for the `voice` input.")
    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(name=v.name, low=v.low, high=v.high, description=v.description) for v in VOICES.values()
        ]
