"""What resolvers need from the request, whichever transport carried it."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from modules.accounts.caller import ANONYMOUS, Caller


def context_get(context: Any, key: str) -> Any:
    """A value of an execution context: a dict (our views, consumer and tests) or an object."""
    return context.get(key) if isinstance(context, dict) else getattr(context, key, None)


def caller_of(context: Any) -> Caller:
    """The Caller in an execution context (what schema extensions see): set by the HTTP view, the
    websocket consumer or a test."""
    found = context_get(context, "caller")
    if found is None:
        request = context_get(context, "request")
        found = getattr(request, "caller", None)
    return found or ANONYMOUS


def caller(info: Info) -> Caller:
    """The Caller of this operation."""
    return caller_of(info.context)
