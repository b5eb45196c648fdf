"""A real HTTP receiver for webhook tests, and the settings they run under."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from modules.composition.models import Composition
from tests.conftest import require
from tests.local_http import LocalServer

REAL_GETADDRINFO = socket.getaddrinfo


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver(LocalServer):
    """Records every POST; answers `fail_times` times with 500 first, each after `delay` seconds."""

    fail_times: int = 0
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/coda"

    def answer(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            if self.fail_times > 0:
                self.fail_times -= 1
                return 500
            return 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.answer(Received(self.path, dict(self.headers.items()), body))
            time.sleep(receiver.delay)
            reply = b"ok" if status < 300 else b"receiver is having a bad day"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:  # the sender timed out and hung up: expected in the slow tests
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start(_handler(found))
    yield found
    found.stop()


TLS_NAME = "hooks.example.test"


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    """An HTTPS receiver with a self-signed certificate for TLS_NAME, and that certificate's path."""
    require(shutil.which("openssl") is not None, "openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert)),
            *("-subj", f"/CN={TLS_NAME}", "-addext", f"subjectAltName=DNS:{TLS_NAME}"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    found = Receiver()
    found.start(_handler(found), tls=context)
    yield found, cert
    found.stop()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: a receiver that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def webhook_settings(settings: Any) -> Any:
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = True
    settings.CODA_PIPELINE = "sync"
    settings.CODA_WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.CODA_WEBHOOK_MAX_ATTEMPTS = 4
    settings.CODA_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.CODA_WEBHOOK_MAX_ENDPOINTS = 10
    return settings


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names to addresses for this test (edit the dict to change DNS); other names resolve for real."""
    names: dict[str, str] = {}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        key = host.decode() if isinstance(host, bytes) else host
        if key in names:
            return REAL_GETADDRINFO(names[key], port, *args, **kwargs)
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def make_user() -> Callable[[str], Any]:
    def make(username: str) -> Any:
        return get_user_model().objects.create_user(username=username, password=f"pw-{username}")

    return make


@pytest.fixture
def make_composition() -> Callable[[Any], Composition]:
    def make(owner: Any) -> Composition:
        return Composition.objects.create(prompt="calm piano at night", seed=7, owner=owner)

    return make
