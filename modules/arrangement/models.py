from django.db import models

from modules.composition.models import Artifact, Composition


class Section(models.Model):
    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="sections")
    index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=32)
    start_bar = models.PositiveIntegerField()
    bars = models.PositiveIntegerField()
    energy = models.FloatField()
    vocal = models.BooleanField(default=False)
    chords = models.JSONField(default=list, help_text="chord symbols in order")

    class Meta:
        ordering = ["composition", "index"]

    def __str__(self) -> str:
        return f"{self.index}:{self.name}"


class Layer(models.Model):
    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="layers")
    index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=32)
    role = models.CharField(max_length=16)
    program = models.PositiveSmallIntegerField()
    channel = models.PositiveSmallIntegerField()
    is_drum = models.BooleanField(default=False)
    volume = models.PositiveSmallIntegerField(default=100)
    pan = models.PositiveSmallIntegerField(default=64)
    note_count = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, help_text="[[pitch, start_beat, duration_beats, velocity], ...]")
    automation = models.JSONField(
        default=list, blank=True, help_text='[{"parameter", "points": [[beat, 0..1]]}]'
    )
    midi = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["composition", "index"]

    def __str__(self) -> str:
        return self.name
