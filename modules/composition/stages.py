"""The stage registry: the core knows stages only through this.

Each module listed in settings.CODA_STAGES has a `stage.py` exporting `STAGE`,
an instance of a `Stage` subclass. The registry orders them by their `needs`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db.models import Model

from .context import CompositionContext
from .elements import rows_restore, rows_snapshot

if TYPE_CHECKING:
    from .models import Artifact, Composition


class InputError(ValueError):
    """Input a client can fix; becomes a typed GraphQL error naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InputConflict(InputError):
    """The input clashes with the state of things (a composition still being made, a name already
    taken): CONFLICT."""


class InputNotFound(InputError):
    """An input names something that does not exist or that the caller may not use (another
    user's private voice profile): NOT_FOUND, exactly as for an id that was never made."""


class StageRefused(RuntimeError):
    """The composition's owner may no longer use what its inputs name (a voice profile deleted, or
    its grant revoked, since the request): the stage fails, whether it would run or reuse a result."""


class StageCancelled(Exception):
    """Raised inside a stage when its composition was cancelled meanwhile."""


Progress = Callable[[float, str], None]


class TransientStageError(RuntimeError):
    """A failure worth retrying (a resource briefly missing, a service briefly away)."""


class Stage:
    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    # Exactly the context fields the stage reads ("inputs.x" for one explicit input):
    # with the seed, the engine version and the needed stages' hashes they address its result.
    reads: ClassVar[tuple[str, ...]] = ()
    # The context priors it consults where the prompt and inputs leave a choice open
    # (CompositionContext.priors); those present are part of its hash.
    priors: ClassVar[tuple[str, ...]] = ()
    # The models holding the stage's element (rows with a `composition` link).
    element_models: ClassVar[tuple[type[Model], ...]] = ()
    engine_version: ClassVar[str] = "1"

    def fingerprint(self) -> dict[str, Any]:
        """Settings that change the result (a soundfont, a sample rate); part of the hash."""
        return {}

    def route(self, composition: Composition, context: CompositionContext) -> dict[str, Any]:
        """Who does the work for this composition when it is not the stage's own engine: e.g. the
        provider its owner's route chooses (by name, kind, endpoint and model; never credentials).
        Part of the hash, so a result is never reused for a composition whose work goes elsewhere
        (an owner who prefers the built-in engine never gets another's provider's result). {}: the
        built-in engine, and the hash is what it always was."""
        return {}

    def route_taken(self, composition: Composition, planned: dict[str, Any]) -> dict[str, Any]:
        """After a successful run: who really did the work. `planned` (what `route` said), unless the
        stage fell back, e.g. to its built-in engine after the provider failed. The result is stored
        under the hash of who really made it, so a fallback's result is never reused as the
        provider's (once the provider answers again, it is asked again)."""
        return planned

    def resolve_inputs(self, inputs: dict[str, Any], *, prompt: str, caller: Any) -> dict[str, Any]:
        """The explicit inputs with what the caller's stored things they name (a preset, an uploaded
        reference, a custom mood named in the input or the prompt) hold now, as plain values, for
        this caller (a modules.accounts Caller, None for the system); raise InputError for a name
        the caller has no such thing under. Runs before `validate`, on create and on edit (over the
        merged inputs: a value already resolved stays as it was given). Engines never read the
        database: what they need of a caller's data travels in the inputs, and so takes part in
        the stage's hash."""
        return inputs

    def validate(self, inputs: dict[str, Any]) -> None:
        """Check this stage's explicit inputs; raise InputError."""

    def settles(self, inputs: dict[str, Any]) -> frozenset[str]:
        """The prior choices (PRIOR_CHOICES) this stage's explicit inputs decide, beyond the one
        input PRIOR_CHOICES names for a choice: e.g. a mastering preset with a loudness target
        settles "loudness". Such a prior is not stored when the composition is created."""
        return frozenset()

    def authorize(self, inputs: dict[str, Any], caller: Any) -> None:
        """Check that `caller` (a modules.accounts Caller, None for the system) may use what the
        inputs name, e.g. a private voice profile; raise InputNotFound."""

    def recheck(self, composition: Composition, context: CompositionContext) -> None:
        """`authorize` again, for the composition's owner, each time the pipeline is about to run
        the stage or reuse a result for it (from this composition or another): what was allowed
        when the request came may have been withdrawn since. Raise StageRefused."""

    def applies(self, context: CompositionContext) -> bool:
        """False skips the stage (e.g. lyrics for an instrumental)."""
        return True

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        """Compute the element, store it (replacing any earlier one), enrich `context` in place."""
        raise NotImplementedError

    def snapshot(self, composition: Composition) -> dict[str, Any]:
        """The element as JSON-ready data."""
        return {m.__name__: rows_snapshot(m, composition) for m in self.element_models}

    def restore(self, composition: Composition, data: dict[str, Any], artifacts: dict[str, Artifact]) -> None:
        """Make `data` (a snapshot) the composition's element, linking files by name."""
        for model in self.element_models:
            rows_restore(model, composition, data.get(model.__name__, []), artifacts)


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


def stage_seed(context: CompositionContext, stage_name: str) -> int:
    """Each stage draws from its own stream, so re-seeding one leaves the others alone."""
    if stage_name in context.stage_seeds:
        return int(context.stage_seeds[stage_name])
    return zlib.crc32(f"{context.seed}:{stage_name}".encode()) & 0x7FFFFFFF


def read_slice(context: dict[str, Any], reads: tuple[str, ...]) -> dict[str, Any]:
    inputs = context.get("inputs", {})
    return {path: inputs.get(path[7:]) if path.startswith("inputs.") else context.get(path) for path in reads}


def input_hash(
    stage: Stage, context: CompositionContext, needs: dict[str, str], route: dict[str, Any] | None = None
) -> str:
    """The address of a stage's result: a hash of exactly what it reads, and of who does its work
    (`route`, see Stage.route)."""
    payload = {
        "stage": stage.name,
        "engine": stage.engine_version,
        "seed": stage_seed(context, stage.name),
        "reads": read_slice(context.to_dict(), stage.reads),
        "needs": needs,
        "settings": stage.fingerprint(),
    }
    priors = {name: context.priors[name] for name in stage.priors if name in context.priors}
    if priors:  # only when there are some, so results made without priors keep their address
        payload["priors"] = priors
    if route:  # likewise: the built-in engine's results keep theirs
        payload["route"] = route
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def downstream(stage_name: str) -> list[str]:
    """The stage and every stage that needs it, directly or not, in pipeline order."""
    affected = {stage_name}
    for name in ordered_names():
        if affected & set(registry()[name].needs):
            affected.add(name)
    return [name for name in ordered_names() if name in affected]
