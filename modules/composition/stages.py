"""The stage registry: the core knows stages only through this.

Each module listed in settings.CODA_STAGES has a `stage.py` exporting `STAGE`,
an instance of a `Stage` subclass. The registry orders them by their `needs`.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from .context import CompositionContext

if TYPE_CHECKING:
    from .models import Composition


class InputError(ValueError):
    """Input a client can fix; becomes a typed GraphQL error naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StageCancelled(Exception):
    """Raised inside a stage when its composition was cancelled meanwhile."""


Progress = Callable[[float, str], None]


class Stage:
    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    engine_version: ClassVar[str] = "1"

    def validate(self, inputs: dict[str, Any]) -> None:
        """Check this stage's explicit inputs; raise InputError."""

    def applies(self, context: CompositionContext) -> bool:
        """False skips the stage (e.g. lyrics for an instrumental)."""
        return True

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        """Compute the element, store it (replacing any earlier one), enrich `context` in place."""
        raise NotImplementedError


@functools.cache
def registry() -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    for module in settings.CODA_STAGES:
        stage = importlib.import_module(f"{module}.stage").STAGE
        stages[stage.name] = stage
    for stage in stages.values():
        missing = set(stage.needs) - set(stages)
        if missing:
            raise LookupError(f"stage {stage.name!r} needs unregistered stages {sorted(missing)}")
    return stages


@functools.cache
def levels() -> tuple[tuple[str, ...], ...]:
    """Stages grouped in dependency levels: each level only needs earlier ones."""
    remaining = dict(registry())
    done: set[str] = set()
    result: list[tuple[str, ...]] = []
    while remaining:
        level = tuple(name for name, stage in remaining.items() if set(stage.needs) <= done)
        if not level:
            raise LookupError(f"cycle among stages {sorted(remaining)}")
        result.append(level)
        done.update(level)
        for name in level:
            del remaining[name]
    return tuple(result)


def ordered_names() -> list[str]:
    return [name for level in levels() for name in level]


class Throttle:
    """Coalesces fine-grained progress to a few events per second (FIELD-NOTES trap 3)."""

    def __init__(self, emit: Progress, interval: float = 0.25) -> None:
        self.emit = emit
        self.interval = interval
        self.last = 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.emit(max(0.0, min(1.0, fraction)), message)


def stage_seed(seed: int, stage_name: str) -> int:
    """Each stage draws from its own stream, so re-seeding one leaves the others alone."""
    import zlib

    return zlib.crc32(f"{seed}:{stage_name}".encode()) & 0x7FFFFFFF
