"""Clients and tools Coda did not write, against a live Coda: Apollo's composition and gateway,
the graphql-http audits, the graphql-ws reference client (all from npm, pinned by
node/package-lock.json) and the Python `gql` client.

One stack serves every test here: a scratch PostgreSQL database, a Redis database, a Celery
worker and a Daphne process, as in production.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import require, require_service
from tests.integration.live import LiveStack, scratch_database
from tests.queries import CREATE

NODE_DIR = Path(__file__).parent / "node"
PROGRESS = """
subscription Progress($id: ID!) {
  compositionProgress(id: $id) { compositionId seq stage status progress message terminal }
}
"""


def npm_ci() -> None:
    """node_modules exactly as package-lock.json says, installed again only when the lock changes."""
    lock = NODE_DIR / "package-lock.json"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def node() -> Path:
    """Where the node tools are installed; `npm ci` first if needed."""
    require(shutil.which("node") is not None and shutil.which("npm") is not None, "node and npm are needed")
    npm_ci()
    return NODE_DIR


def run_node(script: str, *args: str, timeout: float = 120.0) -> str:
    done = subprocess.run(
        ["node", script, *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"node {script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    pg = require_service(os.environ.get("CODA_TEST_DATABASE_URL"), "PostgreSQL", 5432)
    redis_url = require_service(os.environ.get("CODA_TEST_REDIS_URL"), "Redis", 6379)
    redis_url = redis_url.rsplit("/", 1)[0] + "/15"  # a database of our own, flushed
    redis.Redis.from_url(redis_url).flushdb()
    with scratch_database(pg) as database_url:
        # The gateway test asks for every field of a composition at once, well over a client's
        # default query budget (the limits themselves are tested in tests/schema).
        live = LiveStack(
            database_url,
            redis_url,
            tmp_path_factory.mktemp("media"),
            extra_env={"CODA_MAX_QUERY_COST": "20000"},
        )
        live.logs = tmp_path_factory.mktemp("logs")
        live.manage("migrate", "--noinput")
        live.sign_in("conformance")
        live.start_worker()
        live.start_daphne()
        try:
            yield live
        finally:
            live.stop()


def create(stack: LiveStack, prompt: str, seed: int = 11) -> str:
    created = stack.graphql(CREATE, {"input": {"prompt": prompt, "seed": seed, "durationSeconds": 15}})
    assert "errors" not in created, created
    return created["data"]["createComposition"]["id"]


@pytest.fixture(scope="session")
def finished(stack: LiveStack) -> str:
    """The id of a composition the worker has finished."""
    composition_id = create(stack, "a slow sad piano ballad about the rain", seed=5)
    events = stack.subscribe(PROGRESS, {"id": composition_id})
    assert events[-1]["compositionProgress"]["status"] == "SUCCEEDED", events[-1]
    return composition_id


def as_json(text: str) -> Any:
    return json.loads(text)
