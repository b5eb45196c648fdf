"""Typed GraphQL errors: a message a person can act on and `extensions.code` a program can."""

from __future__ import annotations

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
