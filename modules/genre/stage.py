from __future__ import annotations

import dataclasses
from typing import Any

from modules.composition.context import SOURCE_GENRE, CompositionContext
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed

from . import selectors
from .catalog import GENRES
from .engine import MAX_TEMPO, MIN_TEMPO, blend_genres
from .models import GenreBlend

MAX_WEIGHT = 100  # weights are relative; a bound keeps a blend's arithmetic sane


class GenreStage(Stage):
    name = "genre"
    needs = ("mood",)
    # Not the explicit tempo: that is the arrangement's, so editing it never re-blends genres.
    reads = ("prompt", "inputs.genres", "mood", "energy", "inputs.genre_reference")
    priors = ("genres", "tempo", "programs")  # loudness is the mastering stage's to lean
    element_models = (GenreBlend,)
    engine_version = "2"  # a number of bpm in the prompt sets the tempo; the loudness is the blend's own

    def resolve_inputs(self, inputs: dict[str, Any], *, prompt: str, caller: Any) -> dict[str, Any]:
        """A genre reference's id becomes what it measured (tempo, key, scale)."""
        named = inputs.get("genre_reference")
        if named is None or isinstance(named, dict):
            return inputs
        return {**inputs, "genre_reference": selectors.genre_reference_choice(caller, str(named))}

    def validate(self, inputs: dict[str, Any]) -> None:
        genres = inputs.get("genres")
        if genres is not None:
            if len(genres) > 3:
                raise InputError("genres", "at most 3 genres can be blended")
            for item in genres:
                name = str(item.get("name", "")).lower()
                if name not in GENRES:
                    raise InputError(
                        "genres",
                        f"unknown genre {item.get('name')!r}; choose from: {', '.join(sorted(GENRES))}",
                    )
                weight = float(item.get("weight", 1.0))
                if not weight > 0:
                    raise InputError("genres", f"weight of {name!r} must be greater than 0")
                if weight > MAX_WEIGHT:
                    raise InputError("genres", f"genre weights are at most {MAX_WEIGHT}, not {weight}")
        reference = inputs.get("genre_reference")
        if reference is not None and not (
            isinstance(reference, dict) and {"tempo", "key", "scale"} <= set(reference)
        ):
            raise InputError("genreReference", "the genre reference is malformed")
        tempo = inputs.get("tempo")
        if tempo is not None and not MIN_TEMPO <= float(tempo) <= MAX_TEMPO:
            raise InputError(
                "tempo", f"tempo must be between {MIN_TEMPO:g} and {MAX_TEMPO:g} bpm, not {tempo}"
            )

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        genre_view = dataclasses.replace(
            context, inputs={k: v for k, v in context.inputs.items() if k != "tempo"}
        )
        result = blend_genres(genre_view, stage_seed(context, self.name))
        style = result.style
        GenreBlend.objects.update_or_create(
            composition=composition,
            defaults={
                "primary": result.genres[0].name,
                "weights": [{"name": g.name, "weight": round(g.weight, 4)} for g in result.genres],
                "source": result.genres_source,
                "tempo": result.tempo,
                "swing": style.swing,
                "density": style.density,
                "loudness_target": result.loudness_target,
                "programs": style.programs,
                "reference": result.reference,
            },
        )
        context.genres = result.genres
        context.style = style
        context.tempo = result.tempo
        context.instruments = result.instruments
        context.loudness_target = result.loudness_target
        context.sources.update(
            genres=result.genres_source,
            tempo=result.tempo_source,
            instruments=SOURCE_GENRE,
            loudness_target=SOURCE_GENRE,  # until the mastering stage decides the master's
        )
        if result.programs_source != SOURCE_GENRE:  # the programs are the genre's unless leaned
            context.sources["programs"] = result.programs_source


STAGE = GenreStage()
