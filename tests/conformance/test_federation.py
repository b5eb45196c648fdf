"""Apollo Federation with Apollo's own tools: the module subgraphs compose into a supergraph whose
API is the combined schema's, and Apollo Gateway answers a whole composition through it exactly
as /graphql does."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
    print_type,
)

from schema.subgraphs import subgraph_modules
from tests.integration.live import LiveStack, free_port, wait_for_port
from tests.queries import COMPOSITION

from .conftest import NODE_DIR, run_node

pytestmark = pytest.mark.timeout(600)

SUBSCRIPTION_ONLY = {"Subscription", "ProgressEvent"}  # a gateway serves no subscriptions
# What a subgraph shows gateways and a gateway hides from clients: _service, _entities, _Any,
# link__Import...
FEDERATION_PREFIXES = ("_", "link__")


@pytest.fixture(scope="module")
def composed(node: Path, stack: LiveStack) -> dict[str, Any]:
    subgraphs = [
        {"name": name, "url": f"http://127.0.0.1:{stack.port}/graphql/{name}"} for name in subgraph_modules()
    ]
    return json.loads(run_node("compose.mjs", json.dumps(subgraphs)))


@pytest.fixture(scope="module")
def gateway(composed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    supergraph = tmp_path_factory.mktemp("gateway") / "supergraph.graphql"
    supergraph.write_text(composed["supergraphSdl"])
    port = free_port()
    process = subprocess.Popen(
        ["node", "gateway.mjs", str(supergraph), str(port)],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(10)


def test_module_subgraphs_compose_without_errors_or_hints(composed: dict[str, Any]) -> None:
    assert composed["errors"] == []
    assert composed["hints"] == []
    assert composed["supergraphSdl"]
    # Every module's subgraph took part, and Composition is an entity in each of them.
    for name in subgraph_modules():
        assert f'@join__type(graph: {name.upper()}, key: "id"' in composed["supergraphSdl"]


def introspected(stack: LiveStack, url: str) -> Any:
    answer = stack.graphql(get_introspection_query(descriptions=True), url=url)
    assert "errors" not in answer, answer
    return build_client_schema(answer["data"])


def client_types(schema: GraphQLSchema) -> set[str]:
    return {n for n in schema.type_map if not n.startswith(FEDERATION_PREFIXES)} - SUBSCRIPTION_ONLY


def test_the_supergraph_api_is_the_combined_schema(stack: LiveStack, gateway: str) -> None:
    combined = introspected(stack, stack.http_url)
    supergraph = introspected(stack, gateway)
    names = client_types(combined)
    # The same types both ways: none missing, none the supergraph adds.
    assert names == client_types(supergraph)
    for name in sorted(names):
        assert api_shape(supergraph.type_map[name]) == api_shape(combined.type_map[name]), name


def api_shape(named: Any) -> Any:
    """The type as a client sees it, without what federation adds for gateways (`_service`...).
    Fields compare as a set: the supergraph orders a type's fields by subgraph."""
    if not hasattr(named, "fields"):
        return print_type(named)
    fields = {
        name: (
            str(field.type),
            field.description,
            getattr(field, "deprecation_reason", None),
            repr(getattr(field, "default_value", None)),  # an input field's default
            {
                arg: (str(a.type), a.description, a.default_value)
                for arg, a in getattr(field, "args", {}).items()
            },
        )
        for name, field in named.fields.items()
        if not name.startswith(FEDERATION_PREFIXES)
    }
    interfaces = sorted(i.name for i in getattr(named, "interfaces", ()))
    return named.description, interfaces, fields


SIGNATURE = re.compile(r"/files/[^/]+/")


def without_signatures(answer: dict[str, Any]) -> Any:
    """Signed file URLs carry the second they were signed at; the file they name is what counts."""
    return json.loads(SIGNATURE.sub("/files/<signed>/", json.dumps(answer)))


def every_field(of: GraphQLObjectType, depth: int, seen: frozenset[str]) -> str:
    """A selection of every field of a type (and of the objects below it, `depth` levels deep) that
    needs no argument, each object type once on a path."""
    parts = []
    for name, field in of.fields.items():
        if name.startswith("_") or any(
            is_non_null_type(arg.type) and arg.default_value is None for arg in field.args.values()
        ):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif depth > 0 and named.name not in seen:
            inner = every_field(named, depth - 1, seen | {named.name})  # type: ignore[arg-type]
            parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


def test_the_gateway_answers_a_whole_composition_like_the_combined_endpoint(
    stack: LiveStack, gateway: str, finished: str
) -> None:
    combined = introspected(stack, stack.http_url)
    fields = every_field(combined.type_map["Composition"], 4, frozenset({"Composition"}))  # type: ignore[arg-type]
    # Every field a client can ask of a composition, from whichever subgraph owns it.
    for owned_elsewhere in ("mood {", "layers {", "lyrics {", "lyricsEdits {", "voice {", "master {"):
        assert owned_elsewhere in fields
    whole = f"query One($id: ID!) {{ composition(id: $id) {{ {fields} }} }}"
    direct = stack.graphql(whole, {"id": finished})
    through_gateway = stack.graphql(whole, {"id": finished}, url=gateway)
    assert "errors" not in direct and "errors" not in through_gateway, through_gateway
    composition = through_gateway["data"]["composition"]
    # Fields of every subgraph arrived, with real content.
    assert composition["mood"]["name"] and composition["genre"]["weights"]
    assert composition["layers"] and composition["lyrics"]["lines"] and composition["master"]
    assert composition["lyricsDrafts"] and composition["ownedByMe"] is True
    # JSON numbers compare by value (the gateway writes 2.0 as 2).
    assert without_signatures(through_gateway["data"]) == without_signatures(direct["data"])


def test_the_gateway_keeps_each_callers_compositions_their_own(
    stack: LiveStack, gateway: str, finished: str
) -> None:
    stranger = stack.graphql(COMPOSITION, {"id": finished}, url=gateway, headers={"Authorization": ""})
    assert stranger["data"] is None
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_node_resolves_another_modules_object_through_the_gateway(stack: LiveStack, gateway: str) -> None:
    """`node` lives in the core's subgraph, which knows the other modules' Node types by their key;
    the gateway asks the mood subgraph for the rest."""
    made = stack.graphql(
        'mutation { createCustomMood(input: {name: "Gateway Blue", valence: -0.4, energy: 0.3}) { id } }',
        url=gateway,
    )
    assert "errors" not in made, made
    mood_id = made["data"]["createCustomMood"]["id"]
    query = "query($id: ID!) { node(id: $id) { __typename id ... on CustomMood { name valence energy } } }"
    through_gateway = stack.graphql(query, {"id": mood_id}, url=gateway)
    direct = stack.graphql(query, {"id": mood_id})
    assert through_gateway["data"] == direct["data"], through_gateway
    assert direct["data"]["node"] == {
        "__typename": "CustomMood",
        "id": mood_id,
        "name": "Gateway Blue",
        "valence": -0.4,
        "energy": 0.3,
    }
