"""The websocket endpoint: strawberry's consumer, with Coda's authentication.

A connection authenticates in `connection_init` with `{"authorization": "Bearer <token>"}`
(or `{"token": "<token>"}`), or by the session cookie. The cookie counts only when the
page's Origin is this host or a trusted origin, so another site cannot ride a
visitor's session (cross-site websocket hijacking).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from asgiref.sync import sync_to_async
from django.conf import settings
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError

from modules.accounts.caller import Caller
from modules.accounts.middleware import bearer, client_ip, session_caller, token_caller
from modules.accounts.tokens import TokenInvalid


def _origin_trusted(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if not origin:  # not a browser page: a cookie here was not sent on someone's behalf
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return urlparse(origin).netloc == headers.get("host", "")


def _scope_meta(scope: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"REMOTE_ADDR": (scope.get("client") or ["unknown"])[0]}
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            meta["HTTP_X_FORWARDED_FOR"] = value.decode("latin1")
    return meta


class CodaGraphQLWSConsumer(GraphQLWSConsumer):
    def _session_caller(self) -> Caller:
        ip = client_ip(_scope_meta(self.scope))
        if not _origin_trusted(self.get_websocket_headers(self)):
            return Caller(ip=ip)
        session = self.scope.get("session")
        return session_caller(self.scope.get("user"), getattr(session, "session_key", None), ip)

    async def get_context(self, request: GraphQLWSConsumer, response: GraphQLWSConsumer) -> Any:
        context = await super().get_context(request, response)
        context["caller"] = self._session_caller()
        return context

    async def on_ws_connect(self, context: Any) -> Any:
        params = context.get("connection_params") or {}
        raw = bearer(params.get("authorization") or params.get("Authorization")) or params.get("token")
        if raw:
            try:
                context["caller"] = await sync_to_async(token_caller)(str(raw), context["caller"].ip)
            except TokenInvalid as error:
                raise ConnectionRejectionError({"message": str(error)}) from None
        return await super().on_ws_connect(context)
