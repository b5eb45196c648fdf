"""Production error masking (no internal message or stack trace leaves the server; client errors
keep their message and code) and the introspection switch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from strawberry import relay

from modules.composition import services
from modules.composition.models import Composition
from modules.mood import types as mood_types
from schema.security import throttle
from tests.graphql import execute
from tests.queries import CREATE

pytestmark = pytest.mark.django_db

SECRET = "secret internal detail"


@pytest.fixture(autouse=True)
def fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    buckets = throttle.MemoryBuckets()
    monkeypatch.setattr(throttle, "get_buckets", lambda: buckets)


def post(query: str, variables: dict[str, Any] | None = None) -> Any:
    return Client().post(
        "/graphql", data=json.dumps({"query": query, "variables": variables}), content_type="application/json"
    )


class Exploding:
    def values(self) -> Any:
        raise RuntimeError(SECRET)


def test_an_exception_in_a_resolver_never_leaks(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setattr(mood_types, "MOODS", Exploding())  # fault injection
    response = post("{ moods { name } }")
    assert response.status_code == 200
    body = response.json()
    assert SECRET not in response.content.decode() and "RuntimeError" not in response.content.decode()
    [error] = body["errors"]
    assert error == {
        "message": "Internal server error",
        "locations": [{"line": 1, "column": 3}],
        "path": ["moods"],
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }
    assert body["data"] is None  # moods is non-null: the error nulls its parent
    # ... but the server log has it, with the stack trace
    logged = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert any(SECRET in str(r.exc_info[1]) for r in logged)
    assert "mood/types.py" in caplog.text


def test_an_exception_in_a_mutation_never_leaks_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**kwargs: Any) -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(services, "composition_create", boom)
    response = post(CREATE, {"input": {"prompt": "calm piano", "durationSeconds": 30}})
    assert SECRET not in response.content.decode()
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert Composition.objects.count() == 0


def test_a_crashing_extension_hook_never_leaks(settings: Any) -> None:
    # A misconfiguration makes the limits extension itself raise (ValueError naming the setting).
    settings.CODA_PERSISTED_QUERIES = "bogus"
    response = post("{ moods { name } }")
    assert response.status_code == 200
    assert "CODA_PERSISTED_QUERIES" not in response.content.decode()
    assert response.json()["errors"][0] == {
        "message": "Internal server error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }


@pytest.mark.parametrize(
    "node_id",
    [
        relay.to_base64("Composition", "abc"),  # the ORM: "Field 'id' expected a number but got 'abc'."
        relay.to_base64("Layer", 1),  # not a Node type
        relay.to_base64("NoSuchType", 1),
        "garbage",
    ],
)
def test_real_inputs_that_fail_inside_strawberry_or_the_orm_leak_nothing(node_id: str) -> None:
    response = post("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
    text = response.content.decode()
    assert response.status_code == 200
    for internal in ("expected a number", "Traceback", 'File "', "padding", "strawberry"):
        assert internal not in text
    errors = response.json().get("errors")
    if errors:  # a typed client error, or the masked internal one
        assert errors[0]["extensions"]["code"] in {"BAD_USER_INPUT", "NOT_FOUND", "INTERNAL_SERVER_ERROR"}


def test_a_malformed_global_id_is_bad_user_input() -> None:
    response = post('{ node(id: "garbage") { id } }')
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == 'Value cannot represent a GlobalID: "garbage".'


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        # a CodaError raised by a resolver: message and code kept
        (
            "query($id: ID!) { composition(id: $id) { id } }",
            {"id": "TGF5ZXI6MQ=="},
            {"code": "BAD_USER_INPUT", "field": "id"},
        ),
        # graphql-core's validation and coercion errors: kept (no code of their own)
        ("{ moods { nope } }", None, None),
        ("query($n: Int!) { compositions(first: $n) { totalCount } }", {"n": "ten"}, None),
    ],
)
def test_client_errors_keep_their_message(query: str, variables: Any, expected: Any) -> None:
    [error] = post(query, variables).json()["errors"]
    assert error["message"] != "Internal server error"
    assert error.get("extensions") == expected


def test_masking_can_be_switched_off_for_development(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.CODA_MASK_ERRORS = False
    monkeypatch.setattr(mood_types, "MOODS", Exploding())
    assert post("{ moods { name } }").json()["errors"][0]["message"] == SECRET


def test_in_process_execution_is_masked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mood_types, "MOODS", Exploding())
    result = execute("{ moods { name } }")
    assert result.errors[0].message == "Internal server error"


# --- introspection ---

INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_is_on_by_default() -> None:
    body = post(INTROSPECTION).json()
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 100


@pytest.mark.parametrize("query", [INTROSPECTION, '{ __type(name: "Composition") { fields { name } } }'])
def test_introspection_can_be_switched_off(settings: Any, query: str) -> None:
    settings.CODA_INTROSPECTION = False
    body = post(query).json()
    assert body["data"] is None
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert post("{ __typename }").json()["data"] == {"__typename": "Query"}


def test_without_introspection_errors_suggest_no_field_names(settings: Any) -> None:
    assert "Did you mean 'moods'?" in post("{ mood { name } }").json()["errors"][0]["message"]
    settings.CODA_INTROSPECTION = False
    message = post("{ mood { name } }").json()["errors"][0]["message"]
    assert message == "Cannot query field 'mood' on type 'Query'."
