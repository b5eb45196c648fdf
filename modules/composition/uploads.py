"""Audio uploads (GraphQL multipart requests): bounded in size, checked by content, decoded once.

Every module that takes a file (voice samples, mastering and genre references) reads it here, so
the limits and the error messages are the same everywhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import soundfile
from django.conf import settings
from django.db.models import QuerySet

from modules.accounts.quotas import kept_room_check
from modules.moderation.services import moderation_check

from .stages import InputError

# What libsndfile reads, by the container it finds in the bytes (never by the file name).
AUDIO_FORMATS = {"WAV": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg", "MP3": "audio/mpeg"}
# With CODA_MAX_UPLOAD_SECONDS they bound what one upload decodes to: 600 s of stereo at 96 kHz
# is 461 MB of float32 samples at most, whatever the file's size.
MAX_CHANNELS = 2
MAX_SAMPLE_RATE = 96_000
UNKNOWN_LENGTH = 2**63 - 1  # libsndfile's frame count for a stream whose header gives none


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
    min_sample_rate: int = 0,
) -> AudioUpload:
    """Decode an uploaded audio file, or a typed input error saying what is wrong with it.

    Its header (format, rate, channels, length) is checked before a sample is decoded, and the
    decoding stops at the longest length accepted: a few kilobytes of compressed silence that claim
    hours are refused unread, and one that hides its length decodes no further than the limit."""
    data = read_upload_bytes(upload, field=field)
    accepted = ", ".join(formats)
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        raise InputError(field, f"the file is not audio Coda can read (accepted: {accepted})") from None
    if info.format not in formats:
        raise InputError(field, f"the file is {info.format} audio; accepted: {accepted}")
    if info.channels > MAX_CHANNELS:
        raise InputError(field, f"the recording has {info.channels} channels; mono or stereo are accepted")
    if info.samplerate < min_sample_rate:
        raise InputError(
            field, f"the recording is sampled at {info.samplerate} Hz; at least {min_sample_rate} Hz needed"
        )
    if info.samplerate > MAX_SAMPLE_RATE:
        raise InputError(
            field, f"the recording is sampled at {info.samplerate} Hz; at most {MAX_SAMPLE_RATE} Hz accepted"
        )
    longest = max_seconds or settings.CODA_MAX_UPLOAD_SECONDS
    most_frames = int(longest * info.samplerate)
    if info.frames != UNKNOWN_LENGTH and info.frames > most_frames:
        raise InputError(
            field,
            f"the recording is {info.frames / info.samplerate:.1f} s long; at most {longest} s are accepted",
        )
    try:
        samples, sample_rate = soundfile.read(
            io.BytesIO(data), frames=most_frames + 1, dtype="float32", always_2d=True
        )
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        raise InputError(field, f"the file is not audio Coda can read (accepted: {accepted})") from None
    if len(samples) > most_frames:  # a stream that did not say how long it is
        raise InputError(field, f"the recording is longer than {longest} s, the most accepted")
    duration = len(samples) / sample_rate
    if duration < min_seconds:
        raise InputError(field, f"the recording is {duration:.2f} s long; at least {min_seconds} s needed")
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


def shown_name(given: str | None, upload: Any, *, default: str, max_chars: int) -> str:
    """What an uploaded thing is called: the name given, else the file's (without its extension),
    spaces folded, cut to `max_chars`."""
    stem = PurePath(str(getattr(upload, "name", "") or "")).stem
    return " ".join((given or stem or default).split())[:max_chars]


@dataclass(frozen=True)
class ReferenceUpload:
    """An uploaded reference track, read and checked, with the name it will be shown under."""

    name: str
    audio: AudioUpload


def read_reference_upload(
    upload: Any,
    name: str | None,
    *,
    kept: QuerySet,
    limit: int,
    noun: str,
    caller_key: str,
    min_seconds: float,
    max_name_chars: int,
) -> ReferenceUpload:
    """The checks a reference upload (mastering, genre) goes through, cheapest first: room to keep
    one more, the name (given, or the file's) through the content check, then the audio itself."""
    kept_room_check(kept, limit, field="file", noun=noun)  # before reading a byte
    shown = shown_name(name, upload, default="reference", max_chars=max_name_chars)
    moderation_check(shown, field="name", caller_key=caller_key)
    audio = read_audio_upload(upload, field="file", formats=tuple(AUDIO_FORMATS), min_seconds=min_seconds)
    return ReferenceUpload(shown, audio)
