"""Runs the stages of a composition in dependency order.

`execute_stage` and `finish_composition` are the units of work; they are the
same whether Celery runs them (production) or this process does (embedded).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from subscriptions.events import publish_event

from .context import CompositionContext
from .models import Composition, StageRun, StageStatus, Status
from .stages import StageCancelled, Throttle, levels, registry

log = logging.getLogger(__name__)


def _merge_context(composition_id: int, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Write only the keys this stage changed, so parallel stages don't clobber each other."""
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if not changed:
        return
    with transaction.atomic():
        composition = Composition.objects.select_for_update().get(pk=composition_id)
        composition.context = {**composition.context, **changed}
        composition.save(update_fields=["context", "updated_at"])


def _fail(composition: Composition, run: StageRun, error: str) -> None:
    now = timezone.now()
    StageRun.objects.filter(pk=run.pk).update(status=StageStatus.FAILED, error=error, finished_at=now)
    StageRun.objects.filter(composition=composition, status=StageStatus.PENDING).update(
        status=StageStatus.CANCELLED, message="not run: an earlier stage failed"
    )
    Composition.objects.filter(pk=composition.pk).update(
        status=Status.FAILED, error=f"{run.name}: {error}", finished_at=now
    )
    publish_event(composition.pk, stage=run.name, status="FAILED", message=error)
    publish_event(composition.pk, status="FAILED", message=f"stage {run.name} failed: {error}")


def execute_stage(composition_id: int, stage_name: str) -> str:
    """Run one stage of one composition; returns the stage's final status."""
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
            status=StageStatus.SKIPPED, progress=1.0, finished_at=timezone.now()
        )
        publish_event(composition_id, stage=stage_name, status="SKIPPED", progress=1.0, message="not needed")
        return StageStatus.SKIPPED

    StageRun.objects.filter(pk=run.pk).update(
        status=StageStatus.RUNNING, started_at=timezone.now(), attempts=run.attempts + 1, error=""
    )
    publish_event(composition_id, stage=stage_name, status="STARTED")

    def report(fraction: float, message: str) -> None:
        if Composition.objects.filter(pk=composition_id, status=Status.CANCELLED).exists():
            raise StageCancelled()
        StageRun.objects.filter(pk=run.pk).update(progress=fraction, message=message[:200])
        publish_event(composition_id, stage=stage_name, status="PROGRESS", progress=fraction, message=message)

    before = context.to_dict()
    try:
        stage.run(composition, context, Throttle(report))
    except StageCancelled:
        StageRun.objects.filter(pk=run.pk).update(status=StageStatus.CANCELLED, finished_at=timezone.now())
        return StageStatus.CANCELLED
    except Exception as exc:  # a stage's failure is recorded, never lost
        log.exception("stage %s of composition %s failed", stage_name, composition_id)
        _fail(composition, run, f"{type(exc).__name__}: {exc}")
        return StageStatus.FAILED
    _merge_context(composition_id, before, context.to_dict())
    StageRun.objects.filter(pk=run.pk).update(
        status=StageStatus.SUCCEEDED, progress=1.0, finished_at=timezone.now()
    )
    publish_event(composition_id, stage=stage_name, status="SUCCEEDED", progress=1.0)
    return StageStatus.SUCCEEDED


def finish_composition(composition_id: int) -> str:
    updated = Composition.objects.filter(
        pk=composition_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.SUCCEEDED, finished_at=timezone.now())
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


def dispatch(composition_id: int) -> None:
    """Start the pipeline the way settings.CODA_PIPELINE says; returns at once (but for "sync")."""
    mode = settings.CODA_PIPELINE
    if mode == "celery":
        from .tasks import pipeline_signature

        pipeline_signature(composition_id).apply_async()
    elif mode == "thread":
        global _executor
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="coda-pipeline")
        _executor.submit(_run_in_thread, composition_id)
    elif mode == "sync":
        run_inline(composition_id)
    else:
        raise ValueError(f"unknown CODA_PIPELINE {mode!r}: use celery, thread or sync")
