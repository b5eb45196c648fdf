"""Subscriptions from clients Coda did not write: the graphql-ws reference client (npm) and the
Python `gql` client with its websockets transport, each following a real composition to its end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.integration.live import LiveStack

from .conftest import PROGRESS, create, run_node

pytestmark = pytest.mark.timeout(600)


def assert_a_whole_run(events: list[dict[str, Any]], composition_id: str) -> None:
    """Every stage started and succeeded, in sequence, and the last event ends the composition."""
    assert [e["compositionId"] for e in events] == [composition_id] * len(events)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    succeeded = {e["stage"] for e in events if e["status"] == "SUCCEEDED" and e["stage"]}
    assert succeeded >= {"mood", "genre", "arrangement", "lyrics", "voice", "mastering"}
    assert events[-1]["terminal"] and events[-1]["status"] == "SUCCEEDED"


def test_the_graphql_ws_reference_client_follows_a_composition(node: Path, stack: LiveStack) -> None:
    composition_id = create(stack, "bright funky disco with a female singer", seed=21)
    out = run_node(
        "subscribe.mjs",
        stack.ws_url(),
        f"Bearer {stack.token}",
        PROGRESS,
        json.dumps({"id": composition_id}),
        timeout=300,
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1] == {"complete": True}
    assert all("errors" not in line for line in lines[:-1]), lines
    assert_a_whole_run([line["data"]["compositionProgress"] for line in lines[:-1]], composition_id)


def test_the_graphql_ws_client_gets_a_typed_error_for_a_bad_id(node: Path, stack: LiveStack) -> None:
    out = run_node(
        "subscribe.mjs", stack.ws_url(), f"Bearer {stack.token}", PROGRESS, json.dumps({"id": "nope"})
    )
    first = json.loads(out.splitlines()[0])
    assert first["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "subprotocol",
    # graphql-transport-ws (graphql-ws's protocol) and the legacy Apollo subscriptions-transport-ws
    [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL],
)
def test_gql_with_its_websockets_transport_follows_a_composition(stack: LiveStack, subprotocol: str) -> None:
    composition_id = create(stack, "calm ambient pads for a rainy night", seed=22)

    async def follow() -> list[dict[str, Any]]:
        transport = WebsocketsTransport(
            url=stack.ws_url(),
            init_payload={"authorization": f"Bearer {stack.token}"},
            subprotocols=[subprotocol],
        )
        async with Client(transport=transport) as session:
            request = GraphQLRequest(PROGRESS, variable_values={"id": composition_id})
            subscription = session.subscribe(request)
            return [result["compositionProgress"] async for result in subscription]

    assert_a_whole_run(asyncio.run(asyncio.wait_for(follow(), 300)), composition_id)


def test_gql_follows_a_composition_on_the_core_subgraph(stack: LiveStack) -> None:
    """A core split out as its own service still serves `compositionProgress` on its own path."""
    composition_id = create(stack, "a slow lo-fi beat for studying", seed=23)

    async def follow() -> list[dict[str, Any]]:
        transport = WebsocketsTransport(
            url=f"{stack.ws_url()}/composition",
            init_payload={"authorization": f"Bearer {stack.token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            request = GraphQLRequest(PROGRESS, variable_values={"id": composition_id})
            return [result["compositionProgress"] async for result in session.subscribe(request)]

    assert_a_whole_run(asyncio.run(asyncio.wait_for(follow(), 300)), composition_id)
