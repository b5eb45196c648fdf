"""Writes on webhooks: endpoints, deliveries made from progress events, and delivery attempts.

A delivery is one row per (endpoint, composition, event seq); each attempt locks that row and does
nothing unless it is still PENDING and not yet attempted by another run, so a task that runs twice
never delivers twice. Attempts run the way settings.CODA_PIPELINE says: a Celery task retrying
itself, a daemon thread, or inline. Delivery is at least once (a receiver that answers after our
timeout gets a retry): receivers deduplicate by the Coda-Webhook-Id header.
"""

from __future__ import annotations

import json
import logging
import secrets
import ssl
import threading
import time
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any, NamedTuple

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, close_old_connections, connection, connections, transaction
from django.utils import timezone
from strawberry import relay

from modules.composition.stages import InputError
from subscriptions.events import TERMINAL

from .models import DeliveryStatus, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import signed_headers
from .urls_safety import Target, UnsafeURL, check_url

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 200
RESPONSE_CHARS = 500
USER_AGENT = "Coda-Webhooks/1"

DELIVERED, RETRY, FAILED, SKIPPED = "delivered", "retry", "failed", "skipped"


class AttemptResult(NamedTuple):
    outcome: str  # DELIVERED, RETRY, FAILED or SKIPPED (not pending, gone, or attempted by another run)
    attempts: int  # the delivery's attempts so far, all cycles
    retry_in: float | None  # seconds until the next attempt, when RETRY


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def delivery_global_id(delivery_id: int) -> str:
    return relay.to_base64("WebhookDelivery", delivery_id)


def _clean_events(events: list[str]) -> list[str]:
    choices = [e.value for e in EventType]
    unknown = [e for e in events if e not in choices]
    if unknown:
        raise InputError("events", f"unknown event {unknown[0]!r}; choose from: {', '.join(choices)}")
    if not events:
        raise InputError("events", f"choose at least one event: {', '.join(choices)}")
    return [e for e in choices if e in events]  # one spelling, one order, no repeats


def _checked_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise InputError("url", "give the http(s) URL that should receive the webhooks")
    try:
        check_url(url)
    except UnsafeURL as error:
        raise InputError("url", str(error)) from None
    return url


def endpoint_create(owner: Any, url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    """Register an endpoint; its `secret` is readable on the returned object (show it once)."""
    url = _checked_url(url)
    events = _clean_events(events)
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InputError("description", f"at most {MAX_DESCRIPTION} characters, not {len(description)}")
    limit = settings.CODA_WEBHOOK_MAX_ENDPOINTS
    with transaction.atomic():
        # The owner's row lock makes count-then-create safe against parallel registrations.
        list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))
        if WebhookEndpoint.objects.filter(owner=owner).count() >= limit:
            raise InputError(
                "url", f"you already have {limit} webhook endpoints, the most allowed; delete one"
            )
        return WebhookEndpoint.objects.create(
            owner=owner, url=url, events=events, secret=new_secret(), description=description
        )


def endpoint_delete(owner: Any, endpoint_id: int) -> None:
    """Delete one of the owner's endpoints and its delivery log; DoesNotExist for anyone else's."""
    WebhookEndpoint.objects.filter(owner=owner).get(pk=endpoint_id).delete()


def endpoint_rotate_secret(owner: Any, endpoint_id: int) -> WebhookEndpoint:
    """A new secret at once (retries of pending deliveries are signed with it); DoesNotExist likewise."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(owner=owner).get(pk=endpoint_id)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
    return endpoint


def event_type_of(payload: dict[str, Any]) -> str | None:
    """The webhook event a progress event is, or None for events webhooks don't carry."""
    status = payload["status"]
    if not payload["stage"]:
        return f"COMPOSITION_{status}" if status in TERMINAL else None
    return f"STAGE_{status}" if status in ("SUCCEEDED", "FAILED") else None


def deliveries_create_for_event(payload: dict[str, Any], owner_id: int | None) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the composition's owner subscribed to this event.

    Attempts start after commit. An event seen twice creates nothing the second time.
    """
    if owner_id is None:  # anonymous compositions have nobody's endpoints to notify
        return []
    event_type = event_type_of(payload)
    if event_type is None:
        return []
    # Filtered in Python: a user has a handful of endpoints, and JSON `contains` is not portable.
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(owner_id=owner_id, active=True) if event_type in e.events
    ]
    created: list[WebhookDelivery] = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery, new = WebhookDelivery.objects.get_or_create(
                endpoint=endpoint,
                composition_id=payload["composition_id"],
                seq=payload["seq"],
                defaults={"event_type": event_type, "payload": payload, "next_attempt_at": timezone.now()},
            )
            if new:
                created.append(delivery)
                transaction.on_commit(partial(delivery_enqueue, delivery.pk, 0))
    return created


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body: built from stored fields only, so every attempt sends the same bytes."""
    payload = delivery.payload
    body = {
        "id": delivery_global_id(delivery.pk),
        "type": delivery.event_type,
        "createdAt": payload.get("created_at"),
        "data": {
            "compositionId": relay.to_base64("Composition", delivery.composition_id),
            "seq": delivery.seq,
            "stage": payload.get("stage", ""),
            "status": payload.get("status", ""),
            "message": payload.get("message", ""),
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def backoff_seconds(attempt_in_cycle: int) -> float:
    """Wait after the n-th failed attempt of a cycle: base * 2^(n-1)."""
    return float(settings.CODA_WEBHOOK_BACKOFF_SECONDS) * 2 ** (attempt_in_cycle - 1)


@cache
def _tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs ~80 ms, more than a typical attempt. httpx's own
    default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return httpx.create_ssl_context()


def _post(target: Target, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """POST once to the checked address; (status code, start of the response body, error)."""
    timeout = float(settings.CODA_WEBHOOK_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    # Host header and TLS name stay the URL's own; only the address is pinned to what was checked.
    headers = {**headers, "Host": target.host_header, "User-Agent": USER_AGENT}
    extensions = {"sni_hostname": target.server_name} if target.url.scheme == "https" else {}
    try:
        # trust_env=False: no proxy from the environment may carry the request elsewhere.
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context()
        ) as client:
            request = client.build_request(
                "POST", target.pinned_url, content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received.extend(chunk)
                    # Enough to show, and a receiver that drips forever cannot hold the worker.
                    if len(received) >= RESPONSE_CHARS * 4 or time.monotonic() > deadline:
                        break
            finally:
                response.close()
    except httpx.TimeoutException:
        return None, "", f"timed out after {timeout:g} s"
    except httpx.HTTPError as error:
        return None, "", f"{type(error).__name__}: {error}"[:1000]
    text = received.decode("utf-8", errors="replace").replace("\x00", "")[:RESPONSE_CHARS]
    code = response.status_code
    if 200 <= code < 300:
        return code, text, ""
    hint = " (redirects are not followed)" if 300 <= code < 400 else ""
    return code, text, f"the receiver answered {code}{hint}"


def delivery_attempt(delivery_id: int) -> str:
    """Make one attempt now if the delivery is still PENDING; the outcome (delivered, retry, ...)."""
    return attempt(delivery_id).outcome


class _Sent(NamedTuple):
    started_at: datetime
    duration_ms: int
    status_code: int | None
    response_body: str
    error: str
    give_up: bool  # no point retrying (the endpoint is disabled)


def _pending(delivery_id: int, expected_attempts: int | None, *, lock: bool) -> WebhookDelivery | None:
    """The delivery if this run should attempt it: still PENDING, and not attempted by another run."""
    deliveries = WebhookDelivery.objects.select_related("endpoint")
    if lock:
        deliveries = deliveries.select_for_update(of=("self",))
    delivery = deliveries.filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    if expected_attempts is not None and delivery.attempts != expected_attempts:
        return None
    return delivery


def _send(delivery: WebhookDelivery) -> _Sent:
    endpoint = delivery.endpoint
    started_at = timezone.now()
    clock = time.monotonic()
    status_code: int | None = None
    response_text = ""
    if not endpoint.active:
        return _Sent(started_at, 0, None, "", "the endpoint is disabled; not sent", True)
    try:
        target = check_url(endpoint.url)  # again: DNS may have changed since registration
    except UnsafeURL as refused:
        error = f"refused, not sent: {refused}"
    else:
        body = delivery_body(delivery)
        headers = signed_headers(endpoint.secret, delivery_global_id(delivery.pk), body)
        status_code, response_text, error = _post(target, body, headers)
    duration_ms = round((time.monotonic() - clock) * 1000)
    return _Sent(started_at, duration_ms, status_code, response_text, error, False)


def _record(delivery: WebhookDelivery, sent: _Sent) -> AttemptResult:
    """Log the attempt and move the delivery on: DELIVERED, FAILED, or a retry after the backoff."""
    number = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        started_at=sent.started_at,
        duration_ms=sent.duration_ms,
        status_code=sent.status_code,
        error=sent.error,
        response_body=sent.response_body,
    )
    now = timezone.now()
    delivery.attempts = number
    retry_in: float | None = None
    in_cycle = number - delivery.cycle_start
    if not sent.error:
        outcome = DELIVERED
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif sent.give_up or in_cycle >= settings.CODA_WEBHOOK_MAX_ATTEMPTS:
        outcome = FAILED
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        outcome = RETRY
        retry_in = backoff_seconds(in_cycle)
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    if outcome != DELIVERED:
        log.info("webhook delivery %s attempt %s: %s (%s)", delivery.pk, number, outcome, sent.error)
    return AttemptResult(outcome, number, retry_in)


def attempt(delivery_id: int, expected_attempts: int | None = None) -> AttemptResult:
    """One attempt, if the delivery is still PENDING.

    `expected_attempts`: the attempts count the caller scheduled this attempt after; if another
    run (a duplicated task) already made it, this one does nothing.
    """
    if connection.features.has_select_for_update:
        # The row lock is held across the request: a duplicated run waits, then finds it done. A
        # run that dies midway rolls back, so its retry (same expected count) tries again.
        with transaction.atomic():
            delivery = _pending(delivery_id, expected_attempts, lock=True)
            if delivery is None:
                return _skipped(delivery_id)
            return _record(delivery, _send(delivery))
    # SQLite (embedded): no row locks, and a transaction open across the request would block the
    # pipeline's writes. Check, send, then record; a parallel run is caught by the attempt number.
    delivery = _pending(delivery_id, expected_attempts, lock=False)
    if delivery is None:
        return _skipped(delivery_id)
    sent = _send(delivery)
    try:
        with transaction.atomic():
            if _pending(delivery_id, delivery.attempts, lock=False) is None:
                return _skipped(delivery_id)
            return _record(delivery, sent)
    except IntegrityError:  # another run logged this attempt number first
        return _skipped(delivery_id)


def _skipped(delivery_id: int) -> AttemptResult:
    attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first()
    return AttemptResult(SKIPPED, attempts or 0, None)


def run_attempts(delivery_id: int, expected_attempts: int, *, own_connection: bool = False) -> str:
    """Attempt until delivered, failed or skipped, sleeping the backoff in between (thread, sync)."""
    while True:
        result = attempt(delivery_id, expected_attempts)
        if result.outcome != RETRY or result.retry_in is None:
            return result.outcome
        if own_connection:  # a sleeping thread should not hold a database connection
            connections.close_all()
        time.sleep(result.retry_in)
        expected_attempts = result.attempts


def _run_in_thread(delivery_id: int, expected_attempts: int) -> None:
    close_old_connections()
    try:
        run_attempts(delivery_id, expected_attempts, own_connection=True)
    except Exception:
        log.exception("webhook delivery %s crashed", delivery_id)
    finally:
        connections.close_all()


def delivery_enqueue(delivery_id: int, expected_attempts: int) -> None:
    """Start the attempts of a delivery the way settings.CODA_PIPELINE says (call after commit)."""
    mode = settings.CODA_PIPELINE
    if mode == "celery":
        from .tasks import deliver

        deliver.delay(delivery_id, expected_attempts)
    elif mode == "thread":
        threading.Thread(
            target=_run_in_thread,
            args=(delivery_id, expected_attempts),
            name=f"coda-webhook-{delivery_id}",
            daemon=True,
        ).start()
    elif mode == "sync":
        run_attempts(delivery_id, expected_attempts)
    else:
        raise ValueError(f"unknown CODA_PIPELINE {mode!r}: use celery, thread or sync")


def delivery_redeliver(owner: Any, delivery_id: int) -> WebhookDelivery:
    """A new cycle of attempts for a FAILED delivery; DoesNotExist unless it is the owner's."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery_id, endpoint__owner=owner)
        )
        if delivery.status != DeliveryStatus.FAILED:
            raise InputError(
                "deliveryId", f"only a FAILED delivery can be redelivered; this one is {delivery.status}"
            )
        if not delivery.endpoint.active:
            raise InputError("deliveryId", "its endpoint is disabled; nothing can be delivered to it")
        delivery.status = DeliveryStatus.PENDING
        delivery.cycle_start = delivery.attempts
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "cycle_start", "next_attempt_at"])
        transaction.on_commit(partial(delivery_enqueue, delivery.pk, delivery.attempts))
    delivery.refresh_from_db()  # inline (sync) attempts have already run
    return delivery
