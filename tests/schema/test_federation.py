"""Federation in-process: the combined schema and each module's subgraph are Federation 2
subgraphs; `_entities` resolves Composition references for the caller only, batched per request.
(tests/conformance composes them with Apollo's own tools.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from schema import schema
from schema.subgraphs import subgraph_modules, subgraph_schema
from tests.factories import full_composition
from tests.graphql import caller_for, execute, user

pytestmark = pytest.mark.django_db

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Composition { id prompt mood { name } genre { primary } layers { name noteCount } }
  }
}
"""


def reference(pk: int) -> dict[str, str]:
    return {"__typename": "Composition", "id": relay.to_base64("Composition", pk)}


def sdl_of(served: Any) -> str:
    result = served.execute_sync("{ _service { sdl } }")
    assert result.errors is None, result.errors
    return result.data["_service"]["sdl"]


def composition_fields(served: Any) -> set[str]:
    return set(served._schema.type_map["Composition"].fields)


def test_the_combined_schema_is_a_federation_2_subgraph_with_composition_as_entity() -> None:
    sdl = sdl_of(schema)
    assert sdl.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.11"')
    assert 'type Composition implements Node @key(fields: "id"' in sdl


def test_entities_resolve_the_callers_compositions_and_null_for_anyone_elses() -> None:
    mine = [full_composition(seed=1), full_composition("sad slow piano ballad", seed=2)]
    theirs = full_composition(owner=user("someone-else"))
    representations = [reference(c.pk) for c in mine] + [reference(theirs.pk), reference(999_999)]
    result = execute(ENTITIES, {"representations": representations})
    assert result.errors is None, result.errors
    found = result.data["_entities"]
    assert [e and e["prompt"] for e in found] == [mine[0].prompt, mine[1].prompt, None, None]
    assert found[0]["mood"]["name"] and found[0]["layers"][0]["noteCount"] > 0


def test_a_reference_that_is_not_a_composition_id_is_a_typed_error() -> None:
    result = execute(ENTITIES, {"representations": [{"__typename": "Composition", "id": "garbage"}]})
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "'garbage' is not a Composition id" in result.errors[0].message


def test_entities_are_fetched_in_one_batch_under_the_async_view() -> None:
    """Under async execution the references of one request share one query per table, however many."""

    def queries_for(count: int) -> int:
        pks = [full_composition(seed=100 + i).pk for i in range(count)]
        request = RequestFactory().post("/graphql")
        request.user = AnonymousUser()
        context = {"request": request, "response": None, "caller": caller_for("tester")}
        with CaptureQueriesContext(connection) as captured:
            result = async_to_sync(schema.execute)(
                ENTITIES,
                variable_values={"representations": [reference(pk) for pk in pks]},
                context_value=context,
            )
        assert result.errors is None, result.errors
        assert len(result.data["_entities"]) == count and all(result.data["_entities"])
        return len(captured.captured_queries)

    assert queries_for(1) == queries_for(6)


def test_each_module_subgraph_extends_composition_with_its_own_fields_only() -> None:
    combined = composition_fields(schema)
    seen: set[str] = set()
    for name in subgraph_modules():
        fields = composition_fields(subgraph_schema(name)) - {"id"}
        assert fields, name
        assert not fields & seen, f"{name} repeats {fields & seen}"
        seen |= fields
    assert seen | {"id"} == combined
    assert composition_fields(subgraph_schema("mood")) == {"id", "mood"}


def test_the_core_subgraph_carries_the_root_operations_and_a_stage_subgraph_its_catalog() -> None:
    core = subgraph_schema("composition")._schema
    assert {"createComposition", "createWebhookEndpoint"} <= set(core.mutation_type.fields)
    assert {"composition", "compositions", "node", "me"} <= set(core.query_type.fields)
    assert "compositionProgress" in core.subscription_type.fields
    assert "mood" not in core.type_map["Composition"].fields
    mood = subgraph_schema("mood")._schema
    assert {"_entities", "_service", "moods", "moodPlaylist"} <= set(mood.query_type.fields)
    assert "createCustomMood" in mood.mutation_type.fields and mood.subscription_type is None
    assert "moods" not in core.query_type.fields and "createCustomMood" not in core.mutation_type.fields


def test_a_subgraph_answers_entities_over_http(client: Any) -> None:
    composition = full_composition()
    client.force_login(user())
    query = """query E($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Composition { id mood { name } } } }"""
    body = {"query": query, "variables": {"representations": [reference(composition.pk)]}}
    answer = client.post("/graphql/mood", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["data"]["_entities"][0]["mood"]["name"] == composition.mood.name
    # The mood subgraph knows no other module's fields.
    body["query"] = body["query"].replace("mood { name }", "prompt")
    refused = client.post("/graphql/mood", json.dumps(body), content_type="application/json").json()
    assert "Cannot query field 'prompt' on type 'Composition'" in refused["errors"][0]["message"]


def test_an_unknown_subgraph_is_404_naming_the_ones_there_are(client: Any) -> None:
    answer = client.post("/graphql/nosuch", "{}", content_type="application/json")
    assert answer.status_code == 404
