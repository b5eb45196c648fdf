"""Fixtures of the provider tests: chat servers (see chat.py), a closed port, quick settings."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.modules.providers.chat import ChatServer, handler


@pytest.fixture
def chat_server() -> Iterator[Callable[..., ChatServer]]:
    """Start chat servers: chat_server(mode="slow", delay=2.0); each is shut down after the test."""
    started: list[ChatServer] = []

    def start(**options: Any) -> ChatServer:
        chat = ChatServer(**options)
        chat.start(handler(chat))
        started.append(chat)
        return chat

    yield start
    for chat in started:
        chat.stop()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: a provider that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def provider_settings(settings: Any) -> Any:
    """Short timeouts and no backoff, so the failure tests take well under a second each."""
    settings.CODA_PROVIDER_TIMEOUT_SECONDS = 0.3
    settings.CODA_PROVIDER_RETRIES = 2
    settings.CODA_PROVIDER_BACKOFF_SECONDS = 0
    settings.CODA_PROVIDER_HEALTH_WINDOW = 20
    settings.CODA_PROVIDER_FAILURE_STREAK = 3
    settings.CODA_PROVIDER_MIN_SUCCESS_RATE = 0.5
    settings.CODA_PROVIDER_COOLDOWN_SECONDS = 300
    settings.CODA_PROVIDER_CALL_LOG = 200
    settings.CODA_PROVIDER_KEY = ""
    return settings
