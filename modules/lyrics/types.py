from __future__ import annotations

import strawberry
import strawberry_django

from schema.resolvers import loaded_only

from . import models


@strawberry.type(description="A sung syllable, timed in beats.")
class Syllable:
    text: str
    start: float
    duration: float
    stress: int
    word_end: bool


@strawberry_django.type(models.LyricLine, name="LyricLine")
class LyricLineType:
    index: int
    section_index: int
    section_name: str
    text: str
    rhyme: str

    @strawberry_django.field(only=["syllables"])
    @loaded_only
    def syllables(self, root: models.LyricLine) -> list[Syllable]:
        return [Syllable(**s) for s in root.syllables]


@strawberry_django.type(models.Lyrics, name="Lyrics", description="The lyrics, fitted to the vocal phrases.")
class LyricsType:
    title: str
    source: str = strawberry_django.field(description="generated or user")
    provider: str = strawberry_django.field(
        description="Who wrote generated lyrics: the name of the provider the router chose (see the "
        "`providers` query), or 'built-in' for Coda's own offline writer, also used when a provider "
        "failed; empty for your own lyrics."
    )
    text: str
    lines: list[LyricLineType]


class CompositionFields:
    lyrics: LyricsType | None = strawberry_django.field(description="The lyrics stage's result.")
