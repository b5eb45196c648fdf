"""Lyrics drafts and edit history in a page of compositions, mood playlists and playlists, at a fixed number
of SQL queries however many compositions there are."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.lyrics.models import LyricsDraft, LyricsLineEdit
from tests.factories import full_composition
from tests.graphql import caller_for, data_of, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

PAGE = """query($first: Int!) { compositions(first: $first) { edges { node {
  lyrics { text }
  lyricsDrafts { number origin lines final createdBy finalizedBy }
  lyricsEdits { line section before after fit editor draftNumber versionNumber }
} } } }"""
PLAYLIST = """query($first: Int!) { moodPlaylist(mood: "uplifting", first: $first) {
  edges { node { prompt mood { name valence } lyricsDrafts { number } } }
} }"""


def with_history(seed: int) -> Any:
    alice = user("alice")
    composition = full_composition(seed=seed, owner=alice)
    first = LyricsDraft.objects.create(
        composition=composition, number=1, origin="generated", text="we rise", lines=["we rise"]
    )
    second = LyricsDraft.objects.create(
        composition=composition,
        number=2,
        origin="edit",
        text="we rise again",
        lines=["we rise again"],
        created_by=alice,
        finalized_at=timezone.now(),
        finalized_by=alice,
    )
    LyricsLineEdit.objects.create(
        composition=composition,
        draft=second,
        version=composition.versions.get(),
        line_index=0,
        section_index=1,
        section_name="chorus",
        before="we rise",
        after="we rise again",
        syllables_before=2,
        syllables_after=4,
        fit="split",
        editor=alice,
    )
    assert first.number == 1
    return composition


def count(query: str, first: int) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as captured:
        data = data_of(query, {"first": first}, caller_for("alice"))
    return len(captured.captured_queries), data


def test_history_costs_the_same_for_1_and_8_compositions() -> None:
    for seed in range(8):
        with_history(seed)
    one, _ = count(PAGE, 1)
    eight, data = count(PAGE, 8)
    node = data["compositions"]["edges"][0]["node"]
    assert [(d["number"], d["final"], d["createdBy"], d["finalizedBy"]) for d in node["lyricsDrafts"]] == [
        (2, True, "alice", "alice"),
        (1, False, None, None),
    ]
    assert node["lyricsEdits"] == [
        {
            "line": 0,
            "section": "chorus",
            "before": "we rise",
            "after": "we rise again",
            "fit": "SPLIT",
            "editor": "alice",
            "draftNumber": 2,
            "versionNumber": 1,
        }
    ]
    assert one == eight, f"page of 1: {one} queries, page of 8: {eight}"


def test_a_mood_playlist_costs_the_same_for_1_and_8_compositions() -> None:
    for seed in range(8):
        with_history(seed)
    one, _ = count(PLAYLIST, 1)
    eight, data = count(PLAYLIST, 8)
    assert len(data["moodPlaylist"]["edges"]) == 8
    assert one == eight, f"page of 1: {one} queries, page of 8: {eight}"


def test_playlists_cost_the_same_for_1_and_8_entries() -> None:
    from modules.mood.models import Playlist, PlaylistEntry

    songs = [with_history(seed) for seed in range(8)]
    query = """{ playlists { name entries { position composition {
      prompt mood { name } lyricsDrafts { number }
    } } } }"""

    def queries(size: int) -> int:
        Playlist.objects.all().delete()
        playlist = Playlist.objects.create(owner=user("alice"), name="mix")
        PlaylistEntry.objects.bulk_create(
            PlaylistEntry(playlist=playlist, composition=c, position=i) for i, c in enumerate(songs[:size])
        )
        with CaptureQueriesContext(connection) as captured:
            data = data_of(query, None, caller_for("alice"))
        assert len(data["playlists"][0]["entries"]) == size
        return len(captured.captured_queries)

    one, eight = queries(1), queries(8)
    assert one == eight, f"1 entry: {one} queries, 8 entries: {eight}"
