"""Bad input gets a clear, typed GraphQL error, never a crash."""

from __future__ import annotations

import pytest

from modules.composition.models import Composition
from tests.graphql import execute
from tests.queries import CREATE

pytestmark = pytest.mark.django_db


def create_error(**input_fields: object) -> dict:
    result = execute(CREATE, {"input": {"prompt": "calm piano", **input_fields}})
    assert result.errors, "expected an error"
    assert result.data is None or result.data.get("createComposition") is None
    error = result.errors[0]
    return {"message": error.message, **(error.extensions or {})}


@pytest.mark.parametrize(
    ("fields", "field", "needle"),
    [
        ({"prompt": ""}, "prompt", "must not be empty"),
        ({"prompt": "   "}, "prompt", "must not be empty"),
        ({"prompt": "x" * 100_000}, "prompt", "the limit is 2000"),
        ({"durationSeconds": 0}, "durationSeconds", "between 15 and 240"),
        ({"durationSeconds": 241}, "durationSeconds", "between 15 and 240"),
        ({"genres": [{"name": "polka-metal", "weight": 1}]}, "genres", "unknown genre 'polka-metal'"),
        ({"genres": [{"name": "pop", "weight": 0}]}, "genres", "greater than 0"),
        ({"mood": "hangry"}, "mood", "unknown mood 'hangry'"),
        ({"key": "H#"}, "key", "unknown key"),
        ({"scale": "bebop"}, "scale", "unknown scale"),
        ({"tempo": 1000}, "tempo", "between 40 and 220"),
        ({"voice": "castrato"}, "voice", "unknown voice"),
        ({"seed": -5}, "seed", "seed must be between"),
    ],
)
def test_bad_create_input_is_a_typed_error(fields: dict, field: str, needle: str) -> None:
    error = create_error(**fields)
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == field
    assert needle in error["message"]
    assert Composition.objects.count() == 0, "nothing is stored for rejected input"


@pytest.mark.parametrize("bad_id", ["garbage", "123", "", "Q29tcG9zaXRpb246YWJj", "TGF5ZXI6MQ=="])
def test_malformed_id_is_a_typed_error(bad_id: str) -> None:
    result = execute("query($id: ID!) { composition(id: $id) { id } }", {"id": bad_id})
    assert result.errors
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "is not a Composition id" in result.errors[0].message


def test_unknown_composition_is_not_found() -> None:
    from strawberry import relay

    result = execute(
        "query($id: ID!) { composition(id: $id) { id } }", {"id": relay.to_base64("Composition", 99999)}
    )
    assert result.errors[0].extensions["code"] == "NOT_FOUND"


def test_wrong_type_of_variable_is_a_validation_error() -> None:
    result = execute(CREATE, {"input": {"prompt": "x", "durationSeconds": "long"}})
    assert result.errors
    assert "durationSeconds" in result.errors[0].message
