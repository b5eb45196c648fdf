from __future__ import annotations

import strawberry
from django.conf import settings
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry_django.optimizer import DjangoOptimizerExtension

from .root import Mutation, Query, Subscription
from .scalars import SCALAR_MAP
from .security import CodaMaskErrors, IntrospectionSwitch, QueryLimits, log_errors

VALIDATION_RULES = [depth_rule(max_depth=12, should_ignore=None), alias_rule(max_alias_count=30)]


class CodaSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Runs before masking: the original errors, with their stack traces, stay in the server log.
        log_errors(errors, execution_context)


schema = CodaSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # A connection without first/last returns this many (strawberry's default); the cost analysis
    # refuses first/last above CODA_MAX_PAGE_SIZE before strawberry would refuse it as an internal error.
    config=StrawberryConfig(scalar_map=SCALAR_MAP, relay_max_results=settings.CODA_MAX_PAGE_SIZE),
    extensions=[
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
    ],
)
