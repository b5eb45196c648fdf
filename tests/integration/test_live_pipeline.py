"""End to end on real services: Daphne serves /graphql (HTTP + websocket), a Celery
worker runs the stages on Redis, PostgreSQL stores everything."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import websockets

from tests.conftest import require_service
from tests.integration.live import LiveStack, scratch_database, subscribe
from tests.queries import COMPOSITION, CREATE

pytestmark = pytest.mark.timeout(600)

PROGRESS = """
subscription Progress($id: ID!, $afterSeq: Int!) {
  compositionProgress(id: $id, afterSeq: $afterSeq) {
    compositionId seq stage status progress message terminal
  }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    pg = require_service(os.environ.get("CODA_TEST_DATABASE_URL"), "PostgreSQL", 5432)
    redis_url = require_service(os.environ.get("CODA_TEST_REDIS_URL"), "Redis", 6379)
    redis_url = redis_url.rsplit("/", 1)[0] + "/7"  # a database of our own, flushed
    redis.Redis.from_url(redis_url).flushdb()
    with scratch_database(pg) as database_url:
        live = LiveStack(database_url, redis_url, tmp_path_factory.mktemp("media"))
        live.logs = tmp_path_factory.mktemp("logs")
        live.manage("migrate", "--noinput")
        live.sign_in()
        live.start_worker()
        live.start_daphne()
        try:
            yield live
        finally:
            live.stop()


def test_composition_is_made_by_the_worker_and_streamed_over_the_websocket(stack: LiveStack) -> None:
    created = stack.graphql(
        CREATE,
        {
            "input": {
                "prompt": "uplifting electronic music with dreamy vocals",
                "seed": 7,
                "durationSeconds": 20,
            }
        },
    )
    assert "errors" not in created, created
    composition = created["data"]["createComposition"]
    assert composition["status"] == "QUEUED"
    gid = composition["id"]

    events = [e["compositionProgress"] for e in stack.subscribe(PROGRESS, {"id": gid, "afterSeq": 0})]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), f"events out of order or missing: {seqs}"
    assert events[0]["status"] == "QUEUED"
    assert events[-1]["stage"] is None and events[-1]["status"] == "SUCCEEDED" and events[-1]["terminal"]
    assert all(e["compositionId"] == gid for e in events)
    finished = [e["stage"] for e in events if e["status"] == "SUCCEEDED" and e["stage"]]
    assert finished == ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"], stack.log("worker")

    # Reconnecting after seq k replays exactly what came after k, then completes.
    k = len(events) // 2
    replay = [e["compositionProgress"] for e in stack.subscribe(PROGRESS, {"id": gid, "afterSeq": k})]
    assert [e["seq"] for e in replay] == seqs[k:]
    assert replay == events[k:]

    data = stack.graphql(COMPOSITION, {"id": gid})
    assert "errors" not in data, data
    song = data["data"]["composition"]
    assert song["status"] == "SUCCEEDED"
    assert {s["status"] for s in song["stages"]} == {"SUCCEEDED"}
    master = song["master"]
    assert abs(master["integratedLufs"] - master["targetLufs"]) <= 0.5
    assert master["truePeakDbtp"] <= -1.0 + 1e-6
    assert len(song["voice"]["notes"]) == sum(len(line["syllables"]) for line in song["lyrics"]["lines"])
    status, body = stack.download(master["mp3"]["url"])
    assert status == 200 and len(body) == master["mp3"]["sizeBytes"] > 10_000
    status, body = stack.download(song["layers"][0]["midi"]["url"])
    assert status == 200 and body.startswith(b"MThd")
    assert Path(stack.media_root).exists()


def test_websocket_authentication(stack: LiveStack) -> None:
    """A bad token is refused at connection_init (4403); a caller sees only what it may read."""
    gid = stack.graphql(
        'mutation { createComposition(input: {prompt: "calm piano", durationSeconds: 15, seed: 3}) { id } }'
    )["data"]["createComposition"]["id"]

    async def init(payload: dict[str, Any]) -> tuple[Any, Any]:
        async with websockets.connect(stack.ws_url(), subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            try:
                return json.loads(await asyncio.wait_for(ws.recv(), 10)), None
            except websockets.ConnectionClosed as closed:
                return None, closed.rcvd

    answer, closed = asyncio.run(init({"authorization": "Bearer coda_00000000_wrong"}))
    assert answer is None and closed.code == 4403
    answer, _ = asyncio.run(init({"authorization": f"Bearer {stack.token}"}))
    assert answer == {"type": "connection_ack"}

    # Anonymous: someone else's composition does not exist.
    with pytest.raises(AssertionError, match="NOT_FOUND"):
        asyncio.run(subscribe(stack.ws_url(), PROGRESS, {"id": gid, "afterSeq": 0}, 30))
    # The owner's token streams it to the end.
    events = [e["compositionProgress"] for e in stack.subscribe(PROGRESS, {"id": gid, "afterSeq": 0})]
    assert events[-1]["status"] == "SUCCEEDED"
