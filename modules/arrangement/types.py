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
    index: int = strawberry_django.field(description="0-based place in the song.")
    name: str = strawberry_django.field(
        description="intro, verse, pre-chorus, chorus, bridge or outro (a name may repeat)."
    )
    start_bar: int = strawberry_django.field(
        description="The bar it starts on, 0-based; a bar is `timeSignature[0]` beats (4 in 4/4)."
    )
    bars: int = strawberry_django.field(description="Its length in bars.")
    energy: float = strawberry_django.field(
        description="0 (quiet, sparse) to 1 (full): intros low, choruses high."
    )
    vocal: bool = strawberry_django.field(
        description="True when the voice sings in it; false everywhere in an instrumental."
    )
    chords: list[str] = strawberry_django.field(
        description="Its chord symbols in the order they are played, e.g. Am7, F, C, G."
    )


@strawberry.type(description="A value (0..1) at a beat; values are linear between points.")
class AutomationPoint:
    beat: float = strawberry.field(description="Beats (quarter notes) from the start of the song.")
    value: float = strawberry.field(
        description="0 to 1 (MIDI controller value / 127): for volume 0 is silent, for filter 0 is darkest."
    )


@strawberry.type(
    description="How one parameter of a layer moves over the song: volume (expression) or filter."
)
class AutomationLane:
    parameter: str = strawberry.field(
        description="volume (MIDI expression, CC 11) or filter (brightness, CC 74)."
    )
    points: list[AutomationPoint] = strawberry.field(
        description="The points, ordered by beat; the value holds before the first and after the last."
    )


@strawberry_django.type(models.Layer, name="Layer", description="An instrument layer with its MIDI.")
class LayerType:
    index: int = strawberry_django.field(
        description="0-based place among the layers, always in the order drums, bass, chords, pad, lead."
    )
    name: str = strawberry_django.field(
        description="drums, bass, chords, pad or lead; a song has some of them, bass, chords and lead always."
    )
    role: str = strawberry_django.field(
        description="What it does in the music: rhythm, bass, harmony, pad or melody."
    )
    program: int = strawberry_django.field(
        description="General MIDI program (0-based, 0-127); 0 and unused for drums."
    )
    channel: int = strawberry_django.field(description="MIDI channel, 0-based (0-15); 9 for drums.")
    is_drum: bool = strawberry_django.field(
        description="True for the drum layer: its pitches are General MIDI drum sounds, not notes."
    )
    volume: int = strawberry_django.field(description="MIDI channel volume (CC 7), 1 to 127.")
    pan: int = strawberry_django.field(description="MIDI pan (CC 10): 0 left, 64 centre, 127 right.")
    note_count: int = strawberry_django.field(description="How many notes `notes` holds.")
    notes: NoteList = strawberry_django.field(
        description="Every note of the layer, ordered by start beat, then pitch."
    )
    midi: ArtifactType | None = strawberry_django.field(
        description="This layer alone as a Standard MIDI File; null only if the file is gone."
    )

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


class CreateInputFields:
    """The arrangement stage's part of CreateCompositionInput."""

    key: str | None = strawberry.field(
        default=None,
        description="Tonic, e.g. C, F# or Bb; null takes one the prompt names ('in D minor', 'in Bb'), "
        "else lets the arrangement choose.",
    )
    scale: str | None = strawberry.field(
        default=None,
        description="major, minor, dorian, phrygian, lydian, mixolydian or harmonic_minor; null takes "
        "one the prompt names ('in D minor'), else lets the arrangement choose.",
    )


class UpdateInputFields:
    """The arrangement stage's part of UpdateCompositionInput."""

    key: str | None = strawberry.field(default=None, description="Tonic, e.g. C, F# or Bb.")
    scale: str | None = strawberry.field(
        default=None, description="major, minor, dorian, phrygian, lydian, mixolydian or harmonic_minor."
    )


# Typical list lengths for the query cost (schema/security/cost.py).
LIST_SIZES = {
    "Composition.layers": 8,  # 4 to 7 instrument layers in every genre
    "Layer.automation": 2,  # volume, and filter on pads and chords
    "AutomationLane.points": 12,  # one per section, plus the intro's and outro's ramps
}
