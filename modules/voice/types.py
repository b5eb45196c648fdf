"""The voice stage's element in GraphQL, the voice catalog, and voice profiles (types, queries and
mutations). A profile is NOT_FOUND to anyone but its owner and the users it is granted to."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.file_uploads import Upload
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.composition.gm import instrument_name
from modules.composition.stages import InputError
from modules.composition.types import ArtifactType
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import NotFound, as_graphql_error
from schema.permissions import signed_in
from schema.relay import connection
from schema.resolvers import loaded_only
from schema.scalars import NoteList

from . import models, selectors, services
from .engine import VOICES


@strawberry_django.type(
    models.VocalLine, name="VocalLine", description="The sung line: one note per syllable."
)
class VocalLineType:
    voice: str = strawberry_django.field(description="The voice that sings, one of the `voices` query.")
    source: str = strawberry_django.field(
        description="input (your `voice`), prompt (asked for in the prompt) or seed (chosen to suit the "
        "genre and mood)."
    )
    low: int = strawberry_django.field(description="Lowest MIDI note of the voice's range (60 = middle C).")
    high: int = strawberry_django.field(description="Highest MIDI note of the voice's range.")
    program: int = strawberry_django.field(
        description="General MIDI program (0-based) of the line in the MIDI files."
    )
    notes: NoteList = strawberry_django.field(
        description="The melody: one note per sung syllable, in order, inside [low, high]."
    )
    syllables: list[str] = strawberry_django.field(
        description="The syllable sung on each note: `syllables[i]` goes with `notes[i]`."
    )
    harmony: NoteList = strawberry_django.field(
        description="The harmony voice under the melody on choruses; empty when there is none."
    )
    midi: ArtifactType | None = strawberry_django.field(
        description="vocal.mid: the melody with its lyrics (and the harmony); null only if the file is gone."
    )
    voice_profile: str = strawberry_django.field(
        description="Global id of the voice profile it was sung with; empty for a catalog voice."
    )
    formant_shift: float = strawberry_django.field(
        description="Ratio applied to the singer's formants (1: the singer's own voice)."
    )

    @strawberry_django.field(
        only=["program"], description="The General MIDI instrument that renders the line."
    )
    @loaded_only
    def instrument(self, root: models.VocalLine) -> str:
        return instrument_name(root.program)


@strawberry.type(description="A voice Coda can sing with.")
class VoiceInfo:
    name: str = strawberry.field(description="The name to pass as the `voice` input.")
    low: int = strawberry.field(description="Lowest MIDI note of its comfortable range (60 = middle C).")
    high: int = strawberry.field(description="Highest MIDI note of its comfortable range.")
    description: str = strawberry.field(description="What it sounds like and its range as note names.")


class CompositionFields:
    voice: VocalLineType | None = strawberry_django.field(description="The voice stage's result.")


# --------------------------------------------------------------------------- voice profiles


@strawberry.enum(name="VoiceConsentBasis", description="Why the uploader may make a profile of this voice.")
class VoiceConsentBasis(Enum):
    SELF = strawberry.enum_value("SELF", description="The uploader is the person in the recordings.")
    PERMISSION = strawberry.enum_value(
        "PERMISSION", description="The person in the recordings gave the uploader permission."
    )


@strawberry.type(name="VoiceConsentStatement", description="The statement an uploader agrees to.")
class VoiceConsentStatement:
    version: str = strawberry.field(description="Send it back as consent.version.")
    statement: str = strawberry.field(description="Show it to the uploader; send it back word for word.")


@strawberry.input(
    name="VoiceConsentInput",
    description="The uploader's consent, required to make a voice profile: the current statement "
    "(voiceConsentStatement), agreed to, and whose voice it is.",
)
class VoiceConsentInput:
    version: str = strawberry.field(description="The version of the statement agreed to.")
    statement: str = strawberry.field(description="The statement's text, as shown to the uploader.")
    basis: VoiceConsentBasis = strawberry.field(
        description="SELF: it is your voice; PERMISSION: the speaker allowed you."
    )
    agreed: bool = strawberry.field(description="Must be true: the uploader agrees to the statement.")
    speaker_name: str | None = strawberry.field(
        default=None, description="Who the speaker is; required with PERMISSION."
    )


@strawberry.type(name="VoiceConsent", description="The consent given when the profile was made.")
class VoiceConsent:
    version: str = strawberry.field(description="The version of the statement agreed to.")
    statement: str = strawberry.field(description="The statement agreed to, word for word.")
    basis: VoiceConsentBasis = strawberry.field(description="Whose voice it is, as the uploader declared.")
    speaker_name: str = strawberry.field(description="The speaker, when it is not the uploader.")
    given_at: datetime = strawberry.field(description="When the uploader agreed (the upload).")


@strawberry.type(name="PitchRange", description="A pitch range in Hz.")
class PitchRange:
    low: float = strawberry.field(description="5th percentile of the voiced pitch, Hz.")
    high: float = strawberry.field(description="95th percentile of the voiced pitch, Hz.")


@strawberry.type(name="Formants", description="The first three formants in Hz (medians over voiced frames).")
class Formants:
    f1: float = strawberry.field(description="First formant (mouth opening), Hz.")
    f2: float = strawberry.field(description="Second formant (tongue front/back), Hz.")
    f3: float = strawberry.field(description="Third formant (vocal tract length, lips), Hz.")


@strawberry.type(name="VoiceAnalysis", description="A voice as measured from its recordings (Praat).")
class VoiceAnalysis:
    median_pitch_hz: float = strawberry.field(description="Median pitch of the voiced frames.")
    pitch_range_hz: PitchRange = strawberry.field(description="Where most of the voice's pitch lies.")
    formants_hz: Formants = strawberry.field(description="F1-F3, the resonances of the vocal tract.")
    spectral_centroid_hz: float = strawberry.field(
        description="Magnitude-weighted mean frequency up to 8 kHz: the voice's brightness."
    )
    voiced_ratio: float = strawberry.field(
        description="Share of the recordings' frames with a pitch, 0 to 1."
    )
    sample_seconds: float = strawberry.field(description="Length of all the recordings together.")


@strawberry.type(
    name="VoiceProfileSinging",
    description="How Coda sings with the profile: the register from its pitch, the catalog singer "
    "whose speech is reshaped, and the formant shift from its formants.",
)
class VoiceProfileSinging:
    low: int = strawberry.field(description="Lowest note of the register (MIDI).")
    high: int = strawberry.field(description="Highest note of the register (MIDI).")
    singer: str = strawberry.field(description="The catalog voice whose speaker says the words.")
    formant_shift: float = strawberry.field(description="Ratio applied to that singer's formants.")


@strawberry_django.type(
    models.VoiceSample, name="VoiceSample", description="An uploaded recording (never downloadable)."
)
class VoiceSampleType:
    name: str = strawberry_django.field(description="The uploaded file's name.")
    format: str = strawberry_django.field(description="WAV or FLAC, read from the file's bytes.")
    size_bytes: int = strawberry_django.field(description="Size of the file as uploaded.")
    sample_rate: int = strawberry_django.field(description="Samples per second.")
    duration_seconds: float = strawberry_django.field(description="Length of the recording.")


@strawberry_django.type(
    models.VoiceProfileGrant, name="VoiceProfileGrant", description="A user the owner let sing with it."
)
class VoiceProfileGrantType:
    created_at: datetime = strawberry_django.field(description="When it was granted.")
    revoked_at: datetime | None = strawberry_django.field(description="When it was revoked; null if active.")

    @strawberry_django.field(
        select_related=["user"], only=["user__username"], description="The user it was granted to."
    )
    def username(self, root: models.VoiceProfileGrant) -> str:
        return root.user.get_username()


@strawberry_django.type(
    models.VoiceUse, name="VoiceProfileUse", description="One time the profile sang: who, where, when."
)
class VoiceProfileUseType:
    role: str = strawberry_django.field(description="melody or harmony.")
    reused: bool = strawberry_django.field(description="An identical earlier result was reused.")
    created_at: datetime = strawberry_django.field(description="When it sang.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Uses are shown to the profile's owner only: whoever else asks sees none."""
        user_id = caller(info).user_id
        return queryset.filter(profile__owner_id=user_id) if user_id is not None else queryset.none()

    @strawberry_django.field(
        select_related=["user"], only=["user__username"], description="Who composed; null if anonymous."
    )
    def username(self, root: models.VoiceUse) -> str | None:
        return root.user.get_username() if root.user is not None else None

    @strawberry_django.field(only=["composition_id_used"], description="The Composition's global id.")
    @loaded_only
    def composition_id(self, root: models.VoiceUse) -> strawberry.ID:
        return strawberry.ID(relay.to_base64("Composition", root.composition_id_used))


ANALYSIS_COLUMNS = [
    "median_pitch_hz",
    "pitch_low_hz",
    "pitch_high_hz",
    "f1_hz",
    "f2_hz",
    "f3_hz",
    "spectral_centroid_hz",
    "voiced_ratio",
    "sample_seconds",
    "voiced_seconds",
]
CONSENT_COLUMNS = [
    "owner_id",
    "consent_version",
    "consent_statement",
    "consent_basis",
    "consent_speaker_name",
    "consent_given_at",
]


def _is_owner(info: Info, root: models.VoiceProfile) -> bool:
    return caller(info).user_id == root.owner_id


@strawberry_django.type(
    models.VoiceProfile,
    name="VoiceProfile",
    description="A voice measured from uploaded recordings; sing with it through the voiceProfile "
    "input of createComposition. Private to its owner and the users they grant it to.",
    directives=[Key(fields="id")],
)
class VoiceProfileType(Entity, relay.Node):
    name: str = strawberry_django.field(description="The name its owner gave it.")
    created_at: datetime = strawberry_django.field(description="When it was made.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out profiles (node, lists) hands out the caller's own and granted ones only."""
        return selectors.profiles_usable_by(caller(info).user, queryset)

    @strawberry_django.field(select_related=["owner"], only=["owner__username"], description="Its owner.")
    def owner(self, root: models.VoiceProfile) -> str:
        return root.owner.get_username()

    @strawberry_django.field(only=["owner_id"], description="True when you own it.")
    @loaded_only
    def owned_by_me(self, root: models.VoiceProfile, info: Info) -> bool:
        return _is_owner(info, root)

    @strawberry_django.field(only=ANALYSIS_COLUMNS, description="The voice as measured.")
    @loaded_only
    def analysis(self, root: models.VoiceProfile) -> VoiceAnalysis:
        return VoiceAnalysis(
            median_pitch_hz=root.median_pitch_hz,
            pitch_range_hz=PitchRange(low=root.pitch_low_hz, high=root.pitch_high_hz),
            formants_hz=Formants(f1=root.f1_hz, f2=root.f2_hz, f3=root.f3_hz),
            spectral_centroid_hz=root.spectral_centroid_hz,
            voiced_ratio=root.voiced_ratio,
            sample_seconds=root.sample_seconds,
        )

    @strawberry_django.field(only=ANALYSIS_COLUMNS, description="How Coda sings with it.")
    @loaded_only
    def singing(self, root: models.VoiceProfile) -> VoiceProfileSinging:
        singer = services.profile_singer(root)
        return VoiceProfileSinging(
            low=singer.low, high=singer.high, singer=singer.voice, formant_shift=singer.formant_shift
        )

    @strawberry_django.field(only=CONSENT_COLUMNS, description="The consent given at upload; owner only.")
    @loaded_only
    def consent(self, root: models.VoiceProfile, info: Info) -> VoiceConsent | None:
        if not _is_owner(info, root):
            return None
        return VoiceConsent(
            version=root.consent_version,
            statement=root.consent_statement,
            basis=VoiceConsentBasis(root.consent_basis),
            speaker_name=root.consent_speaker_name,
            given_at=root.consent_given_at,
        )

    @strawberry_django.field(
        only=["owner_id"],
        prefetch_related=["samples"],
        description="The recordings it was measured from; owner only (empty for others).",
    )
    def samples(self, root: models.VoiceProfile, info: Info) -> list[VoiceSampleType]:
        return list(root.samples.all()) if _is_owner(info, root) else []  # type: ignore[return-value]

    @strawberry_django.field(
        only=["owner_id"],
        prefetch_related=[
            Prefetch("grants", queryset=models.VoiceProfileGrant.objects.select_related("user"))
        ],
        description="Everyone it was granted to, revoked grants included; owner only (empty for others).",
    )
    def grants(self, root: models.VoiceProfile, info: Info) -> list[VoiceProfileGrantType]:
        return list(root.grants.all()) if _is_owner(info, root) else []  # type: ignore[return-value]

    uses: DjangoListConnection[VoiceProfileUseType] = connection(
        description="Every time it sang (who, which composition, when), newest first; owner only "
        "(empty for others)."
    )


def _not_found(global_id: strawberry.ID) -> NotFound:
    return NotFound(f"no voice profile with id {global_id}", id=str(global_id))


class QueryFields:
    @strawberry.field(description="The voices Coda knows, for the `voice` input, highest first.")
    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(name=v.name, low=v.low, high=v.high, description=v.description) for v in VOICES.values()
        ]

    @strawberry_django.field(
        description="Your voice profiles and those granted to you, oldest first.",
    )
    def voice_profiles(self, info: Info) -> list[VoiceProfileType]:
        return selectors.profiles_usable_by(signed_in(info, READ, "use voice profiles").user).order_by(
            "created_at", "id"
        )  # type: ignore[return-value]

    @strawberry.field(description="The consent statement createVoiceProfile asks the uploader to agree to.")
    def voice_consent_statement(self) -> VoiceConsentStatement:
        version = services.CONSENT_VERSION
        return VoiceConsentStatement(version=version, statement=services.CONSENT_STATEMENTS[version])


class MutationFields:
    @strawberry_django.mutation(
        description="Make a voice profile from recordings of one voice (1 to 5 WAV or FLAC files, each "
        "1 s to 2 min and sampled at 16 kHz or more, 3 min together; a GraphQL multipart request). Needs "
        "the uploader's consent. "
        "The voice is measured at once: pitch, range, formants, brightness."
    )
    def create_voice_profile(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="A name for the profile, unique among yours.")],
        samples: Annotated[
            list[Upload], strawberry.argument(description="Recordings of the voice, speaking or singing.")
        ],
        consent: Annotated[VoiceConsentInput, strawberry.argument(description="The uploader's consent.")],
    ) -> VoiceProfileType:
        owner = signed_in(info, COMPOSE, "use voice profiles").user
        given = services.Consent(
            version=consent.version.strip(),
            statement=consent.statement,
            basis=consent.basis.value,
            agreed=consent.agreed,
            speaker_name=consent.speaker_name or "",
        )
        try:
            return services.voice_profile_create(  # type: ignore[return-value]
                owner, name, samples, given, caller_key=caller(info).client_key
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Let another user sing with your voice profile (they never get its recordings)."
    )
    def grant_voice_profile(
        self,
        info: Info,
        profile_id: Annotated[strawberry.ID, strawberry.argument(description="The VoiceProfile's id.")],
        username: Annotated[str, strawberry.argument(description="The user's username.")],
    ) -> VoiceProfileType:
        owner = signed_in(info, COMPOSE, "use voice profiles").user
        try:
            return services.voice_profile_grant(
                owner, global_pk(profile_id, "VoiceProfile", "profileId"), username
            )  # type: ignore[return-value]
        except models.VoiceProfile.DoesNotExist:
            raise _not_found(profile_id) from None
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Take back a grant: the user can no longer sing with the profile (what they made stays)."
    )
    def revoke_voice_profile_grant(
        self,
        info: Info,
        profile_id: Annotated[strawberry.ID, strawberry.argument(description="The VoiceProfile's id.")],
        username: Annotated[str, strawberry.argument(description="The user's username.")],
    ) -> VoiceProfileType:
        owner = signed_in(info, COMPOSE, "use voice profiles").user
        try:
            return services.voice_profile_revoke(
                owner, global_pk(profile_id, "VoiceProfile", "profileId"), username
            )  # type: ignore[return-value]
        except models.VoiceProfile.DoesNotExist:
            raise _not_found(profile_id) from None
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Delete your voice profile, its grants and its recordings; returns its id."
    )
    def delete_voice_profile(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The VoiceProfile's id.")],
    ) -> strawberry.ID:
        owner = signed_in(info, COMPOSE, "use voice profiles").user
        try:
            services.voice_profile_delete(owner, global_pk(id, "VoiceProfile", "id"))
        except models.VoiceProfile.DoesNotExist:
            raise _not_found(id) from None
        return id


class CreateInputFields:
    """The voice stage's part of CreateCompositionInput."""

    voice: str | None = strawberry.field(
        default=None,
        description="A voice from the `voices` query; null reads it from the prompt or picks one.",
    )
    voice_profile: strawberry.ID | None = strawberry.field(
        default=None,
        description="Sing with a voice profile (yours or one granted to you): its pitch sets the register "
        "and its formants the colour of the voice; `voice` is then not used.",
    )


class UpdateInputFields:
    """The voice stage's part of UpdateCompositionInput."""

    voice: str | None = strawberry.field(default=None, description="A voice from the `voices` query.")
    voice_profile: strawberry.ID | None = strawberry.field(
        default=None, description="Sing with this voice profile from now on (yours or one granted to you)."
    )
