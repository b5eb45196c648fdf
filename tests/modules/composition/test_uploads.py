"""Uploaded audio: decoded by content, bounded by size and length, with errors that say why."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile

from modules.composition.stages import InputError
from modules.composition.uploads import read_audio_upload


def encoded(seconds: float, fmt: str = "WAV", rate: int = 22050, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, amplitude * np.sin(2 * np.pi * 220 * t), rate, format=fmt)
    return buffer.getvalue()


def upload(data: bytes, name: str = "take.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_wav_and_flac_decode_to_their_samples(fmt: str) -> None:
    audio = read_audio_upload(upload(encoded(1.5, fmt), name="no-extension"), field="sample")
    assert audio.format == fmt
    assert audio.sample_rate == 22050
    assert audio.duration_seconds == pytest.approx(1.5, abs=1e-3)
    assert float(np.abs(audio.mono).max()) == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"", {}, "the file is empty"),
        (b"RIFF....WAVEfmt definitely not audio", {}, "not audio Coda can read"),
        (encoded(1.0, "OGG"), {}, "the file is OGG audio; accepted: WAV, FLAC"),
        (encoded(0.2), {}, "0.20 s long; at least 0.5 s needed"),
        (encoded(3.0), {"max_seconds": 2.0}, "3.0 s long; at most 2.0 s"),
        (encoded(1.0, amplitude=0.0), {}, "the recording is silent"),
    ],
)
def test_bad_files_are_refused_with_the_reason(data: bytes, limits: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_audio_upload(upload(data), field="sample", **limits)
    assert caught.value.field == "sample"


def test_a_file_over_the_byte_limit_is_refused_before_decoding(settings: Any) -> None:
    settings.CODA_MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(InputError, match=r"at most 10000 are accepted"):
        read_audio_upload(upload(encoded(1.0)), field="reference")
