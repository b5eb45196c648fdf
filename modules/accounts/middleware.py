"""Sets `request.caller` for every request: bearer token, session, or the bare address."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .caller import ALL_SCOPES, Caller
from .tokens import TokenInvalid, token_authenticate


def client_ip(meta: dict[str, Any]) -> str:
    """The client's address; the first X-Forwarded-For hop only behind a proxy we trust."""
    if settings.CODA_TRUST_X_FORWARDED_FOR and meta.get("HTTP_X_FORWARDED_FOR"):
        return str(meta["HTTP_X_FORWARDED_FOR"]).split(",")[0].strip()
    return str(meta.get("REMOTE_ADDR") or "unknown")


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def token_caller(raw: str, ip: str) -> Caller:
    token = token_authenticate(raw)
    return Caller(user=token.user, token=token, scopes=frozenset(token.scopes), ip=ip)


def session_caller(user: Any, session_key: str | None, ip: str) -> Caller:
    if user is not None and user.is_authenticated:
        return Caller(user=user, scopes=ALL_SCOPES, ip=ip)
    return Caller(session_key=session_key, ip=ip)


def unauthorized(message: str) -> JsonResponse:
    response = JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="coda", error="invalid_token"'
    return response


class CallerMiddleware:
    """After Django's session and auth middleware.

    A bearer token needs no CSRF protection (a browser never sends it by itself), and
    neither does a request without a session cookie (nothing ambient to forge); a
    session-authenticated request keeps Django's CSRF check.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        raw = bearer(request.headers.get("Authorization"))
        ip = client_ip(request.META)
        if raw is not None:
            try:
                request.caller = token_caller(raw, ip)  # type: ignore[attr-defined]
            except TokenInvalid as error:
                return unauthorized(str(error))
        else:
            request.caller = session_caller(request.user, request.session.session_key, ip)  # type: ignore[attr-defined]
        self._csrf_policy(request, raw)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Awaitable[HttpResponse] | HttpResponse:
        raw = bearer(request.headers.get("Authorization"))
        ip = client_ip(request.META)
        if raw is not None:
            try:
                request.caller = await sync_to_async(token_caller)(raw, ip)  # type: ignore[attr-defined]
            except TokenInvalid as error:
                return unauthorized(str(error))
        elif settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = await request.auser()  # type: ignore[attr-defined]
            request.caller = session_caller(user, request.session.session_key, ip)  # type: ignore[attr-defined]
        else:
            request.caller = Caller(ip=ip)  # type: ignore[attr-defined]
        self._csrf_policy(request, raw)
        return await self.get_response(request)

    @staticmethod
    def _csrf_policy(request: HttpRequest, raw_token: str | None) -> None:
        if raw_token is not None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
