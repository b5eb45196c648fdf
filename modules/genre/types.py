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
    primary: str
    source: str
    tempo: float
    swing: float
    density: float
    loudness_target: float
    programs: JSONObject = strawberry_django.field(description="Role -> General MIDI program (0-based).")

    @strawberry_django.field(only=["weights"], description="The genres of the blend, heaviest first.")
    @loaded_only
    def weights(self, root: models.GenreBlend) -> list[GenreShare]:
        return [GenreShare(name=w["name"], weight=w["weight"]) for w in root.weights]


@strawberry.type(description="A genre Coda knows.")
class GenreInfo:
    name: str
    tempo_min: float
    tempo_max: float
    loudness_target: float
    programs: JSONObject


class CompositionFields:
    genre: GenreBlendType | None = strawberry_django.field(description="The genre stage's result.")


class QueryFields:
    @strawberry.field(description="The genres Coda knows, for the `genres` input.")
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
