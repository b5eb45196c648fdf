from __future__ import annotations

import strawberry
import strawberry_django

from . import models
from .engine import MOODS


@strawberry_django.type(models.Mood, name="Mood", description="The mood read from the prompt (or given).")
class MoodType:
    name: str = strawberry_django.field(description="One of the moods of the `moods` query, e.g. dreamy.")
    valence: float = strawberry_django.field(
        description="-1 (sad, dark) to 1 (happy, bright). The prompt's own reading, which may differ "
        "from the named mood's; the mood's own value when you gave `mood`."
    )
    energy: float = strawberry_django.field(description="0 (calm) to 1 (intense), read like `valence`.")
    tags: list[str] = strawberry_django.field(
        description="The words of the prompt that speak of mood, e.g. 'dreamy' or 'not sad'; may be empty."
    )
    source: str = strawberry_django.field(
        description="input (your `mood`), prompt (read from the prompt) or default (the prompt said "
        "nothing about mood: hopeful)."
    )


@strawberry.type(description="A mood Coda knows.")
class MoodInfo:
    name: str = strawberry.field(description="The name to pass as the `mood` input.")
    valence: float = strawberry.field(description="-1 (sad, dark) to 1 (happy, bright).")
    energy: float = strawberry.field(description="0 (calm) to 1 (intense).")
    description: str = strawberry.field(description="What it sounds like, in a few words.")


class CompositionFields:
    mood: MoodType | None = strawberry_django.field(description="The mood stage's result.")


class QueryFields:
    @strawberry.field(description="The moods Coda knows, for the `mood` input, in catalog order.")
    def moods(self) -> list[MoodInfo]:
        return [
            MoodInfo(name=m.name, valence=m.valence, energy=m.energy, description=m.description)
            for m in MOODS.values()
        ]
