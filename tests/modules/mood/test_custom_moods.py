"""Custom moods through GraphQL: making, listing, changing and deleting them; using one by name
in the `mood` input and in a prompt, with its effect on the music measured against a built-in
mood; and nobody else being able to use or see it."""

from __future__ import annotations

from statistics import mean
from typing import Any

import pytest
from strawberry import relay

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.mood.engine import MOODS
from modules.mood.models import CustomMood
from tests.graphql import caller_for, execute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

CREATE_MOOD = """mutation($input: CreateCustomMoodInput!) {
  createCustomMood(input: $input) { id name valence energy words description }
}"""
UPDATE_MOOD = """mutation($id: ID!, $input: UpdateCustomMoodInput!) {
  updateCustomMood(id: $id, input: $input) { id name valence energy words }
}"""
DELETE_MOOD = "mutation($id: ID!) { deleteCustomMood(id: $id) }"
MOODS_QUERY = "{ moods { name valence energy custom words id } }"
CREATE = "mutation($input: CreateCompositionInput!) { createComposition(input: $input) { id } }"
SONG = """query($id: ID!) { composition(id: $id) {
  status error
  mood { name valence energy custom source tags }
  genre { primary tempo }
  context { mood valence energy key scale tempo sources { field source } }
  layers { name notes }
  stages { name reused }
} }"""
BUILT_IN = sorted(MOODS)
GLOOM = {"name": "Rainy Sunday", "valence": -0.7, "energy": 0.12, "words": ["Drizzle", "grey afternoon"]}


def ok(query: str, variables: dict[str, Any] | None, caller: Any) -> dict[str, Any]:
    result = execute(query, variables, caller)
    assert result.errors is None, result.errors
    return result.data


def error(query: str, variables: dict[str, Any] | None, caller: Any) -> tuple[str, str, str | None]:
    result = execute(query, variables, caller)
    assert result.errors, result.data
    extensions = result.errors[0].extensions
    return extensions["code"], result.errors[0].message, extensions.get("field")


def make_mood(caller: Any, **values: Any) -> dict[str, Any]:
    return ok(CREATE_MOOD, {"input": {**GLOOM, **values}}, caller)["createCustomMood"]


def compose(caller: Any, capture: Any, **inputs: Any) -> dict[str, Any]:
    base = {"prompt": "a song for the weekend", "seed": 5, "durationSeconds": 20, "instrumental": True}
    with capture(execute=True):
        gid = ok(CREATE, {"input": {**base, **inputs}}, caller)["createComposition"]["id"]
    found = ok(SONG, {"id": gid}, caller)["composition"]
    assert found["status"] == "SUCCEEDED", found["error"]
    return {"id": gid, **found}


@pytest.fixture(autouse=True)
def quick_audio(settings: Any) -> None:
    settings.CODA_SAMPLE_RATE = 22050


# --------------------------------------------------------------------------- making and listing


def test_a_custom_mood_is_made_listed_changed_and_deleted_by_its_owner_only() -> None:
    alice, bob = caller_for("alice"), caller_for("bob")
    made = make_mood(alice, description="the best kind of gloom")
    assert (made["name"], made["valence"], made["energy"]) == ("Rainy Sunday", -0.7, 0.12)
    assert made["words"] == ["drizzle", "grey afternoon"] and made["description"] == "the best kind of gloom"

    catalog = ok(MOODS_QUERY, None, alice)["moods"]
    assert [m["name"] for m in catalog[: len(MOODS)]] == list(MOODS) and not any(
        m["custom"] for m in catalog[: len(MOODS)]
    )
    assert catalog[len(MOODS) :] == [
        {**{k: made[k] for k in ("name", "valence", "energy", "words", "id")}, "custom": True}
    ]
    assert [m["name"] for m in ok(MOODS_QUERY, None, bob)["moods"]] == list(MOODS), (
        "bob sees no mood of alice's"
    )
    assert [m["name"] for m in ok(MOODS_QUERY, None, caller_for(None))["moods"]] == list(MOODS)

    changed = ok(UPDATE_MOOD, {"id": made["id"], "input": {"energy": 0.3, "words": ["mist"]}}, alice)
    assert changed["updateCustomMood"] == {
        "id": made["id"],
        "name": "Rainy Sunday",
        "valence": -0.7,
        "energy": 0.3,
        "words": ["mist"],
    }
    assert CustomMood.objects.get().words == ["mist"] and CustomMood.objects.get().valence == -0.7

    # Another user's mood is not found, by id, for every change.
    assert error(UPDATE_MOOD, {"id": made["id"], "input": {"energy": 1.0}}, bob)[:2] == (
        "NOT_FOUND",
        f"no custom mood with id {made['id']}",
    )
    assert error(DELETE_MOOD, {"id": made["id"]}, bob)[0] == "NOT_FOUND"
    assert ok(
        "query($id: ID!) { node(id: $id) { id ... on CustomMood { name } } }", {"id": made["id"]}, bob
    ) == {"node": None}
    assert ok("query($id: ID!) { node(id: $id) { ... on CustomMood { name } } }", {"id": made["id"]}, alice)[
        "node"
    ] == {"name": "Rainy Sunday"}
    assert CustomMood.objects.get().energy == 0.3

    assert ok(DELETE_MOOD, {"id": made["id"]}, alice) == {"deleteCustomMood": made["id"]}
    assert not CustomMood.objects.exists()
    assert error(DELETE_MOOD, {"id": made["id"]}, alice)[0] == "NOT_FOUND"


def test_custom_mood_input_is_checked_with_clear_errors() -> None:
    alice = caller_for("alice")
    make_mood(alice)
    cases = [
        ({"name": "rainy   sunday"}, ("CONFLICT", "you already have a mood named 'rainy sunday'", "name")),
        ({"name": "Sad"}, ("BAD_USER_INPUT", "'sad' is a built-in mood; give yours another name", "name")),
        ({"name": "  "}, ("BAD_USER_INPUT", "give your mood a name", "name")),
        ({"name": "x" * 41}, ("BAD_USER_INPUT", "the name is 41 characters long; the limit is 40", "name")),
        (
            {"name": "<b>gloom</b>"},
            (
                "BAD_USER_INPUT",
                "'<b>gloom</b>': a mood name has letters (and digits, spaces, hyphens, apostrophes, &)",
                "name",
            ),
        ),
        (
            {"name": "Gloom", "valence": 1.5},
            ("BAD_USER_INPUT", "valence is from -1 (sad, dark) to 1 (happy, bright), not 1.5", "valence"),
        ),
        (
            {"name": "Gloom", "energy": -0.1},
            ("BAD_USER_INPUT", "energy is from 0 (calm) to 1 (intense), not -0.1", "energy"),
        ),
        (
            {"name": "Gloom", "words": ["happy"]},
            ("BAD_USER_INPUT", "'happy' is a built-in mood; your mood's words can't take it over", "words"),
        ),
        (
            {"name": "Gloom", "words": ["one two three four"]},
            (
                "BAD_USER_INPUT",
                "'one two three four': each word is a word or a phrase of up to 3 words, "
                "at most 30 characters",
                "words",
            ),
        ),
        (
            {"name": "Gloom", "words": ["w"] * 21},
            ("BAD_USER_INPUT", "give at most 20 words, not 21", "words"),
        ),
    ]
    for values, expected in cases:
        assert error(CREATE_MOOD, {"input": {**GLOOM, **values}}, alice) == expected, values
    code, message, field = error(CREATE_MOOD, {"input": {**GLOOM, "name": "Fuck This"}}, alice)
    assert (code, field) == ("CONTENT_REJECTED", "name") and message.startswith("name was rejected")
    assert error(CREATE_MOOD, {"input": GLOOM}, caller_for(None))[:2] == (
        "UNAUTHENTICATED",
        "sign in (session or API token) to do this",
    )
    assert CustomMood.objects.count() == 1


# --------------------------------------------------------------------------- using one


def test_a_custom_mood_by_name_makes_slower_darker_calmer_music_than_a_happy_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = caller_for("alice")
    make_mood(alice)
    capture = django_capture_on_commit_callbacks
    happy = compose(alice, capture, mood="happy", genres=[{"name": "pop"}])
    gloom = compose(alice, capture, mood="rainy sunday", genres=[{"name": "pop"}])

    assert gloom["mood"] == {
        "name": "Rainy Sunday",
        "valence": -0.7,
        "energy": 0.12,
        "custom": True,
        "source": "input",
        "tags": ["drizzle", "grey afternoon"],
    }
    assert (happy["mood"]["name"], happy["mood"]["custom"]) == ("happy", False)
    assert (gloom["context"]["mood"], gloom["context"]["valence"], gloom["context"]["energy"]) == (
        "Rainy Sunday",
        -0.7,
        0.12,
    )
    pk = int(relay.GlobalID.from_id(gloom["id"]).node_id)
    stored = CompositionContext.from_dict(Composition.objects.get(pk=pk).context)
    assert stored.mood is not None and stored.mood.custom is True, "the context records a custom mood"

    # Measured against happy, in the same genre, from the same seed: slower, minor, sparser, softer.
    assert gloom["genre"]["tempo"] < happy["genre"]["tempo"] - 8
    assert (happy["context"]["scale"], gloom["context"]["scale"]) == ("major", "minor")
    notes = {
        name: {layer["name"]: layer["notes"] for layer in song["layers"]}
        for name, song in (("happy", happy), ("gloom", gloom))
    }
    assert sum(map(len, notes["gloom"].values())) < 0.8 * sum(map(len, notes["happy"].values()))
    for layer in ("drums", "bass", "chords", "lead"):
        assert mean(n[3] for n in notes["gloom"][layer]) < mean(n[3] for n in notes["happy"][layer]), layer


def test_a_custom_mood_named_in_the_prompt_is_used(django_capture_on_commit_callbacks: Any) -> None:
    alice = caller_for("alice")
    make_mood(alice)
    found = compose(alice, django_capture_on_commit_callbacks, prompt="a rainy sunday song with piano")
    assert (found["mood"]["name"], found["mood"]["custom"], found["mood"]["source"]) == (
        "Rainy Sunday",
        True,
        "prompt",
    )
    assert (found["mood"]["valence"], found["mood"]["energy"]) == (-0.7, 0.12)
    by_word = compose(alice, django_capture_on_commit_callbacks, prompt="piano for a drizzle")
    assert by_word["mood"]["name"] == "Rainy Sunday"


def test_another_user_cannot_use_my_mood_and_gets_no_result_of_mine(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob = caller_for("alice"), caller_for("bob")
    make_mood(alice)
    make_mood(bob, name="Neon Rush", valence=0.5, energy=0.9, words=[])
    code, message, field = error(
        CREATE, {"input": {"prompt": "a song", "mood": "Rainy Sunday", "durationSeconds": 20}}, bob
    )
    assert (code, field) == ("BAD_USER_INPUT", "mood")
    assert (
        message
        == f"unknown mood 'rainy sunday'; choose one of: {', '.join(BUILT_IN)}; or one of yours: Neon Rush"
    )
    anonymous = error(CREATE, {"input": {"prompt": "a song", "mood": "rainy sunday"}}, caller_for(None))
    assert anonymous[1] == f"unknown mood 'rainy sunday'; choose one of: {', '.join(BUILT_IN)}"
    assert Composition.objects.count() == 0

    # The same prompt and seed: alice's reading is her mood; bob's is the built-in reading, and
    # is not reused from alice's (her mood is part of what the stage read).
    prompt = "a rainy sunday song with piano"
    mine = compose(alice, django_capture_on_commit_callbacks, prompt=prompt)
    theirs = compose(bob, django_capture_on_commit_callbacks, prompt=prompt)
    assert mine["mood"]["custom"] is True
    assert theirs["mood"]["custom"] is False and theirs["mood"]["name"] in MOODS
    assert {s["name"]: s["reused"] for s in theirs["stages"]}["mood"] is False


def test_an_edit_takes_the_mood_as_it_is_now_and_a_deleted_mood_stays_as_it_was(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = caller_for("alice")
    made = make_mood(alice)
    capture = django_capture_on_commit_callbacks
    song = compose(alice, capture, mood="Rainy Sunday")
    ok(UPDATE_MOOD, {"id": made["id"], "input": {"valence": -0.2, "energy": 0.4}}, alice)
    assert ok(SONG, {"id": song["id"]}, alice)["composition"]["mood"]["valence"] == -0.7, (
        "made with what it was"
    )

    update = """mutation($id: ID!, $input: UpdateCompositionInput!) {
      updateComposition(id: $id, input: $input) { id }
    }"""
    with capture(execute=True):
        ok(update, {"id": song["id"], "input": {"tempo": 90}}, alice)
    edited = ok(SONG, {"id": song["id"]}, alice)["composition"]
    assert (edited["mood"]["valence"], edited["mood"]["energy"], edited["mood"]["custom"]) == (
        -0.2,
        0.4,
        True,
    )

    ok(DELETE_MOOD, {"id": made["id"]}, alice)
    with capture(execute=True):
        ok(update, {"id": song["id"], "input": {"tempo": 96}}, alice)
    kept = ok(SONG, {"id": song["id"]}, alice)["composition"]
    assert kept["status"] == "SUCCEEDED" and (kept["mood"]["name"], kept["mood"]["valence"]) == (
        "Rainy Sunday",
        -0.2,
    )
    assert {s["name"]: s["reused"] for s in kept["stages"]}["mood"] is True
