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
    """The federation schema, optionally showing only some fields of `Composition`: a module's
    subgraph serves the one Composition type with that module's fields (strawberry's own
    `get_fields` hook), so every type that refers to Composition stays one type."""

    def __init__(self, *args: Any, composition_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
        self.composition_fields = composition_fields  # python names; None: all
        definition = Composition.__strawberry_definition__  # type: ignore[attr-defined]
        every_field = definition.fields
        # Federation finds the entities for `_Entity` by walking every type's own field list, not
        # get_fields: while this schema is built, Composition lists only the fields it shows here
        # (schemas are built one at a time, at start-up or on a subgraph's first request).
        definition.fields = self.get_fields(definition)
        try:
            super().__init__(*args, **kwargs)
        finally:
            definition.fields = every_field

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = super().get_fields(type_definition)
        if self.composition_fields is None or type_definition.name != "Composition":
            return fields
        # The relay Node's `id` (python name `_id`) is the entity's key: every subgraph has it.
        return [f for f in fields if f.python_name in self.composition_fields or f.graphql_name == "id"]

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


def build_schema(modules: list[str]) -> CodaSchema:
    """A schema of the given modules: the core brings the root operations, each module its fields
    of `Composition` and its own queries and mutations."""
    query, mutation, subscription = [
        contributions(part, modules) for part in ("QueryFields", "MutationFields", "SubscriptionFields")
    ]
    if CORE_MODULE in modules:
        query, mutation, subscription = [CoreQuery, *query], [CoreMutation, *mutation], [CoreSubscription]
    every_module = set(modules) == set(module_names())
    own_fields = {"id"} | {
        name for part in contributions("CompositionFields", modules) for name in field_names(part)
    }
    return CodaSchema(
        composition_fields=None if every_module else frozenset(own_fields),
        query=root_type("Query", query, description=QUERY) if query else None,
        mutation=root_type("Mutation", mutation, description=MUTATION) if mutation else None,
        subscription=root_type("Subscription", subscription, description=SUBSCRIPTION)
        if subscription
        else None,
        # A module subgraph may reach Composition only through `_entities`.
        types=[Composition],
        # A connection without first/last returns this many (strawberry's default); the cost analysis
        # refuses first/last above CODA_MAX_PAGE_SIZE before strawberry would refuse it as an internal
        # error.
        config=StrawberryConfig(scalar_map=SCALAR_MAP, relay_max_results=settings.CODA_MAX_PAGE_SIZE),
        extensions=EXTENSIONS,
    )


schema = build_schema(module_names())
