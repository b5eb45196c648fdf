from __future__ import annotations

from typing import Any

from django.conf import settings

from modules.composition.artifacts import artifact_save
from modules.composition.context import CompositionContext
from modules.composition.midi import MidiTrack, write_midi
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed
from modules.mastering.encode import encode_audio

from .engine import VOICES, sing
from .harmony import harmony_line
from .models import VocalLine
from .singing import sing_audio

VOCAL_CHANNEL = 15
SUNG_VOCAL = "vocal-sung.flac"  # the lyrics sung on the melody, mixed by mastering
HARMONY_CHANNEL = 14


class VoiceStage(Stage):
    name = "voice"
    needs = ("lyrics", "arrangement")

    def validate(self, inputs: dict[str, Any]) -> None:
        voice = inputs.get("voice")
        if voice is not None and str(voice).lower() not in VOICES:
            raise InputError("voice", f"unknown voice {voice!r}; choose one of: {', '.join(VOICES)}")

    def applies(self, context: CompositionContext) -> bool:
        return not context.instrumental and bool(context.lyrics)

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        if "voice" in context.inputs:
            context.inputs["voice"] = str(context.inputs["voice"]).lower()
        result = sing(context, stage_seed(context.seed, self.name))
        tempo = float(context.tempo or 120.0)
        progress(0.1, "melody written; singing")
        sung = sing_audio(
            context.lyrics,
            result.notes,
            tempo,
            context.total_beats,
            result.voice,
            sample_rate=settings.CODA_SAMPLE_RATE,
            progress=lambda fraction, message: progress(0.1 + 0.8 * fraction, message),
        )
        artifact_save(
            composition,
            stage=self.name,
            kind="audio",
            name=SUNG_VOCAL,
            data=encode_audio(sung.audio, sung.sample_rate, "flac"),
            duration_seconds=len(sung.audio) / sung.sample_rate,
        )
        harmony = harmony_line(context, result.notes, low=max(0, result.low - 5))
        track = vocal_track(result.notes, result.syllables, result.program)
        harmony_track = MidiTrack(
            name="harmony", notes=harmony, channel=HARMONY_CHANNEL, program=result.program, volume=90
        )
        midi = artifact_save(
            composition,
            stage=self.name,
            kind="midi",
            name="vocal.mid",
            data=write_midi([track, harmony_track] if harmony else [track], tempo),
            duration_seconds=context.total_beats * 60.0 / tempo,
        )
        VocalLine.objects.update_or_create(
            composition=composition,
            defaults={
                "voice": result.voice,
                "source": result.voice_source,
                "low": result.low,
                "high": result.high,
                "program": result.program,
                "notes": result.notes,
                "syllables": result.syllables,
                "harmony": harmony,
                "midi": midi,
            },
        )
        context.vocal_style = result.voice
        context.vocal_range = [result.low, result.high]
        context.sources.update(vocal_style=result.voice_source, vocal_range=result.voice_source)


def vocal_track(notes: list[list[float]], syllables: list[str], program: int) -> MidiTrack:
    return MidiTrack(
        name="vocal", notes=notes, channel=VOCAL_CHANNEL, program=program, volume=110, lyrics=syllables
    )


STAGE = VoiceStage()
