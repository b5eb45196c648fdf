"""Field permissions as strawberry permission classes, with explicit typed errors (never silent nulls)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from modules.accounts.caller import Caller

from .context import caller
from .errors import Forbidden, Unauthenticated


class _Scope(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.message = f"this API token lacks the {scope!r} scope"
        super().__init__()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return caller(info).can(self.scope)


class _SignedIn(BasePermission):
    message = "sign in (session or API token) to do this"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return caller(info).is_authenticated


def HasScope(scope: str) -> PermissionExtension:
    """The caller's credential carries `scope` (sessions carry every scope; tokens what they were given)."""
    return PermissionExtension(permissions=[_Scope(scope)], use_directives=False)


def IsSignedIn() -> PermissionExtension:
    return PermissionExtension(permissions=[_SignedIn()], use_directives=False)


def signed_in(info: Info, scope: str, doing: str) -> Caller:
    """The caller, when signed in with `scope`, for resolvers whose message names what needs it
    (the extensions above say "to do this"): UNAUTHENTICATED, then FORBIDDEN otherwise."""
    who = caller(info)
    if not who.is_authenticated:
        raise Unauthenticated(f"sign in (session or API token) to {doing}")
    if not who.can(scope):
        raise Forbidden(f"this API token lacks the {scope!r} scope")
    return who
