"""The embedded default: no services, SQLite, the in-memory channel layer and the
pipeline in the Daphne process; subscriptions still receive live events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.live import LiveStack
from tests.integration.test_live_pipeline import PROGRESS
from tests.queries import COMPOSITION, CREATE

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("embedded")
    live = LiveStack(None, None, root / "media")
    live.logs = tmp_path_factory.mktemp("embedded-logs")
    live.manage("migrate", "--noinput")
    live.sign_in()
    live.start_daphne()
    try:
        yield live
    finally:
        live.stop()


def test_embedded_server_composes_in_process_and_streams_live(embedded: LiveStack) -> None:
    created = embedded.graphql(
        CREATE, {"input": {"prompt": "calm ambient piano for sleep", "seed": 3, "durationSeconds": 15}}
    )
    assert "errors" not in created, created
    gid = created["data"]["createComposition"]["id"]
    events = [e["compositionProgress"] for e in embedded.subscribe(PROGRESS, {"id": gid, "afterSeq": 0})]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["status"] == "SUCCEEDED" and events[-1]["terminal"], embedded.log("daphne")
    song = embedded.graphql(COMPOSITION, {"id": gid})["data"]["composition"]
    assert song["status"] == "SUCCEEDED"
    assert song["mood"]["energy"] < 0.35
    assert song["genre"]["primary"] == "ambient"
    assert song["master"]["wav"]["sizeBytes"] > 100_000
    assert embedded.processes["daphne"].poll() is None
