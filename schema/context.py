"""What resolvers need from the request, whichever transport carried it."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info


def current_user(info: Info) -> Any:
    """The authenticated user or AnonymousUser, over channels HTTP/websocket or a Django request."""
    context = info.context
    get = context.get if isinstance(context, dict) else lambda key: getattr(context, key, None)
    consumer = get("ws") or getattr(get("request"), "consumer", None)
    if consumer is not None:
        return consumer.scope.get("user")
    return getattr(get("request"), "user", None)
