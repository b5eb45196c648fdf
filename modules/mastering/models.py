from django.db import models

from modules.composition.models import Artifact, Composition


class Master(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="master")
    target_lufs = models.FloatField()
    loudness_before = models.FloatField(help_text="integrated LUFS of the raw mix")
    integrated_lufs = models.FloatField()
    gain_db = models.FloatField()
    sample_peak_dbfs = models.FloatField()
    true_peak_dbtp = models.FloatField()
    duration_seconds = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    wav = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    flac = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    mp3 = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    midi = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.integrated_lufs:.1f} LUFS"
