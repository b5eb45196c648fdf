"""Each module served alone as an Apollo Federation 2 subgraph, at /graphql/<name>.

A stage module's subgraph extends `Composition` by its key (the global id) with that module's
fields, plus the module's own queries (its catalog). The core's subgraph carries the root
operations and the service modules (accounts, webhooks...), whose types hang off no composition.
An operator can run each in its own process and compose them with Apollo tooling; the supergraph
has the same `Composition` as the combined schema at /graphql.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from graphql import is_object_type

from .build import CORE_MODULE
from .schema import CodaSchema, build_schema


def subgraph_modules() -> dict[str, list[str]]:
    """Subgraph name (its URL part) -> the modules it serves."""
    stages = {name.rsplit(".", 1)[-1]: [name] for name in settings.CODA_STAGES}
    return {CORE_MODULE.rsplit(".", 1)[-1]: [CORE_MODULE, *settings.CODA_SERVICE_MODULES], **stages}


def node_types_outside(modules: list[str]) -> tuple[type, ...]:
    """The combined schema's Node types that the given modules do not define."""
    from . import schema

    node = schema._schema.get_type("Node")
    found = []
    for named in schema._schema.type_map.values():
        if not (is_object_type(named) and node in named.interfaces):
            continue
        origin = schema.get_type_by_name(named.name).origin  # type: ignore[union-attr]
        if origin.__module__.rsplit(".", 1)[0] not in modules and named.name != "Composition":
            found.append(origin)
    return tuple(sorted(found, key=lambda t: t.__strawberry_definition__.name))


@cache
def subgraph_schema(name: str) -> CodaSchema:
    """The subgraph schema, built once per process (by `backend.asgi` at start-up, before any
    request is served: building narrows shared types' field lists for a moment). The core's, which
    serves `node(id)`, shows the other modules' Node types by their key, so a gateway can resolve
    any id through it."""
    modules = subgraph_modules()[name]
    return build_schema(modules, node_types_outside(modules) if CORE_MODULE in modules else ())


def subgraph_schemas() -> dict[str, CodaSchema]:
    """Every subgraph schema, by name (built now if not yet)."""
    return {name: subgraph_schema(name) for name in subgraph_modules()}
