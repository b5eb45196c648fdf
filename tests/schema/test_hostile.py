"""A hostile-query corpus through the real HTTP stack: each request gets a clear error (message,
code, HTTP status), nothing is written, no stack trace leaves, and the server still answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.http import HttpResponse
from django.test import AsyncClient, AsyncRequestFactory, Client

from modules.accounts.caller import Caller
from modules.composition.models import Composition
from schema import schema
from schema.security import throttle
from schema.views import CodaGraphQLView
from tests.queries import CREATE

pytestmark = pytest.mark.django_db

CREATE_INPUT = {"input": {"prompt": "calm piano", "durationSeconds": 30}}


@pytest.fixture(autouse=True)
def fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> throttle.MemoryBuckets:
    """Every test starts with full buckets of its own (the configured store is shared across runs)."""
    buckets = throttle.MemoryBuckets()
    monkeypatch.setattr(throttle, "get_buckets", lambda: buckets)
    return buckets


def post(client: Client, body: Any, **headers: Any) -> HttpResponse:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/graphql", data=data, content_type="application/json", **headers)


def nested(depth: int) -> str:
    """Introspection types nest without end: a valid document but for its depth."""
    inner = "name"
    for _ in range(depth):
        inner = f"fields {{ type {{ {inner} }} }}"
    return f'{{ __type(name: "Query") {{ {inner} }} }}'


def nested_list(depth: int) -> Any:
    value: Any = "pop"
    for _ in range(depth):
        value = [value]
    return value


@dataclass
class Case:
    send: Callable[[Client], HttpResponse]
    status: int
    needle: str  # in an error message (or the plain-text body of a 4xx)
    code: str | None = None  # extensions.code of that error, for GraphQL error responses
    body_guard: bool = False  # answered 400 by schema.security.http.RequestGuard (strawberry: a 500)


CORPUS: dict[str, Case] = {
    "depth 50 (introspection)": Case(
        lambda c: post(c, {"query": nested(50)}), 200, "Maximum introspection depth exceeded"
    ),
    "depth 50 (fields)": Case(
        lambda c: post(c, {"query": "{ " + "composition(id: 1) { " * 50 + "id" + " }" * 51}),
        200,
        "'anonymous' exceeds maximum operation depth of 12",
    ),
    "500 aliases": Case(
        lambda c: post(c, {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }"}),
        200,
        "500 aliases found. Allowed: 30",
    ),
    "first: 100000": Case(
        lambda c: post(c, {"query": "{ compositions(first: 100000) { edges { node { id } } } }"}),
        200,
        "`first` on `Query.compositions` must be between 0 and 100; got 100000",
        "BAD_USER_INPUT",
    ),
    "last: -1 in a variable": Case(
        lambda c: post(
            c,
            {
                "query": "query($n: Int) { compositions(last: $n) { edges { node { id } } } }",
                "variables": {"n": -1},
            },
        ),
        200,
        "`last` on `Query.compositions` must be between 0 and 100; got -1",
        "BAD_USER_INPUT",
    ),
    "fragment cycle": Case(
        lambda c: post(
            c, {"query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }"}
        ),
        200,
        "Cannot spread fragment 'A' within itself via 'B'.",
    ),
    "1 MB document": Case(
        lambda c: post(c, {"query": "{ __typename }\n#" + "x" * 1_048_576}),
        200,
        "the document is 1,048,592 characters long; the limit is 50,000",
        "BAD_USER_INPUT",
    ),
    "4,001 tokens": Case(
        lambda c: post(c, {"query": "{ " + "__typename " * 4001 + "}"}),
        200,
        "Syntax Error: Document contains more than 4000 tokens. Parsing aborted.",
    ),
    "3,900 identical fields": Case(
        lambda c: post(c, {"query": "{ " + "__typename " * 3900 + "}"}),
        200,
        "Validation aborted: the document is too costly to validate",
    ),
    "directive flood": Case(
        lambda c: post(c, {"query": "{ __typename " + "@include(if: true) " * 500 + "}"}),
        200,
        "The directive '@include' can only be used once at this location.",
    ),
    "invalid UTF-8": Case(
        lambda c: post(c, b'{"query": "{ __typename \xff\xfe }"}'),
        400,
        "Unable to parse request body as JSON",
        body_guard=True,
    ),
    "invalid UTF-8 in a GET query": Case(
        lambda c: c.get("/graphql?query=%7B%20__typename%20%FF%FE%20%7D"), 200, "Syntax Error: Unexpected"
    ),
    "unsupported content type": Case(
        lambda c: c.post("/graphql", data="{ __typename }", content_type="text/plain"),
        400,
        "Unsupported content type",
    ),
    "invalid JSON": Case(
        lambda c: post(c, '{"query": "{ __typename }"'), 400, "Unable to parse request body as JSON"
    ),
    "JSON that is not an object": Case(
        lambda c: post(c, "42"), 400, "The request body must be a JSON object", body_guard=True
    ),
    "query that is not a string": Case(lambda c: post(c, {"query": 42}), 400, "`query` must be a string"),
    "no query": Case(lambda c: post(c, {"variables": {}}), 400, "No GraphQL query found in the request"),
    "wrong variable type": Case(
        lambda c: post(
            c, {"query": CREATE, "variables": {"input": {"prompt": "x", "durationSeconds": "long"}}}
        ),
        200,
        "Int cannot represent non-integer value: 'long'",
    ),
    "variables as a list": Case(
        lambda c: post(c, {"query": CREATE, "variables": [1, 2]}), 400, "`variables` must be an object"
    ),
    "batch of 1000 operations": Case(
        lambda c: post(c, [{"query": CREATE, "variables": CREATE_INPUT}] * 1000),
        400,
        "Batching is not enabled",
    ),
    "mutation via GET": Case(
        lambda c: c.get("/graphql", {"query": CREATE, "variables": json.dumps(CREATE_INPUT)}),
        400,
        "mutations are not allowed when using GET",
    ),
    "huge variables (1.5 MB prompt)": Case(
        lambda c: post(c, {"query": CREATE, "variables": {"input": {"prompt": "x" * 1_500_000}}}),
        200,
        "the limit is 2000",
        "BAD_USER_INPUT",
    ),
    "body over Django's upload limit (3 MB)": Case(
        lambda c: post(c, {"query": CREATE, "variables": {"input": {"prompt": "x" * 3_000_000}}}),
        400,
        "",
    ),
    "nested input lists, 50 deep": Case(
        lambda c: post(
            c, {"query": CREATE, "variables": {"input": {"prompt": "x", "genres": nested_list(50)}}}
        ),
        200,
        "$input.genres.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 nests deeper than 20 levels",
        "BAD_USER_INPUT",
    ),
    "an input list of 20,000 objects": Case(
        lambda c: post(
            c,
            {
                "query": CREATE,
                "variables": {"input": {"prompt": "x", "genres": [{"name": "pop", "weight": 1}] * 20_000}},
            },
        ),
        200,
        "$input.genres has 20,000 entries; the limit is 100",
        "BAD_USER_INPUT",
    ),
    "an input object with 5,000 unknown keys": Case(
        lambda c: post(c, {"query": CREATE, "variables": {"input": {f"k{i}": i for i in range(5_000)}}}),
        200,
        "$input has 5,000 entries; the limit is 100",
        "BAD_USER_INPUT",
    ),
    "3,000 values in variables": Case(
        lambda c: post(
            c, {"query": "{ __typename }", "variables": {f"v{i}": list(range(99)) for i in range(30)}}
        ),
        200,
        "the variables hold more than 2,000 values",
        "BAD_USER_INPUT",
    ),
    "nested input lists, 100,000 deep": Case(
        lambda c: post(
            c, '{"query": "{ __typename }", "variables": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        ),
        400,
        "Unable to parse request body as JSON",
        body_guard=True,
    ),
    "unknown operationName": Case(
        lambda c: post(c, {"query": "query A { __typename }", "operationName": "Nope"}),
        400,
        'Unknown operation named "Nope".',
    ),
    "10,000 fields in a selection": Case(
        lambda c: post(c, {"query": "{ moods { " + "name " * 10_000 + "} }"}),
        200,
        "the document is 50,013 characters long; the limit is 50,000",
        "BAD_USER_INPUT",
    ),
    "unknown field": Case(
        lambda c: post(c, {"query": "{ compositions { secretColumn } }"}),
        200,
        "Cannot query field 'secretColumn' on type 'CompositionConnection'.",
    ),
    "malformed persisted query": Case(
        lambda c: post(
            c, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "../../etc/passwd"}}}
        ),
        200,
        "persistedQuery.sha256Hash must be the SHA-256 of the query, in hex",
        "BAD_USER_INPUT",
    ),
    "GET with a list as variables": Case(
        lambda c: c.get("/graphql", {"query": "{ __typename }", "variables": "[1]"}),
        400,
        "`variables` must be an object",
    ),
}


def errors_of(response: HttpResponse) -> list[dict[str, Any]]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["errors"]


def first_matching(errors: list[dict[str, Any]], needle: str) -> dict[str, Any]:
    found = [e for e in errors if needle in e["message"]]
    assert found, [e["message"] for e in errors][:5]
    return found[0]


def check(case: Case, response: HttpResponse) -> None:
    assert response.status_code == case.status, response.content[:300]
    body = response.content.decode("utf-8", "replace")
    assert "Traceback" not in body and 'File "' not in body
    if case.status == 200:
        error = first_matching(errors_of(response), case.needle)
        if case.code:
            assert error["extensions"]["code"] == case.code
        assert response.json().get("data") is None
        assert "cost" in response.json()["extensions"]
    else:
        assert case.needle in body, body[:300]


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_hostile_request_gets_a_clear_error_and_changes_nothing(name: str, request: Any) -> None:
    """Through Django's WSGI test client."""
    case = CORPUS[name]
    client = Client()
    before = Composition.objects.count()

    check(case, case.send(client))

    assert Composition.objects.count() == before
    still = post(client, {"query": "{ moods { name } }"})
    assert still.status_code == 200
    assert still.json()["data"]["moods"], "the server still answers a normal query"


@pytest.mark.django_db(transaction=True)  # the ORM runs in asgiref's thread, outside a test transaction
@pytest.mark.parametrize("name", list(CORPUS))
async def test_a_hostile_request_over_asgi(name: str, request: Any) -> None:
    """The same through Django's ASGI handler, as Daphne serves it (the middleware's async path)."""
    case = CORPUS[name]
    client = AsyncClient()
    try:
        before = await Composition.objects.acount()

        check(case, await case.send(client))  # type: ignore[arg-type]

        assert await Composition.objects.acount() == before
        still = await post(client, {"query": "{ moods { name } }"})  # type: ignore[arg-type]
        assert still.status_code == 200
        assert still.json()["data"]["moods"]
    finally:
        await sync_to_async(connections.close_all)()  # that thread's connection


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"query": "{ __typename \xff\xfe }"}', "Unable to parse request body as JSON"),
        (b"42", "The request body must be a JSON object"),
        (b'"{ __typename }"', "The request body must be a JSON object"),
        (
            b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
            "Unable to parse",
        ),
    ],
)
async def test_the_body_guard_answers_400_where_strawberry_raises(body: bytes, needle: str) -> None:
    request = AsyncRequestFactory().post("/graphql", data=body, content_type="application/json")
    request.caller = Caller(ip="203.0.113.9")  # type: ignore[attr-defined]
    response = await CodaGraphQLView.as_view(schema=schema)(request)
    assert response.status_code == 400
    assert needle in response.content.decode()


async def test_the_body_guard_keeps_good_requests_and_strawberrys_own_checks() -> None:
    view = CodaGraphQLView.as_view(schema=schema)
    request = AsyncRequestFactory().post(
        "/graphql", data={"query": "{ __typename }"}, content_type="application/json"
    )
    request.caller = Caller(ip="203.0.113.9")  # type: ignore[attr-defined]
    response = await view(request)
    assert response.status_code == 200 and json.loads(response.content)["data"] == {"__typename": "Query"}

    request = AsyncRequestFactory().get("/graphql", {"query": "{ __typename }", "variables": "42"})
    request.caller = Caller(ip="203.0.113.9")  # type: ignore[attr-defined]
    response = await view(request)
    assert response.status_code == 400
    assert "`variables` must be an object" in response.content.decode()


async def test_the_guard_answers_an_apq_get_instead_of_rendering_graphiql() -> None:
    params = {"extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}})}
    request = AsyncRequestFactory().get("/graphql", params, headers={"Accept": "*/*"})
    request.caller = Caller(ip="203.0.113.9")  # type: ignore[attr-defined]
    response = await CodaGraphQLView.as_view(schema=schema)(request)
    assert json.loads(response.content)["errors"][0]["message"] == "PersistedQueryNotFound"

    request = AsyncRequestFactory().get("/graphql", headers={"Accept": "text/html"})
    request.caller = Caller(ip="203.0.113.9")  # type: ignore[attr-defined]
    response = await CodaGraphQLView.as_view(schema=schema)(request)
    assert b"graphiql" in response.content.lower()  # a browser still gets GraphiQL
