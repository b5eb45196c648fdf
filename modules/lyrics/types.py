from __future__ import annotations

import strawberry
import strawberry_django

from schema.resolvers import loaded_only

from . import models


@strawberry.type(description="A sung syllable, timed in beats.")
class Syllable:
    text: str = strawberry.field(description="The syllable as written, e.g. 'dream' or 'ing'.")
    start: float = strawberry.field(
        description="When it is sung, in beats (quarter notes) from the song's start."
    )
    duration: float = strawberry.field(description="How long it is sung, in beats.")
    stress: int = strawberry.field(
        description="Lexical stress (CMU dictionary): 1 primary, 2 secondary, 0 none."
    )
    word_end: bool = strawberry.field(description="True on the last syllable of a word.")


@strawberry_django.type(models.LyricLine, name="LyricLine", description="One sung line of the lyrics.")
class LyricLineType:
    index: int = strawberry_django.field(description="0-based place of the line in the lyrics.")
    section_index: int = strawberry_django.field(
        description="The `index` of the section (in Composition.sections) it is sung in."
    )
    section_name: str = strawberry_django.field(description="That section's name, e.g. verse or chorus.")
    text: str = strawberry_django.field(description="The line as sung.")
    rhyme: str = strawberry_django.field(
        description="Its rhyme-scheme letter (A, B, ...): lines with the same letter rhyme; empty if none."
    )

    @strawberry_django.field(only=["syllables"], description="Its syllables with their timing, in order.")
    @loaded_only
    def syllables(self, root: models.LyricLine) -> list[Syllable]:
        return [Syllable(**s) for s in root.syllables]


@strawberry_django.type(models.Lyrics, name="Lyrics", description="The lyrics, fitted to the vocal phrases.")
class LyricsType:
    title: str = strawberry_django.field(
        description="The song's title, drawn from its hook (the line the chorus repeats)."
    )
    source: str = strawberry_django.field(
        description="generated (written by Coda) or user (your `lyrics` input, fitted to the melody)."
    )
    provider: str = strawberry_django.field(
        description="Who wrote generated lyrics: the name of the provider the router chose (see the "
        "`providers` query), or 'built-in' for Coda's own offline writer, also used when a provider "
        "failed; empty for your own lyrics."
    )
    text: str = strawberry_django.field(
        description="The whole lyrics as plain text: one line per sung line, a blank line between sections."
    )
    lines: list[LyricLineType] = strawberry_django.field(description="The sung lines, in order.")


class CompositionFields:
    lyrics: LyricsType | None = strawberry_django.field(description="The lyrics stage's result.")
