"""Uploaded audio: decoded by content, bounded by size and length, with errors that say why."""

from __future__ import annotations

import io
import tracemalloc
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


def silent_flac(seconds: float, rate: int = 22050) -> bytes:
    """Digital silence compresses to almost nothing: two minutes are a few kilobytes of FLAC."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(int(seconds * rate), dtype="float32"), rate, format="FLAC")
    return buffer.getvalue()


def without_length(flac: bytes) -> bytes:
    """The same FLAC with STREAMINFO's total-samples field zeroed ("unknown"), as a stream may be."""
    data = bytearray(flac)
    field = slice(18, 26)  # "fLaC", the block header, 10 bytes of block and frame sizes; then 64 bits
    packed = int.from_bytes(data[field], "big") & ~((1 << 36) - 1)  # rate, channels, bits, length
    data[field] = packed.to_bytes(8, "big")
    return bytes(data)


def peak_bytes_refusing(data: bytes) -> int:
    """The most memory Python and numpy held at once while the upload was read and refused."""
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            read_audio_upload(upload(data), field="file")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_compressed_file_is_refused_from_its_header_without_decoding(settings: Any) -> None:
    settings.CODA_MAX_UPLOAD_SECONDS = 30
    data = silent_flac(120.0)  # decoded: 2,646,000 float32 samples, 10.6 MB
    assert len(data) < 20_000
    with pytest.raises(
        InputError, match=r"the recording is 120\.0 s long; at most 30 s are accepted"
    ) as caught:
        read_audio_upload(upload(data), field="reference")
    assert caught.value.field == "reference"
    assert peak_bytes_refusing(data) < 1_000_000


def test_a_file_that_hides_its_length_is_decoded_no_further_than_the_limit(settings: Any) -> None:
    hidden = without_length(encoded(1.5, "FLAC"))
    assert soundfile.info(io.BytesIO(hidden)).frames == 2**63 - 1  # libsndfile: length unknown
    # libsndfile 1.2.2 fails at the end of such a stream: a typed refusal (it was numpy's
    # "array is too big" from allocating 2**63 frames, an HTTP 500).
    with pytest.raises(InputError, match="not audio Coda can read"):
        read_audio_upload(upload(hidden), field="sample")

    settings.CODA_MAX_UPLOAD_SECONDS = 30
    long_hidden = without_length(silent_flac(120.0))
    with pytest.raises(InputError, match=r"longer than 30 s, the most accepted") as caught:
        read_audio_upload(upload(long_hidden), field="sample")
    assert caught.value.field == "sample"
    # 30 s of mono float32 at 22050 Hz are 2.6 MB; the whole file would be 10.6 MB.
    assert peak_bytes_refusing(long_hidden) < 3_500_000


def channels(count: int, rate: int = 22050) -> bytes:
    t = np.arange(rate) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * count, axis=1), rate, format="WAV")
    return buffer.getvalue()


def test_stereo_is_read_and_more_channels_or_a_very_high_rate_are_refused_unread() -> None:
    assert read_audio_upload(upload(channels(2)), field="file").samples.shape == (22050, 2)
    with pytest.raises(InputError, match="the recording has 6 channels; mono or stereo are accepted"):
        read_audio_upload(upload(channels(6)), field="file")
    with pytest.raises(InputError, match="sampled at 192000 Hz; at most 96000 Hz accepted"):
        read_audio_upload(upload(encoded(1.0, rate=192_000)), field="file")
    assert read_audio_upload(upload(encoded(1.0, rate=96_000)), field="file").sample_rate == 96_000


def test_a_minimum_sample_rate_is_checked_from_the_header() -> None:
    with pytest.raises(InputError, match="sampled at 8000 Hz; at least 16000 Hz needed") as caught:
        read_audio_upload(upload(encoded(1.0, rate=8000)), field="samples.0", min_sample_rate=16_000)
    assert caught.value.field == "samples.0"
    assert read_audio_upload(upload(encoded(1.0, rate=16_000)), field="s", min_sample_rate=16_000).sample_rate
