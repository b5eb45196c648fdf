from django.db import models

from modules.composition.models import Composition


class GenreBlend(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="genre")
    primary = models.CharField(max_length=32)
    weights = models.JSONField(default=list, help_text='[{"name": ..., "weight": ...}], heaviest first')
    source = models.CharField(max_length=16)
    tempo = models.FloatField()
    swing = models.FloatField(default=0.0)
    density = models.FloatField(default=0.5)
    loudness_target = models.FloatField()
    programs = models.JSONField(default=dict, help_text="role -> GM program")

    def __str__(self) -> str:
        return self.primary
