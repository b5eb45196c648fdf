from __future__ import annotations

import strawberry_django

from modules.composition.types import ArtifactType

from . import models


@strawberry_django.type(
    models.Master,
    name="Master",
    description="The rendered and mastered audio. Loudness is integrated loudness (ITU-R BS.1770-4) in "
    "LUFS; true peak is measured 4x oversampled.",
)
class MasterType:
    target_lufs: float = strawberry_django.field(
        description="The loudness aimed at, in LUFS: the genre blend's target (-14 when there is none)."
    )
    loudness_before: float = strawberry_django.field(
        description="Integrated loudness of the raw mix, before mastering, in LUFS."
    )
    integrated_lufs: float = strawberry_django.field(
        description="Integrated loudness of the master, in LUFS; within 0.5 LU of `targetLufs`."
    )
    gain_db: float = strawberry_django.field(
        description="Gain applied to the raw mix before the compressor and limiter, in dB."
    )
    sample_peak_dbfs: float = strawberry_django.field(
        description="Highest sample of the master, in dBFS (0 is full scale)."
    )
    true_peak_dbtp: float = strawberry_django.field(
        description="Highest true (inter-sample) peak of the master, in dBTP; at most -1."
    )
    duration_seconds: float = strawberry_django.field(description="Length of the audio, in seconds.")
    sample_rate: int = strawberry_django.field(
        description="Sample rate of the audio files, in Hz (e.g. 44100)."
    )
    wav: ArtifactType | None = strawberry_django.field(
        description="master.wav: 16-bit PCM stereo; null only if the file is gone."
    )
    flac: ArtifactType | None = strawberry_django.field(
        description="master.flac: 16-bit lossless stereo; null only if the file is gone."
    )
    mp3: ArtifactType | None = strawberry_django.field(
        description="master.mp3: constant-bitrate MP3 stereo; null only if the file is gone."
    )
    midi: ArtifactType | None = strawberry_django.field(
        description="composition.mid: every layer and voice as one Standard MIDI File, with tempo, "
        "lyrics and automation; null only if the file is gone."
    )


class CompositionFields:
    master: MasterType | None = strawberry_django.field(description="The mastering stage's result.")
