"""Writes on compositions: `<entity>_<action>` services called by resolvers and the CLI."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
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
from .models import (
    Artifact,
    Composition,
    CompositionShare,
    StageRun,
    StageStatus,
    Status,
    Version,
    Visibility,
)
from .pipeline import dispatch
from .priors import context_priors
from .selectors import composition_mine, session_digest
from .stages import InputConflict, InputError, downstream, ordered_names, registry

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


def _resolve_inputs(inputs: dict[str, Any], prompt: str, caller: Any) -> dict[str, Any]:
    """Each stage turns the inputs that name the caller's stored things (a preset, a reference, a
    custom mood) into what they hold (Stage.resolve_inputs)."""
    for stage in registry().values():
        inputs = stage.resolve_inputs(inputs, prompt=prompt, caller=caller)
    return inputs


def inputs_authorize(inputs: dict[str, Any], caller: Any) -> None:
    """Every stage's `authorize` on the inputs: what they name (a private voice profile) must be
    the caller's to use, on create and on every change that reruns the pipeline with them (an edit,
    a regeneration, a lyrics line), before anything is charged or written. InputNotFound if not."""
    for stage in registry().values():
        stage.authorize(inputs, caller)


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
    explicit = _resolve_inputs(_clean_inputs(inputs or {}), prompt, caller)
    for stage in registry().values():
        stage.validate(explicit)
    inputs_authorize(explicit, caller)
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
        priors=context_priors(caller=caller, prompt=prompt, inputs=explicit),
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


class CompositionBusy(InputConflict):
    """The composition is still being made; the change would race the pipeline."""


def _ensure_idle(composition: Composition, action: str) -> None:
    if not composition.is_finished:
        raise CompositionBusy(
            "id",
            f"composition is {composition.status}; wait for it to finish or cancel it before you {action}",
        )


RUN_FIELDS = ("status", "input_hash", "output", "seed", "reused", "message", "error")


def version_create(composition: Composition, reason: str) -> Version:
    """Keep what the composition is now: its context, every element, its stage runs and the files."""
    number = (composition.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = Version.objects.create(
        composition=composition,
        number=number,
        reason=reason[:300],
        context=composition.context,
        elements={name: stage.snapshot(composition) for name, stage in registry().items()},
        stages={run["name"]: run for run in composition.stages.values("name", *RUN_FIELDS)},
    )
    version.artifacts.set(composition.artifacts.filter(current=True))
    return version


def _version(composition: Composition, number: int, field: str) -> Version:
    version = composition.versions.filter(number=number).first()
    if version is None:
        numbers = list(composition.versions.order_by("number").values_list("number", flat=True))
        have = f"its versions are {', '.join(map(str, numbers))}" if numbers else "it has no versions yet"
        raise InputError(field, f"composition has no version {number}; {have}")
    return version


FINISHED_RUNS = {StageStatus.SUCCEEDED, StageStatus.SKIPPED}


def version_restore(composition: Composition, number: int) -> Composition:
    """Make version `number` current again, recomputing nothing: its elements, context, inputs,
    stage runs and files come back as they were stored, and the composition is SUCCEEDED (a failed
    change is undone this way). What the composition was until now is kept as a new version first,
    so a restore loses nothing and can itself be undone. Only versions of a finished song can be
    restored; a version kept before stage runs were recorded is restored as it is, status unchanged."""
    _ensure_idle(composition, "restore a version")
    version = _version(composition, number, "number")
    unfinished = sorted(n for n, run in version.stages.items() if run.get("status") not in FINISHED_RUNS)
    if unfinished:
        raise InputError(
            "number",
            f"version {number} is not a finished song ({', '.join(unfinished)} did not succeed); "
            "only finished versions can be restored",
        )
    with transaction.atomic():
        locked = Composition.objects.select_for_update().get(pk=composition.pk)
        _ensure_idle(locked, "restore a version")  # a rerun may have started meanwhile
        version_create(locked, f"before restoring version {number}")
        files = {artifact.name: artifact for artifact in version.artifacts.all()}
        Artifact.objects.filter(composition=locked, current=True).update(current=False)
        Artifact.objects.filter(pk__in=[a.pk for a in files.values()]).update(current=True)
        for name, stage in registry().items():
            if name in version.elements:
                stage.restore(locked, version.elements[name], files)
        for run in StageRun.objects.filter(composition=locked):
            stored = version.stages.get(run.name)
            # A version from before stage runs were kept: clear the hash, so a later rerun recomputes
            # the stage instead of trusting a hash of what it held before the restore.
            values = {k: stored[k] for k in RUN_FIELDS if k in stored} if stored else {"input_hash": ""}
            StageRun.objects.filter(pk=run.pk).update(**values)
        context = version.context
        Composition.objects.filter(pk=locked.pk).update(
            context=context,
            inputs=context.get("inputs", {}),
            duration_seconds=context.get("duration_seconds", locked.duration_seconds),
            instrumental=context.get("instrumental", locked.instrumental),
            updated_at=timezone.now(),
            **({"status": Status.SUCCEEDED, "error": ""} if version.stages else {}),
        )
    composition.refresh_from_db()
    return composition


COMPACT_CHARS = 300  # a context value longer than this as JSON is reported changed, without its values


@dataclass
class ElementChange:
    element: str  # the stage's name
    fields: list[str]  # "Model.field" that differ; "Model.rows" when the number of rows does


@dataclass
class ContextChange:
    field: str  # a top-level context field, or "inputs.x", "sources.x", "priors.x" for their entries
    before: Any  # None when absent, or too long to show (see `compact`)
    after: Any
    compact: bool  # False: the values are too long to show (sections, chords, lyrics...)


@dataclass
class FileChange:
    name: str
    change: str  # ADDED, REMOVED or CHANGED


@dataclass
class VersionDiff:
    a: int
    b: int | None  # None: the composition as it is now
    elements: list[ElementChange] = field(default_factory=list)
    context: list[ContextChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)


def _rows_changed(model: str, before: Any, after: Any) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [f"{model}.{k}" for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if isinstance(before, list) and isinstance(after, list):
        changed = {
            name for old, new in zip(before, after, strict=False) for name in _rows_changed(model, old, new)
        }
        if len(before) != len(after):
            changed.add(f"{model}.rows")
        return sorted(changed)
    return [] if before == after else [f"{model}.rows"]


def _element_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ElementChange]:
    changes = []
    for element in [name for name in ordered_names() if name in before or name in after]:
        old, new = before.get(element) or {}, after.get(element) or {}
        fields = sorted(
            {f for model in set(old) | set(new) for f in _rows_changed(model, old.get(model), new.get(model))}
        )
        if fields:
            changes.append(ElementChange(element, fields))
    return changes


def _shown(value: Any) -> bool:
    return len(json.dumps(value, default=str)) <= COMPACT_CHARS


def _context_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ContextChange]:
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if (
            name in ("inputs", "sources", "priors")
            and isinstance(old or {}, dict)
            and isinstance(new or {}, dict)
        ):
            changes.extend(
                _context_changes(
                    {f"{name}.{k}": v for k, v in (old or {}).items()},
                    {f"{name}.{k}": v for k, v in (new or {}).items()},
                )
            )
            continue
        compact = _shown(old) and _shown(new)
        changes.append(ContextChange(name, old if compact else None, new if compact else None, compact))
    return changes


def _state(composition: Composition, version: Version | None) -> tuple[dict, dict, dict[str, str]]:
    """(context, elements, file name -> stored file) of a version, or of the composition now."""
    if version is not None:
        files = {a.name: a.file.name for a in version.artifacts.all()}
        return version.context, version.elements, files
    elements = {name: stage.snapshot(composition) for name, stage in registry().items()}
    files = {a.name: a.file.name for a in composition.artifacts.filter(current=True)}
    return composition.context, elements, files


def version_diff(
    composition: Composition, a: int, b: int | None = None, *, caller: Any = None
) -> VersionDiff:
    """What changed from version `a` to version `b` (or to the composition as it is now, when b is None):
    the elements (and which of their fields), the context fields, and the files.

    For `caller` (a modules.accounts Caller; None: the system): the context's priors are the owner's
    preference profile, which is private, so "priors.x" rows are listed for the owner only."""
    context_a, elements_a, files_a = _state(composition, _version(composition, a, "a"))
    context_b, elements_b, files_b = _state(
        composition, _version(composition, b, "b") if b is not None else None
    )
    if caller is not None and not composition_mine(caller, composition):
        context_a = {k: v for k, v in context_a.items() if k != "priors"}
        context_b = {k: v for k, v in context_b.items() if k != "priors"}
    files = [FileChange(n, "ADDED") for n in sorted(set(files_b) - set(files_a))]
    files += [FileChange(n, "REMOVED") for n in sorted(set(files_a) - set(files_b))]
    files += [
        FileChange(n, "CHANGED") for n in sorted(set(files_a) & set(files_b)) if files_a[n] != files_b[n]
    ]
    return VersionDiff(
        a=a,
        b=b,
        elements=_element_changes(elements_a, elements_b),
        context=_context_changes(context_a, context_b),
        files=sorted(files, key=lambda f: f.name),
    )


def _rerun(
    composition: Composition,
    context: CompositionContext,
    reason: str,
    first_stage: str | None,
    action: str,
    caller: Any = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Queue the pipeline again. Every stage runs through its hash: unchanged ones are reused.

    The composition is locked and checked idle again first, as a restore does: two changes that both
    passed the caller's unlocked check then queue one after the other, never both (one version each,
    no duplicate number), and the second is refused as busy."""
    affected = downstream(first_stage) if first_stage else ordered_names()
    with transaction.atomic():
        # The quota's user row is locked before the composition's (as the lyrics edits do); a busy
        # composition below rolls the count back with everything else.
        compose_allowance_take(caller, context.duration_seconds)
        locked = Composition.objects.select_for_update().get(pk=composition.pk)
        _ensure_idle(locked, action)  # another change may have queued it meanwhile
        if changes:
            Composition.objects.filter(pk=composition.pk).update(**changes)
        version_create(locked, reason)
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
    inputs_authorize(composition.inputs, caller)  # the stored inputs: a grant may be revoked since
    context = CompositionContext.from_dict(composition.context)
    if seed is None:
        seed = random.SystemRandom().randint(0, MAX_SEED)
    context.stage_seeds[stage] = seed
    _rerun(composition, context, f"regenerate {stage} with seed {seed}", stage, "regenerate it", caller)
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
    merged = _resolve_inputs({**composition.inputs, **changes}, composition.prompt, caller)
    for stage in registry().values():
        stage.validate(merged)
    inputs_authorize(merged, caller)
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
    _rerun(composition, context, "edit " + ", ".join(described), None, "edit it", caller, stored)
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
