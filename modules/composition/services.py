"""Writes on compositions: `<entity>_<action>` services called by resolvers and the CLI."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from modules.accounts.quotas import compose_allowance_take
from modules.moderation.services import moderation_check
from subscriptions.events import publish_event

from .context import SOURCE_INPUT, SOURCE_SEED, CompositionContext
from .models import Composition, CompositionShare, StageRun, StageStatus, Status, Version, Visibility
from .pipeline import dispatch
from .selectors import session_digest
from .stages import InputError, downstream, ordered_names, registry

MIN_DURATION, MAX_DURATION = 15, 240
MAX_SEED = 2**31 - 1


LOWERCASE_INPUTS = {"mood", "voice", "scale"}


def _clean_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Drop unset values, strip strings, and spell names one way (so equal requests hash equal)."""
    cleaned: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, str):
            value = value.strip()
            if key in LOWERCASE_INPUTS:
                value = value.lower()
            elif key == "key" and value:
                value = value[0].upper() + value[1:]
        if key == "genres" and value:
            value = [
                {"name": str(g["name"]).strip().lower(), "weight": float(g.get("weight", 1.0))} for g in value
            ]
        if value not in (None, "", []):
            cleaned[key] = value
    return cleaned


def _prepared(inputs: dict[str, Any], prompt: str, caller: Any) -> dict[str, Any]:
    """The inputs with what each stage resolves from the caller's own saved things (Stage.prepare)."""
    for stage in registry().values():
        inputs = stage.prepare(inputs, prompt=prompt, caller=caller)
    return inputs


def _check_content(prompt: str | None, inputs: dict[str, Any], caller: Any) -> None:
    """The content check on what a person wrote: the prompt and their own lyrics."""
    key = caller.client_key if caller is not None else "system"
    if prompt is not None:
        moderation_check(prompt, field="prompt", caller_key=key)
    if inputs.get("lyrics"):
        moderation_check(inputs["lyrics"], field="lyrics", caller_key=key)


def _check_duration(duration_seconds: int) -> None:
    if not MIN_DURATION <= duration_seconds <= MAX_DURATION:
        raise InputError(
            "durationSeconds",
            f"durationSeconds must be between {MIN_DURATION} and {MAX_DURATION}, not {duration_seconds}",
        )


def composition_create(
    *,
    prompt: str,
    seed: int | None = None,
    duration_seconds: int = 60,
    instrumental: bool = False,
    inputs: dict[str, Any] | None = None,
    caller: Any = None,
    start: bool = True,
) -> Composition:
    """Validate, store a QUEUED composition with its initial context, and start the pipeline.

    `caller` (a modules.accounts Caller) owns it and is held to its compose quotas; None is
    the system itself (the CLI, benchmarks), which has no quota and owns nothing.
    """
    prompt = (prompt or "").strip()
    if not prompt:
        raise InputError("prompt", "prompt must not be empty")
    if len(prompt) > settings.CODA_MAX_PROMPT_CHARS:
        raise InputError(
            "prompt",
            f"prompt is {len(prompt)} characters long; the limit is {settings.CODA_MAX_PROMPT_CHARS}",
        )
    _check_duration(duration_seconds)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError("seed", f"seed must be between 0 and {MAX_SEED}")
    explicit = _prepared(_clean_inputs(inputs or {}), prompt, caller)
    for stage in registry().values():
        stage.validate(explicit)
    _check_content(prompt, explicit, caller)

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
        compose_allowance_take(caller, duration_seconds)
        composition = Composition.objects.create(
            owner=caller.user if caller is not None else None,
            anonymous_session=session_digest(caller.session_key) if caller and not caller.user else "",
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


class CompositionBusy(InputError):
    """The composition is still being made; the change would race the pipeline."""


def _ensure_idle(composition: Composition, action: str) -> None:
    if not composition.is_finished:
        raise CompositionBusy(
            "id",
            f"composition is {composition.status}; wait for it to finish or cancel it before you {action}",
        )


def version_create(composition: Composition, reason: str) -> Version:
    """Keep what the composition is now: its context, every element and the files they use."""
    number = (composition.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = Version.objects.create(
        composition=composition,
        number=number,
        reason=reason[:300],
        context=composition.context,
        elements={name: stage.snapshot(composition) for name, stage in registry().items()},
    )
    version.artifacts.set(composition.artifacts.filter(current=True))
    return version


def _rerun(
    composition: Composition,
    context: CompositionContext,
    reason: str,
    first_stage: str | None,
    caller: Any = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Queue the pipeline again. Every stage runs through its hash: unchanged ones are reused."""
    affected = downstream(first_stage) if first_stage else ordered_names()
    with transaction.atomic():
        compose_allowance_take(caller, context.duration_seconds)
        if changes:
            Composition.objects.filter(pk=composition.pk).update(**changes)
        version_create(composition, reason)
        Composition.objects.filter(pk=composition.pk).update(
            status=Status.QUEUED, context=context.to_dict(), error="", finished_at=None, resumes=0
        )
        StageRun.objects.filter(composition=composition, name__in=affected).update(
            status=StageStatus.PENDING, progress=0.0, message="", error=""
        )
        publish_event(composition.pk, status="QUEUED", message=reason)
        transaction.on_commit(lambda: dispatch(composition.pk))
    composition.refresh_from_db()


def composition_regenerate(
    composition: Composition, stage: str, seed: int | None = None, caller: Any = None
) -> Composition:
    """Rerun one stage with a new seed, then only what depends on it; the old result stays a version."""
    if stage not in registry():
        raise InputError("stage", f"unknown stage {stage!r}; choose one of: {', '.join(ordered_names())}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError("seed", f"seed must be between 0 and {MAX_SEED}")
    _ensure_idle(composition, "regenerate it")
    context = CompositionContext.from_dict(composition.context)
    if seed is None:
        seed = random.SystemRandom().randint(0, MAX_SEED)
    context.stage_seeds[stage] = seed
    _rerun(composition, context, f"regenerate {stage} with seed {seed}", stage, caller)
    return composition


def composition_update(
    composition: Composition,
    *,
    inputs: dict[str, Any],
    duration_seconds: int | None = None,
    instrumental: bool | None = None,
    caller: Any = None,
) -> Composition:
    """Change explicit inputs and rerun; only stages that read what changed are recomputed."""
    _ensure_idle(composition, "edit it")
    changes = _clean_inputs(inputs)
    if duration_seconds is not None:
        _check_duration(duration_seconds)
    merged = _prepared({**composition.inputs, **changes}, composition.prompt, caller)
    for stage in registry().values():
        stage.validate(merged)
    _check_content(None, changes, caller)
    context = CompositionContext.from_dict(composition.context)
    context.inputs = merged
    described = [f"{k}={v}" for k, v in sorted(changes.items()) if k != "lyrics"] + (
        ["lyrics"] if "lyrics" in changes else []
    )
    if duration_seconds is not None and duration_seconds != composition.duration_seconds:
        context.duration_seconds = duration_seconds
        described.append(f"durationSeconds={duration_seconds}")
    if instrumental is not None and instrumental != composition.instrumental:
        context.instrumental = instrumental
        described.append(f"instrumental={instrumental}")
    if not described:
        raise InputError("input", "nothing to change: give at least one new value")
    stored = {
        "inputs": merged,
        "duration_seconds": context.duration_seconds,
        "instrumental": context.instrumental,
    }
    _rerun(composition, context, "edit " + ", ".join(described), None, caller, stored)
    return composition


def composition_cancel(composition: Composition) -> Composition:
    """Stop queued and running stages: revoke the queued tasks; running ones stop at their next check."""
    if composition.is_finished:
        raise InputError("id", f"composition already finished ({composition.status}); nothing to cancel")
    with transaction.atomic():
        updated = Composition.objects.filter(
            pk=composition.pk, status__in=[Status.QUEUED, Status.RUNNING]
        ).update(status=Status.CANCELLED, finished_at=timezone.now())
        if not updated:  # it finished meanwhile
            composition.refresh_from_db()
            return composition
        StageRun.objects.filter(
            composition=composition, status__in=[StageStatus.PENDING, StageStatus.RUNNING]
        ).update(status=StageStatus.CANCELLED, message="cancelled")
        publish_event(composition.pk, status="CANCELLED", message="cancelled on request")
    if composition.task_ids and settings.CODA_PIPELINE == "celery":
        from backend.celery import app

        app.control.revoke(composition.task_ids)
    composition.refresh_from_db()
    return composition


def compositions_sweep_stuck() -> dict[str, list[int]]:
    """Resume (or, after CODA_MAX_RESUMES, fail) compositions with no sign of life for a while.

    A sign of life is an event or a running stage's heartbeat; a worker that died
    mid-stage leaves neither.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.CODA_STUCK_AFTER_SECONDS)
    result: dict[str, list[int]] = {"resumed": [], "failed": []}
    for composition in Composition.objects.filter(status__in=[Status.QUEUED, Status.RUNNING]):
        last_event = composition.events.order_by("-seq").values_list("created_at", flat=True).first()
        last_beat = composition.stages.aggregate(last=Max("heartbeat_at"))["last"]
        alive = max(t for t in (last_event, last_beat, composition.updated_at) if t is not None)
        if alive >= cutoff:
            continue
        if composition.resumes >= settings.CODA_MAX_RESUMES:
            Composition.objects.filter(pk=composition.pk).update(
                status=Status.FAILED, error="stalled: no worker finished it", finished_at=timezone.now()
            )
            StageRun.objects.filter(
                composition=composition, status__in=[StageStatus.PENDING, StageStatus.RUNNING]
            ).update(status=StageStatus.FAILED, error="stalled: no worker finished it")
            publish_event(composition.pk, status="FAILED", message="stalled: no worker finished it")
            result["failed"].append(composition.pk)
            continue
        Composition.objects.filter(pk=composition.pk).update(resumes=F("resumes") + 1)
        StageRun.objects.filter(composition=composition, status=StageStatus.RUNNING).update(
            status=StageStatus.PENDING, message="resumed after the pipeline stalled"
        )
        publish_event(composition.pk, status="RUNNING", message="resumed after the pipeline stalled")
        dispatch(composition.pk)
        result["resumed"].append(composition.pk)
    return result


def composition_set_visibility(composition: Composition, visibility: str) -> Composition:
    if visibility not in Visibility.values:
        raise InputError("visibility", f"visibility must be one of {Visibility.values}")
    Composition.objects.filter(pk=composition.pk).update(visibility=visibility)
    composition.refresh_from_db()
    return composition


def _user_named(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise InputError("username", f"no user named {username!r}")
    return user


def composition_share(composition: Composition, username: str) -> Composition:
    """Let another user read it; sharing with yourself is refused (you own it already)."""
    user = _user_named(username)
    if user.pk == composition.owner_id:
        raise InputError("username", "you own this composition; share it with someone else")
    CompositionShare.objects.get_or_create(composition=composition, user=user)
    return composition


def composition_unshare(composition: Composition, username: str) -> Composition:
    CompositionShare.objects.filter(composition=composition, user=_user_named(username)).delete()
    return composition
