from django.conf import settings
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
    reference = models.JSONField(
        null=True,
        blank=True,
        help_text="the genre reference that steered tempo and key: {id, name, tempo, key, scale}",
    )

    def __str__(self) -> str:
        return self.primary


def reference_path(instance: "GenreReference", filename: str) -> str:
    return f"references/genre/{instance.owner_id}/{filename}"


class GenreReference(models.Model):
    """An uploaded track whose tempo and key can steer compositions. The file is private: stored
    through Django storage, never served."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="genre_references"
    )
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to=reference_path, max_length=300)
    sha256 = models.CharField(max_length=64, help_text="of the uploaded bytes")
    format = models.CharField(max_length=8, help_text="WAV, FLAC, OGG or MP3, read from the bytes")
    size_bytes = models.PositiveIntegerField()
    duration_seconds = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    tempo = models.FloatField(help_text="bpm, from the beat tracker")
    beat_count = models.PositiveIntegerField()
    beat_jitter_ms = models.FloatField(help_text="RMS distance of the beats from a steady grid")
    key = models.CharField(max_length=2)
    scale = models.CharField(max_length=8, help_text="major or minor")
    key_score = models.FloatField()
    key_margin = models.FloatField(help_text="lead of the key over the runner-up (0 = a coin toss)")
    runner_up = models.CharField(max_length=12)
    chroma = models.JSONField(default=list, help_text="pitch-class profile, C first, loudest = 1")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
