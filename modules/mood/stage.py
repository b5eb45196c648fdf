from __future__ import annotations

from typing import Any

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed

from .engine import MOODS, CustomMood, analyse_mood, custom_mood_mentioned, mood_key
from .models import Mood
from .selectors import custom_moods_of, unknown_mood_message


class MoodStage(Stage):
    name = "mood"
    reads = ("prompt", "inputs.mood", "inputs.custom_moods")
    priors = ("moods",)
    element_models = (Mood,)

    def resolve_inputs(self, inputs: dict[str, Any], *, prompt: str, caller: Any) -> dict[str, Any]:
        """Put the caller's custom moods that this composition uses (named in the `mood` input or
        in the prompt) into the inputs, as the engine reads them. A mood kept from an earlier
        request that its owner has since deleted stays as it was; one that still exists is taken
        as it is now. Another user's mood name is unknown here."""
        kept = {mood_key(str(m["name"])): m for m in inputs.get("custom_moods") or [] if isinstance(m, dict)}
        prepared = {k: v for k, v in inputs.items() if k != "custom_moods"}
        user = caller.user if caller is not None and caller.user_id is not None else None
        mine = {m.key: CustomMood(m.name, m.valence, m.energy, tuple(m.words)) for m in custom_moods_of(user)}
        explicit = mood_key(str(inputs.get("mood") or ""))
        if explicit and explicit not in MOODS and explicit not in mine and explicit not in kept:
            raise InputError(
                "mood", unknown_mood_message(str(inputs["mood"]), [m.name for m in mine.values()])
            )
        used = {
            key: mood.to_dict()
            for key, mood in mine.items()
            if key == explicit or custom_mood_mentioned(prompt, mood)
        }
        for key, stored in kept.items():
            if key not in used and (key == explicit or custom_mood_mentioned(prompt, _parsed(stored))):
                used[key] = stored
        if used:
            prepared["custom_moods"] = [used[key] for key in sorted(used)]
        return prepared

    def validate(self, inputs: dict[str, Any]) -> None:
        mood = inputs.get("mood")
        own = {mood_key(str(m["name"])) for m in inputs.get("custom_moods") or []}
        if mood is not None and mood_key(str(mood)) not in MOODS and mood_key(str(mood)) not in own:
            raise InputError("mood", unknown_mood_message(str(mood), []))

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
                "custom": mood.custom,
            },
        )
        context.mood = mood
        context.energy = mood.energy
        context.sources.update(mood=result.source, energy=result.source)


def _parsed(stored: dict[str, Any]) -> CustomMood:
    return CustomMood(
        str(stored["name"]), float(stored["valence"]), float(stored["energy"]), tuple(stored.get("words", ()))
    )


STAGE = MoodStage()
