from __future__ import annotations

from typing import Any

from django.conf import settings

from modules.composition.artifacts import artifact_save, artifacts_delete
from modules.composition.context import SOURCE_VOICE_PROFILE, CompositionContext, LyricLine
from modules.composition.midi import MidiTrack, write_midi
from modules.composition.models import Composition
from modules.composition.stages import InputError, InputNotFound, Progress, Stage, StageRefused, stage_seed
from modules.mastering.encode import encode_audio

from .engine import VOICES, sing
from .harmony import HARMONY_SINGER, harmony_line, harmony_lines
from .models import VocalLine, VoiceProfile, VoiceUse
from .profiles import ProfileSinger
from .selectors import profile_pk
from .services import profile_for_use, profile_singer
from .singing import sing_audio

VOCAL_CHANNEL = 15
SUNG_VOCAL = "vocal-sung.flac"  # the lyrics sung on the melody, mixed by mastering
SUNG_HARMONY = "harmony-sung.flac"  # the chorus lines sung on the harmony line
HARMONY_CHANNEL = 14


class VoiceProfileUnavailable(StageRefused):
    """The composition names a voice profile its owner may no longer sing with."""


class VoiceStage(Stage):
    name = "voice"
    needs = ("lyrics", "arrangement")
    reads = (
        "prompt",
        "mood",
        "genres",
        "key",
        "scale",
        "tempo",
        "time_signature",
        "sections",
        "chords",
        "vocal_phrases",
        "lyrics",
        "total_beats",
        "inputs.voice",
        # The profile's id stands for its analysis, which never changes once measured.
        "inputs.voice_profile",
    )
    priors = ("voices",)
    element_models = (VocalLine,)

    def validate(self, inputs: dict[str, Any]) -> None:
        voice = inputs.get("voice")
        if voice is not None and str(voice).lower() not in VOICES:
            raise InputError("voice", f"unknown voice {voice!r}; choose one of: {', '.join(VOICES)}")
        profile = inputs.get("voice_profile")
        if profile is not None and profile_pk(profile) is None:
            raise InputError("voiceProfile", f"{profile!r} is not a VoiceProfile id")

    def authorize(self, inputs: dict[str, Any], caller: Any) -> None:
        """Only the owner of a profile, or a user it is granted to, may sing with it."""
        if inputs.get("voice_profile") is not None:
            profile_for_use(getattr(caller, "user", None), inputs["voice_profile"])

    def recheck(self, composition: Composition, context: CompositionContext) -> None:
        """The profile is checked again before a result sung with it is reused, as before singing."""
        self.profile(composition, context)

    def applies(self, context: CompositionContext) -> bool:
        return not context.instrumental and bool(context.lyrics)

    def fingerprint(self) -> dict[str, Any]:
        return {"sample_rate": settings.CODA_SAMPLE_RATE}

    def restore(self, composition: Composition, data: dict[str, Any], artifacts: dict[str, Any]) -> None:
        super().restore(composition, data, artifacts)
        for row in data.get("VocalLine", []):
            profile = _profile_row(row.get("voice_profile", ""))
            voice_use_log(composition, row["voice"], reused=True, profile=profile)
            if profile is not None and row.get("harmony"):
                voice_use_log(
                    composition, HARMONY_SINGER[row["voice"]], role="harmony", reused=True, profile=profile
                )

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        profile, singer = self.profile(composition, context)
        result = sing(context, stage_seed(context, self.name), singer)
        shift = singer.formant_shift if singer is not None else 1.0
        voice_use_log(composition, result.voice, profile=profile)
        tempo = float(context.tempo or 120.0)
        progress(0.1, "melody written; singing")
        harmony = harmony_line(context, result.notes, low=max(0, result.low - 5))
        self.sing(
            composition,
            SUNG_VOCAL,
            context.lyrics,
            result.notes,
            result.voice,
            context,
            progress,
            0.1,
            0.65,
            shift,
        )
        chorus_lines = harmony_lines(context)
        if harmony and len(harmony) == sum(len(line.syllables) for line in chorus_lines):
            # With a profile, the harmony is the same voice overdubbed: the same formant shift.
            harmony_singer = HARMONY_SINGER[result.voice]
            voice_use_log(composition, harmony_singer, role="harmony", profile=profile)
            self.sing(
                composition,
                SUNG_HARMONY,
                chorus_lines,
                harmony,
                harmony_singer,
                context,
                progress,
                0.75,
                0.2,
                shift,
            )
        else:  # a harmony note had no room in range: it stays a MIDI line rendered by the synth
            artifacts_delete(composition, SUNG_HARMONY)
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
                "voice_profile": context.inputs.get("voice_profile", "") if profile is not None else "",
                "formant_shift": shift,
            },
        )
        context.vocal_style = result.voice
        context.vocal_range = [result.low, result.high]
        context.sources.update(vocal_style=result.voice_source, vocal_range=result.voice_source)
        if singer is not None:
            context.vocal_formant_shift = singer.formant_shift
            context.sources["vocal_formant_shift"] = SOURCE_VOICE_PROFILE

    def profile(
        self, composition: Composition, context: CompositionContext
    ) -> tuple[VoiceProfile | None, ProfileSinger | None]:
        """The voice profile the composition sings with, checked again now: a grant revoked or a
        profile deleted since the request stops the singing."""
        global_id = context.inputs.get("voice_profile")
        if global_id is None:
            return None, None
        try:
            profile = profile_for_use(composition.owner, global_id)
        except InputNotFound:
            raise VoiceProfileUnavailable(
                f"voice profile {global_id} is no longer available to the composition's owner "
                "(deleted, or its grant revoked); choose another voice"
            ) from None
        return profile, profile_singer(profile)

    def sing(
        self,
        composition: Composition,
        name: str,
        lines: list[LyricLine],
        notes: list[list[float]],
        voice: str,
        context: CompositionContext,
        progress: Progress,
        offset: float,
        share: float,
        formant_shift: float = 1.0,
    ) -> None:
        """Sing `lines` on `notes` and store the audio as the artifact `name`."""
        sung = sing_audio(
            lines,
            notes,
            float(context.tempo or 120.0),
            context.total_beats,
            voice,
            sample_rate=settings.CODA_SAMPLE_RATE,
            progress=lambda fraction, message: progress(offset + share * fraction, message),
            formant_shift=formant_shift,
        )
        artifact_save(
            composition,
            stage=self.name,
            kind="audio",
            name=name,
            data=encode_audio(sung.audio, sung.sample_rate, "flac"),
            duration_seconds=len(sung.audio) / sung.sample_rate,
        )


def vocal_track(notes: list[list[float]], syllables: list[str], program: int) -> MidiTrack:
    return MidiTrack(
        name="vocal", notes=notes, channel=VOCAL_CHANNEL, program=program, volume=110, lyrics=syllables
    )


STAGE = VoiceStage()


def voice_use_log(
    composition: Composition,
    voice: str,
    *,
    role: str = "melody",
    reused: bool = False,
    profile: VoiceProfile | None = None,
) -> None:
    """Record who had `voice` sing, in which composition; with a voice profile, the profile's
    owner sees it in the profile's `uses`."""
    VoiceUse.objects.create(
        voice=voice,
        role=role,
        composition_id_used=composition.pk,
        user_id=composition.owner_id,
        reused=reused,
        profile=profile,
    )


def _profile_row(global_id: str) -> VoiceProfile | None:
    pk = profile_pk(global_id) if global_id else None
    return VoiceProfile.objects.filter(pk=pk).first() if pk is not None else None
