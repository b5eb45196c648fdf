"""Celery tasks: they take ids, fetch, and call the pipeline's units of work."""

from __future__ import annotations

from celery import chain, group, shared_task
from celery.canvas import Signature

from .pipeline import execute_stage, finish_composition
from .services import compositions_sweep_stuck
from .stages import levels


@shared_task(name="coda.run_stage")
def run_stage(composition_id: int, stage_name: str) -> str:
    return execute_stage(composition_id, stage_name)


@shared_task(name="coda.finish_composition")
def finish(composition_id: int) -> str:
    return finish_composition(composition_id)


@shared_task(name="coda.sweep_stuck")
def sweep_stuck() -> dict[str, list[int]]:
    return compositions_sweep_stuck()


def pipeline_signature(composition_id: int) -> Signature:
    """The stage DAG as a Celery canvas: a chain of levels, each level a group."""
    steps: list[Signature] = []
    for level in levels():
        tasks = [run_stage.si(composition_id, name) for name in level]
        steps.append(tasks[0] if len(tasks) == 1 else group(tasks))
    steps.append(finish.si(composition_id))
    return chain(*steps)
