"""The preference profile offered to the pipeline as a prior (settings.CODA_CONTEXT_PRIORS).

The core stores what this returns in the new composition's context; the stages lean only the
choices the prompt and inputs leave open, and record those with the source "profile".
"""

from __future__ import annotations

from typing import Any

from .engine import CATEGORICAL
from .selectors import profile_of


def preference_prior(*, caller: Any, prompt: str, inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The caller's profile as priors: {} for anonymous callers and the system (no profile)."""
    del prompt, inputs  # the stages decide what the prompt and inputs leave open
    user_id = getattr(caller, "user_id", None)
    if user_id is None:
        return {}
    profile, _ = profile_of(user_id)
    priors: dict[str, dict[str, Any]] = {
        attribute: {"weights": dict(profile.weights[attribute])}
        for attribute in CATEGORICAL
        if profile.weights.get(attribute)
    }
    for attribute, preference in profile.numbers.items():
        priors[attribute] = {"value": preference.preferred, "strength": preference.strength}
    return priors
