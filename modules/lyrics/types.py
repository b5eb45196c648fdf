from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
import strawberry_django
from strawberry.types import Info

from modules.accounts.caller import COMPOSE
from modules.composition.stages import InputError
from schema.context import caller
from schema.errors import Conflict, as_graphql_error
from schema.permissions import HasScope
from schema.resolvers import loaded_only

from . import models, services

if TYPE_CHECKING:
    from modules.composition.models import Composition

# The Composition type is assembled by the schema package from every module's parts.
CompositionRef = Annotated["Composition", strawberry.lazy("schema.root")]
CompositionId = Annotated[strawberry.ID, strawberry.argument(description="Your composition's id.")]
T = TypeVar("T")


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
    index: int = strawberry_django.field(
        description="0-based place of the line in the lyrics (editLyricsLine's `line`)."
    )
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

    @strawberry_django.field(
        only=["text", "written"], description="True when the line's words are an edit (editLyricsLine)."
    )
    @loaded_only
    def edited(self, root: models.LyricLine) -> bool:
        return bool(root.written) and root.text != root.written


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


@strawberry.enum(name="LyricsDraftOrigin", description="What made a lyrics draft.")
class LyricsDraftOrigin(Enum):
    GENERATED = strawberry.enum_value("generated", description="Written by the lyrics stage.")
    USER = strawberry.enum_value(
        "user", description="Your own lyrics (createComposition or updateComposition)."
    )
    EDIT = strawberry.enum_value("edit", description="A line edit (editLyricsLine).")
    REOPENED = strawberry.enum_value("reopened", description="Final lyrics opened again (reopenLyrics).")


@strawberry.enum(name="LyricsFit", description="How edited words were fitted to the line's notes.")
class LyricsFit(Enum):
    SAME = strawberry.enum_value("same", description="As many syllables as notes: one each.")
    MERGED = strawberry.enum_value(
        "merged",
        description="Fewer syllables: notes were merged, a syllable holding over the dropped onsets; "
        "the onsets kept put stressed syllables on strong beats.",
    )
    SPLIT = strawberry.enum_value(
        "split",
        description="More syllables: the longest notes were cut in two on the sixteenth grid "
        "(the phrase's last note last).",
    )


@strawberry_django.type(
    models.LyricsDraft,
    name="LyricsDraft",
    description="One text the lyrics had. Draft 1 is what the lyrics stage wrote; each edit makes the next; "
    "the newest is the current one.",
)
class LyricsDraftType:
    number: int = strawberry_django.field(description="1 for the first draft, counted per composition.")
    title: str = strawberry_django.field(description="The song's title in this draft.")
    text: str = strawberry_django.field(description="The whole lyrics of the draft, a line each.")
    created_at: datetime = strawberry_django.field(description="When the draft was made.")
    finalized_at: datetime | None = strawberry_django.field(
        description="When it was marked final, if it was."
    )

    @strawberry_django.field(only=["origin"], description="What made this draft.")
    @loaded_only
    def origin(self, root: models.LyricsDraft) -> LyricsDraftOrigin:
        return LyricsDraftOrigin(root.origin)

    @strawberry_django.field(only=["lines"], description="The words of each line, in order.")
    @loaded_only
    def lines(self, root: models.LyricsDraft) -> list[str]:
        return list(root.lines)

    @strawberry_django.field(only=["finalized_at"], description="True for a final version (finalizeLyrics).")
    @loaded_only
    def final(self, root: models.LyricsDraft) -> bool:
        return root.final

    @strawberry_django.field(
        select_related=["created_by"], description="Who made it (null: Coda, or an anonymous owner)."
    )
    def created_by(self, root: models.LyricsDraft) -> str | None:
        return root.created_by.get_username() if root.created_by else None

    @strawberry_django.field(select_related=["finalized_by"], description="Who marked it final.")
    def finalized_by(self, root: models.LyricsDraft) -> str | None:
        return root.finalized_by.get_username() if root.finalized_by else None


@strawberry_django.type(
    models.LyricsLineEdit, name="LyricsLineEdit", description="Who changed which line, when, and how."
)
class LyricsLineEditType:
    section_index: int = strawberry_django.field(
        description="The `index` of the section (in Composition.sections) the line is sung in."
    )
    before: str = strawberry_django.field(description="The line's words before the edit.")
    after: str = strawberry_django.field(description="Its words after.")
    syllables_before: int = strawberry_django.field(description="Syllables of the line before the edit.")
    syllables_after: int = strawberry_django.field(description="Syllables of the line after the edit.")
    created_at: datetime = strawberry_django.field(description="When the edit was made.")

    @strawberry_django.field(only=["line_index"], description="The line's index (LyricLine.index).")
    @loaded_only
    def line(self, root: models.LyricsLineEdit) -> int:
        return root.line_index

    @strawberry_django.field(only=["section_name"], description="The line's section: verse, chorus...")
    @loaded_only
    def section(self, root: models.LyricsLineEdit) -> str:
        return root.section_name

    @strawberry_django.field(only=["fit"], description="What happened to the line's notes.")
    @loaded_only
    def fit(self, root: models.LyricsLineEdit) -> LyricsFit:
        return LyricsFit(root.fit)

    @strawberry_django.field(
        select_related=["editor"], description="Who made the edit (null for an anonymous owner)."
    )
    def editor(self, root: models.LyricsLineEdit) -> str | None:
        return root.editor.get_username() if root.editor else None

    @strawberry_django.field(select_related=["draft"], description="The draft the edit made.")
    def draft_number(self, root: models.LyricsLineEdit) -> int:
        return root.draft.number

    @strawberry_django.field(
        select_related=["version"],
        description="The composition version that keeps what it was before the edit.",
    )
    def version_number(self, root: models.LyricsLineEdit) -> int | None:
        return root.version.number if root.version else None


class CompositionFields:
    lyrics: LyricsType | None = strawberry_django.field(description="The lyrics stage's result.")
    lyrics_drafts: list[LyricsDraftType] = strawberry_django.field(
        description="Every text the lyrics had, newest (current) first; final versions are marked."
    )
    lyrics_edits: list[LyricsLineEditType] = strawberry_django.field(
        description="The history of line edits, newest first."
    )


def _changing(info: Info, composition_id: strawberry.ID, change: Callable[[Composition], T]) -> T:
    """Run `change` on the caller's own composition, with the schema's typed errors."""
    from schema.root import composition_for_change  # the schema imports this module

    composition = composition_for_change(info, composition_id)
    try:
        return change(composition)
    except services.LyricsConflict as error:
        raise Conflict(error.message, field=error.field) from None
    except InputError as error:
        raise as_graphql_error(error) from None


class MutationFields:
    @strawberry_django.mutation(
        description="Change the words of one lyrics line (your own composition). The words are fitted to "
        "the line's notes (notes merged or split when the syllable count changes), the LRC file follows, "
        "and only the voice and the master are made again. Keeps a version and a history entry. Refused "
        "(CONFLICT) while the lyrics are final.",
        extensions=[HasScope(COMPOSE)],
    )
    def edit_lyrics_line(
        self,
        info: Info,
        composition_id: CompositionId,
        line: Annotated[int, strawberry.argument(description="The line's index (lyrics.lines.index).")],
        text: Annotated[
            str, strawberry.argument(description="The new words: one line, at most 200 characters.")
        ],
        repeats: Annotated[
            bool,
            strawberry.argument(
                description="Also change every line with the same words in a section of the same name "
                "(a chorus that comes back)."
            ),
        ] = False,
    ) -> CompositionRef:
        return _changing(
            info,
            composition_id,
            lambda c: services.lyrics_line_edit(
                c, line=line, text=text, repeats=repeats, caller=caller(info)
            ),
        )

    @strawberry_django.mutation(
        description="Mark the current lyrics draft as the final version: line edits are then refused "
        "until reopenLyrics. Finalizing final lyrics again changes nothing.",
        extensions=[HasScope(COMPOSE)],
    )
    def finalize_lyrics(self, info: Info, composition_id: CompositionId) -> CompositionRef:
        return _changing(info, composition_id, lambda c: services.lyrics_finalize(c, caller=caller(info)))

    @strawberry_django.mutation(
        description="Open final lyrics for editing again: a new draft with the same words; the final "
        "version stays in lyricsDrafts.",
        extensions=[HasScope(COMPOSE)],
    )
    def reopen_lyrics(self, info: Info, composition_id: CompositionId) -> CompositionRef:
        return _changing(info, composition_id, lambda c: services.lyrics_reopen(c, caller=caller(info)))


class CreateInputFields:
    """The lyrics stage's part of CreateCompositionInput."""

    lyrics: str | None = strawberry.field(
        default=None,
        description="Your own lyrics (at most 5000 characters), fitted to the melody; null writes them.",
    )


class UpdateInputFields:
    """The lyrics stage's part of UpdateCompositionInput."""

    lyrics: str | None = strawberry.field(
        default=None, description="Your own lyrics (at most 5000 characters), fitted to the melody."
    )


# Typical list lengths for the query cost (schema/security/cost.py).
LIST_SIZES = {"Lyrics.lines": 20}
