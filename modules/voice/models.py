"""The sung line of a composition, the voice profiles people upload, and the log of every voice used."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from modules.composition.models import Artifact, Composition


class VocalLine(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="voice")
    voice = models.CharField(max_length=32)
    source = models.CharField(max_length=16)
    low = models.PositiveSmallIntegerField()
    high = models.PositiveSmallIntegerField()
    program = models.PositiveSmallIntegerField()
    notes = models.JSONField(default=list, help_text="[[pitch, start_beat, duration_beats, velocity], ...]")
    syllables = models.JSONField(default=list, help_text="the sung syllable of each note")
    harmony = models.JSONField(default=list, blank=True, help_text="the harmony voice's notes (choruses)")
    midi = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Plain values, not a link: an element is copied between compositions as data (elements.py).
    voice_profile = models.CharField(
        max_length=100, blank=True, default="", help_text="Global id of the voice profile sung with, if any"
    )
    formant_shift = models.FloatField(default=1.0, help_text="Ratio applied to the singer's formants")

    def __str__(self) -> str:
        return self.voice


class ConsentBasis(models.TextChoices):
    SELF = "SELF", "the uploader is the speaker"
    PERMISSION = "PERMISSION", "the speaker gave the uploader permission"


class VoiceProfile(models.Model):
    """A voice measured from recordings its owner uploaded, with the consent they gave.

    Private to its owner, who may let other users sing with it (VoiceProfileGrant). The analysis
    is measured once, at upload (profiles.analyse), and never changes: a composition that sang
    with a profile is addressed by the profile's id alone."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_profiles"
    )
    name = models.CharField(max_length=100)
    # The analysis (profiles.VoiceAnalysis)
    median_pitch_hz = models.FloatField()
    pitch_low_hz = models.FloatField(help_text="5th percentile of the pitch")
    pitch_high_hz = models.FloatField(help_text="95th percentile of the pitch")
    f1_hz = models.FloatField()
    f2_hz = models.FloatField()
    f3_hz = models.FloatField()
    spectral_centroid_hz = models.FloatField()
    voiced_ratio = models.FloatField()
    sample_seconds = models.FloatField()
    voiced_seconds = models.FloatField()
    analysis_version = models.CharField(max_length=16)
    # Consent, as given at upload
    consent_version = models.CharField(max_length=32)
    consent_statement = models.TextField(help_text="The statement the uploader agreed to, word for word")
    consent_basis = models.CharField(max_length=16, choices=ConsentBasis.choices)
    consent_speaker_name = models.CharField(
        max_length=200, blank=True, default="", help_text="Who the speaker is, when it is not the uploader"
    )
    consent_given_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner_id})"


def sample_path(instance: VoiceSample, filename: str) -> str:
    """Unguessable, and never under a public URL: storage is not served (README: Files)."""
    return f"voice-profiles/{instance.profile.owner_id}/{secrets.token_hex(16)}/{filename}"


class VoiceSample(models.Model):
    """One uploaded recording of a profile, stored through Django's storage; no URL is ever given."""

    profile = models.ForeignKey(VoiceProfile, on_delete=models.CASCADE, related_name="samples")
    file = models.FileField(upload_to=sample_path, max_length=300)
    name = models.CharField(max_length=200, help_text="The uploaded file's name")
    format = models.CharField(max_length=8, help_text="WAV or FLAC, read from the bytes")
    mime_type = models.CharField(max_length=32)
    size_bytes = models.PositiveBigIntegerField()
    sample_rate = models.PositiveIntegerField()
    duration_seconds = models.FloatField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["profile", "id"]

    def __str__(self) -> str:
        return self.name


class VoiceProfileGrant(models.Model):
    """The owner let `user` sing with the profile, until `revoked_at`. Revoked grants are kept."""

    profile = models.ForeignKey(VoiceProfile, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_profile_grants"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["profile", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_voice_profile_grant",
            )
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"profile {self.profile_id} -> user {self.user_id} ({state})"


class VoiceUse(models.Model):
    """Every time a voice sings in a composition: who asked, which composition, when.

    Kept even when the composition is deleted (the composition id stays as a number), so the
    owner of a voice can always see who used it. `profile` is set when a voice profile sang
    (`voice` is then the catalog singer whose speaker said the words).
    """

    voice = models.CharField(max_length=32, db_index=True)
    profile = models.ForeignKey(
        VoiceProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="uses"
    )
    role = models.CharField(max_length=16, help_text="melody or harmony")
    composition_id_used = models.BigIntegerField(help_text="The composition it sang in")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="voice_uses"
    )
    reused = models.BooleanField(default=False, help_text="An earlier identical result was reused")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.voice} in #{self.composition_id_used} by {self.user_id or 'anonymous'}"


@receiver(post_delete, sender=VoiceSample)
def _sample_file_delete(sender: type[VoiceSample], instance: VoiceSample, **kwargs: object) -> None:
    """A sample's recording leaves storage with its row, however the row goes (a deleted profile,
    a deleted account), once the deletion is committed."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
