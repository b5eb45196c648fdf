"""Audio arrays to file bytes through soundfile (libsndfile): WAV, FLAC and MP3, no ffmpeg.

Deterministic: the same samples give the same bytes for every format here
(libsndfile writes no timestamps; FLAC and LAME are deterministic encoders).
Float input is clipped to [-1, 1] before integer/lossy encoding so a stray
over never wraps around.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile

# format name -> (soundfile format, subtype, MIME type)
FORMATS: dict[str, tuple[str, str, str]] = {
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "wav24": ("WAV", "PCM_24", "audio/wav"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "flac24": ("FLAC", "PCM_24", "audio/flac"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
}

MP3_COMPRESSION = 0.3  # libsndfile 0 (320 kb/s) .. 1 (smallest); 0.3 is ~224 kb/s-class


def _spec(fmt: str) -> tuple[str, str, str]:
    key = fmt.strip().lower().lstrip(".")
    if key not in FORMATS:
        raise ValueError(f"unsupported audio format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[key]


def mime_type(fmt: str) -> str:
    """'mp3' -> 'audio/mpeg'."""
    return _spec(fmt)[2]


def file_extension(fmt: str) -> str:
    """'wav24' -> 'wav', 'flac' -> 'flac'."""
    return _spec(fmt)[0].lower()


def encode_audio(audio: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """Encode float audio (frames,) or (frames, channels) in [-1, 1] to file bytes.

    fmt: "wav" (16-bit PCM), "wav24" (24-bit PCM), "flac" (16-bit), "flac24", "mp3"."""
    container, subtype, _ = _spec(fmt)
    data = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    if data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    buffer = io.BytesIO()
    # MP3: constant bitrate keeps the size predictable; compression 0 = highest bitrate.
    options = {"compression_level": MP3_COMPRESSION, "bitrate_mode": "CONSTANT"} if container == "MP3" else {}
    with soundfile.SoundFile(
        buffer,
        mode="w",
        samplerate=int(sample_rate),
        channels=1 if data.ndim == 1 else data.shape[1],
        format=container,
        subtype=subtype,
        **options,
    ) as handle:
        handle.write(data)
    return buffer.getvalue()
