"""moodPlaylist: finished compositions in a mood or near it, nearest first, from what the caller may
read; built-in or the caller's own moods by name."""

from __future__ import annotations

from typing import Any

import pytest

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
