"""Relay conventions: every Node type resolves through `node(id)` for its owner only, connections
page with cursors, and malformed ids or cursors are the client's BAD_USER_INPUT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone
from graphql import is_object_type
from strawberry import relay

from modules.accounts.tokens import token_create
from modules.feedback.services import feedback_submit
from modules.genre.models import GenreReference
from modules.mastering.models import MasteringPreset, MasteringReference
from modules.mood.models import CustomMood, Playlist
from modules.voice.models import VoiceProfile
from modules.webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint
from schema import schema
from schema.subgraphs import subgraph_schemas
from tests.factories import full_composition
from tests.graphql import caller_for, execute, user

pytestmark = pytest.mark.django_db


def webhook_endpoint(owner: Any) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        owner=owner, url="https://example.com/hook", events=[EventType.COMPOSITION_SUCCEEDED], secret="s"
    )


def webhook_delivery(owner: Any) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=webhook_endpoint(owner),
        composition=full_composition(owner=owner),
        event_type=EventType.COMPOSITION_SUCCEEDED,
        seq=1,
        status=DeliveryStatus.DELIVERED,
    )


def feedback(owner: Any) -> Model:
    return feedback_submit(owner, full_composition(owner=owner), element="MOOD", kind="LIKE")


def voice_profile(owner: Any) -> Model:
    # The rows alone (tests/modules/voice makes real ones from recordings).
    return VoiceProfile.objects.create(
        owner=owner,
        name="deep",
        median_pitch_hz=120.0,
        pitch_low_hz=90.0,
        pitch_high_hz=180.0,
        f1_hz=450.0,
        f2_hz=1200.0,
        f3_hz=2200.0,
        spectral_centroid_hz=900.0,
        voiced_ratio=0.8,
        sample_seconds=10.0,
        voiced_seconds=8.0,
        analysis_version="test",
        consent_version="test",
        consent_statement="I am the speaker.",
        consent_basis="SELF",
        consent_given_at=timezone.now(),
    )


REFERENCE_FILE = {"file": "references/test.wav", "sha256": "0" * 64, "format": "WAV", "size_bytes": 1000}
REFERENCE_AUDIO = {"duration_seconds": 10.0, "sample_rate": 44100}


def mastering_reference(owner: Any) -> Model:
    return MasteringReference.objects.create(
        owner=owner,
        name="ref",
        **REFERENCE_FILE,
        **REFERENCE_AUDIO,
        integrated_lufs=-11.0,
        true_peak_dbtp=-1.0,
        band_levels=[0.0] * 28,
    )


def genre_reference(owner: Any) -> Model:
    return GenreReference.objects.create(
        owner=owner,
        name="ref",
        **REFERENCE_FILE,
        **REFERENCE_AUDIO,
        tempo=100.0,
        beat_count=16,
        beat_jitter_ms=5.0,
        key="D",
        scale="minor",
        key_score=1.5,
        key_margin=0.2,
        runner_up="F major",
    )


# One maker per Node type: a type added to the schema without one fails the test below.
NODE_MAKERS: dict[str, Callable[[Any], Model]] = {
    "ApiToken": lambda owner: token_create(owner, name="ci", scopes=["read"])[0],
    "Composition": lambda owner: full_composition(owner=owner),
    "Feedback": feedback,
    "WebhookEndpoint": webhook_endpoint,
    "WebhookDelivery": webhook_delivery,
    "VoiceProfile": voice_profile,
    "MasteringPreset": lambda owner: MasteringPreset.objects.create(owner=owner, name="loud", target_lufs=-9),
    "MasteringReference": mastering_reference,
    "GenreReference": genre_reference,
    "CustomMood": lambda owner: CustomMood.objects.create(
        owner=owner, name="Rainy Sunday", key="rainy sunday", valence=-0.7, energy=0.1, words=[]
    ),
    "Playlist": lambda owner: Playlist.objects.create(owner=owner, name="evening"),
}


def node_types() -> list[str]:
    node = schema._schema.get_type("Node")
    return sorted(
        name
        for name, named in schema._schema.type_map.items()
        if is_object_type(named) and node in named.interfaces  # type: ignore[union-attr]
    )


def test_every_node_type_has_a_maker_here() -> None:
    assert node_types() == sorted(NODE_MAKERS)


@pytest.mark.parametrize("type_name", sorted(NODE_MAKERS))
def test_node_resolves_each_type_for_its_owner_and_null_for_others(type_name: str) -> None:
    made = NODE_MAKERS[type_name](user("owner"))
    global_id = relay.to_base64(type_name, made.pk)
    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    mine = execute(query, {"id": global_id}, caller_for("owner"))
    assert mine.errors is None and mine.data["node"] == {"__typename": type_name, "id": global_id}
    theirs = execute(query, {"id": global_id}, caller_for("stranger"))
    assert theirs.errors is None and theirs.data["node"] is None


@pytest.mark.parametrize(
    ("global_id", "message"),
    [
        ("garbage", "cannot represent a GlobalID"),
        (relay.to_base64("Nope", 1), "no type 'Nope'"),
        (relay.to_base64("MoodInfo", 1), "no type 'MoodInfo'"),  # a type, but not a Node
        (relay.to_base64("Composition", "abc"), "is not a Composition id"),
    ],
)
def test_a_malformed_node_id_is_bad_user_input(global_id: str, message: str) -> None:
    result = execute("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    # A string that is no global id at all fails as the variable is coerced, before `node` is reached.
    assert result.errors[0].extensions.get("field") == (None if global_id == "garbage" else "id")
    assert message in result.errors[0].message


def connection_fields() -> list[str]:
    query = schema._schema.query_type
    return sorted(name for name, f in query.fields.items() if str(f.type).rstrip("!").endswith("Connection"))


def test_connections_page_forward_with_cursors() -> None:
    made = [full_composition(seed=i).pk for i in range(5)]
    page = "query($after: String) { compositions(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
    seen, after = [], None
    while True:
        result = execute(page, {"after": after})
        assert result.errors is None, result.errors
        connection = result.data["compositions"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == [relay.to_base64("Composition", pk) for pk in reversed(made)]  # newest first


@pytest.mark.parametrize(
    "cursor", ["garbage", relay.to_base64("arrayconnection", "abc"), relay.to_base64("x", 1)]
)
@pytest.mark.parametrize("field", ["compositions", "publicCompositions", "myFeedback"])
def test_a_cursor_no_connection_gave_is_bad_user_input(field: str, cursor: str) -> None:
    result = execute(f"query($c: String) {{ {field}(after: $c) {{ totalCount }} }}", {"c": cursor})
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert result.errors[0].extensions["field"] == "after"


def test_the_connections_checked_above_are_all_the_root_connections() -> None:
    assert connection_fields() == [
        "compositions",
        "moodPlaylist",
        "myFeedback",
        "publicCompositions",
        "webhookDeliveries",
    ]


def test_mood_playlist_refuses_a_bad_cursor_too() -> None:
    result = execute('{ moodPlaylist(mood: "happy", after: "garbage") { totalCount } }')
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert result.errors[0].extensions["field"] == "after"


def test_webhook_deliveries_refuses_a_bad_cursor_too() -> None:
    endpoint = webhook_endpoint(user())
    result = execute(
        'query($id: ID!) { webhookDeliveries(endpointId: $id, before: "garbage") { totalCount } }',
        {"id": relay.to_base64("WebhookEndpoint", endpoint.pk)},
    )
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert result.errors[0].extensions["field"] == "before"


@pytest.mark.parametrize("type_name", sorted(NODE_MAKERS))
def test_every_node_type_is_a_federation_entity_for_its_owner_only(type_name: str) -> None:
    made = NODE_MAKERS[type_name](user("owner"))
    query = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on {type_name} {{ id }} }} }}"
    global_id = relay.to_base64(type_name, made.pk)
    mine = execute(query, {"r": [{"__typename": type_name, "id": global_id}]}, caller_for("owner"))
    assert mine.errors is None and mine.data["_entities"] == [{"id": global_id}]
    theirs = execute(query, {"r": [{"__typename": type_name, "id": global_id}]}, caller_for("stranger"))
    assert theirs.errors is None and theirs.data["_entities"] == [None]


def serving_subgraphs(type_name: str) -> list[str]:
    """The subgraphs that serve more of a Node type than its key."""
    return [
        name
        for name, sub in subgraph_schemas().items()
        if (found := sub._schema.get_type(type_name)) is not None and set(found.fields) != {"id"}
    ]


@pytest.mark.parametrize("type_name", sorted(NODE_MAKERS))
def test_every_node_type_is_an_entity_of_the_subgraphs_serving_it_for_its_owner_only(type_name: str) -> None:
    """What a gateway asks the subgraphs that serve a type's fields: `_entities`, owner only."""
    made = NODE_MAKERS[type_name](user("owner"))
    global_id = relay.to_base64(type_name, made.pk)
    selection = f"... on {type_name} {{ id __typename }}"
    query = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ {selection} }} }}"
    for name in serving_subgraphs(type_name):
        sub = subgraph_schemas()[name]
        # A dict per call: strawberry's entity resolver pops `__typename` from it.
        representations = {"r": [{"__typename": type_name, "id": global_id}]}
        mine = execute(query, representations, caller_for("owner"), on=sub)
        assert mine.errors is None, (name, mine.errors)
        assert mine.data["_entities"] == [{"id": global_id, "__typename": type_name}], name
        representations = {"r": [{"__typename": type_name, "id": global_id}]}
        theirs = execute(query, representations, caller_for("stranger"), on=sub)
        assert theirs.errors is None and theirs.data["_entities"] == [None], name


def test_a_modules_types_are_served_by_its_own_subgraph_and_composition_by_all() -> None:
    assert serving_subgraphs("CustomMood") == ["mood"]
    assert serving_subgraphs("Playlist") == ["mood"]
    assert serving_subgraphs("VoiceProfile") == ["voice"]
    assert serving_subgraphs("MasteringPreset") == ["mastering"]
    assert serving_subgraphs("GenreReference") == ["genre"]
    assert serving_subgraphs("Feedback") == ["composition"]
    assert sorted(serving_subgraphs("Composition")) == sorted(subgraph_schemas())
