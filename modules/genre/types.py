from __future__ import annotations

import strawberry
import strawberry_django

from modules.composition.types import GenreShare
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import models
from .catalog import GENRES


@strawberry_django.type(
    models.GenreBlend, name="GenreBlend", description="The weighted genre blend and its style."
)
class GenreBlendType:
    primary: str = strawberry_django.field(description="The heaviest genre of the blend.")
    source: str = strawberry_django.field(
        description="Where the blend came from: input (your `genres`), prompt (genres named or hinted "
        "in the prompt) or mood (none were: chosen to suit the mood)."
    )
    tempo: float = strawberry_django.field(
        description="The blend's own tempo in beats per minute; a `tempo` input overrides it in the "
        "composition (see context.tempo), not here."
    )
    swing: float = strawberry_django.field(
        description="0 (straight) to 0.33 (hard swing): how late off-beat sixteenths are played, as a "
        "fraction of a sixteenth."
    )
    density: float = strawberry_django.field(
        description="0 (sparse) to 1 (busy): how many notes the parts play."
    )
    loudness_target: float = strawberry_django.field(
        description="Integrated loudness the master aims at, in LUFS (e.g. -14)."
    )
    programs: JSONObject = strawberry_django.field(
        description="Layer (bass, chords, pad, lead) -> the General MIDI program (0-based) that plays it."
    )

    @strawberry_django.field(only=["weights"], description="The genres of the blend, heaviest first.")
    @loaded_only
    def weights(self, root: models.GenreBlend) -> list[GenreShare]:
        return [GenreShare(name=w["name"], weight=w["weight"]) for w in root.weights]


@strawberry.type(description="A genre Coda knows.")
class GenreInfo:
    name: str = strawberry.field(description="The name to pass in the `genres` input.")
    tempo_min: float = strawberry.field(description="Slowest usual tempo, in beats per minute as notated.")
    tempo_max: float = strawberry.field(description="Fastest usual tempo, in beats per minute as notated.")
    loudness_target: float = strawberry.field(description="Integrated loudness its masters aim at, in LUFS.")
    programs: JSONObject = strawberry.field(
        description="Layer (bass, chords, pad, lead) -> General MIDI program (0-based)."
    )


class CompositionFields:
    genre: GenreBlendType | None = strawberry_django.field(description="The genre stage's result.")


class QueryFields:
    @strawberry.field(description="The genres Coda knows, for the `genres` input, in catalog order.")
    def genres(self) -> list[GenreInfo]:
        return [
            GenreInfo(
                name=g.name,
                tempo_min=g.tempo_range[0],
                tempo_max=g.tempo_range[1],
                loudness_target=g.loudness_target,
                programs=dict(g.programs),
            )
            for g in GENRES.values()
        ]
