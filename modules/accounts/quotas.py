"""Compose quotas: anonymous callers per address and day, signed-in users at once and per hour.

Counted in fixed windows by `UsageCounter` rows, incremented only while under the limit
(one conditional UPDATE), so concurrent requests can never overshoot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from modules.composition.stages import InputError

from .models import UsageCounter

# What a compose request counts against; the CLI and internal callers pass no Caller.
ACTIVE_STATUSES = ("QUEUED", "RUNNING")


class QuotaError(InputError):
    """A compose quota is used up; `retry_after_seconds` says when it frees."""

    def __init__(self, field: str, message: str, *, retry_after_seconds: int, limit: int) -> None:
        super().__init__(field, message)
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit


def _window(now: datetime, unit: str) -> tuple[datetime, datetime]:
    if unit == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _take(key: str, unit: str, limit: int, what: str) -> None:
    now = timezone.now()
    start, end = _window(now, unit)
    UsageCounter.objects.get_or_create(key=f"{key}:{unit}", window_start=start)
    taken = UsageCounter.objects.filter(key=f"{key}:{unit}", window_start=start, count__lt=limit).update(
        count=F("count") + 1
    )
    if not taken:
        wait = max(1, int((end - now).total_seconds()) + 1)
        raise QuotaError(
            "input",
            f"{what}: {limit} per {unit} used up; try again in {wait} s",
            retry_after_seconds=wait,
            limit=limit,
        )


def compose_allowance_take(caller: Any, duration_seconds: int) -> None:
    """Count one compose request (create, edit, regenerate) against the caller's quotas.

    Call inside the transaction that stores the request: if that rolls back, so does the count.
    """
    if caller is None:
        return
    if caller.user_id is None:
        longest = settings.CODA_ANON_MAX_DURATION_SECONDS
        if duration_seconds > longest:
            raise InputError(
                "durationSeconds",
                f"anonymous compositions are at most {longest} s long; sign in or use an API token "
                "for longer",
            )
        _take(
            f"ip:{caller.ip}",
            "day",
            settings.CODA_ANON_DAILY_COMPOSITIONS,
            "anonymous compositions from this address",
        )
        return
    # The row lock serialises one user's concurrent requests, so the count below stays true.
    get_user_model().objects.select_for_update().filter(pk=caller.user_id).first()
    from modules.composition.models import Composition

    active = Composition.objects.filter(owner_id=caller.user_id, status__in=ACTIVE_STATUSES).count()
    limit = settings.CODA_MAX_CONCURRENT_COMPOSITIONS
    if active >= limit:
        raise QuotaError(
            "input",
            f"{active} of your compositions are still being made (at most {limit} at once); "
            "wait for one to finish or cancel it",
            retry_after_seconds=10,
            limit=limit,
        )
    _take(f"user:{caller.user_id}", "hour", settings.CODA_COMPOSITIONS_PER_HOUR, "compose requests")


def kept_room_check(kept: QuerySet, limit: int, *, field: str, noun: str) -> None:
    """Refuse one more of something a user keeps (uploads, presets) once they keep `limit`: stored
    things cost storage whatever the hourly quotas allow. Call it early (before costly work) and
    again inside `kept_room`, where the owner's row lock makes count-then-create safe."""
    if kept.count() >= limit:
        raise InputError(field, f"you keep {limit} {noun}, the most allowed; delete one first")


@contextmanager
def kept_room(owner_id: int, kept: QuerySet, limit: int, *, field: str, noun: str) -> Iterator[None]:
    """A transaction in which one more of `kept` may be saved: the owner's row is locked (parallel
    uploads by one user wait their turn) and the count checked again."""
    with transaction.atomic():
        list(get_user_model().objects.select_for_update().filter(pk=owner_id).values_list("pk", flat=True))
        kept_room_check(kept, limit, field=field, noun=noun)
        yield
