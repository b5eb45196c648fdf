"""Writes on compositions: `<entity>_<action>` services called by resolvers and the CLI."""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.db import transaction

from subscriptions.events import publish_event

from .context import SOURCE_INPUT, SOURCE_SEED, CompositionContext
from .models import Composition, StageRun
from .pipeline import dispatch
from .stages import InputError, ordered_names, registry

MIN_DURATION, MAX_DURATION = 15, 240
MAX_SEED = 2**31 - 1


def _clean_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Drop unset values and strip strings."""
    cleaned: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", []):
            cleaned[key] = value
    return cleaned


def composition_create(
    *,
    prompt: str,
    seed: int | None = None,
    duration_seconds: int = 60,
    instrumental: bool = False,
    inputs: dict[str, Any] | None = None,
    owner: Any = None,
    start: bool = True,
) -> Composition:
    """Validate, store a QUEUED composition with its initial context, and start the pipeline."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise InputError("prompt", "prompt must not be empty")
    if len(prompt) > settings.CODA_MAX_PROMPT_CHARS:
        raise InputError(
            "prompt",
            f"prompt is {len(prompt)} characters long; the limit is {settings.CODA_MAX_PROMPT_CHARS}",
        )
    if not MIN_DURATION <= duration_seconds <= MAX_DURATION:
        raise InputError(
            "durationSeconds",
            f"durationSeconds must be between {MIN_DURATION} and {MAX_DURATION}, not {duration_seconds}",
        )
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError("seed", f"seed must be between 0 and {MAX_SEED}")
    explicit = _clean_inputs(inputs or {})
    for stage in registry().values():
        stage.validate(explicit)

    seed_source = SOURCE_INPUT if seed is not None else SOURCE_SEED
    if seed is None:
        seed = random.SystemRandom().randint(0, MAX_SEED)
    context = CompositionContext(
        prompt=prompt,
        seed=seed,
        duration_seconds=duration_seconds,
        instrumental=instrumental,
        inputs=explicit,
        sources={"seed": seed_source},
    )
    with transaction.atomic():
        composition = Composition.objects.create(
            owner=owner if getattr(owner, "is_authenticated", False) else None,
            prompt=prompt,
            seed=seed,
            duration_seconds=duration_seconds,
            instrumental=instrumental,
            inputs=explicit,
            context=context.to_dict(),
        )
        StageRun.objects.bulk_create(
            StageRun(composition=composition, name=name, position=i) for i, name in enumerate(ordered_names())
        )
        publish_event(composition.pk, status="QUEUED", message="waiting for a worker")
        if start:
            transaction.on_commit(lambda: dispatch(composition.pk))
    return composition
