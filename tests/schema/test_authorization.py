"""The authorization matrix: two users and anonymous callers against every query, mutation,
subscription and file URL. The owner may do everything; a user it shares with may read;
everyone else learns nothing, not even that the composition exists."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import Client
from strawberry import relay

from modules.accounts.caller import READ, Caller
from modules.composition.models import Composition, CompositionShare, Visibility
from modules.composition.selectors import session_digest
from modules.mood.engine import MOODS
from schema import schema
from tests.factories import full_composition
from tests.graphql import caller_for, execute, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

ELEMENTS = """
  id prompt status visibility ownedByMe sharedWith
  mood { name } genre { primary } sections { name } layers { name }
  lyrics { text } voice { voice } master { integratedLufs }
  stages { name status } versions { number } artifacts { name url }
"""
READ_ONE = f"query($id: ID!) {{ composition(id: $id) {{ {ELEMENTS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Composition { prompt } } }"
LIST = "{ compositions(first: 50) { edges { node { id } } } }"
PUBLIC_LIST = "{ publicCompositions(first: 50) { edges { node { id } } } }"

# Every mutation that takes a composition id, with variables that are otherwise valid.
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "regenerateStage": (
        'mutation($id: ID!) { regenerateStage(compositionId: $id, stage: "lyrics", seed: 3) { id } }',
        {},
    ),
    "updateComposition": (
        "mutation($id: ID!) { updateComposition(id: $id, input: {tempo: 101}) { id } }",
        {},
    ),
    "cancelComposition": ("mutation($id: ID!) { cancelComposition(id: $id) { id } }", {}),
    "setCompositionVisibility": (
        "mutation($id: ID!) { setCompositionVisibility(id: $id, visibility: PUBLIC) { id } }",
        {},
    ),
    "shareComposition": (
        'mutation($id: ID!) { shareComposition(id: $id, username: "carol") { id } }',
        {},
    ),
    "unshareComposition": (
        'mutation($id: ID!) { unshareComposition(id: $id, username: "carol") { id } }',
        {},
    ),
    "restoreVersion": ("mutation($id: ID!) { restoreVersion(compositionId: $id, number: 1) { id } }", {}),
}


def gid(composition: Composition) -> str:
    return relay.to_base64("Composition", composition.pk)


def code(result: Any) -> str | None:
    return result.errors[0].extensions.get("code") if result.errors else None


@pytest.fixture
def world() -> dict[str, Any]:
    """alice's private song (with a file), bob's, an anonymous session's, and carol who exists."""
    alice, bob = user("alice"), user("bob")
    user("carol")
    alices = full_composition(owner=alice)
    bobs = full_composition(prompt="sad piano ballad", owner=bob)
    anonymous = full_composition(prompt="lo-fi beats", owner=None)
    Composition.objects.filter(pk=anonymous.pk).update(owner=None, anonymous_session=session_digest("sess-a"))
    anonymous.refresh_from_db()
    return {
        "alice": caller_for(alice),
        "bob": caller_for(bob),
        "anon_a": Caller(session_key="sess-a", ip="10.0.0.1"),
        "anon_b": Caller(session_key="sess-b", ip="10.0.0.2"),
        "anon_none": Caller(ip="10.0.0.3"),
        "songs": {"alice": alices, "bob": bobs, "anon_a": anonymous},
    }


OWNERS = ("alice", "bob", "anon_a")
CALLERS = ("alice", "bob", "anon_a", "anon_b", "anon_none")


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("who", CALLERS)
def test_reading_a_private_composition(world: dict[str, Any], owner: str, who: str) -> None:
    song, caller = world["songs"][owner], world[who]
    one = execute(READ_ONE, {"id": gid(song)}, caller)
    node = execute(NODE, {"id": gid(song)}, caller)
    listed = execute(LIST, caller=caller).data["compositions"]["edges"]
    if who == owner:
        assert one.errors is None, one.errors
        assert one.data["composition"]["ownedByMe"] is True
        assert one.data["composition"]["mood"]["name"] == "uplifting"
        assert node.data["node"]["prompt"] == song.prompt
        assert [e["node"]["id"] for e in listed] == [gid(song)]
    else:
        assert one.data is None and code(one) == "NOT_FOUND", one.errors
        assert one.errors[0].message == f"no composition with id {gid(song)}"
        assert node.errors is None and node.data["node"] is None
        assert gid(song) not in [e["node"]["id"] for e in listed]


# The lyrics workflow's mutations (tests/modules/lyrics covers what the owner gets).
LYRICS_MUTATIONS = {
    "editLyricsLine": (
        'mutation($id: ID!) { editLyricsLine(compositionId: $id, line: 0, text: "mine now") { id } }'
    ),
    "finalizeLyrics": "mutation($id: ID!) { finalizeLyrics(compositionId: $id) { id } }",
    "reopenLyrics": "mutation($id: ID!) { reopenLyrics(compositionId: $id) { id } }",
}


@pytest.mark.parametrize("mutation", sorted(LYRICS_MUTATIONS))
@pytest.mark.parametrize(("owner", "who"), [(o, w) for o in OWNERS for w in CALLERS if o != w])
def test_nobody_else_edits_the_lyrics(world: dict[str, Any], mutation: str, owner: str, who: str) -> None:
    song = world["songs"][owner]
    before = Composition.objects.values().get(pk=song.pk)
    result = execute(LYRICS_MUTATIONS[mutation], {"id": gid(song)}, world[who])
    assert code(result) == "NOT_FOUND", (result.errors, result.data)
    assert Composition.objects.values().get(pk=song.pk) == before


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("who", CALLERS)
def test_changing_a_composition(world: dict[str, Any], mutation: str, owner: str, who: str) -> None:
    song, caller = world["songs"][owner], world[who]
    before = Composition.objects.values().get(pk=song.pk)
    shares = CompositionShare.objects.count()
    query, variables = MUTATIONS[mutation]
    result = execute(query, {"id": gid(song), **variables}, caller)
    account_only = mutation in ("setCompositionVisibility", "shareComposition", "unshareComposition")
    if account_only and who.startswith("anon"):
        assert code(result) == "UNAUTHENTICATED", result.errors  # sharing needs an account, whoever owns it
        assert result.errors[0].message == "sign in (session or API token) to do this"
        assert Composition.objects.values().get(pk=song.pk) == before
    elif who != owner:
        # Someone else's private composition: not found, and nothing changed.
        assert code(result) == "NOT_FOUND", (result.errors, result.data)
        assert Composition.objects.values().get(pk=song.pk) == before
        assert CompositionShare.objects.count() == shares
    elif (
        mutation in ("setCompositionVisibility", "shareComposition", "unshareComposition") and who == "anon_a"
    ):
        assert code(result) == "UNAUTHENTICATED", result.errors  # sharing needs an account
    elif mutation == "cancelComposition":
        assert code(result) == "BAD_USER_INPUT"  # it finished already: the owner got through
        assert "already finished" in result.errors[0].message
    elif mutation in ("regenerateStage", "updateComposition") and who == "anon_a":
        # The owner got through to the anonymous quota (30 s songs, 3 a day): this song is 30 s.
        assert result.errors is None, result.errors
    else:
        assert result.errors is None, result.errors


def test_a_shared_composition_is_readable_but_not_changeable(world: dict[str, Any]) -> None:
    song = world["songs"]["alice"]
    shared = execute(
        MUTATIONS["shareComposition"][0].replace("carol", "bob"), {"id": gid(song)}, world["alice"]
    )
    assert shared.errors is None, shared.errors
    assert execute(READ_ONE, {"id": gid(song)}, world["alice"]).data["composition"]["sharedWith"] == ["bob"]

    as_bob = execute(READ_ONE, {"id": gid(song)}, world["bob"])
    assert as_bob.errors is None and as_bob.data["composition"]["ownedByMe"] is False
    assert as_bob.data["composition"]["sharedWith"] == []  # who else it is shared with is the owner's
    assert gid(song) in [
        e["node"]["id"] for e in execute(LIST, caller=world["bob"]).data["compositions"]["edges"]
    ]
    for mutation, (query, variables) in MUTATIONS.items():
        result = execute(query, {"id": gid(song), **variables}, world["bob"])
        assert code(result) == "FORBIDDEN", (mutation, result.errors)
        assert result.errors[0].message == "only the composition's owner may change it"
    # Still invisible to a third party.
    assert code(execute(READ_ONE, {"id": gid(song)}, world["anon_b"])) == "NOT_FOUND"

    unshared = execute(
        MUTATIONS["unshareComposition"][0].replace("carol", "bob"), {"id": gid(song)}, world["alice"]
    )
    assert unshared.errors is None
    assert code(execute(READ_ONE, {"id": gid(song)}, world["bob"])) == "NOT_FOUND"


def test_a_public_composition_is_readable_by_anyone_and_changeable_by_its_owner_only(
    world: dict[str, Any],
) -> None:
    song = world["songs"]["alice"]
    assert execute(MUTATIONS["setCompositionVisibility"][0], {"id": gid(song)}, world["alice"]).errors is None
    assert Composition.objects.get(pk=song.pk).visibility == Visibility.PUBLIC
    for who in ("bob", "anon_b", "anon_none"):
        result = execute(READ_ONE, {"id": gid(song)}, world[who])
        assert result.errors is None and result.data["composition"]["visibility"] == "PUBLIC"
        public = execute(PUBLIC_LIST, caller=world[who]).data["publicCompositions"]["edges"]
        assert [e["node"]["id"] for e in public] == [gid(song)]
        # Public is read-only: changing it is refused (the caller can see it exists).
        changed = execute(MUTATIONS["updateComposition"][0], {"id": gid(song)}, world[who])
        assert code(changed) == "FORBIDDEN"
    # ...but it is in nobody's `compositions` but alice's.
    bobs = execute(LIST, caller=world["bob"]).data["compositions"]["edges"]
    assert [e["node"]["id"] for e in bobs] == [gid(world["songs"]["bob"])]


def test_file_urls_are_signed_expire_and_cannot_be_forged(world: dict[str, Any], settings: Any) -> None:
    song = world["songs"]["alice"]
    files = execute(READ_ONE, {"id": gid(song)}, world["alice"]).data["composition"]["artifacts"]
    url = next(f["url"] for f in files if f["name"] == "composition.mid")
    client = Client()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"MThd"
    assert response["Content-Type"] == "audio/midi"

    prefix, token, name = url.rsplit("/", 2)
    forged_pk = token.replace(token.split(":")[0], str(song.pk + 1), 1)
    for bad in (f"{prefix}/{forged_pk}/{name}", f"{prefix}/{token}x/{name}", f"{prefix}/{token}/other.mid"):
        assert client.get(bad).status_code == 403, bad
    # The file store itself is not browsable.
    stored = song.artifacts.get(name="composition.mid").file.name
    assert client.get(f"/media/{stored}").status_code == 404

    settings.CODA_FILE_URL_SECONDS = -1  # every signature is now too old
    expired = client.get(url)
    assert expired.status_code == 403 and b"expired" in expired.content


def test_a_read_only_token_reads_but_cannot_compose(world: dict[str, Any]) -> None:
    song = world["songs"]["alice"]
    reader = caller_for(user("alice"), scopes=frozenset({READ}))
    assert execute(READ_ONE, {"id": gid(song)}, reader).errors is None
    created = execute('mutation { createComposition(input: {prompt: "calm piano"}) { id } }', caller=reader)
    assert code(created) == "FORBIDDEN" and "lacks the 'compose' scope" in created.errors[0].message
    changed = execute(MUTATIONS["updateComposition"][0], {"id": gid(song)}, reader)
    assert code(changed) == "FORBIDDEN"
    assert Composition.objects.count() == 3


def subscribe_error(query: str, variables: dict[str, Any], caller: Caller) -> Any:
    async def first() -> Any:
        stream = await schema.subscribe(query, variable_values=variables, context_value={"caller": caller})
        if hasattr(stream, "errors"):  # rejected before it started
            return stream
        async for result in stream:
            return result
        return None

    return asyncio.run(first())


@pytest.mark.django_db(transaction=True)  # the resolver reads from another thread
def test_subscribing_to_someone_elses_progress_is_not_found(world: dict[str, Any]) -> None:
    # (The owner's own stream is tested live, in tests/integration.)
    for owner in OWNERS:
        for who in CALLERS:
            if who != owner:
                result = subscribe_error(
                    "subscription($id: ID!) { compositionProgress(id: $id) { seq } }",
                    {"id": gid(world["songs"][owner])},
                    world[who],
                )
                assert result.errors[0].extensions["code"] == "NOT_FOUND", (owner, who, result.errors)


@pytest.mark.django_db(transaction=True)
def test_my_events_needs_an_account(world: dict[str, Any]) -> None:
    result = subscribe_error("subscription { myCompositionEvents { seq } }", {}, world["anon_a"])
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        ({"lyrics": "la " * 1999 + "la"}, "lyrics", "lyrics are 5999 characters long; the limit is 5000"),
        ({"genres": [{"name": "rock"}] * 4}, "genres", "at most 3 genres can be blended"),
        (
            {"genres": [{"name": "rock", "weight": 1000}]},
            "genres",
            "genre weights are at most 100, not 1000.0",
        ),
        ({"mood": "x" * 41}, "mood", f"unknown mood {'x' * 41!r}; choose one of: {', '.join(sorted(MOODS))}"),
        ({"prompt": "p" * 2001}, "prompt", "prompt is 2001 characters long; the limit is 2000"),
    ],
)
def test_input_bounds_are_clear_errors_and_store_nothing(
    variables: dict[str, Any], field: str, message: str
) -> None:
    query = """mutation($prompt: String!, $lyrics: String, $genres: [GenreWeightInput!], $mood: String) {
      createComposition(input: {prompt: $prompt, lyrics: $lyrics, genres: $genres, mood: $mood}) { id }
    }"""
    result = execute(query, {"prompt": "calm piano", **variables})
    assert code(result) == "BAD_USER_INPUT", result.errors
    assert result.errors[0].extensions["field"] == field and result.errors[0].message == message
    assert Composition.objects.count() == 0
