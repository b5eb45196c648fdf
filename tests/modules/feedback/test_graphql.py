"""Feedback and preferences through GraphQL: every element, one type; private to their user;
typed errors; explanations; reset; a fixed number of queries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.test import AsyncRequestFactory
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from modules.accounts.caller import READ, Caller
from modules.composition.models import Version
from modules.composition.pipeline import run_inline
from modules.composition.services import composition_create, composition_set_visibility, composition_share
from modules.feedback.models import Feedback
from modules.mastering.models import Master
from schema import schema
from schema.views import CodaGraphQLView
from tests.factories import full_composition
from tests.graphql import caller_for, data_of, execute, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

SUBMIT = """mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { id kind element layer version rating text context attributes compositionId }
}"""
ON_COMPOSITION = """query($id: ID!, $element: FeedbackElement, $layer: String) {
  composition(id: $id) { feedback(element: $element, layer: $layer) { id kind element layer version rating } }
}"""
PREFERENCES = """query($attribute: String) { me { preferences {
  genres { value weight } moods { value weight } voices { value weight } keys { value weight }
  scales { value weight } programs { program instrument weight }
  tempo { preferred low high strength } loudness { preferred strength } feedbackCount resetAt
  explanations(attribute: $attribute) { attribute value delta feedbackId element }
} } }"""
RESET = "mutation { resetPreferences { genres { value } feedbackCount resetAt } }"
DELETE = "mutation($id: ID!) { deleteFeedback(id: $id) }"


def song_of(owner: Any, seed: int = 1) -> Any:
    """The factory's composition, its context filled in as the pipeline would have (genre, mood,
    voice, loudness and programs match its elements)."""
    song = full_composition(owner=owner, seed=seed)
    song.context.update(
        genres=[{"name": "electronic", "weight": 1.0}],
        mood={"name": "uplifting", "valence": 0.7, "energy": 0.6, "tags": []},
        vocal_style="alto",
        loudness_target=-9.0,
        style={"programs": {"bass": 39, "chords": 0}},
    )
    song.save(update_fields=["context"])
    return song


def gid(type_name: str, pk: int) -> str:
    return relay.to_base64(type_name, pk)


def submit(who: Any, composition: Any, kind: str = "LIKE", **extra: Any) -> Any:
    variables = {"input": {"compositionId": gid("Composition", composition.pk), "kind": kind, **extra}}
    return execute(SUBMIT, variables, caller_for(who) if who is not None else Caller(ip="127.0.0.1"))


def given(who: Any, composition: Any, kind: str = "LIKE", **extra: Any) -> dict[str, Any]:
    result = submit(who, composition, kind, **extra)
    assert result.errors is None, result.errors
    return result.data["submitFeedback"]


def test_a_songs_loudness_is_learnt_from_its_master_as_measured_not_from_the_context_target() -> None:
    """What was heard: the master's measured integrated loudness, whatever the target said (a preset,
    a reference, the genre); the context's target only for a song without a master."""
    alice = user("alice")
    song = song_of(alice)
    Master.objects.filter(composition=song).update(integrated_lufs=-10.4)
    Version.objects.filter(composition=song, number=1).update(
        elements={"mastering": {"Master": [{"target_lufs": -9.0, "integrated_lufs": -12.2}]}}
    )
    whole = given(alice, song, "LIKE")
    version = given(alice, song, "LIKE", element="VERSION", version=1)
    assert whole["attributes"]["loudness"] == {"value": -10.4, "share": 0.5}
    assert version["attributes"]["loudness"] == {"value": -12.2, "share": 0.5}
    Master.objects.filter(composition=song).delete()
    Version.objects.filter(composition=song, number=1).update(elements={"lyrics": {}})
    assert given(alice, song, "LIKE")["attributes"]["loudness"] == {"value": -9.0, "share": 0.5}
    assert "loudness" not in given(alice, song, "LIKE", element="VERSION", version=1)["attributes"], (
        "that version had neither a master nor a target"
    )


def error(result: Any) -> tuple[str, str | None, str]:
    assert result.errors, result.data
    extensions = result.errors[0].extensions or {}
    return extensions.get("code"), extensions.get("field"), result.errors[0].message


def test_feedback_on_every_element_is_one_type_and_queryable_per_element() -> None:
    alice = user("alice")
    song = song_of(alice)
    made = {
        "COMPOSITION": given(
            alice, song, "LIKE", rating=5, text="  lovely  ", context={"playbackSeconds": 42}
        ),
        "MOOD": given(alice, song, "ACCEPT", element="MOOD"),
        "GENRE": given(alice, song, "DISLIKE", element="GENRE", rating=2),
        "LAYER": given(alice, song, "TWEAK", element="LAYER", layer="Bass", rating=4),
        "LYRICS": given(alice, song, "DECLINE", element="LYRICS"),
        "VOICE": given(alice, song, "DISLIKE", element="VOICE"),
        "MASTER": given(alice, song, "LIKE", element="MASTER"),
        "VERSION": given(alice, song, "LIKE", element="VERSION", version=1),
    }
    whole = made["COMPOSITION"]
    assert (whole["kind"], whole["rating"], whole["text"], whole["context"]) == (
        "LIKE",
        5,
        "lovely",
        {"playbackSeconds": 42},
    )
    assert whole["compositionId"] == gid("Composition", song.pk)
    assert (
        whole["attributes"]["genres"] == {"electronic": 1.0}
        and whole["attributes"]["tempo"]["value"] == 124.0
    )
    assert (made["LAYER"]["layer"], made["LAYER"]["version"]) == ("bass", None)
    assert (made["VERSION"]["layer"], made["VERSION"]["version"]) == (None, 1)
    assert made["LAYER"]["attributes"] == {"programs": {"0": 1.0}}
    assert made["VOICE"]["attributes"] == {"voices": {"alto": 1.0}}
    assert made["MASTER"]["attributes"] == {"loudness": {"value": -9.0, "share": 1.0}}
    assert made["MOOD"]["attributes"] == {"moods": {"uplifting": 1.0}}
    assert Feedback.objects.filter(composition=song).count() == 8

    listed = data_of(ON_COMPOSITION, {"id": gid("Composition", song.pk)}, caller_for(alice))["composition"][
        "feedback"
    ]
    assert [f["element"] for f in listed] == list(reversed(made)), "newest first"
    only_voice = data_of(
        ON_COMPOSITION, {"id": gid("Composition", song.pk), "element": "VOICE"}, caller_for(alice)
    )
    assert [f["id"] for f in only_voice["composition"]["feedback"]] == [made["VOICE"]["id"]]
    only_bass = data_of(
        ON_COMPOSITION, {"id": gid("Composition", song.pk), "layer": "bass"}, caller_for(alice)
    )
    assert [f["id"] for f in only_bass["composition"]["feedback"]] == [made["LAYER"]["id"]]

    mine = data_of(
        "{ myFeedback(first: 3, element: VOICE) { totalCount edges { node { id } } } }",
        None,
        caller_for(alice),
    )
    assert mine["myFeedback"]["totalCount"] == 1


def test_preferences_are_learnt_explained_and_reset() -> None:
    alice = user("alice")
    song = song_of(alice)
    liked = given(alice, song, "LIKE")
    disliked_voice = given(alice, song, "DISLIKE", element="VOICE")
    prefs = data_of(PREFERENCES, None, caller_for(alice))["me"]["preferences"]
    assert prefs["genres"] == [{"value": "electronic", "weight": 0.4621}]
    assert prefs["moods"] == [{"value": "uplifting", "weight": 0.4621}]
    # The song's alto (+0.5 share, like) then the voice itself disliked (-1): tanh(0.25 - 0.5).
    assert prefs["voices"] == [{"value": "alto", "weight": -0.2449}]
    assert prefs["keys"] == [{"value": "D", "weight": 0.2449}] and prefs["scales"] == [
        {"value": "major", "weight": 0.2449}
    ]
    assert prefs["tempo"] == {"preferred": 119.33, "low": 114.33, "high": 124.33, "strength": 0.5}
    assert prefs["feedbackCount"] == 2 and prefs["resetAt"] is None
    voices = data_of(PREFERENCES, {"attribute": "voices"}, caller_for(alice))["me"]["preferences"][
        "explanations"
    ]
    assert voices == [
        {
            "attribute": "voices",
            "value": "alto",
            "delta": -0.4898,
            "feedbackId": disliked_voice["id"],
            "element": "VOICE",
        },
        {
            "attribute": "voices",
            "value": "alto",
            "delta": 0.2449,
            "feedbackId": liked["id"],
            "element": "COMPOSITION",
        },
    ]
    assert sum(e["delta"] for e in voices) == pytest.approx(prefs["voices"][0]["weight"], abs=1e-3)

    # Another user's profile is untouched; deleting feedback forgets what it taught.
    assert data_of(PREFERENCES, None, caller_for("bob"))["me"]["preferences"]["feedbackCount"] == 0
    assert (
        data_of(DELETE, {"id": disliked_voice["id"]}, caller_for(alice))["deleteFeedback"]
        == disliked_voice["id"]
    )
    after = data_of(PREFERENCES, None, caller_for(alice))["me"]["preferences"]
    assert after["voices"] == [{"value": "alto", "weight": 0.2449}] and after["feedbackCount"] == 1

    reset = data_of(RESET, None, caller_for(alice))["resetPreferences"]
    assert reset["genres"] == [] and reset["feedbackCount"] == 0 and reset["resetAt"]
    assert Feedback.objects.filter(user=alice).count() == 1, "the feedback itself stays"
    again = given(alice, song, "DISLIKE", element="GENRE")
    fresh = data_of(PREFERENCES, None, caller_for(alice))["me"]["preferences"]
    assert fresh["genres"] == [{"value": "electronic", "weight": -0.4621}], (
        "only feedback after the reset counts"
    )
    # One explanation: the genre's weight (a dislike alone starts no tempo preference).
    assert [(e["attribute"], e["feedbackId"]) for e in fresh["explanations"]] == [("genres", again["id"])]


def test_a_new_composition_shows_the_priors_it_started_with() -> None:
    alice = user("alice")
    given(alice, song_of(alice), "DISLIKE", element="VOICE")
    mine = composition_create(prompt="a song for tonight", seed=1, caller=caller_for(alice), start=False)
    theirs = composition_create(prompt="a song for tonight", seed=1, caller=caller_for("bob"), start=False)
    query = """query($id: ID!) { composition(id: $id) { context {
      priors { choice source weights { value weight } value strength } } } }"""
    shown = data_of(query, {"id": gid("Composition", mine.pk)}, caller_for(alice))["composition"]["context"]
    assert shown["priors"] == [
        {
            "choice": "voices",
            "source": "profile",
            "weights": [{"value": "alto", "weight": -0.4621}],
            "value": None,
            "strength": None,
        }
    ]
    other = data_of(query, {"id": gid("Composition", theirs.pk)}, caller_for("bob"))["composition"]["context"]
    assert other["priors"] == []


PRIORS_SEEN = """query($id: ID!) { composition(id: $id) {
  context { priors { choice } sources { field source } } versions { number context { priors { choice } } }
} }"""
DIFF = """query($id: ID!) { versionDiff(compositionId: $id, a: 1) { context { field before after } } }"""


def test_the_owners_priors_are_shown_to_the_owner_only_shared_and_public_readers_see_none() -> None:
    """The priors are the owner's preference profile (every weight, dislikes included), which is
    private: a shared reader and an anonymous reader of a PUBLIC composition see which choices came
    from the profile (`sources`), never the profile itself, in the context, a version's context,
    versionDiff or the composition.json file."""
    alice = user("alice")
    given(alice, song_of(alice), "LIKE", rating=5)  # electronic, uplifting, alto, D major, 124 bpm...
    given(alice, song_of(alice, seed=2), "DISLIKE", element="VOICE")
    song = composition_create(
        prompt="a song for tonight", seed=11, duration_seconds=15, caller=caller_for(alice), start=False
    )
    run_inline(song.pk)
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    stored = set(song.context["priors"])
    assert {"genres", "moods", "voices", "tempo"} <= stored
    profile_sources = sorted(f for f, source in song.context["sources"].items() if source == "profile")
    assert profile_sources, "the profile leaned some open choice"
    # A version whose context had no priors yet (kept before they existed), so the diff has priors rows.
    Version.objects.create(
        composition=song,
        number=1,
        reason="before priors",
        context={k: v for k, v in song.context.items() if k != "priors"},
        elements={},
    )
    user("bob")
    composition_share(song, "bob")
    composition_set_visibility(song, "PUBLIC")
    sid = gid("Composition", song.pk)
    anonymous = Caller(ip="127.0.0.1")

    def seen(who: Any) -> tuple[list[str], list[str], list[str], list[str]]:
        found = data_of(PRIORS_SEEN, {"id": sid}, who)["composition"]
        rows = [c["field"] for c in data_of(DIFF, {"id": sid}, who)["versionDiff"]["context"]]
        return (
            sorted(p["choice"] for p in found["context"]["priors"]),
            sorted(p["choice"] for v in found["versions"] for p in v["context"]["priors"]),
            sorted(r for r in rows if r.startswith("priors")),
            sorted(s["field"] for s in found["context"]["sources"] if s["source"] == "profile"),
        )

    owner = seen(caller_for(alice))
    assert owner == (
        sorted(stored),
        [],  # the version kept none
        sorted(f"priors.{c}" for c in stored),
        profile_sources,
    )
    for reader in (caller_for("bob"), anonymous):
        assert seen(reader) == ([], [], [], profile_sources), (
            "which choices the profile made, not the profile"
        )
    # The composition.json sheet, which every reader may download: the sources, not the priors.
    sheet = json.loads(song.artifacts.get(name="composition.json", current=True).file.read())
    assert "priors" not in sheet["context"]
    assert (
        sorted(f for f, source in sheet["context"]["sources"].items() if source == "profile")
        == profile_sources
    )
    assert "alto" not in json.dumps(sheet["context"]["sources"])


def feedback_ids_seen(who: Any, song: Any) -> list[str]:
    found = data_of(ON_COMPOSITION, {"id": gid("Composition", song.pk)}, caller_for(who))
    return [f["id"] for f in found["composition"]["feedback"]]


def test_feedback_is_private_and_needs_a_readable_composition() -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    song = song_of(alice)
    code, _, message = error(submit(bob, song))
    assert (code, message) == ("NOT_FOUND", f"no composition with id {gid('Composition', song.pk)}")
    assert error(submit(None, song))[0] == "UNAUTHENTICATED"
    read_only = execute(
        SUBMIT,
        {"input": {"compositionId": gid("Composition", song.pk), "kind": "LIKE"}},
        caller_for(alice, scopes=frozenset({READ})),
    )
    assert error(read_only)[0] == "FORBIDDEN"

    composition_share(song, "carol")  # carol may read it, so she may say what she thinks of it
    hers = given(carol, song, "DISLIKE")
    mine = given(alice, song, "LIKE")
    assert feedback_ids_seen(alice, song) == [mine["id"]], "each sees their own feedback only"
    assert feedback_ids_seen(carol, song) == [hers["id"]]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert data_of(node, {"id": hers["id"]}, caller_for(carol))["node"] == {"id": hers["id"]}
    assert data_of(node, {"id": hers["id"]}, caller_for(alice))["node"] is None
    assert error(execute(DELETE, {"id": hers["id"]}, caller_for(alice)))[0] == "NOT_FOUND"
    assert Feedback.objects.filter(pk=relay.GlobalID.from_id(hers["id"]).node_id).exists()
    assert (
        error(execute("{ myFeedback { totalCount } }", None, Caller(ip="127.0.0.1")))[0] == "UNAUTHENTICATED"
    )


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"rating": 6}, "rating", "rating must be between 1 and 5, not 6"),
        ({"rating": 0}, "rating", "rating must be between 1 and 5, not 0"),
        (
            {"element": "LAYER", "layer": "tuba"},
            "layer",
            "composition has no layer 'tuba'; its layers are drums, bass",
        ),
        ({"element": "LAYER"}, "layer", "element LAYER needs `layer`: the name of one of its layers"),
        ({"element": "VERSION", "version": 7}, "version", "composition has no version 7; its versions are 1"),
        ({"element": "VOICE", "version": 1}, "version", "`version` is only for element VERSION, not VOICE"),
        ({"layer": "bass"}, "layer", "`layer` is only for element LAYER, not COMPOSITION"),
        ({"text": "x" * 2001}, "text", "text is 2001 characters long; the limit is 2000"),
        (
            {"context": {"blob": "y" * 4000}},
            "context",
            "context is 4011 characters of JSON; the limit is 4000",
        ),
    ],
)
def test_bad_input_is_a_typed_error_and_stores_nothing(extra: dict, field: str, message: str) -> None:
    alice = user("alice")
    song = song_of(alice)
    assert error(submit(alice, song, **extra)) == ("BAD_USER_INPUT", field, message)
    assert not Feedback.objects.exists()


def test_an_element_not_made_is_bad_input_and_a_wrong_id_too() -> None:
    alice = user("alice")
    song = song_of(alice)
    song.voice.delete()
    assert error(submit(alice, song, element="VOICE")) == (
        "BAD_USER_INPUT",
        "element",
        "composition has no voice element (not made yet, or not part of this song)",
    )
    bad = execute(SUBMIT, {"input": {"compositionId": gid("Layer", 1), "kind": "LIKE"}}, caller_for(alice))
    assert error(bad)[:2] == ("BAD_USER_INPUT", "compositionId")
    unknown_kind = {"input": {"compositionId": gid("Composition", song.pk), "kind": "LOVE"}}
    assert "'LOVE'" in error(execute(SUBMIT, unknown_kind, caller_for(alice)))[2]
    assert not Feedback.objects.exists()


def test_a_page_of_compositions_with_feedback_costs_the_same_queries_for_1_and_10() -> None:
    alice = user("alice")
    songs = [song_of(alice, seed=i) for i in range(10)]
    for song in songs:
        given(alice, song, "LIKE")
        given(alice, song, "DISLIKE", element="VOICE")
    page = "query($first: Int!) { compositions(first: $first) { edges { node { feedback { id kind } } } } }"

    def queries(first: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            found = data_of(page, {"first": first}, caller_for(alice))
        assert all(len(edge["node"]["feedback"]) == 2 for edge in found["compositions"]["edges"])
        return len(captured.captured_queries)

    assert queries(1) == queries(10)


@pytest.mark.django_db(transaction=True)  # the ORM runs in asgiref's thread, outside a test transaction
async def test_the_async_view_serves_feedback_preferences_and_versions() -> None:
    """Through the HTTP view as Daphne runs it (async): the ORM resolvers hop to a thread."""
    alice = await sync_to_async(user)("alice")
    song = await sync_to_async(song_of)(alice)
    view = CodaGraphQLView.as_view(schema=schema)

    async def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        request = AsyncRequestFactory().post(
            "/graphql", data={"query": query, "variables": variables}, content_type="application/json"
        )
        request.caller = caller_for(alice)  # type: ignore[attr-defined]
        answer = json.loads((await view(request)).content)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    try:
        composition = {"compositionId": gid("Composition", song.pk)}
        await post(SUBMIT, {"input": {**composition, "kind": "LIKE", "element": "GENRE"}})
        seen = await post(ON_COMPOSITION, {"id": composition["compositionId"]})
        assert [f["element"] for f in seen["composition"]["feedback"]] == ["GENRE"]
        prefs = await post(PREFERENCES, {"attribute": "genres"})
        assert prefs["me"]["preferences"]["genres"] == [{"value": "electronic", "weight": 0.4621}]
        diff = await post(
            "query($id: ID!) { versionDiff(compositionId: $id, a: 1) { files { name change } } }",
            {"id": composition["compositionId"]},
        )
        files = {f["name"]: f["change"] for f in diff["versionDiff"]["files"]}
        assert files["master.wav"] == "ADDED" and "vocal.mid" not in files  # version 1 kept vocal.mid only
        restored = await post(
            "mutation($id: ID!) { restoreVersion(compositionId: $id, number: 1) { versions { number } } }",
            {"id": composition["compositionId"]},
        )
        assert [v["number"] for v in restored["restoreVersion"]["versions"]] == [2, 1]
    finally:
        await sync_to_async(connections.close_all)()
