"""Priors: leanings for the choices a prompt leaves open, gathered when a composition is created.

settings.CODA_CONTEXT_PRIORS lists dotted paths of callables
`(caller=, prompt=, inputs=) -> {choice: prior}` (modules.feedback offers the caller's preference
profile this way). The core never imports them by name. The priors are stored in the context
(`CompositionContext.priors`), each with its source, and the stages consult them only where the
prompt and the explicit inputs leave a choice open (they then record the source "profile").

A prior is {"weights": {value: -1..1}} for a categorical choice (moods, genres, keys, scales,
voices, programs) or {"value": x, "strength": 0..1} for a numeric one (tempo, loudness).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .context import PRIOR_CHOICES, SOURCE_PROFILE
from .stages import registry

log = logging.getLogger(__name__)

NUMERIC_CHOICES = frozenset({"tempo", "loudness"})
MIN_WEIGHT = 0.01  # weights nearer zero than this lean nothing and are left out (smaller contexts, hashes)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _clean(choice: str, prior: Any, default_source: str) -> dict[str, Any] | None:
    """A well-formed prior with rounded numbers (stable hashes), or None."""
    if not isinstance(prior, dict):
        return None
    source = str(prior.get("source") or default_source)
    if choice in NUMERIC_CHOICES:
        value, strength = _finite(prior.get("value")), _finite(prior.get("strength"))
        if value is None or strength is None or strength <= 0:
            return None
        return {"source": source, "value": round(value, 2), "strength": round(min(1.0, strength), 4)}
    weights = {}
    for name, weight in (prior.get("weights") or {}).items():
        number = _finite(weight)
        if number is not None and abs(number) >= MIN_WEIGHT:
            weights[str(name)] = round(max(-1.0, min(1.0, number)), 4)
    return {"source": source, "weights": dict(sorted(weights.items()))} if weights else None


def context_priors(*, caller: Any, prompt: str, inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every configured prior, merged (the first provider to lean a choice wins); choices settled by
    an explicit input (PRIOR_CHOICES, or a stage's `settles`) are dropped. A provider that fails is
    logged and skipped: priors are optional, and composing must not fail for want of one."""
    merged: dict[str, dict[str, Any]] = {}
    settled = {choice for stage in registry().values() for choice in stage.settles(inputs)}
    for path in getattr(settings, "CODA_CONTEXT_PRIORS", []):
        try:
            found = import_string(path)(caller=caller, prompt=prompt, inputs=inputs) or {}
        except Exception:
            log.exception("context prior %s failed; composing without it", path)
            continue
        for choice, prior in found.items():
            if choice not in PRIOR_CHOICES or choice in merged or choice in settled:
                continue
            settled_by = PRIOR_CHOICES[choice]
            if settled_by is not None and inputs.get(settled_by) not in (None, "", []):
                continue
            cleaned = _clean(choice, prior, SOURCE_PROFILE)
            if cleaned is not None:
                merged[choice] = cleaned
    return merged
