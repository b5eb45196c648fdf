"""Turns published progress events into webhook deliveries (connected in WebhooksConfig.ready)."""

from __future__ import annotations

from typing import Any

from .services import deliveries_create_for_event


def on_event_published(sender: Any, payload: dict[str, Any], owner_id: int | None, **kwargs: Any) -> None:
    deliveries_create_for_event(payload, owner_id)
