"""Runs the stages of a composition in dependency order.

`execute_stage` and `finish_composition` are the units of work; they are the
same whether Celery runs them (production) or this process does (embedded).
A stage's result is addressed by the hash of exactly what it read: a stage
whose hash is unchanged is reused (from this composition, or from any earlier
identical run), never recomputed.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections, transaction
from django.utils import timezone

from subscriptions.events import publish_event

from .artifacts import artifacts_for_stage, artifacts_share
from .context import CompositionContext
from .models import Composition, StageRun, StageStatus, Status
from .stages import (
    Stage,
    StageCancelled,
    StageRefused,
    Throttle,
    TransientStageError,
    input_hash,
    levels,
    registry,
    stage_seed,
)

log = logging.getLogger(__name__)

# Failures worth another try; anything else fails the stage at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientStageError,
    ConnectionError,
    TimeoutError,
    OperationalError,
)
SKIPPED_HASH = "skipped"


def _context_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a stage added: the top-level fields it changed, and its own `sources` entries."""
    delta = {k: v for k, v in after.items() if k not in ("sources", "inputs") and before.get(k) != v}
    sources = {k: v for k, v in after.get("sources", {}).items() if before.get("sources", {}).get(k) != v}
    if sources:
        delta["sources"] = sources
    return delta


def _merge_context(composition_id: int, delta: dict[str, Any]) -> None:
    """Write only what this stage changed, so parallel stages don't clobber each other."""
    if not delta:
        return
    with transaction.atomic():
        composition = Composition.objects.select_for_update().get(pk=composition_id)
        merged = {**composition.context, **{k: v for k, v in delta.items() if k != "sources"}}
        merged["sources"] = {**composition.context.get("sources", {}), **delta.get("sources", {})}
        composition.context = merged
        composition.save(update_fields=["context", "updated_at"])


def _fail(composition: Composition, run: StageRun, error: str) -> None:
    now = timezone.now()
    StageRun.objects.filter(pk=run.pk).update(status=StageStatus.FAILED, error=error, finished_at=now)
    publish_event(composition.pk, stage=run.name, status="FAILED", message=error)
    StageRun.objects.filter(composition=composition, status=StageStatus.PENDING).update(
        status=StageStatus.CANCELLED, message="not run: an earlier stage failed"
    )
    Composition.objects.filter(pk=composition.pk).update(
        status=Status.FAILED, error=f"{run.name}: {error}", finished_at=now
    )
    publish_event(composition.pk, status="FAILED", message=f"stage {run.name} failed: {error}")


def _need_hashes(composition: Composition, stage: Stage) -> dict[str, str]:
    runs = StageRun.objects.filter(composition=composition, name__in=stage.needs)
    return {run.name: run.input_hash for run in runs}


def _succeed(run: StageRun, key: str, output: dict[str, Any], *, reused: bool, message: str = "") -> None:
    StageRun.objects.filter(pk=run.pk).update(
        status=StageStatus.SUCCEEDED,
        progress=1.0,
        input_hash=key,
        output=output,
        reused=reused,
        message=message,
        error="",
        finished_at=timezone.now(),
    )
    publish_event(run.composition_id, stage=run.name, status="SUCCEEDED", progress=1.0, message=message)


def _reuse_from_elsewhere(composition: Composition, stage: Stage, run: StageRun, key: str) -> bool:
    """Restore the result of an identical earlier run of this stage in another composition."""
    if not settings.CODA_REUSE_RESULTS:
        return False
    donor = (
        StageRun.objects.filter(name=stage.name, input_hash=key, status=StageStatus.SUCCEEDED)
        .exclude(composition=composition)
        .select_related("composition")
        .order_by("-finished_at")
        .first()
    )
    if donor is None:
        return False
    with transaction.atomic():
        files = artifacts_share(artifacts_for_stage(donor.composition, stage.name), composition)
        stage.restore(composition, stage.snapshot(donor.composition), files)
    _merge_context(composition.pk, donor.output)
    _succeed(
        run,
        key,
        donor.output,
        reused=True,
        message=f"reused: the same inputs were composed before (#{donor.composition_id})",
    )
    return True


def _run_with_retries(
    composition: Composition, stage: Stage, run: StageRun, context: CompositionContext, report: Any
) -> None:
    attempts = max(1, settings.CODA_STAGE_ATTEMPTS)
    delay = settings.CODA_RETRY_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            stage.run(composition, context, report)
            return
        except TRANSIENT_ERRORS as exc:
            if attempt == attempts:
                raise
            reason = f"{type(exc).__name__}: {exc}"
            message = f"attempt {attempt} of {attempts} failed ({reason}); retrying in {delay:g} s"
            StageRun.objects.filter(pk=run.pk).update(attempts=attempt + 1, message=message[:200])
            publish_event(composition.pk, stage=stage.name, status="RETRYING", message=message)
            time.sleep(delay)
            delay *= 2


def execute_stage(composition_id: int, stage_name: str) -> str:
    """Run (or reuse) one stage of one composition; returns the stage's final status."""
    stage = registry()[stage_name]
    composition = Composition.objects.get(pk=composition_id)
    if composition.is_finished:
        return StageStatus.CANCELLED if composition.status == Status.CANCELLED else StageStatus.SKIPPED
    run = StageRun.objects.get(composition=composition, name=stage_name)
    if composition.status == Status.QUEUED:
        Composition.objects.filter(pk=composition_id).update(status=Status.RUNNING)
        publish_event(composition_id, status="RUNNING", message="composing")

    context = CompositionContext.from_dict(composition.context)
    if not stage.applies(context):
        StageRun.objects.filter(pk=run.pk).update(
            status=StageStatus.SKIPPED, progress=1.0, input_hash=SKIPPED_HASH, finished_at=timezone.now()
        )
        publish_event(composition_id, stage=stage_name, status="SKIPPED", progress=1.0, message="not needed")
        return StageStatus.SKIPPED

    needs = _need_hashes(composition, stage)
    planned = stage.route(composition, context)
    key = input_hash(stage, context, needs, planned)
    try:  # before a result is reused as much as before one is made
        stage.recheck(composition, context)
    except StageRefused as exc:
        _fail(composition, run, f"{type(exc).__name__}: {exc}")
        return StageStatus.FAILED
    # A hash is stored only on success and cleared when a run starts: a match is an intact result.
    if run.input_hash == key:
        _succeed(run, key, run.output, reused=True, message="reused: inputs unchanged")
        return StageStatus.SUCCEEDED
    if _reuse_from_elsewhere(composition, stage, run, key):
        return StageStatus.SUCCEEDED

    StageRun.objects.filter(pk=run.pk).update(
        status=StageStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        attempts=run.attempts + 1,
        seed=stage_seed(context, stage_name),
        reused=False,
        input_hash="",
        error="",
    )
    publish_event(composition_id, stage=stage_name, status="STARTED")

    def report(fraction: float, message: str) -> None:
        # The cooperative cancellation point of long stages, and their heartbeat.
        if Composition.objects.filter(pk=composition_id, status=Status.CANCELLED).exists():
            raise StageCancelled()
        StageRun.objects.filter(pk=run.pk).update(
            progress=fraction, message=message[:200], heartbeat_at=timezone.now()
        )
        publish_event(composition_id, stage=stage_name, status="PROGRESS", progress=fraction, message=message)

    before = context.to_dict()
    try:
        _run_with_retries(composition, stage, run, context, Throttle(report))
    except StageCancelled:
        StageRun.objects.filter(pk=run.pk).update(status=StageStatus.CANCELLED, finished_at=timezone.now())
        return StageStatus.CANCELLED
    except Exception as exc:  # a stage's failure is recorded, never lost
        log.exception("stage %s of composition %s failed", stage_name, composition_id)
        _fail(composition, run, f"{type(exc).__name__}: {exc}")
        return StageStatus.FAILED
    taken = stage.route_taken(composition, planned)
    if taken != planned:  # e.g. a provider failed and the built-in engine did the work: store it as that
        key = input_hash(stage, CompositionContext.from_dict(before), needs, taken)
    delta = _context_delta(before, context.to_dict())
    _merge_context(composition_id, delta)
    _succeed(run, key, delta, reused=False)
    return StageStatus.SUCCEEDED


def finish_composition(composition_id: int) -> str:
    updated = Composition.objects.filter(
        pk=composition_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.SUCCEEDED, finished_at=timezone.now(), task_ids=[])
    if updated:
        publish_event(composition_id, status="SUCCEEDED", progress=1.0, message="composition ready")
    return Composition.objects.values_list("status", flat=True).get(pk=composition_id)


def run_inline(composition_id: int) -> str:
    """The whole pipeline in this thread, level by level."""
    for level in levels():
        for name in level:
            if execute_stage(composition_id, name) in (StageStatus.FAILED, StageStatus.CANCELLED):
                return Composition.objects.values_list("status", flat=True).get(pk=composition_id)
    return finish_composition(composition_id)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _run_in_thread(composition_id: int) -> None:
    close_old_connections()
    try:
        run_inline(composition_id)
    except Exception:
        log.exception("pipeline of composition %s crashed", composition_id)
    finally:
        connections.close_all()


SWEEP_INTERVAL_SECONDS = 60


def _sweep_forever() -> None:
    """Embedded mode's stand-in for Celery beat: resume or fail stalled compositions."""
    from .services import compositions_sweep_stuck

    while True:
        time.sleep(SWEEP_INTERVAL_SECONDS)
        close_old_connections()
        try:
            compositions_sweep_stuck()
        except Exception:
            log.exception("stuck-composition sweep failed")
        finally:
            connections.close_all()


def dispatch(composition_id: int) -> None:
    """Start the pipeline the way settings.CODA_PIPELINE says; returns at once (but for "sync")."""
    mode = settings.CODA_PIPELINE
    if mode == "celery":
        from .tasks import pipeline_signature

        result = pipeline_signature(composition_id).apply_async()
        task_ids = []
        node = result
        while node is not None:  # the chain's results link back from the last task to the first
            task_ids.append(node.id)
            node = node.parent
        Composition.objects.filter(pk=composition_id).update(task_ids=task_ids)
    elif mode == "thread":
        global _executor
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="coda-pipeline")
                threading.Thread(target=_sweep_forever, name="coda-sweep", daemon=True).start()
        _executor.submit(_run_in_thread, composition_id)
    elif mode == "sync":
        run_inline(composition_id)
    else:
        raise ValueError(f"unknown CODA_PIPELINE {mode!r}: use celery, thread or sync")
