"""Audio uploads (GraphQL multipart requests): bounded in size, checked by content, decoded once.

Every module that takes a file (voice samples, mastering and genre references) reads it here, so
the limits and the error messages are the same everywhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile
from django.conf import settings

from .stages import InputError

# What libsndfile reads, by the container it finds in the bytes (never by the file name).
AUDIO_FORMATS = {"WAV": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg", "MP3": "audio/mpeg"}


@dataclass(frozen=True)
class AudioUpload:
    name: str
    data: bytes
    format: str  # WAV, FLAC, OGG or MP3
    mime_type: str
    sample_rate: int
    samples: np.ndarray  # float32, shape (frames, channels)

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)


def read_upload_bytes(upload: Any, *, field: str, max_bytes: int | None = None) -> bytes:
    """The upload's bytes, refusing more than `max_bytes` before reading them all."""
    limit = max_bytes or settings.CODA_MAX_UPLOAD_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise InputError(field, f"the file is {size} bytes; at most {limit} are accepted")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InputError(field, f"the file is larger than {limit} bytes, the most accepted")
    if not data:
        raise InputError(field, "the file is empty")
    return data


def read_audio_upload(
    upload: Any,
    *,
    field: str,
    formats: tuple[str, ...] = ("WAV", "FLAC"),
    min_seconds: float = 0.5,
    max_seconds: float | None = None,
) -> AudioUpload:
    """Decode an uploaded audio file, or a typed input error saying what is wrong with it."""
    data = read_upload_bytes(upload, field=field)
    accepted = ", ".join(formats)
    try:
        info = soundfile.info(io.BytesIO(data))
        samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        raise InputError(field, f"the file is not audio Coda can read (accepted: {accepted})") from None
    if info.format not in formats:
        raise InputError(field, f"the file is {info.format} audio; accepted: {accepted}")
    longest = max_seconds or settings.CODA_MAX_UPLOAD_SECONDS
    duration = len(samples) / sample_rate
    if duration < min_seconds:
        raise InputError(field, f"the recording is {duration:.2f} s long; at least {min_seconds} s needed")
    if duration > longest:
        raise InputError(field, f"the recording is {duration:.1f} s long; at most {longest} s are accepted")
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) < 1e-4:
        raise InputError(field, "the recording is silent")
    return AudioUpload(
        name=str(getattr(upload, "name", "") or "upload"),
        data=data,
        format=info.format,
        mime_type=AUDIO_FORMATS[info.format],
        sample_rate=int(sample_rate),
        samples=samples,
    )
