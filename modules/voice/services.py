"""Writes on voice profiles: made from uploaded recordings with the uploader's consent, granted to
other users and revoked by their owner, deleted with their recordings; and what singing with one
means (`profile_singer`) and who may (`profile_for_use`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from modules.accounts.quotas import kept_room, kept_room_check
from modules.composition.stages import InputError, InputNotFound
from modules.composition.uploads import AudioUpload, read_audio_upload

from .engine import VOICES
from .models import ConsentBasis, VoiceProfile, VoiceProfileGrant, VoiceSample
from .profiles import ANALYSIS_VERSION, NotEnoughVoice, ProfileSinger, VoiceAnalysis, analyse, singer_for
from .selectors import profile_pk, profiles_owned_by, profiles_usable_by
from .singing import SUNG_FORMANTS

MAX_NAME = 100
MAX_PROFILES = 10  # per user: each keeps up to MAX_SAMPLES recordings
MAX_SAMPLES = 5
SAMPLE_MIN_SECONDS = 1.0
SAMPLE_MAX_SECONDS = 120.0
MAX_TOTAL_SECONDS = 180.0
SAMPLE_FORMATS = ("WAV", "FLAC")
# Formants (F3 up to ~3.5 kHz, the tracker's ceiling up to 7 kHz) and the spectral centroid (to
# 8 kHz) need this many samples a second; a 1 kHz recording would give a voice made of aliasing.
SAMPLE_MIN_RATE = 16_000
MAX_SPEAKER_NAME = 200

# The statement an uploader agrees to, by version. A client shows the current one
# (`voiceConsentStatement`) and sends back its version and its text, word for word; both are
# stored with the profile. A new wording is a new version; old versions stay for the record.
CONSENT_STATEMENTS = {
    "2026-11": (
        "I am the person speaking or singing in these recordings, or that person has given me "
        "permission to make a voice profile from them. I agree that Coda stores the recordings "
        "privately, measures the voice in them, and sings compositions in a voice moved towards "
        "it, for me and for the users I grant it to, and that every use is logged and shown to me. "
        "I can revoke grants and delete the profile and its recordings at any time."
    ),
}
CONSENT_VERSION = "2026-11"  # the one new profiles must agree to


@dataclass(frozen=True)
class Consent:
    """What the uploader declared at upload (VoiceConsentInput)."""

    version: str
    statement: str
    basis: str  # ConsentBasis
    agreed: bool
    speaker_name: str = ""


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _check_consent(consent: Consent) -> Consent:
    if not consent.agreed:
        raise InputError("consent.agreed", "consent is required: set agreed to true to accept the statement")
    if consent.version != CONSENT_VERSION:
        raise InputError(
            "consent.version",
            f"consent statement version {consent.version!r} is not the current one; agree to version "
            f"{CONSENT_VERSION!r} (query voiceConsentStatement)",
        )
    if _words(consent.statement) != _words(CONSENT_STATEMENTS[CONSENT_VERSION]):
        raise InputError(
            "consent.statement",
            f"the statement does not match the text of version {CONSENT_VERSION!r}; send the text of "
            "voiceConsentStatement, word for word",
        )
    if consent.basis not in ConsentBasis.values:
        raise InputError("consent.basis", f"basis must be one of {ConsentBasis.values}")
    speaker = _words(consent.speaker_name)
    if consent.basis == ConsentBasis.PERMISSION and not speaker:
        raise InputError("consent.speakerName", "name the speaker who gave you permission")
    if len(speaker) > MAX_SPEAKER_NAME:
        raise InputError("consent.speakerName", f"speakerName is longer than {MAX_SPEAKER_NAME} characters")
    return Consent(CONSENT_VERSION, CONSENT_STATEMENTS[CONSENT_VERSION], consent.basis, True, speaker)


def _check_name(owner: Any, name: str, caller_key: str) -> str:
    from modules.moderation.services import moderation_check

    name = _words(name or "")
    if not name:
        raise InputError("name", "name must not be empty")
    if len(name) > MAX_NAME:
        raise InputError("name", f"name is {len(name)} characters long; the limit is {MAX_NAME}")
    if profiles_owned_by(owner).filter(name__iexact=name).exists():
        raise InputError("name", f"you already have a voice profile named {name!r}")
    moderation_check(name, field="name", caller_key=caller_key)
    return name


def _read_samples(uploads: Sequence[Any]) -> list[AudioUpload]:
    if not uploads:
        raise InputError("samples", "upload at least one recording of the voice (WAV or FLAC)")
    if len(uploads) > MAX_SAMPLES:
        raise InputError("samples", f"{len(uploads)} recordings; at most {MAX_SAMPLES} are accepted")
    audio = [
        read_audio_upload(
            upload,
            field=f"samples.{index}",
            formats=SAMPLE_FORMATS,
            min_seconds=SAMPLE_MIN_SECONDS,
            max_seconds=SAMPLE_MAX_SECONDS,
            min_sample_rate=SAMPLE_MIN_RATE,
        )
        for index, upload in enumerate(uploads)
    ]
    total = sum(a.duration_seconds for a in audio)
    if total > MAX_TOTAL_SECONDS:
        raise InputError(
            "samples",
            f"the recordings last {total:.1f} s together; at most {MAX_TOTAL_SECONDS:g} s are accepted",
        )
    return audio


def _file_name(index: int, audio: AudioUpload) -> str:
    return f"sample-{index + 1}.{audio.format.lower()}"


def voice_profile_create(
    owner: Any, name: str, uploads: Sequence[Any], consent: Consent, caller_key: str = ""
) -> VoiceProfile:
    """Check the consent, read and measure the recordings, and store the profile with them.

    Consent is checked before a byte of audio is read: nothing is analysed or kept without it."""
    if owner is None:
        raise InputError("samples", "sign in to make a voice profile")
    given = _check_consent(consent)
    name = _check_name(owner, name, caller_key)
    kept = profiles_owned_by(owner)
    kept_room_check(kept, MAX_PROFILES, field="samples", noun="voice profiles")  # before reading audio
    audio = _read_samples(uploads)
    try:
        analysis = analyse([(a.mono, a.sample_rate) for a in audio])
    except NotEnoughVoice as error:
        raise InputError("samples", str(error)) from None
    saved: list[VoiceSample] = []
    try:
        with kept_room(owner.pk, kept, MAX_PROFILES, field="samples", noun="voice profiles"):
            profile = VoiceProfile.objects.create(
                owner=owner,
                name=name,
                median_pitch_hz=analysis.median_pitch_hz,
                pitch_low_hz=analysis.pitch_low_hz,
                pitch_high_hz=analysis.pitch_high_hz,
                f1_hz=analysis.f1_hz,
                f2_hz=analysis.f2_hz,
                f3_hz=analysis.f3_hz,
                spectral_centroid_hz=analysis.spectral_centroid_hz,
                voiced_ratio=analysis.voiced_ratio,
                sample_seconds=analysis.sample_seconds,
                voiced_seconds=analysis.voiced_seconds,
                analysis_version=ANALYSIS_VERSION,
                consent_version=given.version,
                consent_statement=given.statement,
                consent_basis=given.basis,
                consent_speaker_name=given.speaker_name,
                consent_given_at=timezone.now(),
            )
            for index, item in enumerate(audio):
                sample = VoiceSample(
                    profile=profile,
                    name=(item.name or "")[:200],
                    format=item.format,
                    mime_type=item.mime_type,
                    size_bytes=len(item.data),
                    sample_rate=item.sample_rate,
                    duration_seconds=round(item.duration_seconds, 3),
                    sha256=hashlib.sha256(item.data).hexdigest(),
                )
                sample.file.save(_file_name(index, item), ContentFile(item.data), save=False)
                saved.append(sample)
                sample.save()
    except BaseException:
        for sample in saved:  # the rows rolled back: take their files with them
            sample.file.storage.delete(sample.file.name)
        raise
    return profile


def _user_named(username: str) -> Any:
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise InputError("username", f"no user named {username!r}")
    return user


def _own_profile(owner: Any, pk: int) -> VoiceProfile:
    """The owner's profile; VoiceProfile.DoesNotExist for anyone else's (NOT_FOUND to the API)."""
    return profiles_owned_by(owner).get(pk=pk)


def voice_profile_grant(owner: Any, pk: int, username: str) -> VoiceProfile:
    """Let another user sing with the profile (they never get its recordings). Granting twice
    keeps the one grant."""
    profile = _own_profile(owner, pk)
    user = _user_named(username)
    if user.pk == profile.owner_id:
        raise InputError("username", "you own this voice profile; grant it to someone else")
    with transaction.atomic():
        if not profile.grants.select_for_update().filter(user=user, revoked_at__isnull=True).exists():
            VoiceProfileGrant.objects.create(profile=profile, user=user)
    return profile


def voice_profile_revoke(owner: Any, pk: int, username: str) -> VoiceProfile:
    """Take a grant back: the user can no longer start or edit compositions with the profile, and a
    pipeline of theirs that has not sung yet fails instead of singing. What was sung stays theirs."""
    profile = _own_profile(owner, pk)
    user = _user_named(username)
    revoked = profile.grants.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        raise InputError("username", f"{user.get_username()} has no grant to this voice profile")
    return profile


def voice_profile_delete(owner: Any, pk: int) -> None:
    """Delete the profile, its grants and its recordings (from storage too). The use log stays,
    without the link."""
    _own_profile(owner, pk).delete()


# --------------------------------------------------------------------------- singing with a profile


def profile_analysis(profile: VoiceProfile) -> VoiceAnalysis:
    return VoiceAnalysis(
        median_pitch_hz=profile.median_pitch_hz,
        pitch_low_hz=profile.pitch_low_hz,
        pitch_high_hz=profile.pitch_high_hz,
        f1_hz=profile.f1_hz,
        f2_hz=profile.f2_hz,
        f3_hz=profile.f3_hz,
        spectral_centroid_hz=profile.spectral_centroid_hz,
        voiced_ratio=profile.voiced_ratio,
        sample_seconds=profile.sample_seconds,
        voiced_seconds=profile.voiced_seconds,
    )


def profile_singer(profile: VoiceProfile) -> ProfileSinger:
    """The register, the catalog singer and the formant shift that sing like the profile."""
    voices = {name: (spec.low, spec.high) for name, spec in VOICES.items()}
    return singer_for(profile_analysis(profile), voices, SUNG_FORMANTS)


def profile_for_use(user: Any, global_id: Any, field: str = "voiceProfile") -> VoiceProfile:
    """The profile `user` may sing with (theirs, or granted and not revoked); InputNotFound for
    anything else, whether it exists or not."""
    pk = profile_pk(global_id)
    profile = profiles_usable_by(user).filter(pk=pk).first() if pk is not None else None
    if profile is None:
        raise InputNotFound(field, f"no voice profile with id {global_id}")
    return profile
