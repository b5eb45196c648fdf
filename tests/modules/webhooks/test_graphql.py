"""Webhooks through GraphQL: the caller's own endpoints only, the secret shown once, typed errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from modules.accounts.caller import Caller
from modules.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from schema.schema import schema

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings")]

CREATE = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url events description active } }
}"""
LIST = """{ webhookEndpoints { id url events recentDeliveries {
  id eventType status seq compositionId attempts body attemptLog { number statusCode error responseBody }
} } }"""
DELIVERIES = """query($id: ID!, $status: WebhookDeliveryStatus, $first: Int) {
  webhookDeliveries(endpointId: $id, status: $status, first: $first) {
    edges { node { id seq status attempts } }
    pageInfo { hasNextPage }
  }
}"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attempts } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url } } }"


def run(
    query: str,
    variables: dict[str, Any] | None = None,
    user: Any = None,
    scopes: frozenset[str] | None = None,
) -> Any:
    """As a signed-in user (every scope unless told), or anonymous when user is None."""
    who = (
        Caller(user=user, ip="127.0.0.1")
        if scopes is None
        else Caller(user=user, ip="127.0.0.1", scopes=scopes)
    )
    return schema.execute_sync(query, variable_values=variables, context_value={"caller": who})


def data(query: str, variables: dict[str, Any] | None = None, user: Any = None) -> dict[str, Any]:
    result = run(query, variables, user)
    assert result.errors is None, result.errors
    return result.data


def error(query: str, variables: dict[str, Any] | None = None, user: Any = None, **kw: Any) -> dict[str, Any]:
    result = run(query, variables, user, **kw)
    assert result.errors, result.data
    return {"message": result.errors[0].message, **(result.errors[0].extensions or {})}


def create(user: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    variables = {"input": {"url": url, "events": events or ["COMPOSITION_SUCCEEDED"], "description": "ci"}}
    return data(CREATE, variables, user)["createWebhookEndpoint"]


def test_create_returns_the_secret_once_and_lists_never_show_it(receiver: Any, make_user: Callable) -> None:
    alice = make_user("alice")
    made = create(alice, receiver.url, ["STAGE_FAILED", "COMPOSITION_SUCCEEDED", "STAGE_FAILED"])
    stored = WebhookEndpoint.objects.get()
    assert made["secret"] == stored.secret and len(made["secret"]) >= 40
    assert made["endpoint"] == {
        "id": relay.to_base64("WebhookEndpoint", stored.pk),
        "url": receiver.url,
        "events": ["COMPOSITION_SUCCEEDED", "STAGE_FAILED"],
        "description": "ci",
        "active": True,
    }
    listed = data(LIST, user=alice)["webhookEndpoints"]
    assert [e["id"] for e in listed] == [made["endpoint"]["id"]]
    assert made["secret"] not in str(listed)
    assert "secret" not in {f.name for f in schema.get_type_by_name("WebhookEndpoint").fields}
    assert "Cannot query field 'secret'" in error("{ webhookEndpoints { secret } }", user=alice)["message"]


def test_rotating_returns_a_new_secret(receiver: Any, make_user: Callable) -> None:
    alice = make_user("alice")
    made = create(alice, receiver.url)
    rotated = data(ROTATE, {"id": made["endpoint"]["id"]}, alice)["rotateWebhookSecret"]
    assert rotated["endpoint"]["id"] == made["endpoint"]["id"]
    assert rotated["secret"] != made["secret"]
    assert WebhookEndpoint.objects.get().secret == rotated["secret"]


def test_another_user_can_neither_see_nor_touch_an_endpoint(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    endpoint_id = create(alice, receiver.url)["endpoint"]["id"]
    endpoint = WebhookEndpoint.objects.get()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        composition=make_composition(alice),
        event_type="COMPOSITION_SUCCEEDED",
        seq=1,
        status=DeliveryStatus.FAILED,
    )
    delivery_id = relay.to_base64("WebhookDelivery", delivery.pk)

    assert data(LIST, user=bob) == {"webhookEndpoints": []}
    # node(id) answers bob exactly as for ids that do not exist.
    for kind, gid in (("WebhookEndpoint", endpoint_id), ("WebhookDelivery", delivery_id)):
        missing = run(NODE, {"id": relay.to_base64(kind, 987654)}, bob)
        hidden = run(NODE, {"id": gid}, bob)
        assert not (hidden.data or {}).get("node")
        assert [e.message for e in hidden.errors or []] == [e.message for e in missing.errors or []]
    for query, variables in (
        (DELETE, {"id": endpoint_id}),
        (ROTATE, {"id": endpoint_id}),
        (DELIVERIES, {"id": endpoint_id}),
        (REDELIVER, {"id": delivery_id}),
    ):
        found = error(query, variables, bob)
        assert found["code"] == "NOT_FOUND", (query, found)
        assert str(endpoint.pk) not in found["message"].replace(str(variables["id"]), "")
    # Still alice's, secret unchanged, delivery untouched.
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED
    assert data(NODE, {"id": endpoint_id}, alice) == {"node": {"id": endpoint_id, "url": receiver.url}}


def test_delete_removes_the_endpoint_and_its_log(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint_id = create(alice, receiver.url)["endpoint"]["id"]
    WebhookDelivery.objects.create(
        endpoint=WebhookEndpoint.objects.get(),
        composition=make_composition(alice),
        event_type="COMPOSITION_SUCCEEDED",
        seq=1,
    )
    assert data(DELETE, {"id": endpoint_id}, alice) == {"deleteWebhookEndpoint": endpoint_id}
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert error(DELETE, {"id": endpoint_id}, alice)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://93.184.216.34/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://10.0.0.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://user:pw@93.184.216.34/", "credentials"),
        ("not a url", "whitespace"),
        ("example.com/hook", "http:// or https://"),
        ("", "give the http(s) URL"),
    ],
)
def test_a_bad_url_is_bad_user_input_on_the_url_field(make_user: Callable, url: str, why: str) -> None:
    variables = {"input": {"url": url, "events": ["COMPOSITION_SUCCEEDED"]}}
    found = error(CREATE, variables, make_user("alice"))
    assert (found["code"], found["field"]) == ("BAD_USER_INPUT", "url")
    assert why in found["message"]
    assert not WebhookEndpoint.objects.exists()


def test_loopback_is_refused_unless_the_setting_admits_it(make_user: Callable, settings: Any) -> None:
    alice = make_user("alice")
    variables = {"input": {"url": "http://localhost:9/hook", "events": ["COMPOSITION_FAILED"]}}
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = False
    assert error(CREATE, variables, alice)["field"] == "url"
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = True
    assert (
        data(CREATE, variables, alice)["createWebhookEndpoint"]["endpoint"]["url"]
        == "http://localhost:9/hook"
    )


def test_a_public_address_registers_and_nothing_is_sent(make_user: Callable, settings: Any) -> None:
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = False
    made = create(make_user("alice"), "http://93.184.216.34/hooks")
    assert made["endpoint"]["url"] == "http://93.184.216.34/hooks"
    assert not WebhookDelivery.objects.exists()


def test_other_input_errors_name_their_field(receiver: Any, make_user: Callable, settings: Any) -> None:
    alice = make_user("alice")
    no_events = error(CREATE, {"input": {"url": receiver.url, "events": []}}, alice)
    assert (no_events["code"], no_events["field"]) == ("BAD_USER_INPUT", "events")
    long = error(
        CREATE, {"input": {"url": receiver.url, "events": ["STAGE_FAILED"], "description": "x" * 201}}, alice
    )
    assert long["field"] == "description"
    settings.CODA_WEBHOOK_MAX_ENDPOINTS = 2
    create(alice, receiver.url)
    create(alice, receiver.url)
    too_many = error(CREATE, {"input": {"url": receiver.url, "events": ["STAGE_FAILED"]}}, alice)
    assert (
        too_many["code"] == "BAD_USER_INPUT"
        and "2 webhook endpoints, the most allowed" in too_many["message"]
    )
    assert WebhookEndpoint.objects.count() == 2
    malformed = error(DELETE, {"id": "not-an-id"}, alice)
    assert (malformed["code"], malformed["field"]) == ("BAD_USER_INPUT", "id")
    wrong_type = error(DELETE, {"id": relay.to_base64("Composition", 1)}, alice)
    assert wrong_type["code"] == "BAD_USER_INPUT"


def test_managing_webhooks_needs_a_signed_in_caller_with_the_compose_scope(
    receiver: Any, make_user: Callable
) -> None:
    variables = {"input": {"url": receiver.url, "events": ["COMPOSITION_SUCCEEDED"]}}
    assert error(CREATE, variables)["code"] == "UNAUTHENTICATED"
    assert error(LIST)["code"] == "UNAUTHENTICATED"
    alice = make_user("alice")
    read_only = frozenset({"read"})
    assert error(CREATE, variables, alice, scopes=read_only)["code"] == "FORBIDDEN"
    assert not WebhookEndpoint.objects.exists()
    create(alice, receiver.url)
    listed = run(LIST, user=alice, scopes=read_only)  # reading the log needs only "read"
    assert listed.errors is None and len(listed.data["webhookEndpoints"]) == 1


def _deliveries(
    endpoint: WebhookEndpoint, composition: Any, count: int, **fields: Any
) -> list[WebhookDelivery]:
    made = []
    for seq in range(1, count + 1):
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            composition=composition,
            event_type="COMPOSITION_SUCCEEDED",
            seq=seq,
            payload={
                "stage": "",
                "status": "SUCCEEDED",
                "message": "",
                "created_at": "2026-01-01T00:00:00+00:00",
            },
            **fields,
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=1,
            started_at=delivery.created_at,
            status_code=500,
            error="the receiver answered 500",
        )
        made.append(delivery)
    return made


def test_the_delivery_log_is_queryable_and_paginated(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    endpoint_id = create(alice, receiver.url)["endpoint"]["id"]
    endpoint = WebhookEndpoint.objects.get()
    song = make_composition(alice)
    failed = _deliveries(endpoint, song, 3, status=DeliveryStatus.FAILED, attempts=1)
    WebhookDelivery.objects.filter(pk=failed[0].pk).update(status=DeliveryStatus.DELIVERED)

    page = data(DELIVERIES, {"id": endpoint_id, "first": 2}, alice)["webhookDeliveries"]
    assert [e["node"]["seq"] for e in page["edges"]] == [3, 2]  # newest first
    assert page["pageInfo"]["hasNextPage"] is True
    only_failed = data(DELIVERIES, {"id": endpoint_id, "status": "FAILED"}, alice)["webhookDeliveries"]
    assert sorted(e["node"]["seq"] for e in only_failed["edges"]) == [2, 3]

    listed = data(LIST, user=alice)["webhookEndpoints"][0]["recentDeliveries"]
    assert [d["seq"] for d in listed] == [3, 2, 1]
    assert listed[0]["compositionId"] == relay.to_base64("Composition", song.pk)
    assert listed[0]["attemptLog"] == [
        {"number": 1, "statusCode": 500, "error": "the receiver answered 500", "responseBody": ""}
    ]
    assert '"type":"COMPOSITION_SUCCEEDED"' in listed[0]["body"]


def test_redeliver_through_graphql(
    receiver: Any,
    make_user: Callable,
    make_composition: Callable,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    alice = make_user("alice")
    create(alice, receiver.url)
    (delivery,) = _deliveries(
        WebhookEndpoint.objects.get(), make_composition(alice), 1, status=DeliveryStatus.FAILED, attempts=1
    )
    delivery_id = relay.to_base64("WebhookDelivery", delivery.pk)
    # Inside the test's transaction the attempts run when the capture ends (in a request: at commit).
    with django_capture_on_commit_callbacks(execute=True):
        result = data(REDELIVER, {"id": delivery_id}, alice)["redeliverWebhook"]
    assert result == {"id": delivery_id, "status": "PENDING", "attempts": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, receiver.count) == (DeliveryStatus.DELIVERED, 2, 1)
    again = error(REDELIVER, {"id": delivery_id}, alice)
    assert (again["code"], again["field"]) == ("BAD_USER_INPUT", "deliveryId")
    assert receiver.count == 1


def test_listing_costs_the_same_queries_for_one_endpoint_or_many(
    receiver: Any, make_user: Callable, make_composition: Callable
) -> None:
    alice = make_user("alice")
    song = make_composition(alice)

    def add_endpoint() -> None:
        create(alice, receiver.url)
        _deliveries(WebhookEndpoint.objects.latest("id"), song, 3, status=DeliveryStatus.FAILED)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            data(LIST, user=alice)
        return len(captured)

    add_endpoint()
    one = queries()
    add_endpoint()
    add_endpoint()
    assert queries() == one <= 4
