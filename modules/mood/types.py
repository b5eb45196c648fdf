from __future__ import annotations

import strawberry
import strawberry_django

from . import models
from .engine import MOODS


@strawberry_django.type(models.Mood, name="Mood", description="The mood read from the prompt (or given).")
class MoodType:
    name: str
    valence: float = strawberry_django.field(description="-1 sad/dark .. 1 happy/bright")
    energy: float = strawberry_django.field(description="0 calm .. 1 intense")
    tags: list[str] = strawberry_django.field(description="The words that gave the mood away.")
    source: str


@strawberry.type(description="A mood Coda knows.")
class MoodInfo:
    name: str
    valence: float
    energy: float
    description: str


class CompositionFields:
    mood: MoodType | None = strawberry_django.field(description="The mood stage's result.")


class QueryFields:
    @strawberry.field(description="The moods Coda knows, for the `mood` input.")
    def moods(self) -> list[MoodInfo]:
        return [
            MoodInfo(name=m.name, valence=m.valence, energy=m.energy, description=m.description)
            for m in MOODS.values()
        ]
