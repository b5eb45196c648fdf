"""The Celery task of a delivery: one attempt per run, retrying itself with exponential backoff."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from .services import RETRY, attempt


@shared_task(
    bind=True,
    name="coda.webhook_deliver",
    # The attempt budget lives on the delivery row (settings.CODA_WEBHOOK_MAX_ATTEMPTS per cycle),
    # not in Celery's retry count, so a redelivery can start a new cycle.
    max_retries=None,
    # The database unavailable: try the same attempt again later (its transaction rolled back).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
)
def deliver(self: Task, delivery_id: int, expected_attempts: int | None = None) -> str:
    result = attempt(delivery_id, expected_attempts)
    if result.outcome == RETRY and result.retry_in is not None:
        # The next run carries the new count: a duplicate of this message then finds its attempt made.
        raise self.retry(args=(delivery_id, result.attempts), countdown=result.retry_in)
    return result.outcome
