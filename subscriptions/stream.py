"""The progress stream: replay the event log after `after_seq`, then go live.

It joins the channel-layer group *before* reading the log, so nothing falls
between replay and live; sequence numbers drop repeats, and a gap (a message
the layer dropped) is filled from the log. If the layer stays quiet the log is
re-read now and then, so a lost final event cannot leave a client hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from channels.db import database_sync_to_async

from .events import EVENT_TYPE, event_payload, group_name, is_terminal
from .models import ProgressEvent

RESYNC_SECONDS = 5.0


@database_sync_to_async
def _logged_after(composition_id: int, after_seq: int) -> list[dict[str, Any]]:
    events = ProgressEvent.objects.filter(composition_id=composition_id, seq__gt=after_seq).order_by("seq")
    return [event_payload(e) for e in events]


async def composition_events(
    ws: Any, composition_id: int, after_seq: int = 0
) -> AsyncGenerator[dict[str, Any]]:
    async with ws.listen_to_channel(EVENT_TYPE, groups=[group_name(composition_id)]) as live:
        last = after_seq
        for payload in await _logged_after(composition_id, last):
            yield payload
            last = payload["seq"]
            if is_terminal(payload):
                return
        live_iter = live.__aiter__()
        while True:
            try:
                message = await asyncio.wait_for(live_iter.__anext__(), RESYNC_SECONDS)
            except TimeoutError:
                message = None
            except StopAsyncIteration:
                return
            if message is not None and message.get("composition_id") != composition_id:
                continue  # broadcasts are not filtered by group (FIELD-NOTES trap 4)
            if message is None or message["seq"] > last + 1:
                # Quiet for a while, or a gap: the log has what the layer lost.
                for payload in await _logged_after(composition_id, last):
                    if message is not None and payload["seq"] >= message["seq"]:
                        break
                    yield payload
                    last = payload["seq"]
                    if is_terminal(payload):
                        return
                if message is None:
                    continue
            if message["seq"] <= last:
                continue
            payload = {k: v for k, v in message.items() if k != "type"}
            yield payload
            last = payload["seq"]
            if is_terminal(payload):
                with contextlib.suppress(Exception):
                    await live_iter.aclose()
                return
