"""The schemas Coda serves: the combined one (every module) and one per module, each an Apollo
Federation 2 subgraph (see schema/subgraphs.py)."""

from __future__ import annotations

from typing import Any

import strawberry
from django.conf import settings
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry_django.optimizer import DjangoOptimizerExtension

from .build import CORE_MODULE, contributions, field_names, module_names, root_type
from .root import Composition, CoreMutation, CoreQuery, CoreSubscription
from .scalars import SCALAR_MAP
from .security import CodaMaskErrors, IntrospectionSwitch, QueryLimits, log_errors

VALIDATION_RULES = [depth_rule(max_depth=12, should_ignore=None), alias_rule(max_alias_count=30)]


class CodaSchema(strawberry.federation.Schema):
    """The federation schema, optionally showing only some fields of some types (strawberry's own
    `get_fields` hook), so that a module's subgraph serves the one Composition type with that
    module's fields, and the core's subgraph other modules' Node types as their key alone (for
    `node(id)`; the gateway asks their own subgraph for the rest). Every type stays one type."""

    def __init__(self, *args: Any, shown: dict[type, frozenset[str]] | None = None, **kwargs: Any) -> None:
        # type -> the python names of the fields shown; the relay Node `id` is always shown.
        self.shown = {cls.__strawberry_definition__.name: names for cls, names in (shown or {}).items()}  # type: ignore[attr-defined]
        definitions = [cls.__strawberry_definition__ for cls in shown or {}]  # type: ignore[attr-defined]
        every_field = [definition.fields for definition in definitions]
        # Federation finds the entities for `_Entity` by walking every type's own field list, not
        # get_fields: while this schema is built, those types list only the fields shown here
        # (schemas are built one at a time, at start-up or on a subgraph's first request).
        for definition in definitions:
            definition.fields = self.get_fields(definition)
        try:
            super().__init__(*args, **kwargs)
        finally:
            for definition, fields in zip(definitions, every_field, strict=True):
                definition.fields = fields

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = super().get_fields(type_definition)
        names = self.shown.get(type_definition.name)
        if names is None:
            return fields
        # The relay Node's `id` (python name `_id`) is the entity's key: every subgraph has it.
        return [f for f in fields if f.python_name in names or f.graphql_name == "id"]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Runs before masking: the original errors, with their stack traces, stay in the server log.
        log_errors(errors, execution_context)


EXTENSIONS = [
    # First: its refusals are raised before the other extensions' hooks are entered.
    QueryLimits,
    DjangoOptimizerExtension,
    # Rule classes built once: ValidationCache keys on them, so classes made per request
    # (what the limiter extensions' own factories do) would never let it hit.
    lambda: AddValidationRules(VALIDATION_RULES),
    IntrospectionSwitch,
    lambda: MaxTokensLimiter(max_token_count=4000),
    # Their LRU caches are module-level, shared by every request (validation dominates small queries).
    lambda: ParserCache(maxsize=256),
    lambda: ValidationCache(maxsize=256),
    CodaMaskErrors,
]


QUERY = "Reading: compositions, the catalogs (moods, genres, voices), your account and webhooks."
MUTATION = "Changing: composing and editing compositions, sharing them, accounts, tokens and webhooks."
SUBSCRIPTION = (
    "Live progress of compositions, over a websocket on /graphql (graphql-transport-ws or graphql-ws)."
)


def build_schema(modules: list[str], other_nodes: tuple[type, ...] = ()) -> CodaSchema:
    """A schema of the given modules: the core brings the root operations, each module its fields
    of `Composition` and its own queries and mutations. `other_nodes`: Node types of other modules
    shown by their key alone."""
    query, mutation, subscription = [
        contributions(part, modules) for part in ("QueryFields", "MutationFields", "SubscriptionFields")
    ]
    if CORE_MODULE in modules:
        query, mutation, subscription = [CoreQuery, *query], [CoreMutation, *mutation], [CoreSubscription]
    shown: dict[type, frozenset[str]] = {node: frozenset() for node in other_nodes}
    if set(modules) != set(module_names()):
        shown[Composition] = frozenset(
            name for part in contributions("CompositionFields", modules) for name in field_names(part)
        )
    return CodaSchema(
        shown=shown,
        # Every subgraph's Query says the same (the supergraph's), even one with only what
        # federation adds (`_service`, `_entities`): Apollo composition hints at differing ones.
        query=root_type("Query", query, description=QUERY),
        mutation=root_type("Mutation", mutation, description=MUTATION) if mutation else None,
        subscription=root_type("Subscription", subscription, description=SUBSCRIPTION)
        if subscription
        else None,
        # A module subgraph may reach Composition only through `_entities`.
        types=[Composition, *other_nodes],
        # A connection without first/last returns this many (strawberry's default); the cost analysis
        # refuses first/last above CODA_MAX_PAGE_SIZE before strawberry would refuse it as an internal
        # error.
        config=StrawberryConfig(scalar_map=SCALAR_MAP, relay_max_results=settings.CODA_MAX_PAGE_SIZE),
        extensions=EXTENSIONS,
    )


schema = build_schema(module_names())
