from __future__ import annotations

from typing import Any

from modules.composition.artifacts import artifact_save
from modules.composition.automation import automation_controls
from modules.composition.context import SCALES, SOURCE_INPUT, CompositionContext, pitch_class
from modules.composition.midi import DRUM_CHANNEL, MidiTrack, write_midi
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed

from .engine import arrange
from .models import Layer, Section


class ArrangementStage(Stage):
    name = "arrangement"
    needs = ("mood", "genre")
    reads = (
        "prompt",  # a key or mode it names
        "mood",
        "energy",
        "style",
        "tempo",
        "instruments",
        "instrumental",
        "duration_seconds",
        "inputs.key",
        "inputs.scale",
        "inputs.tempo",
        "inputs.genre_reference",
    )
    priors = ("keys", "scales")
    element_models = (Section, Layer)

    def validate(self, inputs: dict[str, Any]) -> None:
        key = inputs.get("key")
        if key is not None:
            try:
                pitch_class(str(key))
            except ValueError:
                raise InputError("key", f"unknown key {key!r}; use a note name such as C, F# or Bb") from None
        scale = inputs.get("scale")
        if scale is not None and scale not in SCALES:
            raise InputError("scale", f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        if context.inputs.get("tempo") is not None:  # an explicit tempo wins over the genre's
            context.tempo = float(context.inputs["tempo"])
            context.sources["tempo"] = SOURCE_INPUT
        result = arrange(context, stage_seed(context, self.name))
        progress(0.5, "arranged; writing MIDI")
        Section.objects.filter(composition=composition).delete()
        Layer.objects.filter(composition=composition).delete()
        chords_by_section: dict[int, list[str]] = {}
        for chord in result.chords:
            chords_by_section.setdefault(chord.section_index, []).append(chord.symbol)
        Section.objects.bulk_create(
            Section(
                composition=composition,
                index=s.index,
                name=s.name,
                start_bar=s.start_bar,
                bars=s.bars,
                energy=s.energy,
                vocal=s.vocal,
                chords=chords_by_section.get(s.index, []),
            )
            for s in result.sections
        )
        seconds = result.total_beats * 60.0 / float(context.tempo or 120.0)
        for index, layer in enumerate(result.layers):
            track = MidiTrack(
                name=layer.name,
                notes=layer.notes,
                channel=DRUM_CHANNEL if layer.is_drum else layer.channel,
                program=layer.program,
                volume=layer.volume,
                pan=layer.pan,
                controls=automation_controls(layer.automation, result.total_beats),
            )
            midi = artifact_save(
                composition,
                stage=self.name,
                kind="midi",
                name=f"layer-{layer.name}.mid",
                data=write_midi([track], float(context.tempo or 120.0)),
                duration_seconds=seconds,
            )
            Layer.objects.create(
                composition=composition,
                index=index,
                name=layer.name,
                role=layer.role,
                program=layer.program,
                channel=layer.channel,
                is_drum=layer.is_drum,
                volume=layer.volume,
                pan=layer.pan,
                note_count=len(layer.notes),
                notes=layer.notes,
                automation=layer.automation,
                midi=midi,
            )
        context.key, context.scale = result.key, result.scale
        context.time_signature = list(result.time_signature)
        context.sections = result.sections
        context.chords = result.chords
        context.vocal_phrases = result.vocal_phrases
        context.total_beats = result.total_beats
        context.sources.update(key=result.key_source, scale=result.scale_source)


STAGE = ArrangementStage()
