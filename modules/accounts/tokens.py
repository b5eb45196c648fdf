"""Personal API tokens: made, checked and revoked here; stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from modules.composition.stages import InputError

from .caller import ALL_SCOPES
from .models import ApiToken

TOKEN_PREFIX = "coda_"


class TokenInvalid(Exception):
    """A bearer token that is unknown, malformed, expired or revoked; the message says which."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    user: Any, *, name: str, scopes: list[str], expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token and its plain text, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InputError("name", "name must be 1 to 100 characters")
    unknown = set(scopes) - ALL_SCOPES
    if not scopes or unknown:
        raise InputError("scopes", f"scopes must be a non-empty subset of {sorted(ALL_SCOPES)}")
    days = settings.CODA_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.CODA_TOKEN_MAX_DAYS:
        raise InputError(
            "expiresInDays", f"expiresInDays must be between 1 and {settings.CODA_TOKEN_MAX_DAYS}"
        )
    if user.api_tokens.filter(revoked_at__isnull=True).count() >= settings.CODA_MAX_TOKENS_PER_USER:
        raise InputError(
            "name", f"at most {settings.CODA_MAX_TOKENS_PER_USER} active tokens; revoke one first"
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=_digest(raw),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, raw


def token_revoke(user: Any, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise InputError("id", f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str) -> ApiToken:
    """The active token for `raw`, with its user; TokenInvalid otherwise."""
    parts = raw.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or f"{parts[0]}_" != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise TokenInvalid("malformed API token: expected coda_<prefix>_<secret>")
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    # Compared in constant time, so the hash leaks nothing through timing.
    if token is None or not hmac.compare_digest(token.key_hash, _digest(raw)):
        raise TokenInvalid("unknown API token")
    if token.revoked_at is not None:
        raise TokenInvalid("this API token was revoked")
    if token.expires_at <= timezone.now():
        raise TokenInvalid("this API token has expired; create a new one")
    if not token.user.is_active:
        raise TokenInvalid("this API token's user is disabled")
    now = timezone.now()
    # Written at most once a minute: a busy integrator should not cost a write per request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
