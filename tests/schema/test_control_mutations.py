"""regenerateStage, updateComposition and cancelComposition: typed errors and results."""

from __future__ import annotations

import pytest
from strawberry import relay

from modules.composition.services import composition_create
from tests.factories import full_composition
from tests.graphql import TESTER, caller_for, execute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

REGENERATE = """mutation($id: ID!, $stage: String!) {
  regenerateStage(compositionId: $id, stage: $stage, seed: 4) { status }
}"""
UPDATE = """mutation($id: ID!, $input: UpdateCompositionInput!) {
  updateComposition(id: $id, input: $input) { status }
}"""
CANCEL = "mutation($id: ID!) { cancelComposition(id: $id) { status stages { status } } }"


def error_of(query: str, variables: dict) -> tuple[str, str]:
    result = execute(query, variables)
    assert result.errors, result.data
    return result.errors[0].extensions["code"], result.errors[0].message


def gid(pk: int) -> str:
    return relay.to_base64("Composition", pk)


def test_regenerating_a_running_composition_is_a_conflict() -> None:
    queued = composition_create(prompt="calm piano", seed=1, start=False, caller=caller_for(TESTER))
    code, message = error_of(REGENERATE, {"id": gid(queued.pk), "stage": "lyrics"})
    assert code == "CONFLICT" and "is QUEUED" in message


def test_unknown_stage_and_bad_edits_are_bad_input() -> None:
    song = full_composition()
    assert error_of(REGENERATE, {"id": gid(song.pk), "stage": "drums"}) == (
        "BAD_USER_INPUT",
        "unknown stage 'drums'; choose one of: mood, genre, arrangement, lyrics, voice, mastering",
    )
    code, message = error_of(UPDATE, {"id": gid(song.pk), "input": {"tempo": 9}})
    assert code == "BAD_USER_INPUT" and "between 40 and 220" in message
    code, message = error_of(UPDATE, {"id": gid(song.pk), "input": {"durationSeconds": 999}})
    assert code == "BAD_USER_INPUT" and "between 15 and 240" in message


def test_missing_composition_is_not_found_for_every_mutation() -> None:
    for query, variables in (
        (REGENERATE, {"stage": "lyrics"}),
        (UPDATE, {"input": {"tempo": 100}}),
        (CANCEL, {}),
    ):
        code, _ = error_of(query, {"id": gid(987654), **variables})
        assert code == "NOT_FOUND"


def test_cancel_returns_the_cancelled_composition_and_refuses_a_finished_one() -> None:
    queued = composition_create(prompt="calm piano", seed=1, start=False, caller=caller_for(TESTER))
    result = execute(CANCEL, {"id": gid(queued.pk)})
    assert result.errors is None
    assert result.data["cancelComposition"]["status"] == "CANCELLED"
    assert {s["status"] for s in result.data["cancelComposition"]["stages"]} == {"CANCELLED"}
    code, message = error_of(CANCEL, {"id": gid(queued.pk)})
    assert code == "BAD_USER_INPUT" and "already finished (CANCELLED)" in message


def test_mutation_results_can_select_every_composition_field() -> None:
    # Objects returned by mutations are not loaded through the optimizer's prefetches.
    queued = composition_create(prompt="calm piano", seed=1, start=False, caller=caller_for(TESTER))
    result = execute(
        "mutation($id: ID!) { cancelComposition(id: $id) { artifacts { name } versions { number } "
        "context { tempo sources { field source } } stages { name } } }",
        {"id": gid(queued.pk)},
    )
    assert result.errors is None, result.errors
    assert result.data["cancelComposition"]["artifacts"] == []
    assert {"field": "seed", "source": "input"} in result.data["cancelComposition"]["context"]["sources"]
