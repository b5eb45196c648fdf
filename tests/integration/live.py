"""A live Coda stack for integration tests: a fresh PostgreSQL database, a Redis
database, a Celery worker process and a Daphne process, all real."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import websockets

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class LiveStack:
    """Production mode with a database and Redis URL; embedded mode (SQLite, in-memory
    layer, pipeline in the server process) with neither."""

    database_url: str | None
    redis_url: str | None
    media_root: Path
    port: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Path | None = None
    # Extra environment for every process of the stack (e.g. CODA_VISIBILITY_TIMEOUT).
    extra_env: dict[str, str] = field(default_factory=dict)
    # The port of each Daphne process by name; `port` is the first one's.
    ports: dict[str, int] = field(default_factory=dict)
    # An API token (see sign_in) that graphql() and subscribe() send unless given other credentials.
    token: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CODA_PIPELINE")}
        env.update(
            # The stacks make many songs quickly from one user and one address.
            CODA_MAX_CONCURRENT_COMPOSITIONS="1000",
            CODA_COMPOSITIONS_PER_HOUR="100000",
            CODA_WEBHOOK_ALLOW_LOOPBACK="true",
            CODA_RATE_LIMIT="false",  # the tests poll state faster than a client's budget allows
            CODA_MEDIA_ROOT=str(self.media_root),
            CODA_DATA_DIR=str(self.media_root.parent / "data"),
            DJANGO_SETTINGS_MODULE="backend.settings",
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0) -> str:
        """Run a management command in the stack's environment (plus `env`); returns its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done.stdout

    def sign_in(self, name: str = "live") -> str:
        """A user with an API token (read and compose), used by graphql() and subscribe() from now on."""
        out = self.manage("shell", "-c", TOKEN_FOR_NEW_USER.format(name=name))
        self.token = next(line for line in out.splitlines() if line.startswith("TOKEN ")).split()[1]
        return self.token

    def credentials(self, headers: dict[str, str] | None) -> dict[str, str]:
        given = {k.lower() for k in headers or {}}
        if self.token and not given & {"authorization", "cookie"}:
            return {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return dict(headers or {})

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        assert self.logs is not None
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed once the child holds it
        process = subprocess.Popen(
            argv, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()  # the child has its own copy
        self.processes[name] = process
        return process

    def start_worker(self, name: str = "worker", env: dict[str, str] | None = None) -> None:
        self.start(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "backend",
                "worker",
                "-Q",
                "coda",
                "--concurrency=1",
                "--loglevel=INFO",
                f"--hostname={name}-{uuid.uuid4().hex[:6]}@%h",
            ],
            env,
        )

    def start_daphne(self, name: str = "daphne") -> int:
        """Start a Daphne process (any number, each by its name); returns its port."""
        port = free_port()
        self.start(
            name,
            [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "backend.asgi:application"],
        )
        wait_for_port(port)
        self.ports[name] = port
        if name == "daphne" or not self.port:
            self.port = port
        return port

    def stop_process(self, name: str, timeout: float = 10.0) -> None:
        """Stop one process of the stack (SIGTERM, then SIGKILL) and forget it."""
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def children(self, name: str = "worker") -> list[int]:
        """Pids of the direct children of a stack process (a Celery worker's pool processes)."""
        return child_pids(self.processes[name].pid)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def log(self, name: str) -> str:
        assert self.logs is not None
        return (self.logs / f"{name}.log").read_text(errors="replace")

    # --- clients -----------------------------------------------------------------
    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def ws_url(self, daphne: str | None = None) -> str:
        """The websocket URL of a Daphne process (the first one by default)."""
        return f"ws://127.0.0.1:{self.ports[daphne] if daphne else self.port}/graphql"

    def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        daphne: str | None = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """POST a query to /graphql of a Daphne process (the first by default), or to `url`."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        url = url or (f"http://127.0.0.1:{self.ports[daphne]}/graphql" if daphne else self.http_url)
        request = urllib.request.Request(
            url, body, {"Content-Type": "application/json", **self.credentials(headers)}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def download(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return response.status, response.read()

    def subscribe(
        self,
        query: str,
        variables: dict[str, Any],
        timeout: float = 240.0,
        *,
        daphne: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        token = "" if headers and {k.lower() for k in headers} & {"cookie"} else self.token
        return asyncio.run(
            subscribe(self.ws_url(daphne), query, variables, timeout, headers=headers, token=token)
        )


TOKEN_FOR_NEW_USER = """
from django.contrib.auth import get_user_model
from modules.accounts.tokens import token_create
user, _ = get_user_model().objects.get_or_create(username="{name}")
_, raw = token_create(user, name="live tests", scopes=["read", "compose"])
print("TOKEN", raw)
"""


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class RedisServer:
    """A private redis-server (no persistence) on its own port, which a test may stop and restart."""

    directory: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not self.port:
            self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port: everything it held in memory is gone."""
        self.stop()
        self.start()


async def subscribe(
    url: str,
    query: str,
    variables: dict[str, Any],
    timeout: float,
    headers: dict[str, str] | None = None,
    token: str = "",
) -> list[dict[str, Any]]:
    """A graphql-transport-ws client: every `next` payload until `complete`.

    `token` (an API token) goes in connection_init."""
    received: list[dict[str, Any]] = []
    async with websockets.connect(
        url, subprotocols=["graphql-transport-ws"], additional_headers=headers
    ) as ws:
        init = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "next":
                    assert "errors" not in message["payload"], message["payload"]
                    received.append(message["payload"]["data"])
                elif message["type"] == "complete":
                    return received
                elif message["type"] == "error":
                    raise AssertionError(f"subscription error: {message['payload']}")


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    name = f"coda_live_{uuid.uuid4().hex[:10]}"
    parsed = urlparse(server_url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
