"""Production error masking, and the introspection switch.

An error leaves the server with its message only when a client can act on it:

- errors with no original exception: graphql-core's syntax and validation errors, and typed errors
  raised as they are (a CodaError raised in an extension hook);
- input coercion errors: raised before any resolver runs (no path), pointing at the client's own
  document or values (nodes), such as a string for an Int variable or a malformed ID;
- errors whose original is a CodaError (raised in a resolver), or any GraphQLError carrying an
  `extensions.code` (deliberate client errors, such as a permission class's);
- strawberry's StrawberryInputCoercionError (a malformed global id given to `node`, say), which
  gets code BAD_USER_INPUT.

Everything else (a Python exception in a resolver, a crashed extension, graphql-core's output
errors, which are server bugs) becomes "Internal server error" with code INTERNAL_SERVER_ERROR.
The original is logged with its stack trace by `log_errors` (the schema's process_errors) before it
is masked. `CODA_MASK_ERRORS` and `CODA_INTROSPECTION` are read on every request, so a settings
override takes effect at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult

from schema.errors import CodaError

logger = logging.getLogger("coda.graphql")

INTERNAL_MESSAGE = "Internal server error"
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"


def is_client_error(error: GraphQLError) -> bool:
    """Whether the client may see this error as it is (see the module docstring)."""
    original = error.original_error
    if original is None or isinstance(original, (CodaError, StrawberryInputCoercionError)):
        return True
    if error.path is None and error.nodes:  # raised before any resolver, about the client's own input
        return True
    return isinstance(original, GraphQLError) and "code" in (original.extensions or {})


def should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Unexpected errors at ERROR with their stack trace; client errors at INFO, one line each (a
    flood of bad queries must not flood the error log)."""
    for error in errors:
        if is_client_error(error):
            logger.info("GraphQL client error: %s", error.message)
        else:
            original = error.original_error
            logger.error(
                "GraphQL internal error: %s",
                error.message,
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )


class CodaMaskErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": INTERNAL_CODE},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._process_error(error) for error in errors]

    def _process_error(self, error: GraphQLError) -> GraphQLError:
        if should_mask(error):
            return self.anonymise_error(error)
        if isinstance(error.original_error, StrawberryInputCoercionError) and "code" not in (
            error.extensions or {}
        ):
            return GraphQLError(
                message=error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions={**(error.extensions or {}), "code": "BAD_USER_INPUT"},
            )
        return error

    def on_operation(self) -> Iterator[None]:
        # MaskErrors' own, minus its runtime Protocol isinstance checks (~10 us on every request).
        self._stream_result_processed = False
        yield
        if self._stream_result_processed or not settings.CODA_MASK_ERRORS:
            return
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[union-attr]

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        if not settings.CODA_MASK_ERRORS:
            yield
            return
        yield from super().on_stream_result(result)

    def get_results(self) -> dict[str, Any]:
        # The safety net. When an extension hook raises (a limit refusing, Redis failing), strawberry
        # unwinds on_operation with the exception, so the masking above never runs; the result it
        # then builds shares its error list with `pre_execution_errors`, and get_results is called
        # just before it is returned: mask in place here.
        errors = self.execution_context.pre_execution_errors
        if settings.CODA_MASK_ERRORS and errors and any(should_mask(e) for e in errors):
            errors[:] = self._process_errors(errors)
        return {}


class IntrospectionSwitch(SchemaExtension):
    """CODA_INTROSPECTION=False: refuse `__schema`/`__type` (graphql-core's rule) and drop "Did you
    mean ...?" suggestions, which would otherwise spell the schema out field by field."""

    def on_operation(self) -> Iterator[None]:
        if not settings.CODA_INTROSPECTION:
            # A constant rule class: ValidationCache keys on the rules, so it still hits.
            context = self.execution_context
            context.validation_rules = (*context.validation_rules, NoSchemaIntrospectionCustomRule)
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if not settings.CODA_INTROSPECTION and errors:
            # These are ValidationCache's cached objects, but only ever those cached for the rule set
            # with introspection off, so stripping them in place changes nothing else.
            for error in errors:
                self.execution_context.schema.remove_field_suggestion(error)
