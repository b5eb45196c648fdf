"""The core's GraphQL types: Composition's own fields, stages, artifacts, context, input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Prefetch
from strawberry import relay
from strawberry.federation.schema_directives import Shareable
from strawberry.scalars import JSON

from schema.context import caller
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import models, services
from .artifacts import artifact_url
from .selectors import composition_mine


@strawberry.enum(description="Where the composition is in its making.")
class CompositionStatus(Enum):
    QUEUED = strawberry.enum_value(
        "QUEUED", description="Stored and waiting for a worker; no stage has started yet."
    )
    RUNNING = strawberry.enum_value("RUNNING", description="Being made: its stages are running.")
    SUCCEEDED = strawberry.enum_value(
        "SUCCEEDED", description="Final: every stage that applies finished; its elements and files are ready."
    )
    FAILED = strawberry.enum_value(
        "FAILED",
        description="Final: a stage failed (`error` says which and why). regenerateStage or "
        "updateComposition can run it again.",
    )
    CANCELLED = strawberry.enum_value("CANCELLED", description="Final: stopped by cancelComposition.")


@strawberry.enum(description="Who may read a composition; only its owner may ever change it.")
class CompositionVisibility(Enum):
    PRIVATE = strawberry.enum_value(
        "PRIVATE",
        description="The default: only the owner and the users it is shared with (shareComposition) "
        "may read it.",
    )
    PUBLIC = strawberry.enum_value(
        "PUBLIC",
        description="Anyone may read it, anonymous callers too, and it is listed in publicCompositions.",
    )


@strawberry.enum(description="Where a stage is.")
class StageStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Waiting for the stages it needs, or for a worker."
    )
    RUNNING = strawberry.enum_value("RUNNING", description="Running now; `progress` and `message` move.")
    SUCCEEDED = strawberry.enum_value(
        "SUCCEEDED", description="Done: its element is stored (`reused` says whether it was recomputed)."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Failed after its retries (`error` says why); the composition fails with it."
    )
    SKIPPED = strawberry.enum_value(
        "SKIPPED", description="Not needed for this composition, e.g. lyrics and voice of an instrumental."
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED",
        description="Stopped or never run: the composition was cancelled or an earlier stage failed.",
    )


# Shareable: the core and the stage subgraphs that make files (arrangement, voice, mastering) all
# resolve Artifact fields.
@strawberry_django.type(
    models.Artifact, name="Artifact", description="A file made for a composition.", directives=[Shareable()]
)
class ArtifactType:
    kind: str = strawberry_django.field(
        description="What the file is: midi, audio (the master in each format, the sung vocals), stem "
        "(one rendered layer, FLAC), lyrics (timed LRC) or sheet (the whole composition as JSON)."
    )
    name: str = strawberry_django.field(
        description="File name, unique among a composition's current files, e.g. master.mp3, "
        "layer-bass.mid, stem-drums.flac, vocal-sung.flac, lyrics.lrc or composition.json."
    )
    stage: str = strawberry_django.field(description="The stage that wrote it, e.g. mastering.")
    mime_type: str = strawberry_django.field(
        description="Media type: audio/midi, audio/wav, audio/flac, audio/mpeg, application/json or "
        "application/x-lrc."
    )
    size_bytes: int = strawberry_django.field(description="Size of the file in bytes.")
    duration_seconds: float | None = strawberry_django.field(
        description="Length in seconds for audio and MIDI; null for files without one (lyrics, sheet)."
    )

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
    name: str = strawberry_django.field(
        description="The stage: mood, genre, arrangement, lyrics, voice or mastering."
    )
    position: int = strawberry_django.field(
        description="0-based place in the pipeline order (stages of one level may run at the same time)."
    )
    progress: float = strawberry_django.field(description="0 to 1; 1 once the stage is done or skipped.")
    message: str = strawberry_django.field(
        description="The latest progress message, e.g. a retry notice; may be empty."
    )
    error: str = strawberry_django.field(description="Why the stage failed; empty unless FAILED.")
    attempts: int = strawberry_django.field(
        description="Times its computation was started, retries and reruns included; 0 if it never ran."
    )
    seed: int | None = strawberry_django.field(
        description="The stage's own seed in its latest run, derived from the composition's seed unless "
        "regenerateStage gave one; null until it first runs."
    )
    input_hash: str = strawberry_django.field(description="Hash of exactly what the stage read.")
    reused: bool = strawberry_django.field(description="True when the result was reused, not recomputed.")
    started_at: datetime | None = strawberry_django.field(
        description="When its latest computation started; null if it was never computed here (pending, "
        "skipped, or reused from an identical earlier composition)."
    )
    finished_at: datetime | None = strawberry_django.field(
        description="When it last succeeded, failed or was skipped; null if it never has."
    )

    @strawberry_django.field(only=["status"], description="Where the stage is.")
    @loaded_only
    def status(self, root: models.StageRun) -> StageStatus:
        return StageStatus(root.status)


@strawberry.type(
    description="Where a context value came from: prompt, input, genre, mood, seed, default, profile "
    "(your preference profile, applied only where the prompt and inputs left the choice open), "
    "voice_profile (measured from a voice profile) or reference (measured from a reference track you "
    "uploaded)."
)
class ContextSource:
    field: str = strawberry.field(
        description="The context value, by its stored snake_case name: mood, energy, genres, tempo, "
        "instruments, loudness_target, key, scale, lyrics, vocal_style, vocal_range, vocal_formant_shift "
        "or seed."
    )
    source: str = strawberry.field(
        description="prompt (read from the prompt), input (given by you), genre or mood (a default of "
        "the genre blend or the mood), seed (chosen by the seeded generator), default (a fixed default), "
        "profile (your preference profile) or voice_profile (measured from a voice profile's recordings)."
    )


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


@strawberry.type(
    name="GenreShare",
    description="A genre and its weight in a blend (weights sum to 1).",
    directives=[Shareable()],  # in the core's context and in the genre subgraph's blend
)
class GenreShare:
    name: str = strawberry.field(description="The genre's name, as listed by the `genres` query.")
    weight: float = strawberry.field(description="Its share of the blend, 0 to 1.")


@strawberry.type(
    name="CompositionContext",
    description="The shared context every stage reads and enriches. A value is null (or empty) until "
    "the stage that sets it has run.",
)
class CompositionContextType:
    mood: str | None = strawberry.field(description="The mood's name (mood stage).")
    valence: float | None = strawberry.field(
        description="The mood's valence, -1 (sad, dark) to 1 (happy, bright) (mood stage)."
    )
    energy: float | None = strawberry.field(description="0 (calm) to 1 (intense) (mood stage).")
    genres: list[GenreShare] = strawberry.field(
        description="The genre blend, heaviest first; weights sum to 1 (genre stage)."
    )
    key: str | None = strawberry.field(
        description="The tonic as a note name: C, C#, D, ... B, sharps only (arrangement stage)."
    )
    scale: str | None = strawberry.field(
        description="major, minor, dorian, phrygian, lydian, mixolydian or harmonic_minor "
        "(arrangement stage)."
    )
    tempo: float | None = strawberry.field(
        description="Beats (quarter notes) per minute: your `tempo` input once the arrangement stage "
        "has applied it, else a number of bpm the prompt states, else the genre's."
    )
    time_signature: list[int] = strawberry.field(description="[beats per bar, beat unit], e.g. [4, 4].")
    instruments: list[str] = strawberry.field(
        description="The instruments the genre blend suggests, in its order (genre stage)."
    )
    vocal_style: str | None = strawberry.field(
        description="The voice that sings, e.g. soprano or tenor (voice stage); null for an instrumental."
    )
    vocal_range: list[int] | None = strawberry.field(
        description="[lowest, highest] MIDI note of the voice (voice stage); null for an instrumental."
    )
    vocal_formant_shift: float | None = strawberry.field(
        description="Ratio applied to the singer's formants by a voice profile (null: the singer's own)."
    )
    loudness_target: float | None = strawberry.field(
        description="Integrated loudness the master aims at, in LUFS: the genre blend's until the "
        "mastering stage sets it to the target it used (a preset's or a reference's, else the genre's, "
        "leaned by your profile; see `sources`)."
    )
    total_beats: float = strawberry.field(
        description="Length of the song in beats; 0 until the arrangement stage has run."
    )
    sources: list[ContextSource] = strawberry.field(
        description="Where each value came from, ordered by field name."
    )
    priors: list[ContextPrior] = strawberry.field(
        description="Leanings from your preference profile the composition started with; shown to "
        "the owner only (preferences are private), empty for anyone else who may read it."
    )

    @classmethod
    def from_stored(cls, data: dict[str, Any], *, owner: bool) -> CompositionContextType:
        """From the stored JSON directly: rebuilding the whole context (notes, lyrics...) to show
        these few fields costs far more than the fields themselves. The priors (the owner's
        preference profile) only for the owner."""
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
            vocal_formant_shift=data.get("vocal_formant_shift"),
            loudness_target=data.get("loudness_target"),
            total_beats=data.get("total_beats", 0.0),
            sources=[ContextSource(field=k, source=v) for k, v in sorted(data.get("sources", {}).items())],
            priors=[ContextPrior.from_stored(k, v) for k, v in sorted((data.get("priors") or {}).items())]
            if owner
            else [],
        )


@strawberry_django.type(models.Version, name="Version", description="What a composition was before a change.")
class VersionType:
    number: int = strawberry_django.field(description="1 for the first version kept, then up by one.")
    reason: str = strawberry_django.field(
        description="The change that replaced it, e.g. 'regenerate mood with seed 42'."
    )
    created_at: datetime = strawberry_django.field(description="When it was kept (just before the change).")
    elements: JSONObject = strawberry_django.field(
        description="Each stage's element as it was: stage name -> model name -> its stored rows, "
        "with snake_case keys."
    )
    artifacts: list[ArtifactType] = strawberry_django.field(
        description="The files the composition had then; their links keep working."
    )

    @strawberry_django.field(
        only=["context", "composition__owner_id", "composition__anonymous_session"],
        select_related=["composition"],
        description="The composition context as it was (its priors for the owner only).",
    )
    @loaded_only
    def context(self, root: models.Version, info: strawberry.Info) -> CompositionContextType:
        return CompositionContextType.from_stored(
            root.context, owner=composition_mine(caller(info), root.composition)
        )


class CompositionFields:
    """The core's fields of `Composition`; the schema package adds the modules' fields."""

    prompt: str = strawberry_django.field(description="What was asked for, as given (trimmed).")
    seed: int = strawberry_django.field(
        description="0 to 2147483647. The same prompt, inputs and seed give the same notes, words and "
        "audio; each stage derives its own seed from it."
    )
    duration_seconds: int = strawberry_django.field(
        description="The requested length in seconds, 15 to 240; the arrangement rounds it to whole "
        "bars (see master.durationSeconds for the rendered length)."
    )
    instrumental: bool = strawberry_django.field(
        description="True: no lyrics and no voice (those stages are SKIPPED)."
    )
    error: str = strawberry_django.field(description="Why the composition failed; empty unless FAILED.")
    created_at: datetime = strawberry_django.field(description="When it was created.")
    finished_at: datetime | None = strawberry_django.field(
        description="When it reached SUCCEEDED, FAILED or CANCELLED; null while queued or running."
    )
    last_seq: int = strawberry_django.field(description="Sequence number of the latest progress event.")
    stages: list[StageRunType] = strawberry_django.field(
        description="Every stage of the pipeline, in pipeline order (by `position`)."
    )

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

    @strawberry_django.field(only=["status"], description="Where the composition is in its making.")
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

    @strawberry_django.field(
        only=["context", "owner_id", "anonymous_session"],
        description="The shared composition context and its sources (its priors for the owner only).",
    )
    @loaded_only
    def context(self, root: models.Composition, info: strawberry.Info) -> CompositionContextType:
        return CompositionContextType.from_stored(root.context, owner=composition_mine(caller(info), root))


class CreateInputFields:
    """The core's part of CreateCompositionInput; each stage module adds its own inputs
    (`types.CreateInputFields`), and schema.root merges them into one input type."""

    prompt: str = strawberry.field(
        description="What you want, in words, e.g. 'uplifting electronic music with dreamy vocals'; "
        "1 to 2000 characters. Mood, genres and voice are read from it unless given below."
    )
    seed: int | None = strawberry.field(
        default=None, description="0 to 2147483647, for a reproducible result; null picks one at random."
    )
    duration_seconds: int = strawberry.field(default=60, description="Length in seconds, 15 to 240.")
    instrumental: bool = strawberry.field(default=False, description="True: no lyrics and no voice.")


class UpdateInputFields:
    """The core's part of UpdateCompositionInput (the stage modules add theirs)."""

    duration_seconds: int | None = strawberry.field(
        default=None, description="New length in seconds, 15 to 240."
    )
    instrumental: bool | None = strawberry.field(
        default=None, description="True: no lyrics and no voice; false brings them back."
    )


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
        description='A context field (tempo, key, genres...), or "inputs.x", "sources.x", "priors.x" '
        "(priors for the owner only)."
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


__all__ = ["ArtifactType", "CompositionFields", "CreateInputFields", "UpdateInputFields", "relay"]


# Typical list lengths for the query cost (schema/security/cost.py).
LIST_SIZES = {
    "Composition.stages": 6,  # one run per pipeline stage
    "Composition.artifacts": 20,  # master (WAV, FLAC, MP3, MIDI), stems, one MIDI per layer
}
