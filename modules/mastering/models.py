from django.conf import settings
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
    ceiling_dbtp = models.FloatField(default=-1.0, help_text="the true-peak ceiling aimed under")
    stem_gain_db = models.FloatField(
        default=0.0,
        help_text="headroom gain common to every stem file (<= 0): the stems times 10^(-this/20) "
        "sum to the mix before its limiter",
    )
    preset = models.CharField(max_length=80, blank=True, default="", help_text="the preset applied")
    settings = models.JSONField(
        default=dict, blank=True, help_text="what was applied: the preset's values and the reference used"
    )
    report = models.JSONField(
        default=dict, blank=True, help_text="each target against its measure, and the reference match"
    )
    wav = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    flac = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    mp3 = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")
    midi = models.ForeignKey(Artifact, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.integrated_lufs:.1f} LUFS"


class MasteringPreset(models.Model):
    """A user's named mastering settings (see presets.PresetValues for what each value does)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastering_presets"
    )
    name = models.CharField(max_length=60)
    target_lufs = models.FloatField()
    ceiling_dbtp = models.FloatField(default=-1.0)
    eq_tilt_db_per_octave = models.FloatField(default=0.0)
    stereo_width = models.FloatField(default=1.0)
    compression_ratio = models.FloatField(default=2.0)
    compression_threshold_db = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="mastering_preset_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


def reference_path(instance: "MasteringReference", filename: str) -> str:
    return f"references/mastering/{instance.owner_id}/{filename}"


class MasteringReference(models.Model):
    """An uploaded track whose loudness and spectral balance a master can match. The file is
    private: stored through Django storage, never served."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastering_references"
    )
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to=reference_path, max_length=300)
    sha256 = models.CharField(max_length=64, help_text="of the uploaded bytes")
    format = models.CharField(max_length=8, help_text="WAV, FLAC, OGG or MP3, read from the bytes")
    size_bytes = models.PositiveIntegerField()
    duration_seconds = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    integrated_lufs = models.FloatField()
    true_peak_dbtp = models.FloatField()
    band_levels = models.JSONField(
        default=list,
        help_text="dB per third-octave band (tone.BAND_CENTRES), null past Nyquist",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
