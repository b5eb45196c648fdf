from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import soundfile
from django.conf import settings

from modules.composition.artifacts import artifact_save
from modules.composition.automation import automation_controls
from modules.composition.context import (
    SOURCE_GENRE,
    SOURCE_INPUT,
    SOURCE_PROFILE,
    SOURCE_REFERENCE,
    CompositionContext,
    lean,
)
from modules.composition.midi import DRUM_CHANNEL, MidiTrack, write_midi
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, TransientStageError
from modules.voice.stage import HARMONY_CHANNEL, SUNG_HARMONY, SUNG_VOCAL, VOCAL_CHANNEL

from . import selectors
from .encode import encode_audio
from .engine import MasteringPlan, RenderTrack, render_and_master
from .models import Master
from .presets import DEFAULT_PRESET, PresetValues, check_values

AUDIO_FORMATS = ("wav", "flac", "mp3")
# Where the sung voices sit against the instruments (integrated loudness, LU).
SUNG_LEVELS_LU = {"vocal": -1.0, "harmony": -7.0}
# A reference's loudness is matched within these (the louder end is as loud as masters get).
REFERENCE_LUFS_RANGE = (-30.0, -5.0)
CHOICE_INPUTS = ("mastering_preset", "mastering_reference")
LOUDNESS_LEEWAY = 3.0  # LU a loudness prior may move the genre's target


def settles_loudness(choice: dict[str, Any] | None) -> bool:
    """Whether a resolved mastering choice decides the loudness itself (a reference, or a preset
    with a target): the genre's target and the caller's loudness preference then play no part."""
    if not choice:
        return False
    return choice.get("reference") is not None or (choice.get("values") or {}).get("target_lufs") is not None


def mastering_plan(
    choice: dict[str, Any], genre_target: float | None, prior: tuple[float, float] | None = None
) -> tuple[float, str, MasteringPlan]:
    """The loudness target, where it came from (a context source) and the plan a composition's
    resolved mastering choice asks for.

    Loudness: the reference's, else the preset's, else the genre's, leaned by a "loudness" prior
    ((preferred LUFS, strength)) within LOUDNESS_LEEWAY. With a reference the EQ matches it (the
    preset's tilt is not used); ceiling, width and compression are the preset's."""
    values = PresetValues(**choice.get("values", {}))
    reference = choice.get("reference")
    if reference is not None:
        low, high = REFERENCE_LUFS_RANGE
        target, source = min(high, max(low, float(reference["integrated_lufs"]))), SOURCE_REFERENCE
    elif values.target_lufs is not None:
        target, source = values.target_lufs, SOURCE_INPUT
    else:
        target, source = float(genre_target if genre_target is not None else -14.0), SOURCE_GENRE
        if prior is not None:
            leaned = round(lean(target, *prior, target - LOUDNESS_LEEWAY, target + LOUDNESS_LEEWAY), 1)
            if leaned != target:
                target, source = leaned, SOURCE_PROFILE
    plan = MasteringPlan(
        ceiling_dbtp=values.ceiling_dbtp,
        eq_tilt_db_per_octave=values.eq_tilt_db_per_octave,
        stereo_width=values.stereo_width,
        compression_ratio=values.compression_ratio,
        compression_threshold_db=values.compression_threshold_db,
        reference_bands=tuple(reference["bands"]) if reference is not None else None,
    )
    return target, source, plan


class MasteringStage(Stage):
    name = "mastering"
    needs = ("arrangement", "voice")
    # The layers and voices come in through the needed stages' hashes. The genre's own loudness
    # target is read from the style: `loudness_target` is this stage's to write (the master's).
    reads = ("tempo", "total_beats", "style", "inputs.mastering")
    priors = ("loudness",)  # consulted only when the mastering choice leaves loudness open
    element_models = (Master,)
    # 2: presets, reference matching and the measured report; 3: the compressor without its hold,
    # compression read on the finished master, the reference match's guard; 4: it decides
    # loudness_target, the sheet keeps no priors; 5: stems share a headroom gain (stem_gain_db)
    # that keeps their peaks at -1 dBFS, so heavy presets no longer clip the stem files
    engine_version = "5"

    def settles(self, inputs: dict[str, Any]) -> frozenset[str]:
        return frozenset({"loudness"}) if settles_loudness(inputs.get("mastering")) else frozenset()

    def resolve_inputs(self, inputs: dict[str, Any], *, prompt: str, caller: Any) -> dict[str, Any]:
        """A preset's name or id and a reference's id become their values and measurements,
        replacing the whole mastering choice."""
        if not any(name in inputs for name in CHOICE_INPUTS):
            return inputs
        resolved = {k: v for k, v in inputs.items() if k not in CHOICE_INPUTS}
        resolved["mastering"] = selectors.mastering_choice(
            caller, inputs.get("mastering_preset"), inputs.get("mastering_reference")
        )
        return resolved

    def validate(self, inputs: dict[str, Any]) -> None:
        choice = inputs.get("mastering")
        if choice is None:
            return
        if not isinstance(choice, dict) or not isinstance(choice.get("values"), dict):
            raise InputError("masteringPreset", "the mastering choice is malformed")
        try:
            check_values(choice["values"])
        except KeyError as error:
            raise InputError("masteringPreset", f"unknown mastering setting {error}") from None

    def fingerprint(self) -> dict[str, Any]:
        return {"soundfont": settings.CODA_SOUNDFONT, "sample_rate": settings.CODA_SAMPLE_RATE}

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        # The elements of earlier stages, through the composition's reverse relations.
        layers = [
            RenderTrack(
                name=layer.name,
                notes=layer.notes,
                program=layer.program,
                channel=DRUM_CHANNEL if layer.is_drum else layer.channel,
                is_drum=layer.is_drum,
                volume=layer.volume,
                pan=layer.pan,
                automation=layer.automation,
            )
            for layer in composition.layers.order_by("index")
        ]
        voices: list[RenderTrack] = []
        vocal = getattr(composition, "voice", None)  # absent for instrumentals
        if vocal is not None:
            voices.append(
                RenderTrack("vocal", vocal.notes, program=vocal.program, channel=VOCAL_CHANNEL, volume=110)
            )
            if vocal.harmony:  # the chorus harmony voice, a little softer and off-centre
                voices.append(
                    RenderTrack(
                        "harmony",
                        vocal.harmony,
                        program=vocal.program,
                        channel=HARMONY_CHANNEL,
                        volume=85,
                        pan=52,
                    )
                )
        tracks = [*layers, *voices]  # every track goes into the MIDI file and the sheet
        # In the audio the sung voices take the place of the vocal and harmony tracks' instrument.
        sung = {
            name: audio
            for name, audio in (
                ("vocal", sung_audio(composition, SUNG_VOCAL)),
                ("harmony", sung_audio(composition, SUNG_HARMONY)),
            )
            if audio is not None
        }
        rendered = [t for t in tracks if t.name not in sung]
        if not os.path.exists(settings.CODA_SOUNDFONT):  # e.g. still being installed: worth a retry
            raise TransientStageError(f"soundfont not found: {settings.CODA_SOUNDFONT}")
        tempo = float(context.tempo or 120.0)
        choice = context.inputs.get("mastering") or {}
        genre_target = context.style.loudness_target if context.style is not None else None
        target, target_source, plan = mastering_plan(choice, genre_target, context.prior_value("loudness"))
        # What the master aims at, and what decided it: a reference, a preset (input), the genre, or
        # the genre's leaned by the profile.
        context.loudness_target = target
        context.sources["loudness_target"] = target_source
        result, stems = render_and_master(
            rendered,
            tempo_bpm=tempo,
            total_beats=context.total_beats,
            target_lufs=target,
            soundfont_path=settings.CODA_SOUNDFONT,
            sample_rate=settings.CODA_SAMPLE_RATE,
            progress=lambda fraction, message: progress(0.8 * fraction, message),
            audio_stems=sung,
            threads=settings.CODA_RENDER_THREADS,
            audio_offsets_lu=SUNG_LEVELS_LU,
            plan=plan,
        )
        # Stems carry the master gain and one headroom gain (result.stem_gain_db, 0 dB unless a
        # stem would peak over -1 dBFS), so un-gained by it they sum to the mix before its limiter.
        # Encode everything at once on all cores (libsndfile runs outside the GIL); the MP3 is
        # the slowest, so it starts first. Files are then stored from this thread.
        jobs = {f"master.{fmt}": (result.audio, fmt, "audio") for fmt in reversed(AUDIO_FORMATS)}
        jobs |= {f"stem-{name}.flac": (stem, "flac", "stem") for name, stem in stems.items()}
        progress(0.8, "encoding")
        with ThreadPoolExecutor(max_workers=settings.CODA_RENDER_THREADS) as pool:
            encoded = dict(
                zip(
                    jobs,
                    pool.map(lambda job: encode_audio(job[0], result.sample_rate, job[1]), jobs.values()),
                    strict=True,
                )
            )
        saved = {
            name: artifact_save(
                composition,
                stage=self.name,
                kind=jobs[name][2],
                name=name,
                data=data,
                duration_seconds=result.duration_seconds,
            )
            for name, data in encoded.items()
        }
        files = {fmt: saved[f"master.{fmt}"] for fmt in AUDIO_FORMATS}
        full_midi = artifact_save(
            composition,
            stage=self.name,
            kind="midi",
            name="composition.mid",
            data=write_midi(
                [
                    MidiTrack(
                        t.name,
                        t.notes,
                        channel=t.channel,
                        program=t.program,
                        volume=t.volume,
                        pan=t.pan,
                        lyrics=vocal.syllables if vocal is not None and t.name == "vocal" else [],
                        controls=automation_controls(t.automation, context.total_beats),
                    )
                    for t in tracks
                ],
                tempo,
            ),
            duration_seconds=result.duration_seconds,
        )
        measurements = {
            "target_lufs": result.target_lufs,
            "loudness_before": result.loudness_before,
            "integrated_lufs": result.integrated_lufs,
            "gain_db": result.gain_db,
            "stem_gain_db": result.stem_gain_db,
            "sample_peak_dbfs": result.sample_peak_dbfs,
            "true_peak_dbtp": result.true_peak_dbtp,
            "duration_seconds": result.duration_seconds,
            "sample_rate": result.sample_rate,
            "ceiling_dbtp": result.ceiling_dbtp,
            "report": result.report,
        }
        reference = choice.get("reference")
        applied = {
            "preset": choice.get("preset", DEFAULT_PRESET),
            "settings": {
                "preset_id": choice.get("preset_id"),
                "values": choice.get("values", PresetValues().to_dict()),
                "reference": {k: v for k, v in reference.items() if k != "bands"} if reference else None,
            },
        }
        artifact_save(
            composition,
            stage=self.name,
            kind="sheet",
            name="composition.json",
            data=composition_sheet(composition, context, tracks, measurements),
        )
        Master.objects.update_or_create(
            composition=composition,
            defaults={
                **measurements,
                **applied,
                "wav": files["wav"],
                "flac": files["flac"],
                "mp3": files["mp3"],
                "midi": full_midi,
            },
        )


def composition_sheet(
    composition: Composition, context: CompositionContext, tracks: list[RenderTrack], master: dict[str, float]
) -> bytes:
    """The whole composition as JSON: the context, every track's notes and the master's figures.

    No ids or times, and sorted keys, so the same prompt and seed give the same bytes. Without the
    context's priors: the file goes to anyone who may read the composition, and the priors are the
    owner's private preference profile (`sources` still say which choices it leaned).
    """
    sheet = {
        "prompt": composition.prompt,
        "seed": composition.seed,
        "context": {k: v for k, v in context.to_dict().items() if k != "priors"},
        "tracks": [
            {
                "name": t.name,
                "program": t.program,
                "channel": t.channel,
                "is_drum": t.is_drum,
                "volume": t.volume,
                "pan": t.pan,
                "automation": t.automation,
                "notes": t.notes,
            }
            for t in tracks
        ],
        "master": master,
    }
    return json.dumps(sheet, sort_keys=True, separators=(",", ":")).encode()


def sung_audio(composition: Composition, name: str) -> np.ndarray | None:
    artifact = composition.artifacts.filter(name=name, current=True).first()
    if artifact is None:
        return None
    with artifact.file.open("rb") as handle:
        audio, _rate = soundfile.read(handle, dtype="float32")
    return audio


STAGE = MasteringStage()
