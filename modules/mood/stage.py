from __future__ import annotations

from typing import Any

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed

from .engine import MOODS, analyse_mood
from .models import Mood


class MoodStage(Stage):
    name = "mood"
    reads = ("prompt", "inputs.mood")
    priors = ("moods",)
    element_models = (Mood,)

    def validate(self, inputs: dict[str, Any]) -> None:
        mood = inputs.get("mood")
        if mood is not None and str(mood).lower() not in MOODS:
            raise InputError("mood", f"unknown mood {mood!r}; choose one of: {', '.join(sorted(MOODS))}")

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        result = analyse_mood(context, stage_seed(context, self.name))
        mood = result.mood
        Mood.objects.update_or_create(
            composition=composition,
            defaults={
                "name": mood.name,
                "valence": mood.valence,
                "energy": mood.energy,
                "tags": mood.tags,
                "source": result.source,
            },
        )
        context.mood = mood
        context.energy = mood.energy
        context.sources.update(mood=result.source, energy=result.source)


STAGE = MoodStage()
