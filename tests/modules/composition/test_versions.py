"""Versions: every regeneration or edit keeps one; restoreVersion brings one back without
recomputing anything; versionDiff says which elements, context fields and files changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from strawberry import relay

from modules.composition.models import Composition, StageRun
from modules.composition.pipeline import run_inline
from modules.composition.services import (
    composition_create,
    composition_regenerate,
    composition_share,
    composition_update,
)
from subscriptions.models import ProgressEvent
from tests.graphql import caller_for, data_of, execute, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

RESTORE = """mutation($id: ID!, $number: Int!) {
  restoreVersion(compositionId: $id, number: $number) {
    lyrics { text } context { tempo } versions { number reason } artifacts { name }
  }
}"""
DIFF = """query($id: ID!, $a: Int!, $b: Int) {
  versionDiff(compositionId: $id, a: $a, b: $b) {
    a b elements { element fields } context { field before after compact } files { name change }
  }
}"""


def composed(owner: Any) -> Composition:
    song = composition_create(
        prompt="dreamy pop about the sea", seed=3, duration_seconds=15, caller=caller_for(owner), start=False
    )
    run_inline(song.pk)
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    return song


def rerun(song: Composition, change: Any, capture: Any) -> None:
    with capture(execute=True):
        change()
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error


def current_files(song: Composition) -> dict[str, str]:
    return {a.name: a.file.name for a in song.artifacts.filter(current=True)}


def runs(song: Composition) -> dict[str, tuple]:
    return {
        r.name: (r.status, r.input_hash, r.started_at, r.finished_at, r.attempts)
        for r in StageRun.objects.filter(composition=song)
    }


def gid(pk: int) -> str:
    return relay.to_base64("Composition", pk)


def test_restoring_a_version_brings_back_its_elements_context_and_files_without_recomputing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = user("alice")
    song = composed(alice)
    first = {
        "lyrics": song.lyrics.text,
        "context": song.context,
        "files": current_files(song),
        "runs": {n: r[:2] for n, r in runs(song).items()},
    }
    rerun(song, lambda: composition_regenerate(song, "lyrics", seed=99), django_capture_on_commit_callbacks)
    second = {"lyrics": song.lyrics.text, "files": current_files(song), "runs": runs(song)}
    assert second["lyrics"] != first["lyrics"]
    events_before = ProgressEvent.objects.filter(composition=song).count()

    restored = data_of(RESTORE, {"id": gid(song.pk), "number": 1}, caller_for(alice))["restoreVersion"]

    song.refresh_from_db()
    assert restored["lyrics"]["text"] == song.lyrics.text == first["lyrics"]
    assert song.context == first["context"]
    assert current_files(song) == first["files"], "the version's files are current again"
    for name in first["files"]:
        assert Path(song.artifacts.get(current=True, name=name).file.path).exists()
    assert {n: r[:2] for n, r in runs(song).items()} == first["runs"], (
        "each stage holds its old result's hash"
    )
    assert {n: r[2:] for n, r in runs(song).items()} == {n: r[2:] for n, r in second["runs"].items()}, (
        "no stage ran: start and finish times and attempts are untouched"
    )
    assert ProgressEvent.objects.filter(composition=song).count() == events_before, (
        "nothing was queued or run"
    )
    assert song.status == "SUCCEEDED"
    assert restored["versions"] == [
        {"number": 2, "reason": "before restoring version 1"},
        {"number": 1, "reason": "regenerate lyrics with seed 99"},
    ]
    kept = song.versions.get(number=2)
    assert kept.elements["lyrics"]["Lyrics"]["text"] == second["lyrics"]
    assert {a.name: a.file.name for a in kept.artifacts.all()} == second["files"]

    # And back again: the regenerated state returns as it was, still without running anything.
    data_of(RESTORE, {"id": gid(song.pk), "number": 2}, caller_for(alice))
    song.refresh_from_db()
    assert (song.lyrics.text, current_files(song)) == (second["lyrics"], second["files"])
    assert runs(song) == second["runs"]

    # A later change reuses what the restored state really holds: unchanged stages are not rerun.
    rerun(song, lambda: composition_regenerate(song, "lyrics", seed=99), django_capture_on_commit_callbacks)
    assert dict(song.stages.values_list("name", "reused")) == dict.fromkeys(
        ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"], True
    )


def test_restoring_undoes_a_failed_change_and_a_failed_state_cannot_be_restored(
    django_capture_on_commit_callbacks: Any, settings: Any, tmp_path: Path
) -> None:
    alice = user("alice")
    song = composed(alice)
    good = {"lyrics": song.lyrics.text, "files": current_files(song)}
    broken = tmp_path / "broken.sf2"
    broken.write_text("this is not a soundfont")
    settings.CODA_SOUNDFONT = str(broken)
    with django_capture_on_commit_callbacks(execute=True):
        composition_regenerate(song, "lyrics", seed=8)
    song.refresh_from_db()
    assert (song.status, song.stages.get(name="mastering").status) == ("FAILED", "FAILED")

    data_of(RESTORE, {"id": gid(song.pk), "number": 1}, caller_for(alice))
    song.refresh_from_db()
    assert (song.status, song.error) == ("SUCCEEDED", "")
    assert set(song.stages.values_list("status", flat=True)) == {"SUCCEEDED"}
    assert (song.lyrics.text, current_files(song)) == (good["lyrics"], good["files"])

    failed = execute(RESTORE, {"id": gid(song.pk), "number": 2}, caller_for(alice))
    assert failed.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "number"}
    assert failed.errors[0].message == (
        "version 2 is not a finished song (mastering did not succeed); only finished versions can be restored"
    )
    song.refresh_from_db()
    assert song.status == "SUCCEEDED" and song.versions.count() == 2


def test_version_diff_names_the_changed_elements_context_fields_and_files(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = user("alice")
    song = composed(alice)
    tempo = song.context["tempo"]
    rerun(song, lambda: composition_regenerate(song, "lyrics", seed=5), django_capture_on_commit_callbacks)
    rerun(song, lambda: composition_update(song, inputs={"tempo": 96}), django_capture_on_commit_callbacks)

    # Version 1 is the song as first made, version 2 after new lyrics; now it is at 96 bpm.
    lyrics_only = data_of(DIFF, {"id": gid(song.pk), "a": 1, "b": 2}, caller_for(alice))["versionDiff"]
    assert (lyrics_only["a"], lyrics_only["b"]) == (1, 2)
    assert [e["element"] for e in lyrics_only["elements"]] == ["lyrics", "voice", "mastering"]
    assert {"Lyrics.text", "Lyrics.title"} <= set(lyrics_only["elements"][0]["fields"])
    assert {"VocalLine.notes", "VocalLine.syllables"} <= set(lyrics_only["elements"][1]["fields"])
    lyric_changes = {c["field"]: c for c in lyrics_only["context"]}
    assert lyric_changes["stage_seeds"] == {
        "field": "stage_seeds",
        "before": {},
        "after": {"lyrics": 5},
        "compact": True,
    }
    assert (lyric_changes["lyrics"]["compact"], lyric_changes["lyrics"]["before"]) == (False, None)
    assert not {"tempo", "chords", "genres", "mood"} & set(lyric_changes), "what new lyrics did not touch"
    lyric_files = {f["name"]: f["change"] for f in lyrics_only["files"]}
    assert lyric_files["lyrics.lrc"] == lyric_files["vocal.mid"] == lyric_files["master.wav"] == "CHANGED"
    assert not [name for name in lyric_files if name.startswith("layer-")], "the arrangement was kept"

    tempo_edit = data_of(DIFF, {"id": gid(song.pk), "a": 2}, caller_for(alice))["versionDiff"]
    assert tempo_edit["b"] is None  # the composition as it is now
    # Lyrics and the vocal line are timed in beats: a new tempo leaves those elements as they were.
    assert [e["element"] for e in tempo_edit["elements"]] == ["arrangement", "mastering"]
    assert "Layer.notes" in tempo_edit["elements"][0]["fields"]
    assert "Section.chords" not in tempo_edit["elements"][0]["fields"]
    changes = {c["field"]: c for c in tempo_edit["context"]}
    assert changes["tempo"] == {"field": "tempo", "before": tempo, "after": 96.0, "compact": True}
    assert changes["inputs.tempo"] == {"field": "inputs.tempo", "before": None, "after": 96, "compact": True}
    assert (changes["sources.tempo"]["before"], changes["sources.tempo"]["after"]) == ("genre", "input")
    assert set(changes) == {"tempo", "inputs.tempo", "sources.tempo"}, "nothing else in the context moved"
    files = {f["name"]: f["change"] for f in tempo_edit["files"]}
    assert files["layer-bass.mid"] == files["master.wav"] == files["vocal-sung.flac"] == "CHANGED"

    same = data_of(DIFF, {"id": gid(song.pk), "a": 2, "b": 2}, caller_for(alice))["versionDiff"]
    assert (same["elements"], same["context"], same["files"]) == ([], [], [])


def test_versions_belong_to_the_owner_readers_may_diff_and_bad_numbers_are_bad_input(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    song = composed(alice)
    rerun(song, lambda: composition_regenerate(song, "lyrics", seed=7), django_capture_on_commit_callbacks)
    composition_share(song, "carol")

    def code_of(query: str, variables: dict, who: Any) -> tuple[str, str | None, str]:
        result = execute(query, {"id": gid(song.pk), **variables}, caller_for(who))
        assert result.errors, result.data
        extensions = result.errors[0].extensions
        return extensions["code"], extensions.get("field"), result.errors[0].message

    assert code_of(RESTORE, {"number": 1}, bob)[0] == "NOT_FOUND"
    assert code_of(DIFF, {"a": 1}, bob)[0] == "NOT_FOUND"
    assert code_of(RESTORE, {"number": 1}, carol)[0] == "FORBIDDEN"
    assert data_of(DIFF, {"id": gid(song.pk), "a": 1}, caller_for(carol))["versionDiff"]["a"] == 1
    assert code_of(RESTORE, {"number": 4}, alice) == (
        "BAD_USER_INPUT",
        "number",
        "composition has no version 4; its versions are 1",
    )
    assert code_of(DIFF, {"a": 1, "b": 9}, alice)[:2] == ("BAD_USER_INPUT", "b")
    assert song.versions.count() == 1, "refused restores keep nothing"
