"""Reads on webhooks: querysets scoped to their owner, for resolvers to shape."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def endpoints_of(owner: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=owner).order_by("created_at", "id")


def deliveries_of(owner: Any, endpoint_id: int, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first; WebhookEndpoint.DoesNotExist unless the endpoint is the owner's."""
    endpoint = endpoints_of(owner).get(pk=endpoint_id)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
    return deliveries.filter(status=status) if status else deliveries
