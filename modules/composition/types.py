"""The core's GraphQL types: Composition's own fields, stages, artifacts, context, input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from modules.accounts.caller import COMPOSE, READ
from schema.context import caller
from schema.errors import NotFound
from schema.permissions import HasScope
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import models, services
from .artifacts import artifact_url
from .selectors import composition_mine, compositions_visible_to
from .stages import InputError


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
    description="Where a context value came from: prompt, input, genre, mood, seed, default, or profile "
    "(your preference profile, applied only where the prompt and inputs left the choice open)."
)
class ContextSource:
    field: str
    source: str


@strawberry.type(description="A value and its weight: a genre in a preference, a voice in a prior...")
class WeightedChoice:
    value: str = strawberry.field(description="A genre, mood, key, mode, voice or GM program number.")
    weight: float = strawberry.field(description="-1 (avoided) .. 1 (preferred); 0 is neutral.")


@strawberry.type(
    description="A leaning the composition started with, for a choice its prompt might leave open; the "
    "stages applied it only where the prompt and inputs did (see `sources`)."
)
class ContextPrior:
    choice: str = strawberry.field(
        description="moods, genres, tempo, keys, scales, voices, loudness or programs."
    )
    source: str = strawberry.field(description="Where the prior came from, e.g. profile.")
    weights: list[WeightedChoice] = strawberry.field(
        description="For a categorical choice: how much each value is preferred or avoided."
    )
    value: float | None = strawberry.field(
        description="For tempo (bpm) or loudness (LUFS): the preferred value."
    )
    strength: float | None = strawberry.field(
        description="For tempo or loudness: how far (0 .. 1) it pulls an open value towards `value`."
    )

    @classmethod
    def from_stored(cls, choice: str, data: dict[str, Any]) -> ContextPrior:
        return cls(
            choice=choice,
            source=data.get("source", ""),
            weights=[WeightedChoice(value=k, weight=w) for k, w in (data.get("weights") or {}).items()],
            value=data.get("value"),
            strength=data.get("strength"),
        )


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
    priors: list[ContextPrior] = strawberry.field(
        description="Leanings from your preference profile the composition started with."
    )

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
            priors=[ContextPrior.from_stored(k, v) for k, v in sorted((data.get("priors") or {}).items())],
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


@strawberry.type(name="ElementChange", description="An element that differs between two states, and where.")
class ElementChangeType:
    element: str = strawberry.field(description="The stage whose element it is: mood, genre, arrangement...")
    fields: list[str] = strawberry.field(
        description='"Model.field" entries that differ, e.g. "Layer.notes"; "Model.rows" when the number '
        "of rows does."
    )


@strawberry.type(name="ContextChange", description="A context field that differs between two states.")
class ContextChangeType:
    field: str = strawberry.field(
        description='A context field (tempo, key, genres...), or "inputs.x", "sources.x", "priors.x".'
    )
    before: JSON | None = strawberry.field(description="Its value in `a`; null when absent or not compact.")
    after: JSON | None = strawberry.field(description="Its value in `b`; null when absent or not compact.")
    compact: bool = strawberry.field(
        description="False when the values are too long to show (sections, chords, lyrics...)."
    )


@strawberry.enum(name="FileChangeKind", description="How a file differs between two states.")
class FileChangeKind(Enum):
    ADDED = strawberry.enum_value("ADDED", description="Only `b` has a file of this name.")
    REMOVED = strawberry.enum_value("REMOVED", description="Only `a` has a file of this name.")
    CHANGED = strawberry.enum_value("CHANGED", description="Both have one, and they are different files.")


@strawberry.type(name="FileChange", description="A file that differs between two states, by name.")
class FileChangeType:
    name: str = strawberry.field(description="The file's name, e.g. master.wav.")
    change: FileChangeKind = strawberry.field(description="Added, removed or changed.")


@strawberry.type(name="VersionDiff", description="What changed from version `a` to version `b`.")
class VersionDiffType:
    a: int = strawberry.field(description="The earlier side: a version number.")
    b: int | None = strawberry.field(description="The later side: a version number, or null for now.")
    elements: list[ElementChangeType] = strawberry.field(description="Elements that differ, pipeline order.")
    context: list[ContextChangeType] = strawberry.field(description="Context fields that differ, by name.")
    files: list[FileChangeType] = strawberry.field(description="Files that differ, by name.")

    @classmethod
    def of(cls, diff: services.VersionDiff) -> VersionDiffType:
        return cls(
            a=diff.a,
            b=diff.b,
            elements=[ElementChangeType(element=e.element, fields=e.fields) for e in diff.elements],
            context=[
                ContextChangeType(field=c.field, before=c.before, after=c.after, compact=c.compact)
                for c in diff.context
            ],
            files=[FileChangeType(name=f.name, change=FileChangeKind(f.change)) for f in diff.files],
        )


def _root() -> Any:
    """schema.root, which builds the Composition type from this module's parts: imported when a
    resolver runs (by then it is loaded), never at import time."""
    from schema import root

    return root


class QueryFields:
    @strawberry_django.field(
        description="What changed between two versions of a composition you may read: elements (and "
        "their fields), context fields and files. Leave `b` out to compare `a` with the composition now.",
        extensions=[HasScope(READ)],
    )
    def version_diff(
        self,
        info: Info,
        composition_id: Annotated[strawberry.ID, strawberry.argument(description="The composition.")],
        a: Annotated[int, strawberry.argument(description="The earlier version's number.")],
        b: Annotated[
            int | None, strawberry.argument(description="The later version's number; null: as it is now.")
        ] = None,
    ) -> VersionDiffType:
        root = _root()
        pk = root.composition_pk(composition_id)
        composition = compositions_visible_to(caller(info)).filter(pk=pk).first()
        if composition is None:
            raise NotFound(f"no composition with id {composition_id}", id=str(composition_id))
        try:
            return VersionDiffType.of(services.version_diff(composition, a, b))
        except InputError as error:
            raise root.as_graphql_error(error) from None


class MutationFields:
    @strawberry_django.mutation(
        description="Make an earlier version current again without recomputing anything: its elements, "
        "context and files come back as stored. What the composition was is kept as a new version first.",
        extensions=[HasScope(COMPOSE)],
    )
    def restore_version(
        self,
        info: Info,
        composition_id: Annotated[strawberry.ID, strawberry.argument(description="Your composition.")],
        number: Annotated[int, strawberry.argument(description="The version to restore.")],
    ) -> Annotated[Composition, strawberry.lazy("schema.root")]:  # noqa: F821
        root = _root()
        try:
            return services.version_restore(root.composition_for_change(info, composition_id), number)
        except InputError as error:
            raise root.as_graphql_error(error) from None


__all__ = ["ArtifactType", "CompositionFields", "CreateCompositionInput", "relay"]
