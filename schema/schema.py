from __future__ import annotations

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from .root import Mutation, Query, Subscription
from .scalars import SCALAR_MAP

VALIDATION_RULES = [depth_rule(max_depth=12, should_ignore=None), alias_rule(max_alias_count=30)]

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(scalar_map=SCALAR_MAP),
    extensions=[
        DjangoOptimizerExtension,
        # Rule classes built once: ValidationCache keys on them, so classes made per request
        # (what the limiter extensions' own factories do) would never let it hit.
        lambda: AddValidationRules(VALIDATION_RULES),
        lambda: MaxTokensLimiter(max_token_count=4000),
        # Their LRU caches are module-level, shared by every request (validation dominates small queries).
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
