"""Webhooks in GraphQL: the caller's endpoints and delivery log, and the mutations that manage them.

Everything is scoped to the signed-in caller: another user's endpoint or delivery is NOT_FOUND,
never FORBIDDEN, so ids reveal nothing. The secret is shown only by create and rotate.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.composition.stages import InputError
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import NotFound, as_graphql_error
from schema.permissions import signed_in
from schema.relay import connection
from schema.resolvers import loaded_only

from . import models, selectors, services

RECENT_DELIVERIES = 20


@strawberry.enum(name="WebhookEventType", description="Events an endpoint can receive.")
class WebhookEventType(Enum):
    COMPOSITION_SUCCEEDED = strawberry.enum_value(
        "COMPOSITION_SUCCEEDED", description="A composition of yours is ready: every element and file."
    )
    COMPOSITION_FAILED = strawberry.enum_value(
        "COMPOSITION_FAILED",
        description="A composition of yours failed; the message says which stage and why.",
    )
    COMPOSITION_CANCELLED = strawberry.enum_value(
        "COMPOSITION_CANCELLED", description="A composition of yours was cancelled."
    )
    STAGE_SUCCEEDED = strawberry.enum_value(
        "STAGE_SUCCEEDED", description="One stage of a composition of yours finished (a reused result too)."
    )
    STAGE_FAILED = strawberry.enum_value(
        "STAGE_FAILED", description="One stage of a composition of yours failed."
    )


@strawberry.enum(name="WebhookDeliveryStatus", description="Where a delivery is.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Not delivered yet: the next attempt is due at `nextAttemptAt`."
    )
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered with a 2xx status.")
    FAILED = strawberry.enum_value(
        "FAILED",
        description="Given up: every attempt of the cycle failed (retries wait twice as long each time) "
        "or the endpoint is disabled. redeliverWebhook starts a new cycle.",
    )


def _not_found(kind: str, global_id: strawberry.ID) -> NotFound:
    return NotFound(f"no {kind} with id {global_id}", id=str(global_id))


@strawberry_django.type(models.WebhookAttempt, name="WebhookAttempt", description="One try at a delivery.")
class WebhookAttemptType:
    number: int = strawberry_django.field(description="1 for the first attempt, counted across redeliveries.")
    started_at: datetime = strawberry_django.field(description="When the request was sent.")
    duration_ms: int = strawberry_django.field(
        description="Milliseconds from sending the request to the end of the answer (or the error)."
    )
    status_code: int | None = strawberry_django.field(
        description="The HTTP status the endpoint answered; null when no answer came (see error)."
    )
    error: str = strawberry_django.field(description="Why it failed; empty when it succeeded.")
    response_body: str = strawberry_django.field(description="The first 500 characters of the answer.")


@strawberry_django.type(
    models.WebhookDelivery,
    name="WebhookDelivery",
    description="One event owed to one endpoint.",
    directives=[Key(fields="id")],
)
class WebhookDeliveryType(Entity, relay.Node):
    seq: int = strawberry_django.field(description="The event's sequence number in its composition.")
    attempts: int = strawberry_django.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry_django.field(
        description="When the next attempt is due; null once DELIVERED or FAILED."
    )
    delivered_at: datetime | None = strawberry_django.field(
        description="When the endpoint accepted it; null until then."
    )
    created_at: datetime = strawberry_django.field(
        description="When the event happened and was queued for it."
    )
    attempt_log: list[WebhookAttemptType] = strawberry_django.field(
        description="Every attempt, oldest first."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out deliveries (node, connections, entities) hands out the caller's own only."""
        user = caller(info).user
        return queryset.filter(endpoint__owner=user) if user is not None else queryset.none()

    @strawberry_django.field(only=["event_type"], description="Which event it carries.")
    @loaded_only
    def event_type(self, root: models.WebhookDelivery) -> WebhookEventType:
        return WebhookEventType(root.event_type)

    @strawberry_django.field(only=["status"], description="Where the delivery is.")
    @loaded_only
    def status(self, root: models.WebhookDelivery) -> WebhookDeliveryStatus:
        return WebhookDeliveryStatus(root.status)

    @strawberry_django.field(only=["composition_id"], description="The Composition's global id.")
    @loaded_only
    def composition_id(self, root: models.WebhookDelivery) -> strawberry.ID:
        return strawberry.ID(relay.to_base64("Composition", root.composition_id))

    @strawberry_django.field(
        only=["payload", "event_type", "seq", "composition_id"],
        description="The JSON body sent (each attempt signs it afresh with its own timestamp).",
    )
    @loaded_only
    def body(self, root: models.WebhookDelivery) -> str:
        return services.delivery_body(root).decode()


@strawberry_django.type(
    models.WebhookEndpoint,
    name="WebhookEndpoint",
    description="A URL that receives signed events of your compositions. Its secret is shown only "
    "by createWebhookEndpoint and rotateWebhookSecret.",
    directives=[Key(fields="id")],
)
class WebhookEndpointType(Entity, relay.Node):
    url: str = strawberry_django.field(description="Where the events are POSTed, as JSON.")
    description: str = strawberry_django.field(description="Your note about it; may be empty.")
    active: bool = strawberry_django.field(
        description="False when an administrator disabled it: its deliveries fail without being sent."
    )
    created_at: datetime = strawberry_django.field(description="When it was registered.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        user = caller(info).user
        return queryset.filter(owner=user) if user is not None else queryset.none()

    @strawberry_django.field(
        only=["events"], description="The events it receives, in WebhookEventType order."
    )
    @loaded_only
    def events(self, root: models.WebhookEndpoint) -> list[WebhookEventType]:
        return [WebhookEventType(e) for e in root.events]

    @strawberry_django.field(
        prefetch_related=[
            Prefetch(
                "deliveries",
                # A sliced prefetch: Django limits it per endpoint (a window function), one query.
                queryset=models.WebhookDelivery.objects.order_by("-created_at", "-id").prefetch_related(
                    "attempt_log"
                )[:RECENT_DELIVERIES],
                to_attr="recent_deliveries_list",
            )
        ],
        description=f"The latest {RECENT_DELIVERIES} deliveries, newest first, with their attempts; "
        "page through all of them with webhookDeliveries.",
    )
    def recent_deliveries(self, root: models.WebhookEndpoint) -> list[WebhookDeliveryType]:
        prefetched = getattr(root, "recent_deliveries_list", None)
        if prefetched is None:  # an endpoint loaded without the prefetch, e.g. a mutation's result
            return list(root.deliveries.order_by("-created_at", "-id")[:RECENT_DELIVERIES])  # type: ignore[return-value]
        return prefetched


@strawberry.type(
    name="WebhookEndpointWithSecret",
    description="An endpoint with its signing secret: shown now and never again; keep it safe.",
)
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpointType = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="Verify each delivery's Coda-Signature header with it: "
        "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>."
    )


@strawberry.input(name="CreateWebhookEndpointInput", description="Where to send which events.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="A public http(s) URL; it receives POSTs of JSON.")
    events: list[WebhookEventType] = strawberry.field(description="The events to receive; at least one.")
    description: str = strawberry.field(
        default="", description="A note for yourself, at most 200 characters."
    )


class QueryFields:
    @strawberry_django.field(
        description="Your webhook endpoints, oldest first, with their recent deliveries."
    )
    def webhook_endpoints(self, info: Info) -> list[WebhookEndpointType]:
        return selectors.endpoints_of(signed_in(info, READ, "manage webhooks").user)  # type: ignore[return-value]

    @connection(
        DjangoListConnection[WebhookDeliveryType],
        description="The deliveries to one of your endpoints, newest first, optionally of one status.",
    )
    def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: Annotated[strawberry.ID, strawberry.argument(description="The WebhookEndpoint's id.")],
        status: Annotated[
            WebhookDeliveryStatus | None,
            strawberry.argument(description="Only deliveries in this status; null for all."),
        ] = None,
    ) -> list[WebhookDeliveryType]:
        owner = signed_in(info, READ, "manage webhooks").user
        try:
            return selectors.deliveries_of(  # type: ignore[return-value]
                owner,
                global_pk(endpoint_id, "WebhookEndpoint", "endpointId"),
                status.value if status else None,
            )
        except models.WebhookEndpoint.DoesNotExist:
            raise _not_found("webhook endpoint", endpoint_id) from None


class MutationFields:
    @strawberry_django.mutation(
        description="Register a URL for events of your compositions; returns its secret, shown only now."
    )
    def create_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            CreateWebhookEndpointInput, strawberry.argument(description="The URL and its events.")
        ],
    ) -> WebhookEndpointWithSecret:
        owner = signed_in(info, COMPOSE, "manage webhooks").user
        try:
            endpoint = services.endpoint_create(
                owner, input.url, [e.value for e in input.events], input.description
            )
        except InputError as error:
            raise as_graphql_error(error) from None
        return WebhookEndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Delete one of your endpoints and its delivery log; returns its id."
    )
    def delete_webhook_endpoint(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The WebhookEndpoint's id.")],
    ) -> strawberry.ID:
        owner = signed_in(info, COMPOSE, "manage webhooks").user
        try:
            services.endpoint_delete(owner, global_pk(id, "WebhookEndpoint"))
        except models.WebhookEndpoint.DoesNotExist:
            raise _not_found("webhook endpoint", id) from None
        return id

    @strawberry_django.mutation(
        description="Replace an endpoint's secret at once (pending retries are signed with the new one); "
        "returns the new secret, shown only now."
    )
    def rotate_webhook_secret(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The WebhookEndpoint's id.")],
    ) -> WebhookEndpointWithSecret:
        owner = signed_in(info, COMPOSE, "manage webhooks").user
        try:
            endpoint = services.endpoint_rotate_secret(owner, global_pk(id, "WebhookEndpoint"))
        except models.WebhookEndpoint.DoesNotExist:
            raise _not_found("webhook endpoint", id) from None
        return WebhookEndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)  # type: ignore[arg-type]

    @strawberry_django.mutation(description="Try a FAILED delivery again: a new cycle of attempts.")
    def redeliver_webhook(
        self,
        info: Info,
        delivery_id: Annotated[
            strawberry.ID, strawberry.argument(description="The id of a FAILED WebhookDelivery of yours.")
        ],
    ) -> WebhookDeliveryType:
        owner = signed_in(info, COMPOSE, "manage webhooks").user
        try:
            return services.delivery_redeliver(  # type: ignore[return-value]
                owner, global_pk(delivery_id, "WebhookDelivery", "deliveryId")
            )
        except models.WebhookDelivery.DoesNotExist:
            raise _not_found("webhook delivery", delivery_id) from None
        except InputError as error:
            raise as_graphql_error(error) from None
