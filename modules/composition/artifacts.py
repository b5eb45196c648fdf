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
    target = artifact.file.field.generate_filename(artifact, name)
    if artifact.file.storage.exists(target) and not Artifact.objects.filter(file=target).exists():
        artifact.file.storage.delete(target)  # torn file of an attempt that died mid-write
    artifact.file.save(name, ContentFile(data), save=False)
    artifact.save()
    return artifact


def artifact_retire(artifact: Artifact) -> None:
    """Take an artifact out of the current set: kept if a version lists it, else deleted.

    Its file goes only when no other artifact row (a reused result) still points at it.
    """
    if artifact.versions.exists():
        Artifact.objects.filter(pk=artifact.pk).update(current=False)
        return
    shared = Artifact.objects.filter(file=artifact.file.name).exclude(pk=artifact.pk).exists()
    if not shared:
        artifact.file.delete(save=False)
    artifact.delete()


def artifacts_delete(composition: Composition, name: str) -> None:
    for old in Artifact.objects.filter(composition=composition, name=name, current=True):
        artifact_retire(old)


def artifacts_for_stage(composition: Composition, stage: str) -> dict[str, Artifact]:
    return {a.name: a for a in Artifact.objects.filter(composition=composition, stage=stage, current=True)}


def artifacts_share(source: dict[str, Artifact], target: Composition) -> dict[str, Artifact]:
    """Current artifacts for `target` that point at the same stored files as `source` (no copying)."""
    shared: dict[str, Artifact] = {}
    for name, artifact in source.items():
        artifacts_delete(target, name)
        shared[name] = Artifact.objects.create(
            composition=target,
            stage=artifact.stage,
            kind=artifact.kind,
            name=name,
            file=artifact.file.name,
            mime_type=artifact.mime_type,
            size_bytes=artifact.size_bytes,
            duration_seconds=artifact.duration_seconds,
        )
    return shared


FILE_URL_SALT = "coda.artifact-url"


def artifact_url(artifact: Artifact) -> str:
    """A URL that serves the file for CODA_FILE_URL_SECONDS, to whoever holds it (like a presigned S3 URL).

    Only callers allowed to read the composition are handed one.
    """
    from django.core import signing
    from django.urls import reverse

    token = signing.TimestampSigner(salt=FILE_URL_SALT).sign(str(artifact.pk))
    return reverse("artifact-download", kwargs={"token": token, "name": artifact.name})


def artifact_for_token(token: str, name: str) -> Artifact | None:
    """The artifact a signed URL names, or None when the signature is wrong, expired or mismatched."""
    from django.conf import settings
    from django.core import signing

    try:
        pk = signing.TimestampSigner(salt=FILE_URL_SALT).unsign(token, max_age=settings.CODA_FILE_URL_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    return Artifact.objects.filter(pk=int(pk), name=name).first()
