"""Deliveries to a real HTTP receiver: signed, retried with backoff, logged, never delivered twice.

These tests commit (transaction=True): events reach webhooks only after their transaction commits,
and the row lock that keeps a delivery single is only real across real transactions.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from strawberry import relay

from backend.celery import app as celery_app
from modules.webhooks import services
from modules.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from modules.webhooks.signing import verify_signature
from subscriptions.events import publish_event
from tests.conftest import require

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("webhook_settings")]

ALL_EVENTS = ["COMPOSITION_SUCCEEDED", "COMPOSITION_FAILED", "COMPOSITION_CANCELLED", "STAGE_SUCCEEDED"]


def endpoint_for(owner: Any, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    return services.endpoint_create(owner, url, events or ALL_EVENTS, "tests")


def attempt_codes(delivery: WebhookDelivery) -> list[int | None]:
    return [a.status_code for a in delivery.attempt_log.order_by("number")]


def test_an_event_reaches_the_receiver_once_signed(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    song = make_composition(alice)

    event = publish_event(song.pk, status="SUCCEEDED", message="done")

    assert receiver.count == 1
    got = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    assert got.path == "/hooks/coda"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Coda-Webhook-Id"] == relay.to_base64("WebhookDelivery", delivery.pk)
    assert got.headers["Coda-Signature"].startswith(f"t={got.headers['Coda-Webhook-Timestamp']},v1=")
    assert verify_signature(endpoint.secret, got.body, got.headers["Coda-Signature"])
    assert not verify_signature("not-the-secret", got.body, got.headers["Coda-Signature"])
    assert json.loads(got.body) == {
        "id": relay.to_base64("WebhookDelivery", delivery.pk),
        "type": "COMPOSITION_SUCCEEDED",
        "createdAt": event.created_at.isoformat(),
        "data": {
            "compositionId": relay.to_base64("Composition", song.pk),
            "seq": event.seq,
            "stage": "",
            "status": "SUCCEEDED",
            "message": "done",
        },
    }
    assert b" " not in got.body.replace(b'"message":"done"', b"")  # compact JSON
    assert (delivery.status, delivery.attempts, attempt_codes(delivery)) == (
        DeliveryStatus.DELIVERED,
        1,
        [200],
    )
    assert delivery.delivered_at is not None
    assert delivery.attempt_log.get().response_body == "ok"

    # Once delivered, another attempt (a duplicated task, say) sends nothing.
    assert services.delivery_attempt(delivery.pk) == services.SKIPPED
    assert receiver.count == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_stage_events_become_stage_deliveries(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint_for(alice, receiver.url, ["STAGE_SUCCEEDED", "STAGE_FAILED"])
    song = make_composition(alice)
    publish_event(song.pk, stage="mood", status="STARTED")
    publish_event(song.pk, stage="mood", status="PROGRESS", progress=0.5)
    publish_event(song.pk, stage="mood", status="SUCCEEDED", progress=1.0)
    publish_event(song.pk, stage="genre", status="FAILED", message="no genre")
    publish_event(song.pk, status="FAILED", message="stage genre failed")  # not subscribed
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [(b["type"], b["data"]["stage"]) for b in bodies] == [
        ("STAGE_SUCCEEDED", "mood"),
        ("STAGE_FAILED", "genre"),
    ]


def test_a_failing_receiver_gets_retries_until_it_answers(
    receiver: Any, make_user: Callable, make_composition: Callable, settings: Any
) -> None:
    settings.CODA_WEBHOOK_BACKOFF_SECONDS = 0.05
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    receiver.fail_times = 2
    started = time.monotonic()

    publish_event(make_composition(alice).pk, status="SUCCEEDED")

    elapsed = time.monotonic() - started
    delivery = WebhookDelivery.objects.get()
    assert attempt_codes(delivery) == [500, 500, 200]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.DELIVERED,
        3,
        None,
    )
    assert elapsed >= 0.05 + 0.1  # backoff: base, then twice the base
    errors = [a.error for a in delivery.attempt_log.order_by("number")]
    assert errors == ["the receiver answered 500", "the receiver answered 500", ""]
    assert delivery.attempt_log.first().response_body == "receiver is having a bad day"
    # Every attempt carries the same id and body, each signed afresh.
    assert receiver.count == 3
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["Coda-Webhook-Id"] for r in receiver.requests}) == 1
    assert all(
        verify_signature(endpoint.secret, r.body, r.headers["Coda-Signature"]) for r in receiver.requests
    )

    assert services.delivery_attempt(delivery.pk) == services.SKIPPED
    assert receiver.count == 3


def test_a_receiver_that_is_down_exhausts_the_attempts_and_fails(
    closed_port: int, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint_for(alice, f"http://127.0.0.1:{closed_port}/hook")
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 4  # the test settings' CODA_WEBHOOK_MAX_ATTEMPTS
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    assert all(a.status_code is None and "ConnectError" in a.error for a in attempts)
    assert services.delivery_attempt(delivery.pk) == services.SKIPPED  # FAILED stays FAILED


def test_a_slow_receiver_times_out(
    receiver: Any, make_user: Callable, make_composition: Callable, settings: Any
) -> None:
    settings.CODA_WEBHOOK_TIMEOUT_SECONDS = 0.2
    settings.CODA_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.delay = 1.0
    alice = make_user("alice")
    endpoint_for(alice, receiver.url)
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert [a.error for a in delivery.attempt_log.all()] == ["timed out after 0.2 s"] * 2
    assert all(a.duration_ms < 900 for a in delivery.attempt_log.all())


def test_redelivery_starts_a_new_cycle_for_a_failed_delivery(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    endpoint_for(alice, receiver.url)
    receiver.fail_times = 100
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, receiver.count) == (DeliveryStatus.FAILED, 4)

    with pytest.raises(WebhookDelivery.DoesNotExist):
        services.delivery_redeliver(bob, delivery.pk)  # not bob's
    receiver.fail_times = 1
    again = services.delivery_redeliver(alice, delivery.pk)
    assert (again.status, again.attempts, again.cycle_start) == (DeliveryStatus.DELIVERED, 6, 4)
    assert attempt_codes(again) == [500, 500, 500, 500, 500, 200]
    with pytest.raises(services.InputError, match="only a FAILED delivery"):
        services.delivery_redeliver(alice, delivery.pk)
    assert receiver.count == 6


def test_events_not_subscribed_are_not_delivered(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint_for(alice, receiver.url, ["COMPOSITION_FAILED"])
    song = make_composition(alice)
    publish_event(song.pk, stage="mood", status="SUCCEEDED")
    publish_event(song.pk, status="SUCCEEDED")
    assert receiver.count == 0
    assert not WebhookDelivery.objects.exists()


def test_only_the_owners_endpoints_hear_of_a_composition(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    endpoint_for(alice, receiver.url)
    publish_event(make_composition(bob).pk, status="SUCCEEDED")
    publish_event(make_composition(None).pk, status="SUCCEEDED")  # anonymous: nobody's endpoints
    assert receiver.count == 0
    assert not WebhookDelivery.objects.exists()


def test_a_disabled_endpoint_receives_nothing(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    assert receiver.count == 0


def test_the_url_is_checked_again_before_each_attempt(
    receiver: Any, make_user: Callable, make_composition: Callable, fake_dns: dict[str, str], settings: Any
) -> None:
    fake_dns["hooks.example.test"] = "127.0.0.1"
    alice = make_user("alice")
    endpoint_for(alice, f"http://hooks.example.test:{receiver.port}/hooks/coda")
    song = make_composition(alice)
    publish_event(song.pk, stage="mood", status="SUCCEEDED")
    assert receiver.count == 1
    assert receiver.requests[0].headers["Host"] == f"hooks.example.test:{receiver.port}"

    fake_dns["hooks.example.test"] = "10.0.0.7"  # the name now points into a private network
    settings.CODA_WEBHOOK_MAX_ATTEMPTS = 1
    publish_event(song.pk, stage="genre", status="SUCCEEDED")
    assert receiver.count == 1
    refused = WebhookDelivery.objects.get(payload__stage="genre")
    assert refused.status == DeliveryStatus.FAILED
    assert refused.attempt_log.get().error.startswith("refused, not sent: hooks.example.test (10.0.0.7)")


def test_rotating_the_secret_signs_later_attempts_with_the_new_one(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    old_secret = endpoint.secret
    new_secret = services.endpoint_rotate_secret(alice, endpoint.pk).secret
    assert new_secret != old_secret
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    signature = receiver.requests[0].headers["Coda-Signature"]
    assert verify_signature(new_secret, receiver.requests[0].body, signature)
    assert not verify_signature(old_secret, receiver.requests[0].body, signature)


def test_a_duplicated_task_never_delivers_twice(
    receiver: Any, make_user: Callable, make_composition: Callable, settings: Any
) -> None:
    """Two runs of the same attempt at once: the row lock lets one send; the other finds it done."""
    require(connection.features.has_select_for_update, "needs row locks (the suite's PostgreSQL)")
    settings.CODA_PIPELINE = "thread"  # deliveries are created, but this test runs the attempts itself
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    song = make_composition(alice)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, composition=song, event_type="COMPOSITION_SUCCEEDED", seq=99, payload={}
    )
    receiver.delay = 0.3
    outcomes: list[str] = []

    def run() -> None:
        try:
            outcomes.append(services.attempt(delivery.pk, expected_attempts=0).outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == [services.DELIVERED, services.SKIPPED, services.SKIPPED]
    assert receiver.count == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


def test_a_stale_retry_does_nothing(receiver: Any, make_user: Callable, make_composition: Callable) -> None:
    """A retry scheduled after attempt n runs only if attempt n is still the latest."""
    alice = make_user("alice")
    endpoint = endpoint_for(alice, receiver.url)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        composition=make_composition(alice),
        event_type="COMPOSITION_SUCCEEDED",
        seq=1,
        payload={},
        attempts=2,
    )
    assert services.attempt(delivery.pk, expected_attempts=1).outcome == services.SKIPPED
    assert receiver.count == 0
    assert services.attempt(delivery.pk, expected_attempts=2).outcome == services.DELIVERED
    assert receiver.count == 1


def test_in_celery_mode_the_task_retries_itself(
    receiver: Any, make_user: Callable, make_composition: Callable, settings: Any
) -> None:
    """The Celery task, run eagerly: the same attempts, its own retries with the new attempt count."""
    assert "coda.webhook_deliver" in celery_app.tasks
    settings.CODA_PIPELINE = "celery"
    eager, propagates = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, False
    try:
        alice = make_user("alice")
        endpoint_for(alice, receiver.url)
        receiver.fail_times = 2
        publish_event(make_composition(alice).pk, status="SUCCEEDED")
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager, propagates
    delivery = WebhookDelivery.objects.get()
    assert attempt_codes(delivery) == [500, 500, 200]
    assert delivery.status == DeliveryStatus.DELIVERED
    assert receiver.count == 3


def test_https_goes_to_the_checked_address_and_still_verifies_the_name(
    tls_receiver: Any,
    fake_dns: dict[str, str],
    make_user: Callable,
    make_composition: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection is pinned to the address that passed the check, yet TLS checks the URL's name."""
    receiver, cert = tls_receiver
    monkeypatch.setattr(services, "_tls_context", lambda: ssl.create_default_context(cafile=str(cert)))
    fake_dns["hooks.example.test"] = "127.0.0.1"
    fake_dns["impostor.example.test"] = "127.0.0.1"  # same server, but the certificate is not for it
    alice = make_user("alice")
    song = make_composition(alice)
    good = endpoint_for(
        alice, f"https://hooks.example.test:{receiver.port}/hooks/coda", ["COMPOSITION_SUCCEEDED"]
    )
    bad = endpoint_for(
        alice, f"https://impostor.example.test:{receiver.port}/hooks/coda", ["STAGE_SUCCEEDED"]
    )

    publish_event(song.pk, status="SUCCEEDED")
    assert receiver.count == 1
    assert receiver.requests[0].headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert WebhookDelivery.objects.get(endpoint=good).status == DeliveryStatus.DELIVERED

    publish_event(song.pk, stage="mood", status="SUCCEEDED")
    refused = WebhookDelivery.objects.get(endpoint=bad)
    assert refused.status == DeliveryStatus.FAILED
    assert all("CERTIFICATE_VERIFY_FAILED" in a.error for a in refused.attempt_log.all())
    assert receiver.count == 1


def test_in_thread_mode_a_background_thread_retries(
    receiver: Any, make_user: Callable, make_composition: Callable, settings: Any
) -> None:
    """The embedded server: publishing returns at once; a daemon thread makes the attempts."""
    settings.CODA_PIPELINE = "thread"
    alice = make_user("alice")
    endpoint_for(alice, receiver.url)
    receiver.fail_times = 1
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED):
        time.sleep(0.02)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, attempt_codes(delivery), receiver.count) == (
        DeliveryStatus.DELIVERED,
        [500, 200],
        2,
    )


def test_without_row_locks_sqlite_style_the_outcomes_are_the_same(
    receiver: Any, make_user: Callable, make_composition: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded SQLite has no row locks: attempts check, send, then record in a short transaction."""
    monkeypatch.setattr(connection.features, "has_select_for_update", False)
    alice = make_user("alice")
    endpoint_for(alice, receiver.url)
    receiver.fail_times = 2
    publish_event(make_composition(alice).pk, status="SUCCEEDED")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, attempt_codes(delivery)) == (DeliveryStatus.DELIVERED, [500, 500, 200])
    assert services.delivery_attempt(delivery.pk) == services.SKIPPED
    assert services.attempt(delivery.pk, expected_attempts=1).outcome == services.SKIPPED
    assert receiver.count == 3
