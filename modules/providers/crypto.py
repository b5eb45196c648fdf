"""Provider credentials at rest: Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`.

The key is settings.CODA_PROVIDER_KEY: one Fernet key, or several separated by commas (the first
encrypts, every one decrypts, so keys can be rotated: put the new one first, then run
`manage.py provider_key --reencrypt`). Unset, the key is derived from SECRET_KEY with HKDF-SHA256;
then changing SECRET_KEY makes stored credentials unreadable, so production sets its own key.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HKDF_INFO = b"coda provider credentials v1"


class CredentialsUnreadable(ValueError):
    """A stored credential does not decrypt with the configured key(s)."""


def generate_key() -> str:
    """A fresh key for CODA_PROVIDER_KEY."""
    return Fernet.generate_key().decode()


def derived_key(secret_key: str) -> str:
    """The Fernet key derived from SECRET_KEY (used when CODA_PROVIDER_KEY is unset)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw).decode()


@functools.cache
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    # Cached by the settings' values, so a settings override (tests, rotation) takes effect at once.
    keys = [k.strip() for k in configured.split(",") if k.strip()] or [derived_key(secret_key)]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            f"CODA_PROVIDER_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated: {error}"
        ) from None


def fernet() -> MultiFernet:
    return _fernet(str(getattr(settings, "CODA_PROVIDER_KEY", "") or ""), str(settings.SECRET_KEY))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "the stored API key does not decrypt with the configured key (was CODA_PROVIDER_KEY or "
            "SECRET_KEY changed?); enter it again in the admin"
        ) from None


def reencrypt(token: str) -> str:
    """The same secret under the first (newest) key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable("the stored API key does not decrypt with any configured key") from None
