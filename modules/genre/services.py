"""Writes on genre references: upload (read, analyse, store privately) and delete.

A reference's name goes through the content check (moderation_check, field "name") as mood,
playlist and voice profile names do."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core.files.base import ContentFile

from modules.accounts.quotas import kept_room
from modules.composition.stages import InputError
from modules.composition.uploads import read_reference_upload

from .analysis import AnalysisError, analyse_reference
from .models import GenreReference
from .selectors import references_of

MIN_REFERENCE_SECONDS = 5.0  # enough beats to fit a tempo to
MAX_REFERENCE_NAME = 200
MAX_REFERENCES = 20  # per user: each is a stored file of up to CODA_MAX_UPLOAD_BYTES


def genre_reference_upload(
    owner_id: int, upload: Any, name: str | None = None, caller_key: str = ""
) -> GenreReference:
    """Read a track, find its tempo (beat tracker) and key (chroma and key profiles), store it."""
    kept = references_of(owner_id)
    checked = read_reference_upload(
        upload,
        name,
        kept=kept,
        limit=MAX_REFERENCES,
        noun="genre references",
        caller_key=caller_key,
        min_seconds=MIN_REFERENCE_SECONDS,
        max_name_chars=MAX_REFERENCE_NAME,
    )
    shown, audio = checked.name, checked.audio
    try:
        analysis = analyse_reference(audio.samples, audio.sample_rate)
    except AnalysisError as error:
        raise InputError("file", str(error)) from None
    reference = GenreReference(
        owner_id=owner_id,
        name=shown,
        sha256=hashlib.sha256(audio.data).hexdigest(),
        format=audio.format,
        size_bytes=len(audio.data),
        duration_seconds=round(audio.duration_seconds, 3),
        sample_rate=audio.sample_rate,
        tempo=analysis.tempo,
        beat_count=analysis.beat_count,
        beat_jitter_ms=analysis.beat_jitter_ms,
        key=analysis.key,
        scale=analysis.scale,
        key_score=analysis.key_score,
        key_margin=analysis.key_margin,
        runner_up=analysis.runner_up,
        chroma=list(analysis.chroma),
    )
    with kept_room(owner_id, kept, MAX_REFERENCES, field="file", noun="genre references"):
        reference.file.save(f"{uuid.uuid4().hex}.{audio.format.lower()}", ContentFile(audio.data), save=False)
        reference.save()
    return reference


def genre_reference_delete(owner_id: int, pk: int) -> None:
    """Delete a reference and its file. Compositions it steered keep what it measured."""
    reference = references_of(owner_id).get(pk=pk)
    reference.file.delete(save=False)
    reference.delete()
