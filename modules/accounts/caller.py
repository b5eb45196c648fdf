"""Who is calling: the one identity every resolver, limit and log reads.

Built once per request (HTTP middleware) or per websocket connection, from a
bearer token, a session, or nothing but the client's address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

READ, COMPOSE = "read", "compose"
ALL_SCOPES = frozenset({READ, COMPOSE})


@dataclass(frozen=True)
class Caller:
    user: Any = None  # an authenticated django.contrib.auth user, or None
    token: Any = None  # the ApiToken used, or None
    scopes: frozenset[str] = field(default=ALL_SCOPES)
    session_key: str | None = None  # an anonymous caller's session: what it made belongs to it
    ip: str = "unknown"

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def client_key(self) -> str:
        """What rate limits count against: the token, else the user, else the address."""
        if self.token is not None:
            return f"token:{self.token.pk}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        return f"ip:{self.ip}"

    def can(self, scope: str) -> bool:
        return scope in self.scopes


ANONYMOUS = Caller()
