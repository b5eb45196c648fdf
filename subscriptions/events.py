"""Publishing progress events from any process.

An event is first appended to the event log (with the composition's next
sequence number), then, once committed, sent to the composition's
channel-layer group. The log is the truth; the channel layer is the fast path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

from modules.composition.models import Composition

from .models import ProgressEvent
from .signals import event_published

log = logging.getLogger(__name__)

EVENT_TYPE = "composition.event"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}

# In-process observers (the CLI's progress bars); called after commit.
local_listeners: list[Callable[[dict[str, Any]], None]] = []


def group_name(composition_id: int) -> str:
    return f"composition_{composition_id}"


def user_group_name(user_id: int) -> str:
    return f"user_{user_id}"


def event_payload(event: ProgressEvent) -> dict[str, Any]:
    return {
        "composition_id": event.composition_id,
        "seq": event.seq,
        "stage": event.stage,
        "status": event.status,
        "progress": event.progress,
        "message": event.message,
        "created_at": event.created_at.isoformat(),
    }


def is_terminal(payload: dict[str, Any]) -> bool:
    return not payload["stage"] and payload["status"] in TERMINAL


def publish_event(
    composition_id: int, *, status: str, stage: str = "", progress: float = 0.0, message: str = ""
) -> ProgressEvent | None:
    """Log and publish an event; None (nothing logged) for a stage's event after the composition ended."""
    final = not stage and status in TERMINAL
    with transaction.atomic():
        # The row lock keeps sequence numbers unique and lets no event slip in after a final one.
        current, owner_id = (
            Composition.objects.select_for_update()
            .filter(pk=composition_id)
            .values_list("status", "owner_id")
            .get()
        )
        if current in TERMINAL and not final:
            return None
        Composition.objects.filter(pk=composition_id).update(last_seq=F("last_seq") + 1)
        seq = Composition.objects.filter(pk=composition_id).values_list("last_seq", flat=True).get()
        event = ProgressEvent.objects.create(
            composition_id=composition_id,
            seq=seq,
            stage=stage,
            status=status,
            progress=progress,
            message=message[:300],
        )
        payload = event_payload(event)
        transaction.on_commit(lambda: _deliver(payload, owner_id))
    return event


def _deliver(payload: dict[str, Any], owner_id: int | None) -> None:
    for listener in list(local_listeners):
        listener(payload)
    # Robust: a failing receiver (webhooks) is logged and never stops the live stream below.
    event_published.send_robust(sender=ProgressEvent, payload=payload, owner_id=owner_id)
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": EVENT_TYPE, **payload, "owner_id": owner_id}
    try:
        _LOOP.run(layer.group_send(group_name(payload["composition_id"]), message))
        if owner_id is not None:  # the owner's dashboard stream
            _LOOP.run(layer.group_send(user_group_name(owner_id), message))
    except Exception:  # the log still has it; subscribers catch up from there
        log.exception("could not send event %s of composition %s", payload["seq"], payload["composition_id"])


class _LoopRunner:
    """Runs channel-layer coroutines on one long-lived event loop per process.

    In the server process that is the server's own loop (the in-memory layer
    lives there); elsewhere (Celery worker, CLI) a private background loop,
    so each send does not build a loop and a connection (FIELD-NOTES trap 5).
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="coda-events", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> None:
        loop = self._get()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:  # waiting keeps sends in order; never wait on our own loop
            future.result(timeout)


_LOOP = _LoopRunner()


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    _LOOP.bind(loop)
