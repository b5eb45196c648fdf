"""Typed GraphQL errors: a message a person can act on and `extensions.code` a program can."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class CodaError(GraphQLError):
    code = "INTERNAL"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(CodaError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, **({"field": field} if field else {}))


class NotFound(CodaError):
    code = "NOT_FOUND"


class Conflict(CodaError):
    code = "CONFLICT"


class Unauthenticated(CodaError):
    code = "UNAUTHENTICATED"


class Forbidden(CodaError):
    """Signed in, but this credential may not do this (a token without the scope, say)."""

    code = "FORBIDDEN"


class ContentRejected(CodaError):
    """The content check refused an input; `rule` says which rule it broke."""

    code = "CONTENT_REJECTED"

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message, field=field, rule=rule)


class QuotaExceeded(CodaError):
    """A compose quota (per user or per address) is used up; `retryAfterSeconds` says when it frees."""

    code = "QUOTA_EXCEEDED"

    def __init__(self, message: str, *, retry_after_seconds: int, limit: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds, limit=limit)


class RateLimited(CodaError):
    """The caller's query-cost budget is spent; `retryAfterSeconds` says when there is enough again."""

    code = "RATE_LIMITED"


class QueryTooComplex(CodaError):
    """The query's computed cost is over the maximum; `cost` and `maximumCost` say by how much."""

    code = "QUERY_TOO_COMPLEX"


def as_graphql_error(error: Any) -> CodaError:
    """The typed GraphQL error for an InputError a service or stage raised."""
    # Imported here: the modules import this file for their own types.
    from modules.accounts.quotas import QuotaError
    from modules.composition.stages import InputConflict, InputNotFound
    from modules.moderation.services import ModerationRejected

    if isinstance(error, InputConflict):
        return Conflict(error.message, field=error.field)
    if isinstance(error, ModerationRejected):
        return ContentRejected(error.message, field=error.field, rule=error.rule)
    if isinstance(error, QuotaError):
        return QuotaExceeded(error.message, retry_after_seconds=error.retry_after_seconds, limit=error.limit)
    if isinstance(error, InputNotFound):
        return NotFound(error.message, field=error.field)
    return BadUserInput(error.message, field=error.field)
