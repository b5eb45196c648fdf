"""Shared fixtures. The suite runs against real PostgreSQL and Redis (see scripts/test.sh).

With CI=true a service that does not answer fails the run; it is never skipped.
"""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def service_answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ).close()
        return True
    except OSError:
        return False


def require(available: bool, reason: str) -> None:
    """What a test needs from the machine: with CI=true its absence fails the test; elsewhere it
    skips it with the reason."""
    if available:
        return
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason=reason)


def require_service(url: str | None, name: str, default_port: int) -> str:
    """The service's URL, or a failure in CI / a skip with the reason elsewhere."""
    available = bool(url) and service_answers(url or "", default_port)
    require(available, f"{name} is not reachable at {url or '(no URL set; run the suite with `make test`)'}")
    return url or ""


@pytest.fixture
def sync_pipeline(settings: Any) -> None:
    """Run the pipeline inline in the test's thread (the embedded code path, without a thread)."""
    settings.CODA_PIPELINE = "sync"


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI:
        for var, name, port in (
            ("CODA_TEST_DATABASE_URL", "PostgreSQL", 5432),
            ("CODA_TEST_REDIS_URL", "Redis", 6379),
        ):
            url = os.environ.get(var)
            if not url or not service_answers(url, port):
                raise pytest.UsageError(f"CI=true but {name} is not reachable ({var}={url!r})")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Django's test-speed hasher: PBKDF2's deliberate slowness (~0.3 s a user) buys tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
