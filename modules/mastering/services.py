"""Writes on mastering presets and references: `<entity>_<action>`, called by resolvers.

Each takes the owner's user id; another user's preset or reference raises DoesNotExist, exactly
as a missing one does. Names go through the content check (moderation_check, field "name") as
mood, playlist and voice profile names do; `caller_key` is who a rejection is recorded against.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from modules.accounts.quotas import kept_room
from modules.composition.stages import InputError
from modules.composition.uploads import read_reference_upload
from modules.moderation.services import moderation_check

from . import tone
from .engine import integrated_lufs, true_peak_dbtp
from .models import MasteringPreset, MasteringReference
from .presets import check_name, check_values
from .selectors import presets_of, references_of

MIN_REFERENCE_SECONDS = 3.0  # a long-term spectrum of less says little
# A reference must have music in this many of the 28 third-octave bands (within
# tone.USEFUL_RANGE_DB of its loudest) to be matched: a sine or a phone recording is not a balance.
MIN_REFERENCE_BANDS = 12
MAX_REFERENCE_NAME = 200
MAX_PRESETS = 50  # per user
MAX_REFERENCES = 20  # per user: each is a stored file of up to CODA_MAX_UPLOAD_BYTES


def _stereo(samples: np.ndarray) -> np.ndarray:
    """Mono as dual mono (as it would be played), more channels as their first two."""
    return np.repeat(samples, 2, axis=1) if samples.shape[1] == 1 else samples[:, :2]


def mastering_reference_upload(
    owner_id: int, upload: Any, name: str | None = None, caller_key: str = ""
) -> MasteringReference:
    """Read, analyse (loudness, true peak, long-term spectrum) and store a reference privately."""
    kept = references_of(owner_id)
    checked = read_reference_upload(
        upload,
        name,
        kept=kept,
        limit=MAX_REFERENCES,
        noun="mastering references",
        caller_key=caller_key,
        min_seconds=MIN_REFERENCE_SECONDS,
        max_name_chars=MAX_REFERENCE_NAME,
    )
    shown, audio = checked.name, checked.audio
    samples = _stereo(audio.samples)
    levels = tone.band_levels(samples, audio.sample_rate)
    covered = int(tone.useful_bands(levels).sum())
    if covered < MIN_REFERENCE_BANDS:
        raise InputError(
            "file",
            f"the recording has sound in {covered} of {len(levels)} third-octave bands; a reference "
            f"to match needs at least {MIN_REFERENCE_BANDS}",
        )
    reference = MasteringReference(
        owner_id=owner_id,
        name=shown,
        sha256=hashlib.sha256(audio.data).hexdigest(),
        format=audio.format,
        size_bytes=len(audio.data),
        duration_seconds=round(audio.duration_seconds, 3),
        sample_rate=audio.sample_rate,
        integrated_lufs=round(integrated_lufs(samples, audio.sample_rate), 3),
        true_peak_dbtp=round(true_peak_dbtp(samples), 3),
        band_levels=[None if v is None else round(v, 3) for v in levels],
    )
    with kept_room(owner_id, kept, MAX_REFERENCES, field="file", noun="mastering references"):
        reference.file.save(f"{uuid.uuid4().hex}.{audio.format.lower()}", ContentFile(audio.data), save=False)
        reference.save()
    return reference


def mastering_reference_delete(owner_id: int, pk: int) -> None:
    """Delete a reference and its file. Compositions mastered with it keep what it measured."""
    reference = references_of(owner_id).get(pk=pk)
    reference.file.delete(save=False)
    reference.delete()


def _saved(preset: MasteringPreset) -> MasteringPreset:
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:
        raise InputError("name", f"you already have a preset named {preset.name!r}") from None
    return preset


def _preset_name(name: str, caller_key: str) -> str:
    cleaned = check_name(name)
    moderation_check(cleaned, field="name", caller_key=caller_key)
    return cleaned


def mastering_preset_create(
    owner_id: int, name: str, values: dict[str, Any], caller_key: str = ""
) -> MasteringPreset:
    checked = check_values(values)
    if checked.get("target_lufs") is None:
        raise InputError("targetLufs", "targetLufs needs a value: a preset sets the loudness")
    preset = MasteringPreset(owner_id=owner_id, name=_preset_name(name, caller_key), **checked)
    with kept_room(owner_id, presets_of(owner_id), MAX_PRESETS, field="name", noun="mastering presets"):
        return _saved(preset)


def mastering_preset_update(
    owner_id: int, pk: int, name: str | None, values: dict[str, Any], caller_key: str = ""
) -> MasteringPreset:
    """Change the given fields of one of the owner's presets (None leaves a field as it is, but
    for the threshold, where null means "9 dB under the ceiling" and is given explicitly)."""
    preset = presets_of(owner_id).get(pk=pk)
    for field, value in check_values(values).items():
        if value is None and field == "target_lufs":
            raise InputError("targetLufs", "targetLufs needs a value: a preset sets the loudness")
        setattr(preset, field, value)
    if name is not None:
        preset.name = _preset_name(name, caller_key)
    return _saved(preset)


def mastering_preset_delete(owner_id: int, pk: int) -> None:
    """Compositions mastered with it keep the values it had."""
    presets_of(owner_id).get(pk=pk).delete()
