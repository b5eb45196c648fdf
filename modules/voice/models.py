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
