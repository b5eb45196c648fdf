"""`providers` and `setProviderPreference` through the real schema: what each caller sees, typed
errors, and no trace of credentials anywhere in the schema or the answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from modules.accounts.caller import READ
from modules.providers.models import CallOutcome, Provider
from modules.providers.services import call_record, provider_create
from tests.graphql import caller_for, data_of, execute, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]

SECRET = "sk-very-secret-0042"

QUERY = """
query {
  providers {
    stages { stage provider kind reason preferred fallback
             health { status summary calls successRate p50LatencyMs lastError }
             passedOver { provider reason } }
    providers { name kind capabilities priority enabled model endpoint
                health { status summary window calls successRate p50LatencyMs p95LatencyMs
                         consecutiveFailures lastCallAt retryAt lastError } }
    preferences { capability provider }
  }
}
"""

SET = """
mutation($capability: String!, $provider: String) {
  setProviderPreference(capability: $capability, provider: $provider) {
    preference { capability provider }
    route { stage provider reason preferred }
  }
}
"""


@pytest.fixture
def registry() -> dict[str, Provider]:
    big = provider_create(
        name="big-llm",
        kind="openai_compatible",
        endpoint="http://10.0.0.5:8080/v1",
        capabilities=["lyrics"],
        model="llama-3.1-8b",
        api_key=SECRET,
        priority=10,
    )
    small = provider_create(
        name="small-llm",
        kind="openai_compatible",
        endpoint="http://127.0.0.1:8081/v1",
        capabilities=["lyrics"],
        model="qwen-0.5b",
        priority=1,
    )
    off = provider_create(
        name="off-llm",
        kind="openai_compatible",
        endpoint="http://127.0.0.1:8082/v1",
        capabilities=["lyrics"],
        enabled=False,
    )
    for outcome, ms in [(CallOutcome.OK, 400), (CallOutcome.OK, 440), (CallOutcome.TIMEOUT, 20000)]:
        call_record(
            big, stage="lyrics", attempt=1, outcome=outcome, duration_ms=ms, error="timed out after 20 s"
        )
    return {"big": big, "small": small, "off": off}


def test_a_signed_in_user_sees_each_stage_and_the_enabled_providers_without_their_endpoints(
    registry: dict[str, Provider],
) -> None:
    data = data_of(QUERY, caller=caller_for("alice"))["providers"]
    stages = {s["stage"]: s for s in data["stages"]}
    assert list(stages) == ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"]
    assert stages["mood"] == {
        "stage": "mood",
        "provider": "built-in",
        "kind": "BUILT_IN",
        "reason": "built-in: no provider serves mood",
        "preferred": False,
        "fallback": "built-in",
        "health": None,
        "passedOver": [],
    }
    lyrics = stages["lyrics"]
    assert (lyrics["provider"], lyrics["kind"], lyrics["reason"]) == (
        "big-llm",
        "OPENAI_COMPATIBLE",
        "openai-compatible 'big-llm' (priority 10, 67% ok, 440 ms p50)",
    )
    assert lyrics["health"] == {
        "status": "HEALTHY",
        "summary": "67% ok, 440 ms p50",
        "calls": 3,
        "successRate": pytest.approx(2 / 3),
        "p50LatencyMs": 440,
        "lastError": None,
    }
    assert lyrics["passedOver"] == [{"provider": "small-llm", "reason": "lower priority than 'big-llm'"}]
    assert [p["name"] for p in data["providers"]] == ["big-llm", "small-llm"]  # not the disabled one
    big = data["providers"][0]
    assert (big["endpoint"], big["model"], big["capabilities"]) == (None, "llama-3.1-8b", ["lyrics"])
    assert big["health"]["p95LatencyMs"] == 20000 and big["health"]["consecutiveFailures"] == 1
    assert big["health"]["lastError"] is None
    assert data["preferences"] == []


def test_staff_see_every_provider_with_endpoints_and_errors(registry: dict[str, Provider]) -> None:
    boss = user("boss")
    boss.is_staff = True
    boss.save()
    data = data_of(QUERY, caller=caller_for(boss))["providers"]
    providers = {p["name"]: p for p in data["providers"]}
    assert list(providers) == ["big-llm", "small-llm", "off-llm"]
    assert providers["big-llm"]["endpoint"] == "http://10.0.0.5:8080/v1"
    assert providers["off-llm"]["enabled"] is False
    assert providers["big-llm"]["health"]["lastError"] == "timed out after 20 s"
    assert providers["off-llm"]["health"]["status"] == "UNTRIED"
    lyrics = next(s for s in data["stages"] if s["stage"] == "lyrics")
    assert lyrics["provider"] == "big-llm"  # a disabled provider is listed, never routed to


def test_anonymous_callers_see_the_routes_too(registry: dict[str, Provider]) -> None:
    data = data_of(QUERY, caller=caller_for(None))["providers"]
    assert next(s for s in data["stages"] if s["stage"] == "lyrics")["provider"] == "big-llm"
    assert data["preferences"] == []


def test_a_preference_changes_the_route_for_that_user_only(registry: dict[str, Provider]) -> None:
    alice = caller_for("alice")
    result = data_of(SET, {"capability": "lyrics", "provider": "small-llm"}, alice)["setProviderPreference"]
    assert result == {
        "preference": {"capability": "lyrics", "provider": "small-llm"},
        "route": {
            "stage": "lyrics",
            "provider": "small-llm",
            "reason": "openai-compatible 'small-llm' (your preference, no calls yet)",
            "preferred": True,
        },
    }
    mine = data_of(QUERY, caller=alice)["providers"]
    assert mine["preferences"] == [{"capability": "lyrics", "provider": "small-llm"}]
    assert next(s for s in mine["stages"] if s["stage"] == "lyrics")["provider"] == "small-llm"
    theirs = data_of(QUERY, caller=caller_for("bob"))["providers"]
    assert next(s for s in theirs["stages"] if s["stage"] == "lyrics")["provider"] == "big-llm"
    built_in = data_of(SET, {"capability": "lyrics", "provider": "built-in"}, alice)["setProviderPreference"]
    assert built_in["route"]["reason"] == "built-in: your preference"
    cleared = data_of(SET, {"capability": "lyrics", "provider": None}, alice)["setProviderPreference"]
    assert cleared["preference"] is None and cleared["route"]["provider"] == "big-llm"


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        (
            {"capability": "drums", "provider": "big-llm"},
            "capability",
            "unknown capability 'drums'; capabilities: mood, genre, arrangement, lyrics, voice, mastering",
        ),
        (
            {"capability": "lyrics", "provider": "off-llm"},
            "provider",
            "no provider named 'off-llm'; for lyrics: 'big-llm', 'small-llm', 'built-in'",
        ),
        (
            {"capability": "voice", "provider": "big-llm"},
            "provider",
            "'big-llm' does not serve voice; for voice: 'built-in'",
        ),
    ],
)
def test_bad_preferences_are_typed_errors(
    registry: dict[str, Provider], variables: dict[str, Any], field: str, message: str
) -> None:
    result = execute(SET, variables, caller_for("alice"))
    (error,) = result.errors
    assert error.message == message
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": field}
    assert not user("alice").provider_preferences.exists()


def test_preferences_need_an_account_and_the_compose_scope(registry: dict[str, Provider]) -> None:
    variables = {"capability": "lyrics", "provider": "small-llm"}
    anonymous = execute(SET, variables, caller_for(None))
    assert anonymous.errors[0].extensions["code"] == "UNAUTHENTICATED"
    read_only = execute(SET, variables, caller_for("alice", scopes=frozenset({READ})))
    assert read_only.errors[0].extensions["code"] == "FORBIDDEN"
    assert not user("alice").provider_preferences.exists()


def test_no_credentials_in_the_schema_or_in_any_answer(registry: dict[str, Provider]) -> None:
    provider_types = {
        "Provider",
        "ProviderHealth",
        "StageRoute",
        "PassedOverProvider",
        "ProviderPreference",
        "ProviderPreferenceResult",
        "Providers",
        "ProviderKind",
        "ProviderHealthStatus",
    }
    introspection = data_of(
        "{ __schema { types { name fields { name args { name } } inputFields { name } "
        "enumValues { name } } } }"
    )
    found = {t["name"]: t for t in introspection["__schema"]["types"] if t["name"] in provider_types}
    assert set(found) == provider_types
    names = []
    for kind in found.values():
        for entry in (kind["fields"] or []) + (kind["inputFields"] or []) + (kind["enumValues"] or []):
            names.append(entry["name"])
            names.extend(arg["name"] for arg in entry.get("args") or [])
    assert names and not [
        n for n in names if re.search(r"key|credential|secret|token|password|cipher|auth", n, re.I)
    ]
    mutation = next(
        f
        for f in data_of('{ __type(name: "Mutation") { fields { name args { name } } } }')["__type"]["fields"]
        if f["name"] == "setProviderPreference"
    )
    assert [a["name"] for a in mutation["args"]] == ["capability", "provider"]
    # Nor in what the API answers, even to staff.
    boss = user("boss")
    boss.is_staff = True
    boss.save()
    answer = json.dumps(data_of(QUERY, caller=caller_for(boss)))
    stored = Provider.objects.get(name="big-llm").api_key_encrypted
    assert SECRET not in answer and stored not in answer and stored[:20] not in answer


@pytest.mark.usefixtures("media_root")
def test_who_wrote_the_lyrics_is_part_of_the_composition(registry: dict[str, Provider]) -> None:
    from tests.factories import full_composition

    composition = full_composition(owner=user("alice"))
    composition.lyrics.provider = "big-llm"
    composition.lyrics.save()
    from strawberry import relay

    data = data_of(
        "query($id: ID!) { composition(id: $id) { lyrics { source provider } } }",
        {"id": relay.to_base64("Composition", composition.pk)},
        caller_for("alice"),
    )
    assert data["composition"]["lyrics"]["provider"] == "big-llm"


def test_the_whole_view_is_three_queries_however_many_providers(
    registry: dict[str, Provider], django_assert_num_queries: Any
) -> None:
    for i in range(5):
        provider_create(
            name=f"extra-{i}",
            kind="openai_compatible",
            endpoint="http://127.0.0.1:9/v1",
            capabilities=["lyrics"],
        )
    alice = caller_for("alice")
    with django_assert_num_queries(3):  # providers, their latest calls, the caller's preferences
        data = data_of(QUERY, caller=alice)["providers"]
    assert len(data["providers"]) == 7
