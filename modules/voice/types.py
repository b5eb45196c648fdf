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
    voice: str = strawberry_django.field(description="The voice that sings, one of the `voices` query.")
    source: str = strawberry_django.field(
        description="input (your `voice`), prompt (asked for in the prompt) or seed (chosen to suit the "
        "genre and mood)."
    )
    low: int = strawberry_django.field(description="Lowest MIDI note of the voice's range (60 = middle C).")
    high: int = strawberry_django.field(description="Highest MIDI note of the voice's range.")
    program: int = strawberry_django.field(
        description="General MIDI program (0-based) of the line in the MIDI files."
    )
    notes: NoteList = strawberry_django.field(
        description="The melody: one note per sung syllable, in order, inside [low, high]."
    )
    syllables: list[str] = strawberry_django.field(
        description="The syllable sung on each note: `syllables[i]` goes with `notes[i]`."
    )
    harmony: NoteList = strawberry_django.field(
        description="The harmony voice under the melody on choruses; empty when there is none."
    )
    midi: ArtifactType | None = strawberry_django.field(
        description="vocal.mid: the melody with its lyrics (and the harmony); null only if the file is gone."
    )

    @strawberry_django.field(
        only=["program"], description="The General MIDI instrument that renders the line."
    )
    @loaded_only
    def instrument(self, root: models.VocalLine) -> str:
        return instrument_name(root.program)


@strawberry.type(description="A voice Coda can sing with.")
class VoiceInfo:
    name: str = strawberry.field(description="The name to pass as the `voice` input.")
    low: int = strawberry.field(description="Lowest MIDI note of its comfortable range (60 = middle C).")
    high: int = strawberry.field(description="Highest MIDI note of its comfortable range.")
    description: str = strawberry.field(description="What it sounds like and its range as note names.")


class CompositionFields:
    voice: VocalLineType | None = strawberry_django.field(description="The voice stage's result.")


class QueryFields:
    @strawberry.field(description="The voices Coda knows, for the `voice` input, highest first.")
    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(name=v.name, low=v.low, high=v.high, description=v.description) for v in VOICES.values()
        ]
