"""Query cost: exact numbers for the documented formula (schema/security/cost.py), its cache, and
the refusals it drives (page sizes, the maximum) over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql import parse

from modules.composition.models import Composition
from schema import schema
from schema.security import cost, throttle
from tests.graphql import execute
from tests.queries import CREATE

COMPOSITION_STAGES = "query($id: ID!) { composition(id: $id) { id stages { name } } }"


def cost_of(query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> int:
    return cost.operation_cost(
        schema._schema, parse(query), operation, variables, max_page_size=100, default_page_size=100
    )[0]


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        # a list without pagination: its estimate (10) x (1 per object + 0 per scalar)
        ("{ moods { name valence } }", None, 10),
        # a connection: 1, plus the page size x (edge 0 + node 1); PageInfo and scalars are free
        (
            "{ compositions(first: 5) { totalCount edges { cursor node { id prompt } } "
            "pageInfo { hasNextPage } } }",
            None,
            6,
        ),
        # no first/last: the default page size (what strawberry returns then)
        ("{ compositions { edges { node { id } } } }", None, 101),
        # first from a variable, and from the variable's default
        ("query($n: Int) { compositions(first: $n) { edges { node { id } } } }", {"n": 7}, 8),
        ("query($n: Int = 3) { compositions(first: $n) { edges { node { id } } } }", None, 4),
        # first and last together: the smaller page
        ("{ compositions(first: 9, last: 4) { edges { node { id } } } }", None, 5),
        # lists nest: composition 1 + stages 6 x 1
        (COMPOSITION_STAGES, None, 7),
        # a song's layers with their automation: 1 + 8 layers x (1 + 2 lanes x (1 + 12 points)),
        # well inside the default maximum (1,000) that a frontend drawing one song must fit in
        (
            "query($id: ID!) { composition(id: $id) { layers { name automation { parameter "
            "points { beat value } } } } }",
            None,
            217,
        ),
        # a page of them multiplies again: 1 + 20 x (1 + 6)
        ("{ compositions(first: 20) { edges { node { stages { name } } } } }", None, 141),
        # a mutation: 10 + the object 1 + stages 6 x 1
        (CREATE, None, 17),
        # introspection: cheap but not free
        ("{ __schema { types { name fields { name } } } }", None, 100),
        ('{ __type(name: "Query") { name fields { name } } }', None, 10),
        # the minimum: every operation costs at least 1
        ("{ __typename }", None, 1),
        # fragments are followed, a repeated one counted once (execution merges it)
        ("{ moods { ...M ...M name } } fragment M on MoodInfo { name valence }", None, 10),
        # aliases are separate fields, each counted
        ("{ a: moods { name } b: moods { name } }", None, 20),
        # an interface: the most expensive possible type (Composition: 1 + stages 6)
        ('{ node(id: "x") { id ... on Composition { stages { name } } } }', None, 7),
    ],
)
def test_the_cost_formula(query: str, variables: dict[str, Any] | None, expected: int) -> None:
    assert cost_of(query, variables) == expected


def test_only_the_operation_that_runs_is_costed() -> None:
    document = (
        "query Cheap { moods { name } } query Dear { compositions(first: 50) { edges { node { id } } } }"
    )
    assert cost_of(document, operation="Cheap") == 10
    assert cost_of(document, operation="Dear") == 51


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("first", 101, "`first` on `Query.compositions` must be between 0 and 100; got 101"),
        ("last", -1, "`last` on `Query.compositions` must be between 0 and 100; got -1"),
    ],
)
def test_a_page_size_out_of_range_is_bad_user_input(argument: str, value: int, message: str) -> None:
    with pytest.raises(cost.PageSizeError) as raised:
        cost_of(f"{{ compositions({argument}: {value}) {{ edges {{ node {{ id }} }} }} }}")
    assert raised.value.message == message
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "field": argument}


def test_the_cost_is_cached_per_document_operation_and_page_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cost._COSTS.clear()
    cost._DEPENDS_ON.clear()
    walks = []
    real = cost.operation_cost
    monkeypatch.setattr(cost, "operation_cost", lambda *a, **k: walks.append(1) or real(*a, **k))
    query = "query($n: Int, $note: String) { compositions(first: $n) { edges { node { id } } } }"
    document = parse(query)

    def cached(variables: dict[str, Any]) -> int:
        return cost.cached_operation_cost(
            schema._schema, document, query, None, variables, max_page_size=100, default_page_size=100
        )

    assert cached({"n": 10, "note": "a"}) == 11
    assert cached({"n": 10, "note": "b"}) == 11  # a variable the cost does not read: same entry
    assert len(walks) == 1
    assert cached({"n": 30, "note": "a"}) == 31
    assert len(walks) == 2
    # A list where an Int belongs counts as no page size (execution refuses it); lists key the cache by
    # their length, all the cost reads of one (`_entities` representations).
    assert cached({"n": [1]}) == 101
    assert cached({"n": [2]}) == 101
    assert len(walks) == 3
    assert cached({"n": {"junk": 1}}) == 101  # unhashable: walked, not cached
    assert cached({"n": {"junk": 1}}) == 101
    assert len(walks) == 5


def test_in_process_execution_reports_the_cost_without_limiting_it(db: Any) -> None:
    result = execute("{ compositions(first: 20) { edges { node { stages { name } } } } }")
    assert result.errors is None
    assert result.extensions == {"cost": {"requestedQueryCost": 141, "throttleStatus": None}}


# --- over HTTP: refused before anything runs ---


@pytest.fixture
def fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> throttle.MemoryBuckets:
    buckets = throttle.MemoryBuckets()
    monkeypatch.setattr(throttle, "get_buckets", lambda: buckets)
    return buckets


def post(client: Client, query: str, variables: dict[str, Any] | None = None) -> Any:
    return client.post(
        "/graphql", data=json.dumps({"query": query, "variables": variables}), content_type="application/json"
    )


@pytest.mark.django_db
def test_a_query_over_the_maximum_is_refused_with_its_cost(settings: Any, fresh_buckets: Any) -> None:
    settings.CODA_MAX_QUERY_COST = 100
    with CaptureQueriesContext(connection) as captured:
        response = post(Client(), "{ compositions(first: 50) { edges { node { stages { name } } } } }")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 351, "maximumCost": 100}
    assert error["message"].startswith("query cost 351 is over the maximum of 100")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 351
    assert not [q for q in captured.captured_queries if "composition" in q["sql"]], "nothing ran"


@pytest.mark.django_db
def test_a_mutation_over_the_maximum_writes_nothing(settings: Any, fresh_buckets: Any) -> None:
    settings.CODA_MAX_QUERY_COST = 16
    response = post(Client(), CREATE, {"input": {"prompt": "calm piano", "durationSeconds": 30}})
    assert response.json()["errors"][0]["extensions"]["cost"] == 17
    assert Composition.objects.count() == 0


@pytest.mark.django_db
def test_the_maximum_is_never_above_what_the_callers_bucket_holds(settings: Any, fresh_buckets: Any) -> None:
    settings.CODA_ANON_RATE_LIMIT_CAPACITY = 120
    response = post(Client(), "{ compositions(first: 20) { edges { node { stages { name } } } } }")
    assert response.json()["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 141,
        "maximumCost": 120,
    }


@pytest.mark.django_db
def test_a_page_size_over_the_maximum_is_refused_over_http(fresh_buckets: Any) -> None:
    response = post(
        Client(), "query($n: Int!) { compositions(first: $n) { edges { node { id } } } }", {"n": 100_000}
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    assert "got 100000" in error["message"]


@pytest.mark.django_db
def test_a_page_of_the_maximum_size_runs(fresh_buckets: Any) -> None:
    response = post(Client(), "{ compositions(first: 100) { totalCount edges { node { id } } } }")
    body = response.json()
    assert "errors" not in body
    assert body["data"]["compositions"]["totalCount"] == 0
    assert body["extensions"]["cost"]["requestedQueryCost"] == 101


def test_entities_cost_as_many_as_the_representations_a_gateway_sent() -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Composition { mood { name } } } }"
    document = parse(query)

    def cost_of(count: int) -> int:
        representations = [{"__typename": "Composition", "id": str(i)} for i in range(count)]
        return cost.cached_operation_cost(
            schema._schema,
            document,
            query,
            None,
            {"r": representations},
            max_page_size=100,
            default_page_size=100,
        )

    assert (cost_of(1), cost_of(20)) == (2, 40)  # the Composition and its Mood, per reference
