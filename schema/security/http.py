"""Request hardening for strawberry's HTTP views, as a mixin:
`class CodaGraphQLView(RequestGuard, AsyncGraphQLView)`; and the bound on request bodies, also as
ASGI middleware (`RequestBodyLimit`).

- strawberry turns only `json.JSONDecodeError` into a 400. Three other bodies reach the server as
  exceptions (HTTP 500): bytes that are not UTF-8 (UnicodeDecodeError), JSON nested deeper than
  Python's recursion limit (RecursionError) and JSON that is not an object or a list (`42`: an
  AttributeError when strawberry reads `.get("query")`). Each is a client's mistake: answer 400.
- A GET without `query` renders GraphiQL for an `Accept: */*` client (curl, many HTTP libraries);
  an APQ GET (`?extensions={"persistedQuery": ...}`, no query) must get the GraphQL answer instead.
- Each uploaded file is bounded (CODA_MAX_UPLOAD_BYTES) when it is read, but Django bounds neither
  the file parts of a multipart body (DATA_UPLOAD_MAX_MEMORY_SIZE counts the other fields only)
  nor, under ASGI, the body it spools to disk before any middleware or view runs. A body longer
  than the files a request may carry (CODA_MAX_UPLOAD_FILES at CODA_MAX_UPLOAD_BYTES) and
  BODY_MARGIN_BYTES more is answered 413: by `RequestBodyLimit` around the ASGI application
  (backend/asgi.py) before Django reads a byte of it, and by the view's guard for a request that
  reaches it another way.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from cross_web import HTTPException
from django.conf import settings

NOT_A_REQUEST = "The request body must be a JSON object (or a list of them for a batch)"
BODY_MARGIN_BYTES = 1024 * 1024  # the operations, the map and the parts' headers of a multipart body

ASGIApp = Callable[..., Awaitable[None]]  # (scope, receive, send)


def max_body_bytes() -> int:
    """The longest request body accepted."""
    return settings.CODA_MAX_UPLOAD_FILES * settings.CODA_MAX_UPLOAD_BYTES + BODY_MARGIN_BYTES


def body_too_large(length: int | None = None) -> str:
    """Why a body of `length` bytes (None: more than the limit, length unknown) is refused."""
    limit = max_body_bytes()
    size = f"is {length} bytes" if length is not None else f"is longer than {limit} bytes"
    return (
        f"The request body {size}; at most {limit} are accepted ({settings.CODA_MAX_UPLOAD_FILES} files "
        f"of at most {settings.CODA_MAX_UPLOAD_BYTES} bytes, and {BODY_MARGIN_BYTES} bytes more)"
    )


def _content_length(value: str | bytes | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # not a number: Django's own parsing refuses it


class RequestGuard:
    async def parse_http_body(self, request: Any) -> Any:
        length = _content_length(request.headers.get("content-length"))
        if length is not None and length > max_body_bytes():
            raise HTTPException(413, body_too_large(length))
        return await super().parse_http_body(request)  # type: ignore[misc]

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


class RequestBodyLimit:
    """ASGI middleware around the whole application: a request whose Content-Length is over
    `max_body_bytes()` is answered 413 unread; one that does not say its length is cut off once it
    has sent more (Django then sees a client that went away) and answered 413 too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_body_bytes()
        declared = _content_length(dict(scope.get("headers") or []).get(b"content-length"))
        if declared is not None and declared > limit:
            await self._refuse(send, body_too_large(declared))
            return
        received = 0
        cut_off = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, bounded_receive, send)
        if cut_off:
            await self._refuse(send, body_too_large())

    @staticmethod
    async def _refuse(send: Any, reason: str) -> None:
        body = reason.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
