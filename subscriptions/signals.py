"""Signals other modules connect to, so they need not be imported by the event publisher."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once per logged event, after its transaction committed, with `payload` (events.event_payload)
# and `owner_id` (the composition's owner, or None). Webhooks turn these into deliveries.
event_published = Signal()
