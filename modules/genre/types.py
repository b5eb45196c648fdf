from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.file_uploads import Upload
from strawberry.types import Info

from modules.accounts.caller import COMPOSE, READ
from modules.composition.stages import InputError
from modules.composition.types import GenreShare
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import NotFound, as_graphql_error
from schema.permissions import signed_in
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import models, selectors, services
from .catalog import GENRES


@strawberry.type(
    name="GenreReferenceUse",
    description="The genre reference track that steered a composition's tempo and key.",
)
class GenreReferenceUse:
    reference_id: strawberry.ID = strawberry.field(description="The GenreReference's id.")
    name: str = strawberry.field(description="The reference's name when it was used.")
    tempo: float = strawberry.field(
        description="Its tempo as detected (bpm); the composition's may be an octave from it, folded "
        "into the genre blend's range."
    )
    key: str = strawberry.field(description="Its key's tonic as detected.")
    scale: str = strawberry.field(description="Its mode as detected: major or minor.")


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
        description="The genre blend's own loudness target, in LUFS (e.g. -14): the master's unless a "
        "mastering preset or reference sets one or your profile leans it (see master.targetLufs)."
    )
    programs: JSONObject = strawberry_django.field(
        description="Layer (bass, chords, pad, lead) -> the General MIDI program (0-based) that plays it."
    )

    @strawberry_django.field(
        only=["reference"], description="The genre reference that steered tempo and key; null if none."
    )
    @loaded_only
    def reference(self, root: models.GenreBlend) -> GenreReferenceUse | None:
        used = root.reference
        if not used:
            return None
        return GenreReferenceUse(
            reference_id=strawberry.ID(relay.to_base64("GenreReference", used["id"])),
            name=used["name"],
            tempo=used["tempo"],
            key=used["key"],
            scale=used["scale"],
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


@strawberry_django.type(
    models.GenreReference,
    name="GenreReference",
    description="A track you uploaded whose tempo and key steer compositions (`genreReference`). "
    "The file is kept privately and never served.",
    directives=[Key(fields="id")],
)
class GenreReferenceType(Entity, relay.Node):
    name: str = strawberry_django.field(description="Its name (the file's, unless you gave one).")
    format: str = strawberry_django.field(description="WAV, FLAC, OGG or MP3, as read from the bytes.")
    size_bytes: int = strawberry_django.field(description="The file's size.")
    duration_seconds: float = strawberry_django.field(description="Its length.")
    sample_rate: int = strawberry_django.field(description="Its sample rate, Hz.")
    tempo: float = strawberry_django.field(
        description="Beats per minute: the slope of the beat tracker's beats (like any beat tracker, "
        "it can read a slow song at double tempo)."
    )
    beat_count: int = strawberry_django.field(description="Beats the tracker found.")
    beat_jitter_ms: float = strawberry_django.field(
        description="RMS distance of those beats from a steady grid; tens of ms: the tracker did not lock."
    )
    key: str = strawberry_django.field(description="The key's tonic, e.g. D or F#.")
    scale: str = strawberry_django.field(description="major or minor.")
    key_margin: float = strawberry_django.field(
        description="How far the key scored ahead of the runner-up (0: a coin toss; the scores are "
        "profile correlation plus tonic fit, up to 2)."
    )
    runner_up: str = strawberry_django.field(description="The next most likely key, e.g. F major.")
    chroma: list[float] = strawberry_django.field(
        description="Its pitch-class profile, C first, loudest = 1."
    )
    created_at: datetime = strawberry_django.field(description="When it was uploaded.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out references (node, lists) hands out the caller's own only."""
        return queryset.filter(owner_id=caller(info).user_id) if caller(info).user_id else queryset.none()


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

    @strawberry_django.field(description="Your genre reference tracks, newest first.")
    def genre_references(self, info: Info) -> list[GenreReferenceType]:
        return selectors.references_of(int(signed_in(info, READ, "see your references").user_id))  # type: ignore[return-value]


class MutationFields:
    @strawberry_django.mutation(
        description="Upload a track whose tempo and key should steer compositions (GraphQL multipart "
        "request): WAV, FLAC, OGG or MP3, read by its content, at least 5 s with a steady beat, "
        "within CODA_MAX_UPLOAD_BYTES and CODA_MAX_UPLOAD_SECONDS. Tempo and key are measured now; "
        "give its id as `genreReference`."
    )
    def upload_genre_reference(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The audio file.")],
        name: Annotated[str | None, strawberry.argument(description="A name; default: the file's.")] = None,
    ) -> GenreReferenceType:
        owner = int(signed_in(info, COMPOSE, "upload references").user_id)
        try:
            return services.genre_reference_upload(  # type: ignore[return-value]
                owner, file, name, caller_key=caller(info).client_key
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Delete one of your genre references and its file; compositions it steered keep "
        "what it measured. Returns its id."
    )
    def delete_genre_reference(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="One of your references.")],
    ) -> strawberry.ID:
        owner = int(signed_in(info, COMPOSE, "delete references").user_id)
        pk = global_pk(id, "GenreReference")
        try:
            services.genre_reference_delete(owner, pk)
        except models.GenreReference.DoesNotExist:
            raise NotFound(f"no genre reference with id {id}", id=str(id)) from None
        return id


@strawberry.input(description="A genre and its weight, for blends.")
class GenreWeightInput:
    name: str = strawberry.field(description="A genre from the `genres` query.")
    weight: float = strawberry.field(
        default=1.0,
        description="Relative weight, above 0 and at most 100; the blend's weights are scaled to sum to 1.",
    )


class CreateInputFields:
    """The genre stage's part of CreateCompositionInput (it sets the tempo too)."""

    genres: list[GenreWeightInput] | None = strawberry.field(
        default=None, description="Up to 3 genres to blend; null reads them from the prompt (or the mood)."
    )
    tempo: float | None = strawberry.field(
        default=None,
        description="Beats per minute, 40 to 220; null takes a number the prompt states ('at 80bpm', "
        "'90 beats per minute'; kept within 40 to 220), else the genre blend's.",
    )
    genre_reference: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of your genre reference tracks (uploadGenreReference): its tempo and key "
        "steer the composition unless `tempo`, `key` or `scale` say otherwise.",
    )


class UpdateInputFields:
    """The genre stage's part of UpdateCompositionInput."""

    genres: list[GenreWeightInput] | None = strawberry.field(
        default=None, description="Up to 3 genres to blend, replacing the blend."
    )
    tempo: float | None = strawberry.field(default=None, description="Beats per minute, 40 to 220.")
    genre_reference: strawberry.ID | None = strawberry.field(
        default=None, description="A genre reference track of yours to steer tempo and key."
    )
