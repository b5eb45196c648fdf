"""Mastering in GraphQL: the Master element with its targets against its measures, presets (built
in and your own), and mastering reference tracks.

Presets and references belong to the signed-in user who made them: another user's is NOT_FOUND
(and `node` gives null), never FORBIDDEN, so ids reveal nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
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
from modules.composition.types import ArtifactType
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import NotFound, as_graphql_error
from schema.permissions import signed_in
from schema.resolvers import loaded_only

from . import models, selectors, services
from .presets import BUILT_IN, PresetValues
from .tone import BAND_CENTRES


@strawberry.type(
    name="MasteringMeasure",
    description="One target of a master against what the finished master measures on its audio.",
)
class MasteringMeasure:
    name: str = strawberry.field(
        description="integrated_loudness, true_peak (the ceiling), eq_tilt (the spectrum's change, "
        "a line fitted over 50 Hz-12.5 kHz), stereo_width (side-to-mid change), compression_ratio "
        "or crest_factor (peak to RMS of the master; `before`: of the mix). compression_ratio is "
        "the effective ratio of the finished master, read on its audio: over the 50 ms RMS frames "
        "whose input (the mix after EQ and width, times the gain) is past the threshold's 6 dB "
        "knee, how many dB the input rises above the threshold for each dB the master does (a "
        "least-squares line through the threshold). It counts the compressor and the limiter "
        "together, so it reads above the ratio set where the limiter works (loud targets)."
    )
    unit: str = strawberry.field(description="LUFS, dBTP, dB/octave, x, :1 or dB.")
    target: float | None = strawberry.field(
        description="What was asked for; null where nothing was (the crest factor; the tilt when "
        "a reference sets the EQ)."
    )
    before: float | None = strawberry.field(
        description="The mix before mastering, where that means something (loudness, crest "
        "factor; the tilt and width are changes, so 0 and 1)."
    )
    achieved: float | None = strawberry.field(
        description="Measured on the master; null when it cannot be told (a ratio when under 2 % "
        "of the song reached the threshold, or when the master barely rises above the threshold "
        "however loud the input, past 20:1, the limiter holding it down; a width for a mono mix)."
    )


@strawberry.type(name="SpectrumBand", description="One third-octave band of two or three spectra.")
class SpectrumBand:
    frequency: float = strawberry.field(description="Band centre, Hz.")
    reference_db: float | None = strawberry.field(
        description="The reference's level, dB from its mean over the compared bands."
    )
    before_db: float | None = strawberry.field(description="The mix before mastering, likewise.")
    after_db: float | None = strawberry.field(description="The master, likewise.")
    eq_gain_db: float = strawberry.field(description="The matching EQ's gain in this band.")


@strawberry.enum(
    name="ReferenceMatchEq",
    description="The EQ a reference match shipped. The refined match comes first; when the master "
    "it gives is not nearer the reference than the mix was, the next is tried, in this order.",
)
class ReferenceMatchEq(Enum):
    MATCHED = strawberry.enum_value(
        "matched", description="The matching curve refined once on the mix as it leaves it (two passes)."
    )
    ONE_PASS = strawberry.enum_value("one_pass", description="The first pass of the matching curve alone.")
    GENTLE = strawberry.enum_value("gentle", description="Half of the first pass's gains, band by band.")
    NONE = strawberry.enum_value(
        "none", description="No EQ: no curve brought the master nearer the reference; loudness still matched."
    )


@strawberry.type(name="ReferenceMatchAttempt", description="One EQ a reference match tried, measured.")
class ReferenceMatchAttempt:
    eq: ReferenceMatchEq = strawberry.field(description="The EQ tried.")
    distance_after_db: float = strawberry.field(
        description="The finished master's spectral distance to the reference with it (as distanceAfterDb)."
    )


@strawberry.type(
    name="ReferenceMatch",
    description="How the master matched a reference track's loudness and long-term spectrum.",
)
class ReferenceMatch:
    reference_id: strawberry.ID = strawberry.field(description="The MasteringReference's id.")
    name: str = strawberry.field(description="The reference's name when it was used.")
    reference_lufs: float = strawberry.field(description="The reference's integrated loudness.")
    distance_before_db: float = strawberry.field(
        description="RMS dB difference, over third-octave bands, of the mix's spectrum and the "
        "reference's (each centred on its mean) before mastering."
    )
    distance_after_db: float = strawberry.field(description="The same for the finished master.")
    shrank: bool = strawberry.field(
        description="Whether distanceAfterDb is below distanceBeforeDb. A master ships with a matching "
        "EQ only when it is; when no EQ brings it there, the master has no EQ and this can be false "
        "(the dynamics alone moved the spectrum)."
    )
    eq: ReferenceMatchEq = strawberry.field(description="The EQ the master carries (`attempts` says why).")
    attempts: list[ReferenceMatchAttempt] = strawberry.field(
        description="Every EQ tried, in order, with the distance it gave; the last is `eq`."
    )
    bands: list[SpectrumBand] = strawberry.field(
        description="The three spectra and the EQ shipped, band by band."
    )


@strawberry.type(name="MasteringPresetValues", description="What a preset sets.")
class MasteringPresetValues:
    target_lufs: float | None = strawberry.field(
        description="Integrated loudness; null: the genre's loudness target."
    )
    ceiling_dbtp: float = strawberry.field(description="True-peak ceiling.")
    eq_tilt_db_per_octave: float = strawberry.field(
        description="A straight EQ tilt through 1 kHz: + brighter, - darker."
    )
    stereo_width: float = strawberry.field(description="Side gain: 0 mono, 1 as mixed, 2 twice the side.")
    compression_ratio: float = strawberry.field(description="Bus compression ratio; 1 is off.")
    compression_threshold_db: float | None = strawberry.field(
        description="Where compression starts (50 ms RMS, dBFS); null: 9 dB under the ceiling."
    )

    @classmethod
    def of(cls, values: dict[str, Any] | PresetValues) -> MasteringPresetValues:
        data = values.to_dict() if isinstance(values, PresetValues) else values
        return cls(**{k: data.get(k) for k in PresetValues.__dataclass_fields__})


@strawberry_django.type(
    models.Master,
    name="Master",
    description="The rendered and mastered audio. Loudness is integrated loudness (ITU-R BS.1770-4) in "
    "LUFS; true peak is measured 4x oversampled.",
)
class MasterType:
    target_lufs: float = strawberry_django.field(
        description="The loudness aimed at, in LUFS: the genre blend's target (-14 when there is none)."
    )
    loudness_before: float = strawberry_django.field(
        description="Integrated loudness of the raw mix, before mastering, in LUFS."
    )
    integrated_lufs: float = strawberry_django.field(
        description="Integrated loudness of the master, in LUFS; within 0.5 LU of `targetLufs`."
    )
    gain_db: float = strawberry_django.field(
        description="Gain applied to the raw mix before the compressor and limiter, in dB."
    )
    stem_gain_db: float = strawberry_django.field(
        description="Headroom gain applied alike to every stem file (stem-<name>.flac), in dB, at "
        "most 0: 0 when every stem peaks at or below -1 dBFS with the master gain alone, else the "
        "gain that brings the loudest stem sample to -1 dBFS (heavy presets push the mix before "
        "the limiter far over full scale). The stems' sum times 10^(-stemGainDb/20) is the mix "
        "before the limiter: the gained raw mix the compressor and limiter work on."
    )
    sample_peak_dbfs: float = strawberry_django.field(
        description="Highest sample of the master, in dBFS (0 is full scale)."
    )
    true_peak_dbtp: float = strawberry_django.field(
        description="Highest true (inter-sample) peak of the master, in dBTP; at most -1."
    )
    duration_seconds: float = strawberry_django.field(description="Length of the audio, in seconds.")
    ceiling_dbtp: float = strawberry_django.field(
        description="The true-peak ceiling it was limited under, in dBTP (the preset's)."
    )
    preset: str = strawberry_django.field(
        description="The preset applied (builtInMasteringPresets, or one of yours)."
    )
    sample_rate: int = strawberry_django.field(
        description="Sample rate of the audio files, in Hz (e.g. 44100)."
    )
    wav: ArtifactType | None = strawberry_django.field(
        description="master.wav: 16-bit PCM stereo; null only if the file is gone."
    )
    flac: ArtifactType | None = strawberry_django.field(
        description="master.flac: 16-bit lossless stereo; null only if the file is gone."
    )
    mp3: ArtifactType | None = strawberry_django.field(
        description="master.mp3: constant-bitrate MP3 stereo; null only if the file is gone."
    )
    midi: ArtifactType | None = strawberry_django.field(
        description="composition.mid: every layer and voice as one Standard MIDI File, with tempo, "
        "lyrics and automation; null only if the file is gone."
    )

    @strawberry_django.field(only=["settings"], description="The preset's values as they were applied.")
    @loaded_only
    def preset_values(self, root: models.Master) -> MasteringPresetValues:
        return MasteringPresetValues.of(root.settings.get("values") or PresetValues())

    @strawberry_django.field(
        only=["report"],
        description="Every target (loudness, true peak, EQ tilt, stereo width, compression) against "
        "what the finished master measures.",
    )
    @loaded_only
    def measurements(self, root: models.Master) -> list[MasteringMeasure]:
        return [MasteringMeasure(**m) for m in (root.report or {}).get("measures", [])]

    @strawberry_django.field(
        only=["report", "settings"],
        description="The match to a mastering reference track; null when none was used.",
    )
    @loaded_only
    def reference_match(self, root: models.Master) -> ReferenceMatch | None:
        match = (root.report or {}).get("reference")
        used = (root.settings or {}).get("reference")
        if not match or not used:
            return None
        # Masters made before the guard (engine 2) shipped the refined match, whatever it gave.
        attempts = match.get("attempts") or [
            {"eq": "matched", "distance_after_db": match["distance_after_db"]}
        ]
        return ReferenceMatch(
            reference_id=strawberry.ID(relay.to_base64("MasteringReference", used["id"])),
            name=used["name"],
            reference_lufs=used["integrated_lufs"],
            distance_before_db=match["distance_before_db"],
            distance_after_db=match["distance_after_db"],
            shrank=match.get("shrank", match["distance_after_db"] < match["distance_before_db"]),
            eq=ReferenceMatchEq(match.get("eq", "matched")),
            attempts=[
                ReferenceMatchAttempt(eq=ReferenceMatchEq(a["eq"]), distance_after_db=a["distance_after_db"])
                for a in attempts
            ],
            bands=[SpectrumBand(**band) for band in match["bands"]],
        )


@strawberry.type(name="BuiltInMasteringPreset", description="A mastering preset Coda ships.")
class BuiltInMasteringPreset:
    name: str = strawberry.field(description="Give it as `masteringPreset`.")
    description: str = strawberry.field(description="What it is for.")
    values: MasteringPresetValues = strawberry.field(description="What it sets.")


@strawberry_django.type(
    models.MasteringPreset,
    name="MasteringPreset",
    description="One of your mastering presets.",
    directives=[Key(fields="id")],
)
class MasteringPresetType(Entity, relay.Node):
    name: str = strawberry_django.field(
        description="Unique among your presets; give it as `masteringPreset`."
    )
    target_lufs: float = strawberry_django.field(description="Integrated loudness.")
    ceiling_dbtp: float = strawberry_django.field(description="True-peak ceiling.")
    eq_tilt_db_per_octave: float = strawberry_django.field(
        description="A straight EQ tilt through 1 kHz: + brighter, - darker."
    )
    stereo_width: float = strawberry_django.field(
        description="Side gain: 0 mono, 1 as mixed, 2 twice the side."
    )
    compression_ratio: float = strawberry_django.field(description="Bus compression ratio; 1 is off.")
    compression_threshold_db: float | None = strawberry_django.field(
        description="Where compression starts (50 ms RMS, dBFS); null: 9 dB under the ceiling."
    )
    created_at: datetime = strawberry_django.field(description="When it was made.")
    updated_at: datetime = strawberry_django.field(description="When it last changed.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out presets (node, lists) hands out the caller's own only."""
        return queryset.filter(owner_id=caller(info).user_id) if caller(info).user_id else queryset.none()


@strawberry.type(name="SpectrumLevel", description="One third-octave band of a long-term spectrum.")
class SpectrumLevel:
    frequency: float = strawberry.field(description="Band centre, Hz.")
    level_db: float | None = strawberry.field(
        description="Band energy, dB (arbitrary zero); null past the file's Nyquist frequency."
    )


@strawberry_django.type(
    models.MasteringReference,
    name="MasteringReference",
    description="A track you uploaded for masters to match (its loudness and spectral balance). "
    "The file is kept privately and never served.",
    directives=[Key(fields="id")],
)
class MasteringReferenceType(Entity, relay.Node):
    name: str = strawberry_django.field(description="Its name (the file's, unless you gave one).")
    format: str = strawberry_django.field(description="WAV, FLAC, OGG or MP3, as read from the bytes.")
    size_bytes: int = strawberry_django.field(description="The file's size.")
    duration_seconds: float = strawberry_django.field(description="Its length.")
    sample_rate: int = strawberry_django.field(description="Its sample rate, Hz.")
    integrated_lufs: float = strawberry_django.field(description="Its integrated loudness (BS.1770).")
    true_peak_dbtp: float = strawberry_django.field(description="Its true peak (4x oversampled).")
    created_at: datetime = strawberry_django.field(description="When it was uploaded.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return queryset.filter(owner_id=caller(info).user_id) if caller(info).user_id else queryset.none()

    @strawberry_django.field(
        only=["band_levels"], description="Its long-term average spectrum in third-octave bands."
    )
    @loaded_only
    def spectrum(self, root: models.MasteringReference) -> list[SpectrumLevel]:
        return [
            SpectrumLevel(frequency=round(centre, 1), level_db=level)
            for centre, level in zip(BAND_CENTRES, root.band_levels, strict=True)
        ]


@strawberry.input(name="CreateMasteringPresetInput", description="A new mastering preset.")
class CreateMasteringPresetInput:
    name: str = strawberry.field(description="Unique among your presets, not a built-in preset's name.")
    target_lufs: float = strawberry.field(description="Integrated loudness, -30 to -7 LUFS.")
    ceiling_dbtp: float = strawberry.field(default=-1.0, description="True-peak ceiling, -6 to -0.1 dBTP.")
    eq_tilt_db_per_octave: float = strawberry.field(
        default=0.0, description="EQ tilt through 1 kHz, -3 to +3 dB/octave (+ brighter)."
    )
    stereo_width: float = strawberry.field(default=1.0, description="Side gain, 0 (mono) to 2.")
    compression_ratio: float = strawberry.field(default=2.0, description="1 (off) to 10.")
    compression_threshold_db: float | None = strawberry.field(
        default=None, description="-40 to 0 dBFS (50 ms RMS); null: 9 dB under the ceiling."
    )


@strawberry.input(
    name="UpdateMasteringPresetInput", description="New values for a preset; fields left out stay."
)
class UpdateMasteringPresetInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    target_lufs: float | None = strawberry.field(default=strawberry.UNSET, description="-30 to -7 LUFS.")
    ceiling_dbtp: float | None = strawberry.field(default=strawberry.UNSET, description="-6 to -0.1 dBTP.")
    eq_tilt_db_per_octave: float | None = strawberry.field(
        default=strawberry.UNSET, description="-3 to +3 dB/octave."
    )
    stereo_width: float | None = strawberry.field(default=strawberry.UNSET, description="0 to 2.")
    compression_ratio: float | None = strawberry.field(default=strawberry.UNSET, description="1 to 10.")
    compression_threshold_db: float | None = strawberry.field(
        default=strawberry.UNSET, description="-40 to 0 dBFS; null: 9 dB under the ceiling."
    )


VALUE_FIELDS = tuple(PresetValues.__dataclass_fields__)


def _not_found(kind: str, global_id: strawberry.ID) -> NotFound:
    return NotFound(f"no {kind} with id {global_id}", id=str(global_id))


class CompositionFields:
    master: MasterType | None = strawberry_django.field(description="The mastering stage's result.")


class QueryFields:
    @strawberry.field(description="The mastering presets Coda ships, for `masteringPreset`.")
    def built_in_mastering_presets(self) -> list[BuiltInMasteringPreset]:
        return [
            BuiltInMasteringPreset(
                name=p.name, description=p.description, values=MasteringPresetValues.of(p.values)
            )
            for p in BUILT_IN.values()
        ]

    @strawberry_django.field(description="Your mastering presets, by name.")
    def mastering_presets(self, info: Info) -> list[MasteringPresetType]:
        return selectors.presets_of(int(signed_in(info, READ, "see your presets").user_id))  # type: ignore[return-value]

    @strawberry_django.field(description="Your mastering reference tracks, newest first.")
    def mastering_references(self, info: Info) -> list[MasteringReferenceType]:
        return selectors.references_of(int(signed_in(info, READ, "see your references").user_id))  # type: ignore[return-value]


class MutationFields:
    @strawberry_django.mutation(description="Save a mastering preset of your own.")
    def create_mastering_preset(
        self,
        info: Info,
        input: Annotated[CreateMasteringPresetInput, strawberry.argument(description="Its values.")],
    ) -> MasteringPresetType:
        owner = int(signed_in(info, COMPOSE, "make presets").user_id)
        values = {name: getattr(input, name) for name in VALUE_FIELDS}
        try:
            return services.mastering_preset_create(  # type: ignore[return-value]
                owner, input.name, values, caller_key=caller(info).client_key
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Change one of your presets. Compositions already mastered with it keep the "
        "values they were mastered with; updateComposition(masteringPreset) applies the new ones."
    )
    def update_mastering_preset(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="One of your presets.")],
        input: Annotated[UpdateMasteringPresetInput, strawberry.argument(description="What to change.")],
    ) -> MasteringPresetType:
        owner = int(signed_in(info, COMPOSE, "change presets").user_id)
        values = {
            name: getattr(input, name)
            for name in VALUE_FIELDS
            if getattr(input, name) is not strawberry.UNSET
        }
        name = input.name if input.name is not strawberry.UNSET else None
        try:
            return services.mastering_preset_update(  # type: ignore[return-value]
                owner,
                global_pk(id, "MasteringPreset", "id"),
                name,
                values,
                caller_key=caller(info).client_key,
            )
        except models.MasteringPreset.DoesNotExist:
            raise _not_found("mastering preset", id) from None
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(description="Delete one of your presets; returns its id.")
    def delete_mastering_preset(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="One of your presets.")],
    ) -> strawberry.ID:
        owner = int(signed_in(info, COMPOSE, "delete presets").user_id)
        try:
            services.mastering_preset_delete(owner, global_pk(id, "MasteringPreset", "id"))
        except models.MasteringPreset.DoesNotExist:
            raise _not_found("mastering preset", id) from None
        return id

    @strawberry_django.mutation(
        description="Upload a track for masters to match (GraphQL multipart request): WAV, FLAC, OGG "
        "or MP3, read by its content, at least 3 s, within CODA_MAX_UPLOAD_BYTES and "
        "CODA_MAX_UPLOAD_SECONDS. Its loudness, true peak and spectrum are measured now; give its id "
        "as `masteringReference`."
    )
    def upload_mastering_reference(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The audio file.")],
        name: Annotated[str | None, strawberry.argument(description="A name; default: the file's.")] = None,
    ) -> MasteringReferenceType:
        owner = int(signed_in(info, COMPOSE, "upload references").user_id)
        try:
            return services.mastering_reference_upload(  # type: ignore[return-value]
                owner, file, name, caller_key=caller(info).client_key
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Delete one of your mastering references and its file; masters made with it keep "
        "what it measured. Returns its id."
    )
    def delete_mastering_reference(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="One of your references.")],
    ) -> strawberry.ID:
        owner = int(signed_in(info, COMPOSE, "delete references").user_id)
        try:
            services.mastering_reference_delete(owner, global_pk(id, "MasteringReference", "id"))
        except models.MasteringReference.DoesNotExist:
            raise _not_found("mastering reference", id) from None
        return id


class CreateInputFields:
    """The mastering stage's part of CreateCompositionInput."""

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


class UpdateInputFields:
    """The mastering stage's part of UpdateCompositionInput."""

    mastering_preset: str | None = strawberry.field(
        default=None,
        description="Re-master with this preset (only the mastering stage runs again). Mastering "
        "inputs are replaced together: give the reference again to keep it.",
    )
    mastering_reference: strawberry.ID | None = strawberry.field(
        default=None,
        description="Re-master matching this reference track of yours (only mastering runs again).",
    )
