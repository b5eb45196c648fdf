"""The public endpoint's limits, as one schema extension: document size, persisted queries, page
sizes, query cost and the per-client cost budget.

Per operation, in strawberry's hooks:

1. on_operation, before parsing: a client whose bucket this process knows to be empty is refused
   at once (RateLimited, HTTP 429); then persisted-query resolution (persisted.py), the document
   size limit and the variables' size limits (entries per list or object, values in all, depth).
   A refusal here swaps the document for a tiny placeholder, so nothing large or unknown is
   parsed, and is raised in step 3.
2. on_validate, after validation and only when it passed: a document sent with its APQ hash is
   stored; the cost of the operation that will run is computed (cost.py; a page size out of range
   is refused here); over the maximum -> QueryTooComplex; then the cost is taken from the caller's
   bucket (throttle.py); not enough -> RateLimited with retryAfterSeconds, HTTP 429 and Retry-After.
3. on_execute: a refusal is raised before any resolver runs; strawberry turns it into the
   response's error, over HTTP, websockets and in-process alike (subscriptions too).
4. get_results: `extensions.cost = {requestedQueryCost, throttleStatus}` (Shopify's shape;
   throttleStatus = {maximumAvailable, currentlyAvailable, restoreRate}, null when not limited).

The cost maximum and the buckets apply to operations that arrive over the network: HTTP (the view
puts the response in the context) or a websocket (the consumer puts "ws"). Code running the schema
in-process (tests, scripts, benchmarks) is trusted: its cost is computed and reported, not limited.
Page sizes, document size and persisted-query rules apply everywhere.

An operation refused before it runs (syntax, validation, page size, too complex, persisted-query
errors) is charged REFUSED_COST, taking what is there up to that (never refused for it): checking a
bad document can be more work than running a good one, and a flood of them must empty the budget
too. If the bucket store fails, the request goes through (fails open) and the failure is logged:
the limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import GraphQLError
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from schema.context import caller_of, context_get
from schema.errors import BadUserInput, QueryTooComplex, RateLimited

from . import persisted, throttle
from .cost import cached_operation_cost

logger = logging.getLogger(__name__)

REFUSED_COST = 10
MAX_INPUT_DEPTH = 20  # the schema's input types nest a few levels; JSON deeper than this is junk
# Parsed and validated in place of a refused document: cheap, cached, valid for any transport.
PLACEHOLDER = "query CodaRefused { __typename }"
ABORTED_MESSAGE = (
    "Validation aborted: the document is too costly to validate (too many overlapping fields or "
    "fragment spreads); send a smaller document"
)


def is_public(context: Any) -> bool:
    """Whether the operation came over the network (the HTTP view or the websocket consumer)."""
    return context_get(context, "response") is not None or context_get(context, "ws") is not None


def check_variables(variables: Any, *, max_entries: int, max_values: int, max_depth: int) -> None:
    """Refuse oversized variables before graphql-core coerces them: coercion costs ~40 us per input
    object, so a 2 MB body of them is seconds of CPU, and unknown keys each get a "did you mean"."""
    if not variables:
        return
    stack: list[tuple[Any, str, int]] = [(variables, "", 0)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        where = f"${path.lstrip('.')}" if path else "the variables"
        if len(value) > max_entries:
            raise BadUserInput(
                f"{where} has {len(value):,} entries; the limit is {max_entries}",
                field=path.lstrip(".") or None,
            )
        if depth >= max_depth:
            raise BadUserInput(
                f"{where} nests deeper than {max_depth} levels", field=path.lstrip(".") or None
            )
        seen += len(value)
        if seen > max_values:
            raise BadUserInput(f"the variables hold more than {max_values:,} values; send less at once")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend((child, f"{path}.{key}", depth + 1) for key, child in items)


def rate_limited(cost: int | None, taken: throttle.Taken, wait: float) -> RateLimited:
    status = taken.status()
    needs = f"this query costs {cost} and" if cost is not None else "the budget is spent:"
    return RateLimited(
        f"rate limited: {needs} {status['currentlyAvailable']} of {taken.limit.capacity} points are "
        f"available (restoring {taken.limit.restore_rate:g} a second); retry in {wait:g} s",
        retryAfterSeconds=wait,
        cost=cost,
        throttleStatus=status,
    )


class QueryLimits(SchemaExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        self.refusal: GraphQLError | None = None
        self.requested: int | None = None
        self.charged = False  # the bucket has been asked (whatever it answered)
        self.taken: throttle.Taken | None = None
        self.apq_hash: str | None = None
        self._results: dict[str, Any] | None = None

    @property
    def _throttled(self) -> bool:
        return settings.CODA_RATE_LIMIT and is_public(self.execution_context.context)

    # 1. before parsing
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        try:
            if self._throttled:
                self._refuse_if_known_empty()
            query, self.apq_hash = persisted.resolve(context.query, context.operation_extensions)
            check_variables(
                context.variables,
                max_entries=settings.CODA_MAX_INPUT_ENTRIES,
                max_values=settings.CODA_MAX_INPUT_VALUES,
                max_depth=MAX_INPUT_DEPTH,
            )
            if query is not None and len(query) > settings.CODA_MAX_QUERY_CHARS:
                raise BadUserInput(
                    f"the document is {len(query):,} characters long; the limit is "
                    f"{settings.CODA_MAX_QUERY_CHARS:,}",
                    field="query",
                )
            context.query = query
        except GraphQLError as error:
            self.refusal = error
            self.apq_hash = None
            context.query = PLACEHOLDER
            context.graphql_document = None
            context._provided_operation_name = None  # the placeholder's own operation runs (and is refused)
            # It is a query; let it through the operation-type check even where only subscriptions
            # are (graphql-ws's subscribe): it never executes.
            context.allowed_operations = (*context.allowed_operations, OperationType.QUERY)
        yield

    def _refuse_if_known_empty(self) -> None:
        caller = caller_of(self.execution_context.context)
        try:
            buckets = throttle.get_buckets()
            wait = buckets.empty_for(caller.client_key)
        except Exception:
            logger.exception("rate limiter unavailable; request not throttled")
            return
        if wait <= 0:
            return
        limit = throttle.limit_for(caller)
        self.charged = True  # refused unparsed: there is nothing to charge for
        self.taken = throttle.Taken(False, max(0.0, buckets.EMPTY_BELOW - wait * limit.restore_rate), limit)
        self._refuse_rate_limited(None, self.taken.retry_after(buckets.EMPTY_BELOW))

    def _refuse_rate_limited(self, cost: int | None, wait: float) -> None:
        assert self.taken is not None
        self.refusal = rate_limited(cost, self.taken, wait)
        response = context_get(self.execution_context.context, "response")
        if response is not None:  # HTTP: Django's response, or any with status_code and headers
            response.status_code = 429
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))  # whole seconds for HTTP
        raise self.refusal

    # 2. after validation
    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = context.pre_execution_errors
        if errors:
            for error in errors:
                if isinstance(error, ValidationAbortedError):
                    error.message = ABORTED_MESSAGE  # graphql-core's says only "Validation aborted."
            return
        if self.refusal is not None or context.graphql_document is None:
            return
        if self.apq_hash is not None and context.query:
            persisted.remember(self.apq_hash, context.query)
        try:
            self.requested = cached_operation_cost(
                context.schema._schema,
                context.graphql_document,
                context.query or "",
                context.operation_name,
                context.variables,
                max_page_size=settings.CODA_MAX_PAGE_SIZE,
                default_page_size=context.schema.config.relay_max_results,
            )
            if is_public(context.context):
                self._limit(self.requested)
        except GraphQLError as error:
            self.refusal = error

    def _limit(self, cost: int) -> None:
        caller = caller_of(self.execution_context.context)
        limit = throttle.limit_for(caller)
        maximum = settings.CODA_MAX_QUERY_COST
        if settings.CODA_RATE_LIMIT:  # a cost the bucket can never hold would never run
            maximum = min(maximum, limit.capacity)
        if cost > maximum:
            raise QueryTooComplex(
                f"query cost {cost} is over the maximum of {maximum}: ask for fewer fields, "
                "smaller pages (first/last) or fewer nested lists",
                cost=cost,
                maximumCost=maximum,
            )
        if not settings.CODA_RATE_LIMIT:
            return
        taken = self._take(caller.client_key, cost, limit, drain=False)
        if taken is not None and not taken.allowed:
            self._refuse_rate_limited(cost, taken.retry_after(cost))

    def _take(self, key: str, cost: float, limit: throttle.Limit, *, drain: bool) -> throttle.Taken | None:
        self.charged = True
        try:
            self.taken = throttle.get_buckets().take(key, cost, limit, drain=drain)
        except Exception:
            logger.exception("rate limiter unavailable; request not throttled")
            self.taken = None
        return self.taken

    # 3. before any resolver
    def on_execute(self) -> Iterator[None]:
        if self.refusal is not None:
            raise self.refusal
        yield

    # 4. the response's extensions (called once per result: once, or per subscription event)
    def get_results(self) -> dict[str, Any]:
        if self._results is None:
            if self._throttled and not self.charged:  # refused before it could be charged
                caller = caller_of(self.execution_context.context)
                self._take(caller.client_key, REFUSED_COST, throttle.limit_for(caller), drain=True)
            self._results = {
                "cost": {
                    "requestedQueryCost": self.requested,
                    "throttleStatus": self.taken.status() if self.taken is not None else None,
                }
            }
        return self._results
