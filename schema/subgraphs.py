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

from .build import CORE_MODULE
from .schema import CodaSchema, build_schema


def subgraph_modules() -> dict[str, list[str]]:
    """Subgraph name (its URL part) -> the modules it serves."""
    stages = {name.rsplit(".", 1)[-1]: [name] for name in settings.CODA_STAGES}
    return {CORE_MODULE.rsplit(".", 1)[-1]: [CORE_MODULE, *settings.CODA_SERVICE_MODULES], **stages}


@cache
def subgraph_schema(name: str) -> CodaSchema:
    """The subgraph schema, built once per process on first use (the combined schema is enough for
    a server that is never asked for a subgraph)."""
    return build_schema(subgraph_modules()[name])
