"""application/graphql-response+json: the media type and status codes of the GraphQL-over-HTTP spec
for clients that ask for it; application/json keeps the legacy 200."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schema.media_type import GRAPHQL_RESPONSE

pytestmark = pytest.mark.django_db

BOTH = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"


def post(client: Any, query: str, accept: str, variables: dict[str, Any] | None = None) -> Any:
    body = json.dumps({"query": query, "variables": variables or {}})
    return client.post("/graphql", body, content_type="application/json", HTTP_ACCEPT=accept)


@pytest.mark.parametrize(
    ("query", "variables", "why"),
    [
        ("{ moods { name", None, "does not parse"),
        ("{ moods { nope } }", None, "does not validate"),
        (
            "query($n: Int!) { compositions(first: $n) { totalCount } }",
            {"n": "many"},
            "variables do not coerce",
        ),
    ],
)
def test_a_request_error_is_400_without_data(client: Any, query: str, variables: Any, why: str) -> None:
    answer = post(client, query, BOTH, variables)
    assert answer.status_code == 400, why
    assert answer["Content-Type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in answer.json() and answer.json()["errors"]


def test_a_field_error_keeps_data_and_200(client: Any) -> None:
    answer = post(client, '{ composition(id: "Q29tcG9zaXRpb246OTk5") { id } }', GRAPHQL_RESPONSE)
    assert answer.status_code == 200
    assert answer.json()["data"] is None and answer.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_success_has_the_media_type(client: Any) -> None:
    answer = post(client, "{ moods { name } }", BOTH)
    assert answer.status_code == 200 and answer["Content-Type"].startswith(GRAPHQL_RESPONSE)
    assert answer.json()["data"]["moods"]


@pytest.mark.parametrize("accept", ["application/json", "*/*", f"application/json, {GRAPHQL_RESPONSE};q=0.5"])
def test_a_json_client_keeps_the_legacy_answer(client: Any, accept: str) -> None:
    answer = post(client, "{ moods { nope } }", accept)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["data"] is None
