"""Request hardening for strawberry's HTTP views, as a mixin:
`class CodaGraphQLView(RequestGuard, AsyncGraphQLView)`.

- strawberry turns only `json.JSONDecodeError` into a 400. Three other bodies reach the server as
  exceptions (HTTP 500): bytes that are not UTF-8 (UnicodeDecodeError), JSON nested deeper than
  Python's recursion limit (RecursionError) and JSON that is not an object or a list (`42`: an
  AttributeError when strawberry reads `.get("query")`). Each is a client's mistake: answer 400.
- A GET without `query` renders GraphiQL for an `Accept: */*` client (curl, many HTTP libraries);
  an APQ GET (`?extensions={"persistedQuery": ...}`, no query) must get the GraphQL answer instead.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException

NOT_A_REQUEST = "The request body must be a JSON object (or a list of them for a batch)"


class RequestGuard:
    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = json.loads(data)
        except (UnicodeDecodeError, RecursionError) as error:
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        # Bytes are a POST body (query-string parameters arrive as str, and strawberry checks
        # those itself): it must be a request object, or a list for a batch.
        if isinstance(data, bytes) and not isinstance(decoded, (dict, list)):
            raise HTTPException(400, NOT_A_REQUEST)
        return decoded

    def should_render_graphql_ide(self, request: Any) -> bool:
        return super().should_render_graphql_ide(request) and not request.query_params.get("extensions")  # type: ignore[misc]
