from django.db import models

from modules.composition.models import Composition


class Mood(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="mood")
    name = models.CharField(max_length=32)
    valence = models.FloatField(help_text="-1 sad/dark .. 1 happy/bright")
    energy = models.FloatField(help_text="0 calm .. 1 intense")
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16)

    def __str__(self) -> str:
        return self.name
