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

from .events import EVENT_TYPE, event_payload, group_name, is_terminal, user_group_name
from .models import ProgressEvent

RESYNC_SECONDS = 5.0


@database_sync_to_async
def _logged_after(composition_id: int, after_seq: int) -> list[dict[str, Any]]:
    events = ProgressEvent.objects.filter(composition_id=composition_id, seq__gt=after_seq).order_by("seq")
    return [event_payload(e) for e in events]


@database_sync_to_async
def _is_final(composition_id: int, seq: int) -> bool:
    """Is event `seq` the composition's last one, and final?"""
    latest = ProgressEvent.objects.filter(composition_id=composition_id).order_by("-seq").first()
    return latest is not None and latest.seq == seq and is_terminal(event_payload(latest))


async def composition_events(
    ws: Any, composition_id: int, after_seq: int = 0
) -> AsyncGenerator[dict[str, Any]]:
    async with ws.listen_to_channel(EVENT_TYPE, groups=[group_name(composition_id)]) as live:
        last = after_seq
        logged = await _logged_after(composition_id, last)
        for i, payload in enumerate(logged):
            yield payload
            last = payload["seq"]
            # A final event followed by more is an earlier run's (the composition was rerun).
            if is_terminal(payload) and i == len(logged) - 1:
                return
        if not logged and after_seq > 0 and await _is_final(composition_id, after_seq):
            return  # the client has already seen the end
        live_iter = live.__aiter__()
        # One read stays pending across quiet spells: a timeout must not cancel it, since
        # cancelling the listener's generator would end it (and the stream) for good.
        pending = asyncio.ensure_future(live_iter.__anext__())
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=RESYNC_SECONDS)
                message = None
                if done:
                    try:
                        message = pending.result()
                    except StopAsyncIteration:
                        return
                    pending = asyncio.ensure_future(live_iter.__anext__())
                if message is not None and message.get("composition_id") != composition_id:
                    continue  # broadcasts are not filtered by group (FIELD-NOTES trap 4)
                if message is None or message["seq"] > last + 1:
                    # Quiet for a while, or a gap: the log has what the layer lost.
                    logged = await _logged_after(composition_id, last)
                    for i, payload in enumerate(logged):
                        if message is not None and payload["seq"] >= message["seq"]:
                            break
                        yield payload
                        last = payload["seq"]
                        if is_terminal(payload) and i == len(logged) - 1:
                            return
                    if message is None:
                        continue
                if message["seq"] <= last:
                    continue
                payload = {k: v for k, v in message.items() if k not in ("type", "owner_id")}
                yield payload
                last = payload["seq"]
                if is_terminal(payload):
                    return
        finally:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending


async def user_events(ws: Any, user_id: int) -> AsyncGenerator[dict[str, Any]]:
    """Live events of every composition the user owns, each once."""
    seen: dict[int, int] = {}
    async with ws.listen_to_channel(EVENT_TYPE, groups=[user_group_name(user_id)]) as live:
        async for message in live:
            # The consumer may also be in composition groups (trap 4): keep only the user's, once.
            if message.get("owner_id") != user_id or message["seq"] <= seen.get(message["composition_id"], 0):
                continue
            seen[message["composition_id"]] = message["seq"]
            yield {k: v for k, v in message.items() if k not in ("type", "owner_id")}
