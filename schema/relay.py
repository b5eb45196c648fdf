"""Relay arguments checked before strawberry reads them: a malformed global id or cursor is the
client's mistake and gets BAD_USER_INPUT, where strawberry would raise (an internal error)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry_django
from graphql import is_object_type
from strawberry.extensions import FieldExtension
from strawberry.federation.schema_directives import Shareable
from strawberry.relay import Edge, GlobalID, ListConnection, PageInfo
from strawberry.relay.types import PREFIX
from strawberry.relay.utils import from_base64
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from .errors import BadUserInput

# Apollo Federation lets a value type be resolved by several subgraphs only when each marks it
# @shareable: PageInfo is in every subgraph with a connection, and a connection type of the same
# node type (CompositionConnection) in every subgraph that lists it. They are strawberry's own
# types, so the directive joins their definitions here, once, before any module declares a
# connection (each specialisation copies its generic's directives).
for _relay_type in (PageInfo, Edge, ListConnection, DjangoListConnection):
    _definition = _relay_type.__strawberry_definition__  # type: ignore[attr-defined]
    if not any(isinstance(d, Shareable) for d in _definition.directives):
        _definition.directives = [*_definition.directives, Shareable()]


class ArgumentCheck(FieldExtension):
    """A field extension that checks the arguments, then resolves as usual (sync or async)."""

    def check(self, info: Info, arguments: dict[str, Any]) -> None:
        raise NotImplementedError

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(info, kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        self.check(info, kwargs)
        return await next_(source, info, **kwargs)


class ValidCursors(ArgumentCheck):
    """`after`/`before` must be cursors a connection handed out (`arrayconnection:<offset>`)."""

    def check(self, info: Info, arguments: dict[str, Any]) -> None:
        for name in ("after", "before"):
            value = arguments.get(name)
            if value is None:
                continue
            try:
                prefix, offset = from_base64(value)
                valid = prefix == PREFIX and offset.isdigit()
            except ValueError:
                valid = False
            if not valid:
                raise BadUserInput(f"`{name}` is not a cursor from this connection: {value!r}", field=name)


class ValidNodeId(ArgumentCheck):
    """`node(id:)` must name a type that implements Node, with an integer key."""

    def check(self, info: Info, arguments: dict[str, Any]) -> None:
        global_id: GlobalID = arguments["id"]
        schema = info.schema._schema
        named = schema.get_type(global_id.type_name)
        node = schema.get_type("Node")
        if not (is_object_type(named) and node in named.interfaces):  # type: ignore[union-attr]
            raise BadUserInput(
                f"{str(global_id)!r} is not the id of any object: no type {global_id.type_name!r}",
                field="id",
            )
        if not global_id.node_id.isdigit():
            raise BadUserInput(f"{str(global_id)!r} is not a {global_id.type_name} id", field="id")


def connection(*args: Any, **kwargs: Any) -> Any:
    """strawberry_django.connection, with `after`/`before` checked before strawberry reads them.

    ValidCursors must wrap strawberry's own connection extension (the last in the list is the
    outermost), which consumes the cursor arguments; `extensions=` would place it inside."""
    field = strawberry_django.connection(*args, **kwargs)
    field.extensions.append(ValidCursors())
    return field
