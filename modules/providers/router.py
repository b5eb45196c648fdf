"""The router: which provider does a stage's work for a user, and why.

For a capability (a stage name) it takes, in order:
1. the user's stated preference, when it is the built-in engine, or a provider that is enabled,
   serves the capability and is healthy;
2. else the enabled, healthy provider serving the capability with the highest priority (then name);
3. else the stage's built-in engine, which is always there and works offline.

A stage whose chosen provider fails falls back to its built-in engine (the stage does that; the
router only says who to ask first). Every decision carries a reason a person can read, and the
providers passed over with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modules.composition.stages import ordered_names

from .models import BUILT_IN, KIND_LABELS, Provider, ProviderPreference
from .selectors import Health, health_of, preferences_of, providers_all, providers_enabled


@dataclass(frozen=True)
class PassedOver:
    """A provider serving the capability that was not chosen."""

    name: str
    reason: str


@dataclass(frozen=True)
class Route:
    """Who does a capability's work for one caller, and why."""

    capability: str
    provider: Provider | None  # None: the built-in engine
    health: Health | None
    reason: str
    preferred: bool  # chosen because the caller prefers it
    passed_over: tuple[PassedOver, ...] = ()

    @property
    def built_in(self) -> bool:
        return self.provider is None

    @property
    def name(self) -> str:
        return self.provider.name if self.provider is not None else BUILT_IN

    @property
    def kind(self) -> str:
        return self.provider.kind if self.provider is not None else BUILT_IN

    @property
    def label(self) -> str:
        return self.provider.label if self.provider is not None else KIND_LABELS[BUILT_IN]


@dataclass
class Registry:
    """What routing reads, loaded once: the enabled providers, their health, the user's preferences."""

    providers: list[Provider]
    health: dict[int, Health]
    preferences: dict[str, ProviderPreference] = field(default_factory=dict)

    @classmethod
    def load(cls, user: Any = None, *, include_disabled: bool = False) -> Registry:
        providers = list(providers_all() if include_disabled else providers_enabled())
        return cls(providers, health_of(p.pk for p in providers), preferences_of(user))

    def serving(self, capability: str) -> list[Provider]:
        """Enabled providers of a capability, highest priority first."""
        found = [p for p in self.providers if p.enabled and p.serves(capability)]
        return sorted(found, key=lambda p: (-p.priority, p.name))


def _described(provider: Provider, health: Health, *, preferred: bool) -> str:
    """ "openai-compatible 'local-llm' (priority 10, 98% ok, 420 ms p50)"."""
    first = "your preference" if preferred else f"priority {provider.priority}"
    probation = "; on probation after failing" if health.status == "PROBATION" else ""
    return f"{provider.label} ({first}, {health.summary()}{probation})"


def route(capability: str, user: Any = None, registry: Registry | None = None) -> Route:
    """The route of one capability for `user` (None: anonymous, no preference)."""
    registry = registry or Registry.load(user)
    preference = registry.preferences.get(capability)
    passed: list[PassedOver] = []
    note = ""
    if preference is not None:
        if preference.provider_id is None:
            return Route(capability, None, None, f"{BUILT_IN}: your preference", preferred=True)
        wanted = next((p for p in registry.providers if p.pk == preference.provider_id), None)
        if wanted is None or not wanted.enabled:
            note = f"your preferred '{preference.provider_name}' is disabled"
        elif not wanted.serves(capability):
            note = f"your preferred '{wanted.name}' no longer serves {capability}"
        else:
            health = registry.health[wanted.pk]
            if health.healthy:
                reason = _described(wanted, health, preferred=True)
                return Route(capability, wanted, health, reason, preferred=True)
            note = f"your preferred '{wanted.name}' is unhealthy: {health.trouble()}"
            passed.append(PassedOver(wanted.name, f"unhealthy: {health.trouble()}"))
    for provider in registry.serving(capability):
        if any(p.name == provider.name for p in passed):
            continue
        health = registry.health[provider.pk]
        if not health.healthy:
            passed.append(PassedOver(provider.name, f"unhealthy: {health.trouble()}"))
            continue
        reason = _described(provider, health, preferred=False) + (f"; {note}" if note else "")
        # The rest were not reached: say so, so the list names every provider of the capability.
        chosen_at = registry.serving(capability).index(provider)
        passed.extend(
            PassedOver(p.name, f"lower priority than '{provider.name}'")
            for p in registry.serving(capability)[chosen_at + 1 :]
            if all(q.name != p.name for q in passed)
        )
        return Route(capability, provider, health, reason, preferred=False, passed_over=tuple(passed))
    reason = f"{BUILT_IN}: " + ("no healthy provider" if passed else f"no provider serves {capability}")
    if note:
        reason += f"; {note}"
    return Route(capability, None, None, reason, preferred=False, passed_over=tuple(passed))


def routes(user: Any = None, registry: Registry | None = None) -> list[Route]:
    """Every stage's route for `user`, in pipeline order."""
    registry = registry or Registry.load(user)
    return [route(name, user, registry) for name in ordered_names()]
