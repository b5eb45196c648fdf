"""Providers in GraphQL: what each stage would use for you and why, the registry, your preferences.

No type here has a field for credentials: API keys are set in the admin (a write-only field) and
only ever leave the server in the Authorization header of a call to their own provider. Endpoints
and errors are shown to staff only.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from strawberry.types import Info

from modules.accounts.caller import COMPOSE, READ
from modules.composition.stages import InputError
from schema.context import caller
from schema.errors import BadUserInput, Forbidden, Unauthenticated
from schema.permissions import HasScope

from . import router, services
from .models import BUILT_IN, Provider, ProviderKind, ProviderPreference
from .selectors import Health


@strawberry.enum(name="ProviderKind", description="What kind of provider does a stage's work.")
class ProviderKindEnum(Enum):
    BUILT_IN = strawberry.enum_value(
        BUILT_IN, description="The stage's own offline engine: always there, needs no network."
    )
    OPENAI_COMPATIBLE = strawberry.enum_value(
        ProviderKind.OPENAI_COMPATIBLE.value,
        description="A server speaking the OpenAI chat-completions protocol (local or remote).",
    )


@strawberry.enum(name="ProviderHealthStatus", description="Whether the router may choose a provider now.")
class ProviderHealthStatus(Enum):
    HEALTHY = strawberry.enum_value("HEALTHY", description="Its recent calls mostly succeeded.")
    UNTRIED = strawberry.enum_value("UNTRIED", description="No calls yet; the router may choose it.")
    UNHEALTHY = strawberry.enum_value(
        "UNHEALTHY",
        description="Its last calls failed (or too many of them did): skipped until `retryAt`.",
    )
    PROBATION = strawberry.enum_value(
        "PROBATION",
        description="It was unhealthy and has cooled down: the router tries it again, and one more "
        "failure makes it unhealthy again.",
    )


@strawberry.type(
    name="ProviderHealth",
    description="A provider's health over its latest calls (the last `window` calls at most).",
)
class ProviderHealthType:
    status: ProviderHealthStatus = strawberry.field(description="Whether the router may choose it now.")
    summary: str = strawberry.field(description="In words, e.g. '98% ok, 420 ms p50', or 'no calls yet'.")
    window: int = strawberry.field(description="How many of the latest calls health looks at, at most.")
    calls: int = strawberry.field(description="Calls counted (at most `window`).")
    success_rate: float | None = strawberry.field(
        description="Share of those calls that gave a usable answer, 0..1; null before the first call."
    )
    p50_latency_ms: int | None = strawberry.field(
        description="Median duration of those calls in milliseconds; null before the first call."
    )
    p95_latency_ms: int | None = strawberry.field(
        description="95th-percentile duration of those calls in milliseconds; null before the first call."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed calls in a row, counting back from the latest."
    )
    last_call_at: datetime | None = strawberry.field(description="When it was last called.")
    retry_at: datetime | None = strawberry.field(
        description="When an unhealthy provider will be tried again; null unless UNHEALTHY."
    )
    last_error: str | None = strawberry.field(
        description="The latest failure in the window, as logged (staff only: null for everyone else)."
    )


@strawberry.type(name="Provider", description="A provider in the registry (built-in engines have none).")
class ProviderType:
    name: str = strawberry.field(description="Its name, as routes, preferences and progress events say it.")
    kind: ProviderKindEnum = strawberry.field(description="What kind of provider it is.")
    capabilities: list[str] = strawberry.field(description="The stages it can serve, e.g. ['lyrics'].")
    priority: int = strawberry.field(
        description="Among healthy providers of a capability, the highest priority is chosen."
    )
    enabled: bool = strawberry.field(description="Disabled providers are never chosen (only staff see them).")
    model: str = strawberry.field(description="The model it asks for, as sent in each request.")
    endpoint: str | None = strawberry.field(
        description="The base URL it is called at (staff only: null for everyone else)."
    )
    health: ProviderHealthType = strawberry.field(description="How its latest calls went.")


@strawberry.type(name="PassedOverProvider", description="A provider of the capability that was not chosen.")
class PassedOverType:
    provider: str = strawberry.field(description="The provider's name.")
    reason: str = strawberry.field(
        description="Why it was passed over, e.g. 'unhealthy: its last 3 calls failed'."
    )


@strawberry.type(
    name="StageRoute",
    description="Who would do one stage's work for you now, and why. A stage whose provider fails "
    "falls back to its built-in engine, and its progress events say so.",
)
class StageRouteType:
    stage: str = strawberry.field(description="The stage (the capability asked for), e.g. 'lyrics'.")
    provider: str = strawberry.field(description="The chosen provider's name, or 'built-in'.")
    kind: ProviderKindEnum = strawberry.field(description="What kind of provider that is.")
    reason: str = strawberry.field(
        description="Why, e.g. \"openai-compatible 'local-llm' (priority 10, 98% ok, 420 ms p50)\" or "
        "'built-in: no healthy provider'."
    )
    preferred: bool = strawberry.field(description="True when chosen because you prefer it.")
    fallback: str = strawberry.field(
        description="What runs when the chosen provider fails: always 'built-in'."
    )
    health: ProviderHealthType | None = strawberry.field(
        description="The chosen provider's health; null for the built-in engine (always available)."
    )
    passed_over: list[PassedOverType] = strawberry.field(
        description="The other providers serving this stage, and why each was not chosen."
    )


@strawberry.type(name="ProviderPreference", description="The provider you prefer for one capability.")
class ProviderPreferenceType:
    capability: str = strawberry.field(description="The stage, e.g. 'lyrics'.")
    provider: str = strawberry.field(description="The provider's name, or 'built-in' for the offline engine.")


@strawberry.type(
    name="Providers",
    description="The provider registry as you may see it: what each stage would use for you and why, "
    "the providers, and your preferences.",
)
class ProvidersType:
    stages: list[StageRouteType] = strawberry.field(
        description="Every pipeline stage, in pipeline order, with what it would use for you now."
    )
    providers: list[ProviderType] = strawberry.field(
        description="The providers in the registry: every one for staff, the enabled ones for everyone "
        "else; highest priority first."
    )
    preferences: list[ProviderPreferenceType] = strawberry.field(
        description="Your preferred provider per capability (empty when you are not signed in)."
    )


@strawberry.type(
    name="ProviderPreferenceResult",
    description="Your preference for a capability after the change, and what that stage now uses for you.",
)
class ProviderPreferenceResult:
    preference: ProviderPreferenceType | None = strawberry.field(
        description="Your preference; null when cleared (the router chooses by priority and health)."
    )
    route: StageRouteType = strawberry.field(description="What the stage would use for you now, and why.")


def _health(health: Health, *, staff: bool) -> ProviderHealthType:
    return ProviderHealthType(
        status=ProviderHealthStatus(health.status),
        summary=health.summary(),
        window=health.window,
        calls=health.calls,
        success_rate=health.success_rate,
        p50_latency_ms=health.p50_ms,
        p95_latency_ms=health.p95_ms,
        consecutive_failures=health.streak,
        last_call_at=health.last_call_at,
        retry_at=health.retry_at,
        last_error=(health.last_error or None) if staff else None,
    )


def _provider(provider: Provider, health: Health, *, staff: bool) -> ProviderType:
    return ProviderType(
        name=provider.name,
        kind=ProviderKindEnum(provider.kind),
        capabilities=list(provider.capabilities),
        priority=provider.priority,
        enabled=provider.enabled,
        model=provider.model,
        endpoint=provider.endpoint if staff else None,
        health=_health(health, staff=staff),
    )


def _route(found: router.Route, *, staff: bool) -> StageRouteType:
    return StageRouteType(
        stage=found.capability,
        provider=found.name,
        kind=ProviderKindEnum(found.kind),
        reason=found.reason,
        preferred=found.preferred,
        fallback=BUILT_IN,
        health=_health(found.health, staff=staff) if found.health is not None else None,
        passed_over=[PassedOverType(provider=p.name, reason=p.reason) for p in found.passed_over],
    )


def _preference(preference: ProviderPreference) -> ProviderPreferenceType:
    return ProviderPreferenceType(capability=preference.capability, provider=preference.provider_name)


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_staff", False))


class QueryFields:
    @strawberry_django.field(
        description="How each stage gets its work done for you: the provider it would use now and why, "
        "the providers in the registry with their health, and your preferences.",
        extensions=[HasScope(READ)],
    )
    def providers(self, info: Info) -> ProvidersType:
        user = caller(info).user
        staff = _is_staff(user)
        registry = router.Registry.load(user, include_disabled=staff)
        return ProvidersType(
            stages=[_route(r, staff=staff) for r in router.routes(user, registry)],
            providers=[_provider(p, registry.health[p.pk], staff=staff) for p in registry.providers],
            preferences=[_preference(p) for p in registry.preferences.values()],
        )


class MutationFields:
    @strawberry_django.mutation(
        description="State which provider you prefer for a capability (a stage): the router uses it "
        "while it is healthy. Returns your preference and what the stage now uses for you."
    )
    def set_provider_preference(
        self,
        info: Info,
        capability: Annotated[str, strawberry.argument(description="The stage, e.g. 'lyrics'.")],
        provider: Annotated[
            str | None,
            strawberry.argument(
                description="A provider's name (see `providers`), 'built-in' for the offline engine "
                "(nothing of yours is sent anywhere), or null to let the router choose again."
            ),
        ] = None,
    ) -> ProviderPreferenceResult:
        who = caller(info)
        if not who.is_authenticated:
            raise Unauthenticated("sign in (session or API token) to state a provider preference")
        if not who.can(COMPOSE):
            raise Forbidden(f"this API token lacks the {COMPOSE!r} scope")
        try:
            preference = services.preference_set(who.user, capability, provider)
        except InputError as error:
            raise BadUserInput(error.message, field=error.field) from None
        return ProviderPreferenceResult(
            preference=_preference(preference) if preference is not None else None,
            route=_route(router.route(capability, who.user), staff=_is_staff(who.user)),
        )
