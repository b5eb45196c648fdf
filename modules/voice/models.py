from django.conf import settings
from django.db import models

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

    def __str__(self) -> str:
        return self.voice


class VoiceUse(models.Model):
    """Every time a voice sings in a composition: who asked, which composition, when.

    Kept even when the composition is deleted (the composition id stays as a number), so the
    owner of a voice can always see who used it.
    """

    voice = models.CharField(max_length=32, db_index=True)
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
