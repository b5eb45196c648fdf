"""Files written by stages, through Django's storage API."""

from __future__ import annotations

from django.core.files.base import ContentFile

from .models import Artifact, Composition

MIME_TYPES = {
    "mid": "audio/midi",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "json": "application/json",
    "lrc": "application/x-lrc",
}


def artifact_save(
    composition: Composition,
    *,
    stage: str,
    kind: str,
    name: str,
    data: bytes,
    duration_seconds: float | None = None,
) -> Artifact:
    """Store `data` as the artifact `name`, replacing an earlier one of that name.

    Re-running a stage therefore replaces its files instead of piling up copies.
    """
    artifacts_delete(composition, name)
    artifact = Artifact(
        composition=composition,
        stage=stage,
        kind=kind,
        name=name,
        mime_type=MIME_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream"),
        size_bytes=len(data),
        duration_seconds=duration_seconds,
    )
    artifact.file.save(name, ContentFile(data), save=False)
    artifact.save()
    return artifact


def artifacts_delete(composition: Composition, name: str) -> None:
    for old in Artifact.objects.filter(composition=composition, name=name):
        old.file.delete(save=False)
        old.delete()
