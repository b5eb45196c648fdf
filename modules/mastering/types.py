from __future__ import annotations

import strawberry_django

from modules.composition.types import ArtifactType

from . import models


@strawberry_django.type(models.Master, name="Master", description="The rendered and mastered audio.")
class MasterType:
    target_lufs: float
    loudness_before: float = strawberry_django.field(description="Integrated LUFS of the raw mix.")
    integrated_lufs: float
    gain_db: float
    sample_peak_dbfs: float
    true_peak_dbtp: float
    duration_seconds: float
    sample_rate: int
    wav: ArtifactType | None
    flac: ArtifactType | None
    mp3: ArtifactType | None
    midi: ArtifactType | None


class CompositionFields:
    master: MasterType | None = strawberry_django.field(description="The mastering stage's result.")
