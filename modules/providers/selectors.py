"""Reads on providers: the registry, each provider's health over its latest calls, preferences.

Health comes from the call log: the last CODA_PROVIDER_HEALTH_WINDOW calls of each provider, read
for any number of providers in one query (a window function). Each call is one inserted row, so
concurrent stages never lose an update.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .models import Provider, ProviderCall, ProviderPreference

HEALTHY, UNTRIED, UNHEALTHY, PROBATION = "HEALTHY", "UNTRIED", "UNHEALTHY", "PROBATION"


@dataclass(frozen=True)
class Health:
    """A provider's health over its latest calls (newest first in `outcomes`)."""

    window: int  # the calls health looks at, at most
    calls: int  # calls in the window
    successes: int
    streak: int  # failures in a row, newest first
    p50_ms: int | None
    p95_ms: int | None
    last_call_at: datetime | None
    last_error: str  # of the latest failed call in the window
    status: str  # HEALTHY, UNTRIED, UNHEALTHY (skipped until retry_at) or PROBATION (tried again)
    retry_at: datetime | None  # UNHEALTHY: when the router tries it again

    @property
    def healthy(self) -> bool:
        """Whether the router may choose it now."""
        return self.status != UNHEALTHY

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.calls if self.calls else None

    def summary(self) -> str:
        """'98% ok, 420 ms p50', or 'no calls yet'."""
        if not self.calls:
            return "no calls yet"
        rate = self.successes / self.calls
        return f"{math.floor(rate * 100 + 0.5)}% ok, {self.p50_ms} ms p50"

    def trouble(self) -> str:
        """Why it is unhealthy (or on probation), in words anyone may read (the errors are staff's)."""
        if self.streak >= settings.CODA_PROVIDER_FAILURE_STREAK:
            why = f"its last {self.streak} calls failed"
        else:
            why = f"{self.summary()} over the last {self.calls} calls"
        if self.status == PROBATION:
            return f"{why}; cooled down, trying it again"
        return why


def _percentile(values: list[int], q: float) -> int | None:
    """The q-quantile by nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def health_from_calls(calls: list[ProviderCall], now: datetime | None = None) -> Health:
    """Health from a provider's latest calls, newest first."""
    window = max(1, settings.CODA_PROVIDER_HEALTH_WINDOW)
    calls = calls[:window]
    successes = sum(1 for c in calls if c.ok)
    streak = 0
    for call in calls:
        if call.ok:
            break
        streak += 1
    last_error = next((c.error for c in calls if not c.ok and c.error), "")
    latencies = [c.duration_ms for c in calls]
    last_call_at = calls[0].created_at if calls else None
    threshold = max(1, settings.CODA_PROVIDER_FAILURE_STREAK)
    failing = bool(calls) and (
        streak >= threshold
        or (len(calls) >= threshold and successes / len(calls) < settings.CODA_PROVIDER_MIN_SUCCESS_RATE)
    )
    retry_at: datetime | None = None
    if not calls:
        status = UNTRIED
    elif not failing:
        status = HEALTHY
    else:
        assert last_call_at is not None
        retry_at = last_call_at + timedelta(seconds=settings.CODA_PROVIDER_COOLDOWN_SECONDS)
        if (now or timezone.now()) >= retry_at:
            status, retry_at = PROBATION, None
        else:
            status = UNHEALTHY
    return Health(
        window=window,
        calls=len(calls),
        successes=successes,
        streak=streak,
        p50_ms=_percentile(latencies, 0.5),
        p95_ms=_percentile(latencies, 0.95),
        last_call_at=last_call_at,
        last_error=last_error,
        status=status,
        retry_at=retry_at,
    )


def health_of(provider_ids: Iterable[int]) -> dict[int, Health]:
    """Health of each provider, from one query over their latest calls."""
    ids = list(provider_ids)
    if not ids:
        return {}
    window = max(1, settings.CODA_PROVIDER_HEALTH_WINDOW)
    latest = (
        ProviderCall.objects.filter(provider_id__in=ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("provider_id")], order_by=F("id").desc()))
        .filter(rank__lte=window)
        .only("provider_id", "ok", "duration_ms", "error", "created_at")
        .order_by("provider_id", "-id")
    )
    grouped: dict[int, list[ProviderCall]] = {pk: [] for pk in ids}
    for call in latest:
        grouped[call.provider_id].append(call)
    now = timezone.now()
    return {pk: health_from_calls(calls, now) for pk, calls in grouped.items()}


def providers_all() -> QuerySet[Provider]:
    return Provider.objects.order_by("-priority", "name")


def providers_enabled() -> QuerySet[Provider]:
    return providers_all().filter(enabled=True)


def provider_by_name(name: str) -> Provider | None:
    return Provider.objects.filter(name=name).first()


def preferences_of(user: Any) -> dict[str, ProviderPreference]:
    """A signed-in user's preferences by capability; none for anonymous callers."""
    if user is None or not getattr(user, "pk", None):
        return {}
    rows = ProviderPreference.objects.filter(user=user).select_related("provider")
    return {row.capability: row for row in rows}


def calls_of(provider: Provider, limit: int = 50) -> QuerySet[ProviderCall]:
    return ProviderCall.objects.filter(provider=provider).order_by("-id")[:limit]


def provider_identity(provider: Provider) -> dict[str, Any]:
    """What of a provider can change the results it gives: its name, kind, endpoint and model (not
    its key, priority or health). Stages hash the provider their route chooses with this, so results
    are never reused across providers, nor across a change of endpoint or model."""
    return {
        "provider": provider.name,
        "kind": provider.kind,
        "endpoint": provider.endpoint,
        "model": provider.model,
    }
