"""Editing lyrics through GraphQL, end to end on the real pipeline: the words refitted to the
melody, the sung vocal and the LRC file following, only voice and mastering made again, the
history, drafts, the final version, and who may do it."""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
import parselmouth
import pytest
import soundfile
from django.test import Client
from strawberry import relay

from modules.composition.context import scale_pitch_classes
from modules.composition.models import Composition, CompositionShare
from modules.lyrics.models import LyricsDraft, LyricsLineEdit
from subscriptions.models import ProgressEvent
from tests.factories import full_composition
from tests.graphql import caller_for, execute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

CREATE = "mutation($input: CreateCompositionInput!) { createComposition(input: $input) { id } }"
SONG = """query($id: ID!) { composition(id: $id) {
  status error context { key scale tempo }
  lyrics { title text lines { index sectionName text edited syllables { text start duration } } }
  voice { notes syllables }
  stages { name status reused inputHash finishedAt }
  versions { number reason elements }
  lyricsDrafts { number origin lines final finalizedBy createdBy }
  lyricsEdits {
    line section before after syllablesBefore syllablesAfter fit editor draftNumber versionNumber
  }
  artifacts { name url }
} }"""
EDIT = """mutation($id: ID!, $line: Int!, $text: String!, $repeats: Boolean! = false) {
  editLyricsLine(compositionId: $id, line: $line, text: $text, repeats: $repeats) { status }
}"""
FINALIZE = "mutation($id: ID!) { finalizeLyrics(compositionId: $id) { lyricsDrafts { number final } } }"
REOPEN = "mutation($id: ID!) { reopenLyrics(compositionId: $id) { lyricsDrafts { number origin final } } }"
REGENERATE = (
    """mutation($id: ID!) { regenerateStage(compositionId: $id, stage: "lyrics", seed: 99) { id } }"""
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateCompositionInput!) { updateComposition(id: $id, input: $input) { id } }"
)

UPSTREAM = ("mood", "genre", "arrangement", "lyrics")
# A 20 s song of this prompt and seed sings two chorus lines:
#   0 "Breathing in the dreamy starlight" (8 syllables), 1 "Hold me through the twilight" (6).
PROMPT, SEED = "dreamy pop about the sea", 3


@pytest.fixture(autouse=True)
def quick_audio(settings: Any) -> None:
    """Half the sample rate halves the singing and rendering; what is measured stays measurable."""
    settings.CODA_SAMPLE_RATE = 22050


def ok(query: str, variables: dict[str, Any], caller: Any) -> dict[str, Any]:
    result = execute(query, variables, caller)
    assert result.errors is None, result.errors
    return result.data


def error(query: str, variables: dict[str, Any], caller: Any) -> tuple[str, str]:
    result = execute(query, variables, caller)
    assert result.errors, result.data
    return result.errors[0].extensions["code"], result.errors[0].message


def compose(caller: Any, capture: Any, **inputs: Any) -> str:
    with capture(execute=True):  # the pipeline is dispatched on commit
        data = ok(
            CREATE, {"input": {"prompt": PROMPT, "seed": SEED, "durationSeconds": 20, **inputs}}, caller
        )
    return data["createComposition"]["id"]


def song(gid: str, caller: Any) -> dict[str, Any]:
    found = ok(SONG, {"id": gid}, caller)["composition"]
    assert found["status"] == "SUCCEEDED", found["error"]
    return found


def edit(gid: str, caller: Any, capture: Any, line: int, text: str, repeats: bool = False) -> dict[str, Any]:
    with capture(execute=True):
        data = ok(EDIT, {"id": gid, "line": line, "text": text, "repeats": repeats}, caller)
    assert data["editLyricsLine"]["status"] == "QUEUED"
    return song(gid, caller)


def line_notes(found: dict[str, Any], index: int) -> list[list[float]]:
    """The vocal's notes of one lyric line (one per syllable, in order)."""
    lines = found["lyrics"]["lines"]
    first = sum(len(line["syllables"]) for line in lines[:index])
    return found["voice"]["notes"][first : first + len(lines[index]["syllables"])]


def download(found: dict[str, Any], name: str) -> bytes:
    url = next(a["url"] for a in found["artifacts"] if a["name"] == name)
    response = Client().get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def lrc_lines(found: dict[str, Any]) -> dict[str, str]:
    """text -> [mm:ss.xx] stamp, from the downloaded lyrics.lrc."""
    out = {}
    for row in download(found, "lyrics.lrc").decode().splitlines():
        if row.startswith("[") and not row.startswith("[ti:"):
            out[row[10:]] = row[:10]
    return out


def stamp(beats: float, tempo: float) -> str:
    centis = round(beats * 60.0 / tempo * 100)
    return f"[{centis // 6000:02d}:{centis % 6000 / 100:05.2f}]"


def sung_cents(found: dict[str, Any], notes: list[list[float]]) -> list[float]:
    """How far the sung vocal (vocal-sung.flac) is from each note's pitch class, in cents: the
    median f0 of the middle half of the note, by Praat's pitch tracker, which can read a note an
    octave off (FIELD-NOTES 15; the octave itself is checked in tests/modules/voice)."""
    audio, rate = soundfile.read(io.BytesIO(download(found, "vocal-sung.flac")))
    spb = 60.0 / found["context"]["tempo"]
    pitch = parselmouth.Sound(audio.astype(np.float64), rate).to_pitch_ac(
        time_step=0.005, pitch_floor=60.0, pitch_ceiling=1000.0
    )
    times, f0 = pitch.xs(), pitch.selected_array["frequency"]
    errors = []
    for midi, start, duration, _ in notes:
        a, b = (start + 0.25 * duration) * spb, (start + 0.75 * duration) * spb
        voiced = f0[(times >= a) & (times <= b) & (f0 > 0)]
        target = 440.0 * 2 ** ((midi - 69) / 12)
        cents = 1200 * np.log2(np.median(voiced) / target) if voiced.size else float("inf")
        errors.append(cents - 1200 * round(cents / 1200) if voiced.size else cents)
    return errors


def upstream_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Mood, genre, arrangement and the lyrics stage were reused; voice and mastering ran again."""
    runs = {s["name"]: s for s in after["stages"]}
    old = {s["name"]: s for s in before["stages"]}
    for name in UPSTREAM:
        assert runs[name]["reused"] is True, name
    for name in ("mood", "genre", "arrangement"):
        assert runs[name]["inputHash"] == old[name]["inputHash"], name
    for name in ("voice", "mastering"):
        assert runs[name]["reused"] is False and runs[name]["finishedAt"] > old[name]["finishedAt"], name


def started_since(gid: str, seq: int) -> list[str]:
    pk = int(relay.GlobalID.from_id(gid).node_id)
    return list(
        ProgressEvent.objects.filter(composition_id=pk, seq__gt=seq, status="STARTED").values_list(
            "stage", flat=True
        )
    )


def test_a_longer_line_splits_notes_and_the_voice_lrc_and_history_follow(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = caller_for("alice")
    gid = compose(alice, django_capture_on_commit_callbacks)
    before = song(gid, alice)
    lines = before["lyrics"]["lines"]
    assert [line["text"] for line in lines] == [
        "Breathing in the dreamy starlight",
        "Hold me through the twilight",
    ]
    assert len(line_notes(before, 1)) == 6
    seq = Composition.objects.get(pk=int(relay.GlobalID.from_id(gid).node_id)).last_seq
    old_vocal = download(before, "vocal-sung.flac")

    # 6 syllables -> 10: hold me, hold me through the end-less twi-light.
    text = "Hold me, hold me through the endless twilight"
    after = edit(gid, alice, django_capture_on_commit_callbacks, 1, text)

    # The words are sung, one note each, on the line's time span, in key.
    new = after["lyrics"]["lines"][1]
    assert new["text"] == text and len(new["syllables"]) == 10
    notes = line_notes(after, 1)
    assert len(notes) == 10
    assert [n[1] for n in notes] == [s["start"] for s in new["syllables"]]
    assert after["voice"]["syllables"][-10:] == [s["text"] for s in new["syllables"]]
    assert notes[0][1] == lines[1]["syllables"][0]["start"], "the line starts where it did"
    span = lines[1]["syllables"][-1]["start"] + lines[1]["syllables"][-1]["duration"]
    assert sum(s["duration"] for s in new["syllables"]) == pytest.approx(span - notes[0][1])
    assert min(n[2] for n in notes) >= 0.25, "no note shorter than a sixteenth"
    scale = scale_pitch_classes(after["context"]["key"], after["context"]["scale"])
    assert all(int(n[0]) % 12 in scale for n in notes), "the new notes are in key"
    assert line_notes(after, 0) == line_notes(before, 0), "the line before is sung as it was"

    # The sung vocal is new, and measured, it sings the new notes.
    assert download(after, "vocal-sung.flac") != old_vocal
    errors = sung_cents(after, notes)
    assert sum(abs(e) <= 50 for e in errors) >= 9, errors
    assert np.median(np.abs(errors)) < 20, errors

    # The LRC file has the new words, stamped at the time of their first note.
    assert lrc_lines(after) == {
        lines[0]["text"]: stamp(line_notes(after, 0)[0][1], after["context"]["tempo"]),
        text: stamp(notes[0][1], after["context"]["tempo"]),
    }

    # Only voice and mastering ran again.
    upstream_unchanged(before, after)
    assert started_since(gid, seq) == ["voice", "mastering"]

    # History: who changed what, a draft for the edit, and a version of what it was.
    assert after["lyricsEdits"] == [
        {
            "line": 1,
            "section": "chorus",
            "before": "Hold me through the twilight",
            "after": text,
            "syllablesBefore": 6,
            "syllablesAfter": 10,
            "fit": "SPLIT",
            "editor": "alice",
            "draftNumber": 2,
            "versionNumber": 1,
        }
    ]
    assert [(d["number"], d["origin"], d["createdBy"], d["final"]) for d in after["lyricsDrafts"]] == [
        (2, "EDIT", "alice", False),
        (1, "GENERATED", None, False),
    ]
    assert after["lyricsDrafts"][1]["lines"] == [line["text"] for line in lines]
    version = after["versions"][0]
    assert (version["number"], version["reason"]) == (1, f"edit lyrics line 1: {text}")
    assert [row["text"] for row in version["elements"]["lyrics"]["lines"]] == [line["text"] for line in lines]
    assert version["elements"]["voice"]["VocalLine"][0]["notes"] == before["voice"]["notes"]


def test_a_shorter_line_merges_notes_and_a_second_edit_keeps_the_first_words(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = caller_for("alice")
    gid = compose(alice, django_capture_on_commit_callbacks)
    before = song(gid, alice)
    old = before["lyrics"]["lines"]

    after = edit(gid, alice, django_capture_on_commit_callbacks, 1, "Hold me now")
    notes = line_notes(after, 1)
    assert len(notes) == 3 and [s["text"] for s in after["lyrics"]["lines"][1]["syllables"]] == [
        "Hold",
        "me",
        "now",
    ]
    # Merged: the onsets kept are onsets the melody had, the words held until the next one.
    old_starts = {s["start"] for s in old[1]["syllables"]}
    assert {n[1] for n in notes} <= old_starts and notes[0][1] == old[1]["syllables"][0]["start"]
    assert all(a[1] + a[2] == b[1] for a, b in itertools.pairwise(notes))
    assert after["lyricsEdits"][0]["fit"] == "MERGED"
    assert (after["lyricsEdits"][0]["syllablesBefore"], after["lyricsEdits"][0]["syllablesAfter"]) == (6, 3)
    errors = sung_cents(after, notes)
    assert all(abs(e) <= 50 for e in errors), errors

    # Editing the other line keeps the first edit, reruns only voice and mastering again.
    again = edit(gid, alice, django_capture_on_commit_callbacks, 0, "Breathing in the starlight")
    assert [line["text"] for line in again["lyrics"]["lines"]] == [
        "Breathing in the starlight",
        "Hold me now",
    ]
    assert len(line_notes(again, 0)) == 6 and line_notes(again, 0)[0][1] == old[0]["syllables"][0]["start"]
    upstream_unchanged(after, again)
    assert [(e["line"], e["draftNumber"], e["versionNumber"]) for e in again["lyricsEdits"]] == [
        (0, 3, 2),
        (1, 2, 1),
    ]
    assert [v["number"] for v in again["versions"]] == [2, 1]
    assert set(lrc_lines(again)) == {"Breathing in the starlight", "Hold me now"}


def test_edits_survive_a_new_tempo_not_new_words_and_a_line_back_to_its_words_is_no_edit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice, capture = caller_for("alice"), django_capture_on_commit_callbacks
    gid = compose(alice, capture)
    pk = int(relay.GlobalID.from_id(gid).node_id)
    edit(gid, alice, capture, 1, "Hold me now")

    # A new tempo reruns the arrangement and the lyrics stage: the edited words are written again.
    with capture(execute=True):
        ok(UPDATE, {"id": gid, "input": {"tempo": 84}}, alice)
    faster = song(gid, alice)
    assert faster["context"]["tempo"] == 84
    runs = {s["name"]: s["reused"] for s in faster["stages"]}
    assert runs["arrangement"] is False and runs["lyrics"] is False
    assert [(line["text"], line["edited"]) for line in faster["lyrics"]["lines"]] == [
        ("Breathing in the dreamy starlight", False),
        ("Hold me now", True),
    ]
    assert len(line_notes(faster, 1)) == 3
    assert set(lrc_lines(faster)) == {"Breathing in the dreamy starlight", "Hold me now"}
    assert len(faster["lyricsDrafts"]) == 2, "the same words again are no new draft"

    # New words from a regeneration: an edit of the old words does not apply to them.
    with capture(execute=True):
        ok(REGENERATE, {"id": gid}, alice)
    fresh = song(gid, alice)
    written = [line["text"] for line in fresh["lyrics"]["lines"]]
    assert "Hold me now" not in written and not any(line["edited"] for line in fresh["lyrics"]["lines"])
    assert [d["origin"] for d in fresh["lyricsDrafts"]] == ["GENERATED", "EDIT", "GENERATED"]

    # An edit of the new words patches them, and the stale edit is gone.
    edited = edit(gid, alice, capture, 1, "Stay with me")
    assert Composition.objects.get(pk=pk).inputs["lyrics_edits"] == [
        {"line": 1, "base": written[1], "text": "Stay with me"}
    ]
    assert edited["lyricsEdits"][0]["before"] == written[1]

    # Back to the words the stage wrote: no edit left in the inputs, the line as it was written.
    back = edit(gid, alice, capture, 1, written[1])
    assert "lyrics_edits" not in Composition.objects.get(pk=pk).inputs
    assert back["lyrics"]["lines"] == fresh["lyrics"]["lines"]
    assert back["lyricsEdits"][0]["fit"] == "SAME"


def test_a_chorus_line_that_comes_back_is_changed_everywhere_with_repeats(
    django_capture_on_commit_callbacks: Any,
) -> None:
    alice = caller_for("alice")
    # Your own lyrics of one line: it is sung on both phrases of the chorus.
    gid = compose(alice, django_capture_on_commit_callbacks, lyrics="Hold on to the light")
    before = song(gid, alice)
    assert [line["text"] for line in before["lyrics"]["lines"]] == ["Hold on to the light"] * 2

    both = edit(gid, alice, django_capture_on_commit_callbacks, 1, "Shine on", repeats=True)
    assert [line["text"] for line in both["lyrics"]["lines"]] == ["Shine on", "Shine on"]
    assert [len(line_notes(both, i)) for i in (0, 1)] == [2, 2]
    assert [(e["line"], e["before"], e["draftNumber"]) for e in both["lyricsEdits"]] == [
        (0, "Hold on to the light", 2),
        (1, "Hold on to the light", 2),
    ]
    one = edit(gid, alice, django_capture_on_commit_callbacks, 0, "Shine on and on")
    assert [line["text"] for line in one["lyrics"]["lines"]] == ["Shine on and on", "Shine on"]
    assert [d["origin"] for d in one["lyricsDrafts"]] == ["EDIT", "EDIT", "USER"]


def test_final_lyrics_refuse_edits_until_reopened(django_capture_on_commit_callbacks: Any) -> None:
    alice = caller_for("alice")
    gid = compose(alice, django_capture_on_commit_callbacks)
    finalized = ok(FINALIZE, {"id": gid}, alice)["finalizeLyrics"]["lyricsDrafts"]
    assert finalized == [{"number": 1, "final": True}]
    assert ok(FINALIZE, {"id": gid}, alice)["finalizeLyrics"]["lyricsDrafts"] == finalized, "idempotent"
    assert song(gid, alice)["lyricsDrafts"][0]["finalizedBy"] == "alice"

    edits = LyricsLineEdit.objects.count()
    assert error(EDIT, {"id": gid, "line": 1, "text": "Hold me now"}, alice) == (
        "CONFLICT",
        "the lyrics are final (draft 1); reopen them (reopenLyrics) to edit again",
    )
    assert LyricsLineEdit.objects.count() == edits and song(gid, alice)["versions"] == []

    reopened = ok(REOPEN, {"id": gid}, alice)["reopenLyrics"]["lyricsDrafts"]
    assert reopened == [
        {"number": 2, "origin": "REOPENED", "final": False},
        {"number": 1, "origin": "GENERATED", "final": True},
    ]
    assert error(REOPEN, {"id": gid}, alice) == (
        "CONFLICT",
        "the lyrics are not final (draft 2 is open for edits)",
    )
    after = edit(gid, alice, django_capture_on_commit_callbacks, 1, "Hold me now")
    assert [(d["number"], d["origin"], d["final"]) for d in after["lyricsDrafts"]] == [
        (3, "EDIT", False),
        (2, "REOPENED", False),
        (1, "GENERATED", True),
    ]
    assert after["lyricsDrafts"][2]["lines"][1] == "Hold me through the twilight", "the final version is kept"


def test_only_the_owner_may_edit_and_bad_edits_are_clear_errors() -> None:
    alice, bob = caller_for("alice"), caller_for("bob")
    song_row = full_composition(owner=alice.user)  # lyrics: one chorus line "we rise" on two notes
    gid = relay.to_base64("Composition", song_row.pk)
    variables = {"id": gid, "line": 0, "text": "we rise again"}
    before = Composition.objects.values().get(pk=song_row.pk)

    assert error(EDIT, variables, bob) == ("NOT_FOUND", f"no composition with id {gid}")
    for mutation in (FINALIZE, REOPEN):
        assert error(mutation, {"id": gid}, bob)[0] == "NOT_FOUND"
    CompositionShare.objects.create(composition=song_row, user=bob.user)
    assert error(EDIT, variables, bob) == ("FORBIDDEN", "only the composition's owner may change it")
    assert error(FINALIZE, {"id": gid}, bob)[0] == "FORBIDDEN"
    assert Composition.objects.values().get(pk=song_row.pk) == before
    assert not LyricsDraft.objects.exists() and not LyricsLineEdit.objects.exists()

    for variables, expected in (
        ({"line": 5, "text": "we rise"}, ("BAD_USER_INPUT", "line must be between 0 and 0, not 5")),
        ({"line": 0, "text": "  "}, ("BAD_USER_INPUT", "give the new words of the line")),
        ({"line": 0, "text": "?!"}, ("BAD_USER_INPUT", "the line has no words to sing (letters or digits)")),
        (
            {"line": 0, "text": "we\nrise"},
            ("BAD_USER_INPUT", "one line at a time: the text must not contain a line break"),
        ),
        (
            {"line": 0, "text": "x" * 201},
            ("BAD_USER_INPUT", "the line is 201 characters long; the limit is 200"),
        ),
        (
            {"line": 0, "text": "we  rise "},
            ("BAD_USER_INPUT", "line 0 already says 'we rise'; nothing to change"),
        ),
    ):
        assert error(EDIT, {"id": gid, **variables}, alice) == expected, variables
    code, message = error(EDIT, {"id": gid, "line": 0, "text": "I will kill you"}, alice)
    assert code == "CONTENT_REJECTED" and message.startswith("text was rejected by the content check")

    queued = Composition.objects.create(owner=alice.user, prompt="calm piano", seed=1, status="RUNNING")
    code, message = error(
        EDIT, {"id": relay.to_base64("Composition", queued.pk), "line": 0, "text": "x"}, alice
    )
    assert code == "CONFLICT" and message.startswith("composition is RUNNING; wait for it to finish")


def test_too_many_syllables_and_an_instrumental_are_refused(django_capture_on_commit_callbacks: Any) -> None:
    alice = caller_for("alice")
    gid = compose(alice, django_capture_on_commit_callbacks)
    assert error(
        EDIT, {"id": gid, "line": 1, "text": "We will always remember the nights of the summer"}, alice
    ) == (
        "BAD_USER_INPUT",
        "line 1: the line has 13 syllables; it is sung on 6 notes, which take at most 12 syllables",
    )
    instrumental = compose(alice, django_capture_on_commit_callbacks, instrumental=True)
    code, message = error(EDIT, {"id": instrumental, "line": 0, "text": "la"}, alice)
    assert code == "BAD_USER_INPUT" and message.startswith("this composition has no lyrics to edit")
    assert error(FINALIZE, {"id": instrumental}, alice)[0] == "BAD_USER_INPUT"
