"""The core's GraphQL types: Composition's own fields, stages, artifacts, context, input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Prefetch
from strawberry import relay

from schema.context import caller
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import models
from .artifacts import artifact_url
from .selectors import composition_mine


@strawberry.enum(description="Where the composition is in its making.")
class CompositionStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="Who may read a composition; only its owner may ever change it.")
class CompositionVisibility(Enum):
    PRIVATE = "PRIVATE"
    PUBLIC = "PUBLIC"


@strawberry.enum(description="Where a stage is.")
class StageStatus(Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"


@strawberry_django.type(models.Artifact, name="Artifact", description="A file made for a composition.")
class ArtifactType:
    kind: str
    name: str
    stage: str
    mime_type: str
    size_bytes: int
    duration_seconds: float | None

    @strawberry_django.field(
        only=["name"],
        description="Where to download the file: a signed link that expires (CODA_FILE_URL_SECONDS, "
        "an hour by default); query again for a fresh one.",
    )
    @loaded_only
    def url(self, root: models.Artifact) -> str:
        return artifact_url(root)


@strawberry_django.type(
    models.StageRun, name="StageRun", description="One stage of the pipeline for a composition."
)
class StageRunType:
    name: str
    position: int
    progress: float
    message: str
    error: str = strawberry_django.field(description="Why the stage failed; empty unless FAILED.")
    attempts: int
    seed: int | None
    input_hash: str = strawberry_django.field(description="Hash of exactly what the stage read.")
    reused: bool = strawberry_django.field(description="True when the result was reused, not recomputed.")
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry_django.field(only=["status"])
    @loaded_only
    def status(self, root: models.StageRun) -> StageStatus:
        return StageStatus(root.status)


@strawberry.type(
    description="Where a context value came from: prompt, input, genre, mood, seed, default or reference "
    "(measured from a reference track you uploaded)."
)
class ContextSource:
    field: str
    source: str


@strawberry.type(name="GenreShare", description="A genre and its weight in a blend (weights sum to 1).")
class GenreShare:
    name: str
    weight: float


@strawberry.type(name="CompositionContext", description="The shared context every stage reads and enriches.")
class CompositionContextType:
    mood: str | None
    valence: float | None
    energy: float | None
    genres: list[GenreShare]
    key: str | None
    scale: str | None
    tempo: float | None
    time_signature: list[int]
    instruments: list[str]
    vocal_style: str | None
    vocal_range: list[int] | None
    loudness_target: float | None
    total_beats: float
    sources: list[ContextSource]

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> CompositionContextType:
        """From the stored JSON directly: rebuilding the whole context (notes, lyrics...) to show
        these few fields costs far more than the fields themselves."""
        mood = data.get("mood") or {}
        return cls(
            mood=mood.get("name"),
            valence=mood.get("valence"),
            energy=data.get("energy"),
            genres=[GenreShare(name=g["name"], weight=g["weight"]) for g in data.get("genres", [])],
            key=data.get("key"),
            scale=data.get("scale"),
            tempo=data.get("tempo"),
            time_signature=list(data.get("time_signature", [4, 4])),
            instruments=list(data.get("instruments", [])),
            vocal_style=data.get("vocal_style"),
            vocal_range=data.get("vocal_range"),
            loudness_target=data.get("loudness_target"),
            total_beats=data.get("total_beats", 0.0),
            sources=[ContextSource(field=k, source=v) for k, v in sorted(data.get("sources", {}).items())],
        )


@strawberry_django.type(models.Version, name="Version", description="What a composition was before a change.")
class VersionType:
    number: int
    reason: str
    created_at: datetime
    elements: JSONObject = strawberry_django.field(description="Each stage's element as it was.")
    artifacts: list[ArtifactType]

    @strawberry_django.field(only=["context"])
    @loaded_only
    def context(self, root: models.Version) -> CompositionContextType:
        return CompositionContextType.from_stored(root.context)


class CompositionFields:
    """The core's fields of `Composition`; the schema package adds the modules' fields."""

    prompt: str
    seed: int
    duration_seconds: int
    instrumental: bool
    error: str = strawberry_django.field(description="Why the composition failed; empty unless FAILED.")
    created_at: datetime
    finished_at: datetime | None
    last_seq: int = strawberry_django.field(description="Sequence number of the latest progress event.")
    stages: list[StageRunType]

    @strawberry_django.field(
        prefetch_related=[
            Prefetch(
                "artifacts",
                queryset=models.Artifact.objects.filter(current=True),
                to_attr="current_artifacts",
            )
        ],
        description="The composition's current files (earlier ones stay listed in `versions`).",
    )
    def artifacts(self, root: models.Composition) -> list[ArtifactType]:
        prefetched = getattr(root, "current_artifacts", None)  # set by the optimizer's prefetch
        if prefetched is None:  # a composition loaded without it, e.g. a mutation's result
            return list(root.artifacts.filter(current=True))  # type: ignore[return-value]
        return prefetched

    versions: list[VersionType] = strawberry_django.field(
        description="Earlier states, newest first: one is kept on every regeneration or edit."
    )

    @strawberry_django.field(only=["status"])
    @loaded_only
    def status(self, root: models.Composition) -> CompositionStatus:
        return CompositionStatus(root.status)

    @strawberry_django.field(
        only=["visibility"],
        description="PRIVATE: the owner and the users it is shared with; PUBLIC: anyone may read it.",
    )
    @loaded_only
    def visibility(self, root: models.Composition) -> CompositionVisibility:
        return CompositionVisibility(root.visibility)

    @strawberry_django.field(
        only=["owner_id", "anonymous_session"],
        description="True when the caller owns it (and so may change, share or delete it).",
    )
    @loaded_only
    def owned_by_me(self, root: models.Composition, info: strawberry.Info) -> bool:
        return composition_mine(caller(info), root)

    @strawberry_django.field(
        only=["owner_id", "anonymous_session"],
        prefetch_related=["shares__user"],
        description="Usernames it is shared with (read-only); shown to the owner only, empty for others.",
    )
    def shared_with(self, root: models.Composition, info: strawberry.Info) -> list[str]:
        if not composition_mine(caller(info), root):
            return []
        return sorted(share.user.get_username() for share in root.shares.all())

    @strawberry_django.field(only=["context"], description="The shared composition context and its sources.")
    @loaded_only
    def context(self, root: models.Composition) -> CompositionContextType:
        return CompositionContextType.from_stored(root.context)


@strawberry.input(description="A genre and its weight, for blends.")
class GenreWeightInput:
    name: str
    weight: float = 1.0


@strawberry.input(description="What to compose. Only the prompt is required.")
class CreateCompositionInput:
    prompt: str
    seed: int | None = None
    duration_seconds: int = strawberry.field(default=60, description="15 to 240 seconds.")
    mood: str | None = None
    genres: list[GenreWeightInput] | None = None
    key: str | None = strawberry.field(default=None, description="Tonic, e.g. C, F# or Bb.")
    scale: str | None = strawberry.field(default=None, description="major, minor, dorian, lydian, ...")
    tempo: float | None = strawberry.field(default=None, description="Beats per minute.")
    voice: str | None = None
    lyrics: str | None = strawberry.field(default=None, description="Your own lyrics, fitted to the melody.")
    instrumental: bool = False
    genre_reference: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of your genre reference tracks (uploadGenreReference): its tempo and key "
        "steer the composition unless `tempo`, `key` or `scale` say otherwise.",
    )
    mastering_preset: str | None = strawberry.field(
        default=None,
        description="How to master: a built-in preset's name (builtInMasteringPresets) or one of "
        "your presets, by name or id. Default: the genre's loudness, nothing else changed.",
    )
    mastering_reference: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of your mastering reference tracks (uploadMasteringReference): the master "
        "matches its loudness and long-term spectral balance.",
    )


@strawberry.input(description="New values for an existing composition; unchanged stages are reused.")
class UpdateCompositionInput:
    duration_seconds: int | None = None
    mood: str | None = None
    genres: list[GenreWeightInput] | None = None
    key: str | None = None
    scale: str | None = None
    tempo: float | None = None
    voice: str | None = None
    lyrics: str | None = None
    instrumental: bool | None = None
    genre_reference: strawberry.ID | None = strawberry.field(
        default=None, description="A genre reference track of yours to steer tempo and key."
    )
    mastering_preset: str | None = strawberry.field(
        default=None,
        description="Re-master with this preset (only the mastering stage runs again). Mastering "
        "inputs are replaced together: give the reference again to keep it.",
    )
    mastering_reference: strawberry.ID | None = strawberry.field(
        default=None,
        description="Re-master matching this reference track of yours (only mastering runs again).",
    )


__all__ = ["ArtifactType", "CompositionFields", "CreateCompositionInput", "relay"]
