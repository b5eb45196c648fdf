"""Genre references end to end through GraphQL: a track rendered by Coda at 100 bpm in D minor,
uploaded as a real multipart request (WAV and MP3), analysed, and steering a new composition's
tempo and key (recorded as coming from the reference), which is then composed to the end with and
without it and the two masters analysed as uploads are; ownership, names, bad files and explicit
inputs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from modules.composition.models import Composition
from modules.composition.pipeline import execute_stage, run_inline
from modules.composition.services import composition_create
from modules.genre.analysis import ReferenceAnalysis, analyse_reference
from modules.genre.models import GenreReference
from modules.moderation.models import ModerationFlag
from schema.entities import global_pk
from tests.graphql import caller_for, execute, user
from tests.multipart import multipart_post
from tests.tracks import MAJOR, RATE, synthesise

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

UPLOAD = """mutation($file: Upload!, $name: String) {
  uploadGenreReference(file: $file, name: $name) {
    id name format durationSeconds tempo beatCount beatJitterMs key scale keyMargin runnerUp chroma
  }
}"""
CREATE = """mutation($ref: ID, $tempo: Float, $key: String) {
  createComposition(input: {prompt: "dreamy pop song", seed: 4, durationSeconds: 20, instrumental: true,
                            genreReference: $ref, tempo: $tempo, key: $key}) { id }
}"""
READ = """query($id: ID!) {
  composition(id: $id) {
    id
    context { tempo key scale sources { field source } }
    genre { primary tempo reference { referenceId name tempo key scale } }
    layers { name notes }
  }
}"""


def render_track() -> tuple[bytes, bytes]:
    """A real song made by Coda's own pipeline: 15 s, 100 bpm, D minor, drums and all; its
    master.wav and master.mp3."""
    song = composition_create(
        prompt="melancholic hip-hop beat",
        seed=1,
        duration_seconds=15,
        instrumental=True,
        inputs={"tempo": 100, "key": "D", "scale": "minor"},
        start=False,
    )
    run_inline(song.pk)
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    wav, mp3 = (song.artifacts.get(name=f"master.{fmt}", current=True).file.read() for fmt in ("wav", "mp3"))
    return wav, mp3


def heard(composition: Composition) -> ReferenceAnalysis:
    """A composed master analysed as an upload is: the same analysis, on the finished audio."""
    with composition.artifacts.get(name="master.wav", current=True).file.open("rb") as handle:
        samples, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    return analyse_reference(samples, rate)


def synthesised_wav(bpm: float = 120) -> bytes:
    buffer = io.BytesIO()
    chords = [("A", MAJOR), ("D", MAJOR), ("E", MAJOR), ("A", MAJOR)]
    soundfile.write(buffer, synthesise(bpm, chords), RATE, format="WAV")
    return buffer.getvalue()


def compose_until_arranged(caller: Any, **variables: Any) -> dict[str, Any]:
    """createComposition through GraphQL, then only the stages that set tempo and key, then read."""
    result = execute(CREATE, variables, caller)
    assert result.errors is None, result.errors
    gid = result.data["createComposition"]["id"]
    pk = Composition.objects.latest("id").pk
    for stage in ("mood", "genre", "arrangement"):
        assert execute_stage(pk, stage) == "SUCCEEDED"
    read = execute(READ, {"id": gid}, caller)
    assert read.errors is None, read.errors
    return read.data["composition"]


def sources(composition: dict[str, Any]) -> dict[str, str]:
    return {s["field"]: s["source"] for s in composition["context"]["sources"]}


def test_a_rendered_track_uploaded_by_multipart_steers_the_song_you_then_hear(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    wav, mp3 = render_track()
    client = Client()
    client.force_login(user("ada"))
    response = multipart_post(client, UPLOAD, {"name": "dm at 100"}, {"file": ("render.wav", wav)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    reference = body["data"]["uploadGenreReference"]
    assert reference["tempo"] == pytest.approx(100.0, abs=2.0)
    assert (reference["key"], reference["scale"]) == ("D", "minor"), reference
    assert reference["keyMargin"] > 0.1 and reference["beatJitterMs"] < 20
    assert (reference["name"], reference["format"]) == ("dm at 100", "WAV")
    assert reference["durationSeconds"] == pytest.approx(
        len(soundfile.read(io.BytesIO(wav))[0]) / 44100, abs=0.01
    )
    stored = GenreReference.objects.get()
    assert Path(stored.file.path).read_bytes() == wav and stored.owner.username == "ada"
    assert not stored.file.name.endswith("render.wav"), "stored under a name of Coda's, not the client's"

    # The same render as the MP3 Coda wrote for it reads the same.
    response = multipart_post(client, UPLOAD, {}, {"file": ("render.mp3", mp3)})
    assert response.status_code == 200, response.content
    as_mp3 = response.json()["data"]["uploadGenreReference"]
    assert (as_mp3["format"], as_mp3["name"], as_mp3["key"], as_mp3["scale"]) == (
        "MP3",
        "render",
        "D",
        "minor",
    )
    assert as_mp3["tempo"] == pytest.approx(reference["tempo"], abs=0.5)
    assert as_mp3["durationSeconds"] == pytest.approx(reference["durationSeconds"], abs=0.1)

    # The same prompt and seed composed to the end, with the reference and without it.
    settings.CODA_PIPELINE = "sync"
    ada = caller_for("ada")
    songs: dict[str, dict[str, Any]] = {}
    for label, ref in (("steered", reference["id"]), ("control", None)):
        with django_capture_on_commit_callbacks(execute=True):  # the pipeline runs inline on commit
            created = execute(CREATE, {"ref": ref}, ada)
        assert created.errors is None, created.errors
        read = execute(READ, {"id": created.data["createComposition"]["id"]}, ada)
        assert read.errors is None, read.errors
        songs[label] = read.data["composition"]
    steered, control = (
        Composition.objects.get(pk=global_pk(songs[label]["id"], "Composition"))
        for label in ("steered", "control")
    )
    assert steered.status == control.status == "SUCCEEDED", (steered.error, control.error)

    context = songs["steered"]["context"]
    # Pop's range holds 100 bpm, so the tempo is the reference's as detected, to the tenth.
    assert context["tempo"] == round(reference["tempo"], 1)
    assert (context["key"], context["scale"]) == ("D", "minor")
    assert {f: sources(songs["steered"])[f] for f in ("tempo", "key", "scale")} == dict.fromkeys(
        ("tempo", "key", "scale"), "reference"
    )
    assert songs["steered"]["genre"]["reference"] == {
        "referenceId": reference["id"],
        "name": "dm at 100",
        "tempo": reference["tempo"],
        "key": "D",
        "scale": "minor",
    }
    assert "reference" not in {sources(songs["control"]).get(f) for f in ("tempo", "key", "scale")}

    # What you hear: the finished masters analysed as the upload was (the beat tracker reads Coda
    # renders to a few hundredths of a bpm). The steered song is at the reference's tempo and in D
    # minor, tonic and mode: the control, the same prompt and seed alone, is in F major, which has
    # every note D minor has, at 102.5 bpm, and is heard as that.
    song = heard(steered)
    assert song.tempo == pytest.approx(reference["tempo"], abs=1.0), song
    assert (song.key, song.scale) == ("D", "minor"), song
    alone = heard(control)
    composed = songs["control"]["context"]
    assert alone.tempo == pytest.approx(composed["tempo"], abs=1.0), alone
    assert (alone.key, alone.scale) == (composed["key"], composed["scale"]), alone
    assert abs(alone.tempo - song.tempo) > 2.0, (alone, song)
    assert (alone.key, alone.scale) != ("D", "minor"), alone


def test_explicit_tempo_and_key_win_over_the_reference() -> None:
    ada = caller_for("ada")
    uploaded = execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", synthesised_wav(120))}, ada)
    assert uploaded.errors is None, uploaded.errors
    reference = uploaded.data["uploadGenreReference"]
    assert (reference["key"], reference["scale"]) == ("A", "major")
    song = compose_until_arranged(ada, ref=reference["id"], tempo=90.0, key="E")
    assert (song["context"]["tempo"], song["context"]["key"], song["context"]["scale"]) == (
        90.0,
        "E",
        "major",
    )
    assert {f: sources(song)[f] for f in ("tempo", "key", "scale")} == {
        "tempo": "input",
        "key": "input",
        "scale": "reference",
    }


def test_another_users_reference_is_not_found_and_cannot_be_used() -> None:
    bob, ada = caller_for("bob"), caller_for("ada")
    uploaded = execute(UPLOAD, {"file": SimpleUploadedFile("b.wav", synthesised_wav())}, bob)
    gid = uploaded.data["uploadGenreReference"]["id"]

    assert execute("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, ada).data["node"] is None
    assert execute("{ genreReferences { id } }", None, ada).data["genreReferences"] == []
    assert execute("{ genreReferences { id } }", None, bob).data["genreReferences"] == [{"id": gid}]
    deleted = execute("mutation($id: ID!) { deleteGenreReference(id: $id) }", {"id": gid}, ada)
    assert deleted.errors[0].extensions == {"code": "NOT_FOUND", "id": gid}
    used = execute(CREATE, {"ref": gid}, ada)
    assert used.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "genreReference"}
    assert used.errors[0].message.startswith(f"no genre reference with id {gid}")
    assert not Composition.objects.exists()

    path = Path(GenreReference.objects.get().file.path)
    assert execute("mutation($id: ID!) { deleteGenreReference(id: $id) }", {"id": gid}, bob).errors is None
    assert not GenreReference.objects.exists() and not path.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not audio at all", "the file is not audio Coda can read"),
        (None, "found no steady beat"),
    ],
)
def test_bad_files_are_refused_with_the_reason(content: bytes | None, message: str) -> None:
    if content is None:  # a steady hum: audio, but no beat
        buffer = io.BytesIO()
        hum = 0.3 * np.sin(2 * np.pi * 220 * np.arange(8 * RATE) / RATE)
        soundfile.write(buffer, hum, RATE, format="FLAC")
        content = buffer.getvalue()
    result = execute(UPLOAD, {"file": SimpleUploadedFile("x.flac", content)}, caller_for("ada"))
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "file"}
    assert message in result.errors[0].message
    assert not GenreReference.objects.exists()


def test_reference_names_go_through_the_content_check() -> None:
    wav = synthesised_wav()
    ada = caller_for("ada")
    for name, upload_name in (("fuck this", "a.wav"), (None, "shit.wav")):  # given, or the file's
        result = execute(UPLOAD, {"file": SimpleUploadedFile(upload_name, wav), "name": name}, ada)
        assert result.errors[0].extensions == {
            "code": "CONTENT_REJECTED",
            "field": "name",
            "rule": "profanity",
        }
        assert result.errors[0].message.startswith("name was rejected by the content check")
    assert not GenreReference.objects.exists()
    assert list(ModerationFlag.objects.values_list("field", "excerpt", "caller").order_by("pk")) == [
        ("name", "fuck", ada.client_key),
        ("name", "shit", ada.client_key),
    ]
    fine = execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", wav), "name": "Scunthorpe demo"}, ada)
    assert fine.errors is None and fine.data["uploadGenreReference"]["name"] == "Scunthorpe demo"


def test_uploading_needs_an_account() -> None:
    result = execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", b"RIFF")}, caller_for(None))
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"


def test_a_user_keeps_at_most_max_references(monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.genre import services

    monkeypatch.setattr(services, "MAX_REFERENCES", 2)
    wav, ada = synthesised_wav(), caller_for("ada")
    for _ in range(2):
        assert execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", wav)}, ada).errors is None
    third = execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", wav)}, ada)
    assert third.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "file"}
    assert third.errors[0].message == "you keep 2 genre references, the most allowed; delete one first"
    assert GenreReference.objects.count() == 2
    assert execute(UPLOAD, {"file": SimpleUploadedFile("a.wav", wav)}, caller_for("bob")).errors is None
