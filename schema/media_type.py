"""`application/graphql-response+json`, the GraphQL-over-HTTP spec's own media type, as a mixin for
strawberry's Django view (strawberry answers application/json only).

A client that accepts it gets it, and with it the status codes the spec asks for: a request error
(the document does not parse or validate, the variables do not coerce, a limit refused it: no
field ran, so there is no `data` entry) is a 4xx, while a response with `data`, even null, is a
200. Clients that ask for application/json keep the legacy behaviour the spec requires for them
(200 with the errors).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from graphql import ExecutionResult

GRAPHQL_RESPONSE = "application/graphql-response+json"
SUB_RESPONSE = "_coda_sub_response"


def accepts_graphql_response(request: HttpRequest) -> bool:
    """True when the client lists the media type and prefers it at least as much as JSON."""
    ranked: dict[str, float] = {}
    for item in request.headers.get("Accept", "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = next((p.split("=", 1)[1] for p in params if p.startswith("q=")), "1")
        try:
            ranked[media.lower()] = float(quality)
        except ValueError:
            continue
    ours = ranked.get(GRAPHQL_RESPONSE, 0.0)
    return ours > 0 and ours >= ranked.get("application/json", 0.0)


def is_request_error(result: ExecutionResult) -> bool:
    """No field was executed: GraphQL errors without a path and no data."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


class GraphQLResponseMediaType:
    def remember_sub_response(self, request: HttpRequest, response: HttpResponse) -> None:
        setattr(request, SUB_RESPONSE, response)

    async def process_result(self, request: HttpRequest, result: ExecutionResult) -> Any:
        processed = await super().process_result(request, result)  # type: ignore[misc]
        response: HttpResponse | None = getattr(request, SUB_RESPONSE, None)
        if response is None or not accepts_graphql_response(request):
            return processed
        response["Content-Type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        if is_request_error(result) and not request.body.lstrip().startswith(b"["):
            processed.pop("data", None)
            if response.status_code in (None, 200):  # keep a status a limit set (429, 401...)
                response.status_code = 400
        return processed
