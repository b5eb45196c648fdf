"""Persisted queries over HTTP: Apollo's APQ protocol (hash first, then the full text), and the
safelist mode that runs only registered operations."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import Client

from modules.composition.models import Composition
from schema.security import persisted, throttle
from tests.queries import CREATE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    buckets = throttle.MemoryBuckets()
    monkeypatch.setattr(throttle, "get_buckets", lambda: buckets)


def unique_query() -> str:
    """A document no earlier run has stored (the APQ store outlives a test run when it is Redis)."""
    return f"query Moods{uuid.uuid4().hex} {{ moods {{ name }} }}"


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/graphql", data=json.dumps(body), content_type="application/json")


def get(client: Client, **params: Any) -> Any:
    query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    # Apollo's link sends this Accept; "*/*" would get GraphiQL for a GET without `query`.
    return client.get("/graphql", query, HTTP_ACCEPT="application/graphql-response+json,application/json")


def test_apq_hash_first_then_the_full_text_then_the_hash_alone() -> None:
    client = Client()
    query = unique_query()
    digest = persisted.sha256_hex(query)

    response = post(client, {"extensions": apq(digest)})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    response = post(client, {"query": query, "extensions": apq(digest)})
    assert response.json()["data"]["moods"]
    assert caches["persisted-queries"].get(f"apq:{digest}") == query

    response = post(client, {"extensions": apq(digest)})
    assert "errors" not in response.json()
    assert response.json()["data"]["moods"]
    assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 10


def test_apq_over_get() -> None:
    client = Client()
    query = unique_query()
    digest = persisted.sha256_hex(query)
    assert get(client, extensions=apq(digest)).json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert get(client, query=query, extensions=apq(digest)).json()["data"]["moods"]
    response = get(client, extensions=apq(digest))
    assert response.status_code == 200 and response.json()["data"]["moods"]


def test_apq_with_variables_and_an_uppercase_hash() -> None:
    client = Client()
    query = f"query Page{uuid.uuid4().hex}($n: Int!) {{ compositions(first: $n) {{ totalCount }} }}"
    digest = persisted.sha256_hex(query).upper()
    post(client, {"query": query, "variables": {"n": 3}, "extensions": apq(digest)})
    response = post(client, {"variables": {"n": 3}, "extensions": apq(digest)})
    assert response.json()["data"] == {"compositions": {"totalCount": 0}}
    assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 1


def test_a_hash_that_is_not_the_querys_is_refused_and_nothing_is_stored() -> None:
    query = unique_query()
    wrong = persisted.sha256_hex(query + " ")
    response = post(Client(), {"query": query, "extensions": apq(wrong)})
    [error] = response.json()["errors"]
    assert error["message"] == "provided sha does not match query"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "extensions.persistedQuery.sha256Hash"}
    assert caches["persisted-queries"].get(f"apq:{wrong}") is None


def test_a_document_that_does_not_validate_is_not_stored() -> None:
    client = Client()
    query = f"query Bad{uuid.uuid4().hex} {{ moods {{ nope }} }}"
    digest = persisted.sha256_hex(query)
    assert post(client, {"query": query, "extensions": apq(digest)}).json()["errors"]
    assert (
        post(client, {"extensions": apq(digest)}).json()["errors"][0]["message"] == "PersistedQueryNotFound"
    )


def test_a_stored_mutation_cannot_run_over_get() -> None:
    client = Client()
    query = CREATE + f"\n# {uuid.uuid4().hex}"
    digest = persisted.sha256_hex(query)
    variables = {"input": {"prompt": "calm piano", "durationSeconds": 30}}
    caches["persisted-queries"].set(f"apq:{digest}", query)
    response = get(client, variables=variables, extensions=apq(digest))
    assert response.status_code == 400
    assert "mutations are not allowed when using GET" in response.content.decode()
    assert Composition.objects.count() == 0


@pytest.mark.parametrize(
    ("persisted_query", "needle"),
    [
        ({"version": 2, "sha256Hash": "0" * 64}, "only version 1 is supported"),
        ({"version": 1, "sha256Hash": "abc"}, "must be the SHA-256 of the query, in hex"),
        ({"version": 1}, "must be the SHA-256 of the query, in hex"),
        ("yes", "only version 1 is supported"),
    ],
)
def test_a_malformed_persisted_query_extension_is_bad_user_input(persisted_query: Any, needle: str) -> None:
    response = post(Client(), {"extensions": {"persistedQuery": persisted_query}})
    [error] = response.json()["errors"]
    assert needle in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_apq_switched_off(settings: Any) -> None:
    settings.CODA_PERSISTED_QUERIES = "off"
    query = unique_query()
    response = post(Client(), {"query": query, "extensions": apq(persisted.sha256_hex(query))})
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert post(Client(), {"query": query}).json()["data"]["moods"]


# --- safelist mode ---

REGISTERED = "query Catalog { moods { name } genres { name } }"
REGISTERED_MUTATION = CREATE


@pytest.fixture
def safelist(settings: Any, tmp_path: Path) -> Path:
    manifest = tmp_path / "persisted-queries.json"
    manifest.write_text(json.dumps(persisted.build_manifest([REGISTERED, REGISTERED_MUTATION])))
    settings.CODA_PERSISTED_QUERIES = "safelist"
    settings.CODA_SAFELIST_FILE = str(manifest)
    return manifest


def test_build_manifest_writes_apollos_format() -> None:
    manifest = persisted.build_manifest([REGISTERED, REGISTERED])
    assert manifest == {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": persisted.sha256_hex(REGISTERED), "name": "Catalog", "type": "query", "body": REGISTERED}
        ],
    }


def test_safelist_runs_registered_operations_by_hash_or_full_text(safelist: Path) -> None:
    client = Client()
    digest = persisted.sha256_hex(REGISTERED)
    assert post(client, {"extensions": apq(digest)}).json()["data"]["moods"]
    assert post(client, {"query": REGISTERED}).json()["data"]["genres"]
    assert post(client, {"query": REGISTERED, "extensions": apq(digest)}).json()["data"]["moods"]
    assert get(client, extensions=apq(digest)).json()["data"]["moods"]
    assert get(client, query=REGISTERED).json()["data"]["moods"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ moods { name } }"},  # not registered
        {"query": REGISTERED + " "},  # not byte for byte the registered text
        {"extensions": apq("f" * 64)},  # an unknown hash
        {
            "query": "{ voices { name } }",
            "extensions": apq(persisted.sha256_hex("{ voices { name } }")),
        },  # APQ
    ],
)
def test_safelist_refuses_anything_else(safelist: Path, body: dict[str, Any]) -> None:
    response = post(Client(), body)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert response.json()["data"] is None


def test_a_safelisted_mutation_by_hash_reaches_its_resolver(safelist: Path) -> None:
    response = post(
        Client(),
        {
            "variables": {"input": {"prompt": "", "durationSeconds": 30}},
            "extensions": apq(persisted.sha256_hex(REGISTERED_MUTATION)),
        },
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "prompt"}  # the resolver's answer
    assert Composition.objects.count() == 0


def test_safelist_is_reread_when_the_file_changes_and_bad_entries_are_left_out(safelist: Path) -> None:
    client = Client()
    voices = "query Voices { voices { name } }"
    operations = json.loads(safelist.read_text())["operations"]
    operations.append({"id": persisted.sha256_hex(voices), "name": "Voices", "body": voices})
    operations.append({"id": "0" * 64, "name": "Forged", "body": "{ genres { name } }"})  # id != sha256(body)
    safelist.write_text(json.dumps({"operations": operations}))
    stat = safelist.stat()
    os.utime(safelist, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert post(client, {"query": voices}).json()["data"]["voices"]
    forged = post(client, {"query": "{ genres { name } }"}).json()
    assert forged["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_the_management_command_writes_a_validated_safelist(tmp_path: Path) -> None:
    good = tmp_path / "catalog.graphql"
    good.write_text(REGISTERED)
    output = tmp_path / "persisted-queries.json"
    call_command("persisted_queries", str(good), output=str(output), stdout=io.StringIO())
    assert json.loads(output.read_text()) == persisted.build_manifest([REGISTERED])

    bad = tmp_path / "bad.graphql"
    bad.write_text("{ moods { nope } }")
    with pytest.raises(CommandError, match="Cannot query field 'nope'"):
        call_command("persisted_queries", str(good), str(bad), output=str(output))
