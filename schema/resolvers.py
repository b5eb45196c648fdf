"""Helpers for resolvers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def loaded_only(resolver: F) -> F:
    """Mark a resolver that only reads columns the optimizer already loaded (its `only=` hints).

    strawberry-django then runs it on the event loop instead of hopping to a thread through
    sync_to_async for each object (the `is_async_safe` flag its own resolvers use): on a page
    of 20 compositions that is over a thousand thread hops saved.
    """
    resolver.is_async_safe = True  # type: ignore[attr-defined]
    return resolver
