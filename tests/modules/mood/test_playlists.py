"""moodPlaylist: finished compositions in a mood or near it, nearest first, from what the caller may
read; built-in or the caller's own moods by name."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from modules.composition.models import Composition, CompositionShare, Status, Visibility
from modules.mood.engine import MOODS
from modules.mood.models import CustomMood, Mood
from tests.factories import full_composition
from tests.graphql import caller_for, execute, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

PLAYLIST = """query($mood: String!, $scope: MoodPlaylistScope, $first: Int, $after: String) {
  moodPlaylist(mood: $mood, scope: $scope, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { prompt mood { name valence energy custom } } }
  }
}"""


def song(
    prompt: str, name: str, valence: float, energy: float, owner: Any, custom: bool = False
) -> Composition:
    composition = full_composition(prompt=prompt, owner=owner)
    Mood.objects.filter(composition=composition).update(
        name=name, valence=valence, energy=energy, custom=custom
    )
    return composition


@pytest.fixture
def library() -> dict[str, Any]:
    alice, bob = user("alice"), user("bob")
    CustomMood.objects.create(owner=alice, name="Rainy Sunday", key="rainy sunday", valence=-0.7, energy=0.12)
    songs = {
        "sad": song("sad", "sad", -0.75, 0.2, alice),
        "uplifting": song("uplifting", "uplifting", 0.7, 0.65, alice),
        "melancholic": song("melancholic", "melancholic", -0.45, 0.3, alice),
        "gloom": song("gloom", "Rainy Sunday", -0.7, 0.12, alice, custom=True),
        # Made in her mood with words that pulled it far from its point: still hers by name.
        "gloom-blended": song("gloom-blended", "Rainy Sunday", 0.1, 0.8, alice, custom=True),
        "happy": song("happy", "happy", 0.8, 0.6, alice),
        # Made in "sad" but read near happy: in "sad" by name, in "happy" by closeness.
        "sad-by-name": song("sad-by-name", "sad", 0.55, 0.5, alice),
        "running": song("running", "happy", 0.8, 0.6, alice),
        "bob-public": song("bob-public", "happy", 0.75, 0.62, bob),
        "bob-shared": song("bob-shared", "happy", 0.8, 0.6, bob),
        "bob-private": song("bob-private", "happy", 0.8, 0.6, bob),
        # bob's own mood of the same name is another mood.
        "bob-gloom": song("bob-gloom", "Rainy Sunday", 0.9, 0.9, bob, custom=True),
    }
    Composition.objects.filter(pk=songs["running"].pk).update(status=Status.RUNNING)
    Composition.objects.filter(pk__in=[songs["bob-public"].pk, songs["bob-gloom"].pk]).update(
        visibility=Visibility.PUBLIC
    )
    CompositionShare.objects.create(composition=songs["bob-shared"], user=alice)
    return {"alice": caller_for(alice), "bob": caller_for(bob), "songs": songs}


def playlist(caller: Any, mood: str, **variables: Any) -> dict[str, Any]:
    result = execute(PLAYLIST, {"mood": mood, **variables}, caller)
    assert result.errors is None, result.errors
    return result.data["moodPlaylist"]


def prompts(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["prompt"] for edge in page["edges"]]


def test_a_built_in_mood_lists_my_finished_songs_in_it_or_near_it_nearest_first(
    library: dict[str, Any],
) -> None:
    # happy (0.8, 0.6): itself at 0, uplifting at 0.11, the "sad" song read at (0.55, 0.5) at 0.27;
    # melancholic and the others are far; the running one is not finished.
    assert prompts(playlist(library["alice"], "happy")) == ["happy", "uplifting", "sad-by-name"]
    # sad (-0.75, 0.2): itself, her gloom at 0.09, melancholic at 0.32, and the song made in "sad".
    sad = playlist(library["alice"], "Sad")
    assert prompts(sad) == ["sad", "gloom", "melancholic", "sad-by-name"]
    assert sad["totalCount"] == 4
    assert sad["edges"][1]["node"]["mood"] == {
        "name": "Rainy Sunday",
        "valence": -0.7,
        "energy": 0.12,
        "custom": True,
    }


def test_my_own_mood_lists_the_songs_made_in_it_and_those_near_its_point(library: dict[str, Any]) -> None:
    page = playlist(library["alice"], "rainy  sunday")
    assert prompts(page) == ["gloom", "sad", "melancholic", "gloom-blended"]


def test_visible_scope_adds_shared_and_public_songs_never_private_ones(library: dict[str, Any]) -> None:
    page = playlist(library["alice"], "happy", scope="VISIBLE")
    # Equally near: newest first (bob-shared was made after happy). bob's public song in his own
    # mood lies at (0.9, 0.9), 0.32 from happy: near enough.
    assert prompts(page) == ["bob-shared", "happy", "bob-public", "uplifting", "sad-by-name", "bob-gloom"]
    assert "bob-private" not in prompts(page)
    # bob's public song in his own "Rainy Sunday" is not in alice's mood of that name.
    assert "bob-gloom" not in prompts(playlist(library["alice"], "Rainy Sunday", scope="VISIBLE"))
    assert prompts(playlist(library["bob"], "happy")) == [
        "bob-private",
        "bob-shared",
        "bob-public",
        "bob-gloom",
    ]


def test_pages_follow_the_order(library: dict[str, Any]) -> None:
    first = playlist(library["alice"], "sad", first=2)
    assert prompts(first) == ["sad", "gloom"] and first["pageInfo"]["hasNextPage"] is True
    rest = playlist(library["alice"], "sad", first=2, after=first["pageInfo"]["endCursor"])
    assert prompts(rest) == ["melancholic", "sad-by-name"] and rest["pageInfo"]["hasNextPage"] is False


def test_another_users_mood_name_is_unknown_with_what_is_accepted(library: dict[str, Any]) -> None:
    result = execute(PLAYLIST, {"mood": "Rainy Sunday"}, library["bob"])
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "mood"}
    assert (
        result.errors[0].message == f"unknown mood 'Rainy Sunday'; choose one of: {', '.join(sorted(MOODS))}"
    )
    CustomMood.objects.create(
        owner=library["bob"].user, name="Neon Rush", key="neon rush", valence=0.5, energy=0.9
    )
    assert (
        execute(PLAYLIST, {"mood": "gloomy"}, library["bob"])
        .errors[0]
        .message.endswith("; or one of yours: Neon Rush")
    )


def test_an_anonymous_session_gets_its_own_songs_only(library: dict[str, Any]) -> None:
    from modules.accounts.caller import Caller
    from modules.composition.selectors import session_digest

    mine = song("anonymous happy", "happy", 0.8, 0.6, None)
    Composition.objects.filter(pk=mine.pk).update(owner=None, anonymous_session=session_digest("sess"))
    visitor = Caller(session_key="sess", ip="10.0.0.1")
    assert prompts(playlist(visitor, "happy")) == ["anonymous happy"]
    assert prompts(playlist(Caller(ip="10.0.0.2"), "happy")) == []


# --------------------------------------------------------------------------- playlists of your own

PLAYLIST_FIELDS = "id name mood entries { position composition { prompt } }"
CREATE_PLAYLIST = (
    f"""mutation($input: CreatePlaylistInput!) {{ createPlaylist(input: $input) {{ {PLAYLIST_FIELDS} }} }}"""
)
ADD = f"""mutation($p: ID!, $c: ID!, $at: Int) {{
  addToPlaylist(playlistId: $p, compositionId: $c, position: $at) {{ {PLAYLIST_FIELDS} }}
}}"""
MOVE = f"""mutation($p: ID!, $c: ID!, $at: Int!) {{
  movePlaylistEntry(playlistId: $p, compositionId: $c, position: $at) {{ {PLAYLIST_FIELDS} }}
}}"""
REMOVE = f"""mutation($p: ID!, $c: ID!) {{
  removeFromPlaylist(playlistId: $p, compositionId: $c) {{ {PLAYLIST_FIELDS} }}
}}"""
RENAME = (
    f"""mutation($p: ID!, $name: String!) {{ renamePlaylist(id: $p, name: $name) {{ {PLAYLIST_FIELDS} }} }}"""
)
DELETE = "mutation($p: ID!) { deletePlaylist(id: $p) }"
MINE = f"{{ playlists {{ {PLAYLIST_FIELDS} }} }}"


def gid(composition: Composition) -> str:
    return relay.to_base64("Composition", composition.pk)


def run(query: str, variables: dict[str, Any], caller: Any) -> dict[str, Any]:
    result = execute(query, variables, caller)
    assert result.errors is None, result.errors
    return next(iter(result.data.values()))


def failure(query: str, variables: dict[str, Any], caller: Any) -> tuple[str, str]:
    result = execute(query, variables, caller)
    assert result.errors, result.data
    return result.errors[0].extensions["code"], result.errors[0].message


def order(playlist: dict[str, Any]) -> list[str]:
    return [entry["composition"]["prompt"] for entry in playlist["entries"]]


def test_a_playlist_from_a_mood_is_that_mood_playlist_as_it_was_then(library: dict[str, Any]) -> None:
    alice = library["alice"]
    made = run(
        CREATE_PLAYLIST, {"input": {"name": "Gloomy  Sundays", "mood": "rainy sunday", "limit": 3}}, alice
    )
    assert (made["name"], made["mood"]) == ("Gloomy Sundays", "Rainy Sunday")
    assert order(made) == ["gloom", "sad", "melancholic"]
    assert [e["position"] for e in made["entries"]] == [0, 1, 2]
    # A snapshot: a new song in the mood is in the mood playlist, not in the saved one.
    song("new gloom", "Rainy Sunday", -0.7, 0.12, alice.user, custom=True)
    assert prompts(playlist(alice, "Rainy Sunday"))[:2] == ["new gloom", "gloom"]
    assert order(run(MINE, {}, alice)[0]) == ["gloom", "sad", "melancholic"]
    everything = run(
        CREATE_PLAYLIST, {"input": {"name": "All happy", "mood": "happy", "scope": "VISIBLE"}}, alice
    )
    assert order(everything)[:3] == ["bob-shared", "happy", "bob-public"]


def test_a_playlist_is_put_in_my_order_and_kept_in_it(library: dict[str, Any]) -> None:
    alice, songs = library["alice"], library["songs"]
    ids = [gid(songs[name]) for name in ("happy", "sad", "bob-shared")]
    made = run(CREATE_PLAYLIST, {"input": {"name": "Mix", "compositionIds": ids}}, alice)
    assert order(made) == ["happy", "sad", "bob-shared"] and made["mood"] is None
    p = made["id"]
    assert order(run(ADD, {"p": p, "c": gid(songs["gloom"]), "at": 0}, alice)) == [
        "gloom",
        "happy",
        "sad",
        "bob-shared",
    ]
    assert order(run(ADD, {"p": p, "c": gid(songs["bob-public"])}, alice))[-1] == "bob-public"
    moved = run(MOVE, {"p": p, "c": gid(songs["bob-public"]), "at": 1}, alice)
    assert order(moved) == ["gloom", "bob-public", "happy", "sad", "bob-shared"]
    assert [e["position"] for e in moved["entries"]] == [0, 1, 2, 3, 4]
    removed = run(REMOVE, {"p": p, "c": gid(songs["happy"])}, alice)
    assert order(removed) == ["gloom", "bob-public", "sad", "bob-shared"]
    assert [e["position"] for e in removed["entries"]] == [0, 1, 2, 3]
    assert run(RENAME, {"p": p, "name": "Evening"}, alice)["name"] == "Evening"

    # bob stops sharing: his song drops out of alice's playlist; it is not hers to list.
    CompositionShare.objects.filter(composition=songs["bob-shared"]).delete()
    assert order(run(MINE, {}, alice)[0]) == ["gloom", "bob-public", "sad"]

    assert run(DELETE, {"p": p}, alice) == p
    assert run(MINE, {}, alice) == [] and Composition.objects.filter(pk=songs["gloom"].pk).exists()


def test_playlists_are_their_owners_and_hold_only_what_the_owner_may_read(library: dict[str, Any]) -> None:
    alice, bob, songs = library["alice"], library["bob"], library["songs"]
    p = run(CREATE_PLAYLIST, {"input": {"name": "Mine", "compositionIds": [gid(songs["happy"])]}}, alice)[
        "id"
    ]
    private = gid(songs["bob-private"])
    assert failure(CREATE_PLAYLIST, {"input": {"name": "x", "compositionIds": [private]}}, alice) == (
        "NOT_FOUND",
        f"no composition with id {private}",
    )
    assert failure(ADD, {"p": p, "c": private}, alice) == ("NOT_FOUND", f"no composition with id {private}")
    for query, variables in (
        (ADD, {"p": p, "c": gid(songs["bob-public"])}),
        (MOVE, {"p": p, "c": gid(songs["happy"]), "at": 0}),
        (REMOVE, {"p": p, "c": gid(songs["happy"])}),
        (RENAME, {"p": p, "name": "bob's now"}),
        (DELETE, {"p": p}),
    ):
        assert failure(query, variables, bob) == ("NOT_FOUND", f"no playlist with id {p}"), query
    assert run(MINE, {}, bob) == []
    assert execute("query($p: ID!) { node(id: $p) { id } }", {"p": p}, bob).data == {"node": None}
    assert order(run(MINE, {}, alice)[0]) == ["happy"]

    assert failure(ADD, {"p": p, "c": gid(songs["happy"])}, alice) == (
        "CONFLICT",
        "that composition is in the playlist already",
    )
    assert failure(MOVE, {"p": p, "c": gid(songs["happy"]), "at": 3}, alice) == (
        "BAD_USER_INPUT",
        "position is from 0 to 0, not 3",
    )
    assert failure(REMOVE, {"p": p, "c": gid(songs["sad"])}, alice) == (
        "BAD_USER_INPUT",
        "that composition is not in the playlist",
    )
    assert failure(CREATE_PLAYLIST, {"input": {"name": " "}}, alice) == (
        "BAD_USER_INPUT",
        "give the playlist a name",
    )
    assert failure(CREATE_PLAYLIST, {"input": {"name": "x", "mood": "happy", "limit": 0}}, alice) == (
        "BAD_USER_INPUT",
        "limit is from 1 to 200, not 0",
    )
    assert failure(CREATE_PLAYLIST, {"input": {"name": "x", "mood": "gloomy"}}, alice)[0] == "BAD_USER_INPUT"
    assert failure(MINE, {}, caller_for(None)) == (
        "UNAUTHENTICATED",
        "sign in (session or API token) to do this",
    )
