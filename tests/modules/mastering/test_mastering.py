"""Presets and reference matching end to end: real compositions rendered and mastered through
GraphQL, re-mastered by updateComposition (only mastering reruns), and every effect measured here
on the files (loudness with pyloudnorm, spectra and stereo with plain FFTs), not read off fields."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyloudnorm
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from scipy import signal

from modules.composition.models import Composition
from modules.mastering.models import MasteringReference
from modules.moderation.models import ModerationFlag
from tests.graphql import caller_for, execute, user
from tests.multipart import multipart_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

RATE = 44100
CREATE = """mutation($preset: String, $reference: ID) {
  createComposition(input: {prompt: "dreamy pop song", seed: 8, durationSeconds: 15, instrumental: true,
                            masteringPreset: $preset, masteringReference: $reference}) { id }
}"""
UPDATE = """mutation($id: ID!, $preset: String, $reference: ID) {
  updateComposition(id: $id, input: {masteringPreset: $preset, masteringReference: $reference}) { status }
}"""
MASTER = """query($id: ID!) {
  composition(id: $id) {
    status
    stages { name reused }
    master {
      preset targetLufs integratedLufs ceilingDbtp gainDb stemGainDb
      presetValues { targetLufs eqTiltDbPerOctave stereoWidth compressionRatio }
      measurements { name unit target before achieved }
      referenceMatch { referenceId name referenceLufs distanceBeforeDb distanceAfterDb shrank eq
                       attempts { eq distanceAfterDb } bands { frequency eqGainDb } }
    }
  }
}"""
UPLOAD = """mutation($file: Upload!) {
  uploadMasteringReference(file: $file) { id name format durationSeconds integratedLufs truePeakDbtp
                                          spectrum { frequency levelDb } }
}"""
UPLOAD_NAMED = """mutation($file: Upload!, $name: String) {
  uploadMasteringReference(file: $file, name: $name) { id name }
}"""


# ----- measuring, independently of the engine -------------------------------------------------


def lufs(audio: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64)))


def true_peak(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(signal.resample_poly(audio, 4, 1, axis=0)))))


CENTRES = 1000 * 2.0 ** (np.arange(-15, 13) / 3)  # 31 Hz - 16 kHz


def bands(audio: np.ndarray) -> np.ndarray:
    """Third-octave band energies (dB) from one FFT of the whole signal, channels' power summed."""
    power = (np.abs(np.fft.rfft(audio, axis=0)) ** 2).sum(axis=1)
    freqs = np.fft.rfftfreq(len(audio), 1 / RATE)
    edges = 2 ** (1 / 6)
    return np.array([10 * np.log10(power[(freqs >= c / edges) & (freqs < c * edges)].sum()) for c in CENTRES])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference of two spectra, each centred on its mean (level does not count)."""
    return float(np.sqrt(np.mean(((a - a.mean()) - (b - b.mean())) ** 2)))


def tilt_change(before: np.ndarray, after: np.ndarray) -> float:
    """dB/octave of the line through the spectrum's change, 63 Hz - 8 kHz."""
    inside = (CENTRES >= 60) & (CENTRES <= 8100)
    return float(np.polyfit(np.log2(CENTRES[inside]), (bands(after) - bands(before))[inside], 1)[0])


def width_change(before: np.ndarray, after: np.ndarray) -> float:
    """How much the side grew against the mid (amplitude), band by band so that an EQ (which
    moves side and mid alike within a band) does not count: the median over 63 Hz - 8 kHz."""

    def side_over_mid(audio: np.ndarray) -> np.ndarray:
        mid = (audio[:, :1] + audio[:, 1:]) / 2
        side = (audio[:, :1] - audio[:, 1:]) / 2
        return bands(side) - bands(mid)  # dB

    inside = (CENTRES >= 60) & (CENTRES <= 8100)
    return float(10 ** (np.median((side_over_mid(after) - side_over_mid(before))[inside]) / 20))


def level(audio: np.ndarray) -> np.ndarray:
    """The 50 ms RMS level (dB) around every frame, channels' power averaged."""
    return 10 * np.log10(signal.convolve(np.mean(audio**2, axis=1), np.ones(2205) / 2205, "same") + 1e-12)


def swing(audio: np.ndarray) -> float:
    """How far loud passages stand above quiet ones: 90th minus 10th percentile of the 50 ms level."""
    loudness = level(audio)
    music = loudness > loudness.max() - 40
    return float(np.percentile(loudness[music], 90) - np.percentile(loudness[music], 10))


def effective_ratio(level_in: np.ndarray, level_out: np.ndarray, threshold: float) -> float:
    """Input rise over output rise above the threshold (a line through it), over the music frames
    whose input is past the 6 dB knee: the ratio a compressor set to `threshold` shows."""
    over = (level_in > level_in.max() - 40) & (level_in > threshold + 3)
    x, y = level_in[over] - threshold, level_out[over] - threshold
    return float(np.dot(x, x) / np.dot(x, y))


# ----- helpers -----------------------------------------------------------------------------------


def master_audio(composition: Composition) -> np.ndarray:
    with composition.artifacts.get(name="master.wav", current=True).file.open("rb") as handle:
        return soundfile.read(handle, dtype="float64")[0]


def stem_files(composition: Composition) -> dict[str, np.ndarray]:
    return {
        a.name: soundfile.read(a.file.open("rb"), dtype="float64")[0]
        for a in composition.artifacts.filter(kind="stem", current=True)
    }


def version_master(composition: Composition, number: int) -> np.ndarray:
    artifact = composition.versions.get(number=number).artifacts.get(name="master.wav")
    with artifact.file.open("rb") as handle:
        return soundfile.read(handle, dtype="float64")[0]


def read(gid: str, caller: Any) -> dict[str, Any]:
    result = execute(MASTER, {"id": gid}, caller)
    assert result.errors is None, result.errors
    assert result.data["composition"]["status"] == "SUCCEEDED"
    return result.data["composition"]


def measures(composition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in composition["master"]["measurements"]}


def run(capture: Any, query: str, variables: dict[str, Any], caller: Any) -> Any:
    with capture(execute=True):  # the pipeline is dispatched on commit; sync_pipeline runs it inline
        result = execute(query, variables, caller)
    assert result.errors is None, result.errors
    return result.data


# ----- presets -----------------------------------------------------------------------------------


def test_presets_are_applied_and_measured_and_remastering_reruns_only_mastering(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada = caller_for("ada")
    squeeze = execute(
        """mutation { createMasteringPreset(input: {name: "bright narrow squeeze", targetLufs: -14,
             eqTiltDbPerOctave: 1.5, stereoWidth: 0.5, compressionRatio: 4, compressionThresholdDb: -24}) {
           id } }""",
        None,
        ada,
    ).data["createMasteringPreset"]["id"]

    # 1. Club: -9 LUFS under -1 dBTP, measured on the file.
    gid = run(django_capture_on_commit_callbacks, CREATE, {"preset": "club"}, ada)["createComposition"]["id"]
    song = Composition.objects.get()
    club = master_audio(song)
    assert lufs(club) == pytest.approx(-9.0, abs=0.5)
    assert true_peak(club) <= -1.0 + 0.05
    shown = read(gid, ada)
    assert (shown["master"]["preset"], shown["master"]["targetLufs"]) == ("club", -9.0)
    assert measures(shown)["integrated_loudness"]["achieved"] == pytest.approx(lufs(club), abs=0.05)
    # Its stems: the mix before the limiter sits over full scale at -9 LUFS, so every stem shares
    # one negative headroom gain that puts the loudest sample at -1 dBFS: no stem file clips.
    stems = stem_files(song)
    assert len(stems) >= 4
    peaks = [float(np.max(np.abs(stem))) for stem in stems.values()]
    assert max(peaks) < 1.0 and max(peaks) == pytest.approx(10 ** (-1 / 20), abs=3 / 32768), peaks
    stem_gain = shown["master"]["stemGainDb"]
    assert stem_gain < 0
    sheet = json.loads(song.artifacts.get(name="composition.json", current=True).file.open("rb").read())
    assert sheet["master"]["stem_gain_db"] == stem_gain
    # Un-gained, they sum to the mix before the limiter, which is over full scale, and of which the
    # master is that mix times one gain envelope (<= 1, the same for both channels).
    pre = sum(stems.values()) * 10 ** (-stem_gain / 20)
    assert np.max(np.abs(pre)) > 1.0
    loud = np.all(np.abs(pre) > 0.1, axis=1)
    ratio = club[loud] / pre[loud]
    assert np.all(ratio > 0) and np.all(ratio <= 1.0 + 2e-3)
    np.testing.assert_allclose(ratio[:, 0], ratio[:, 1], atol=5e-3)

    # 2. Re-mastered for streaming: only the mastering stage runs again.
    run(django_capture_on_commit_callbacks, UPDATE, {"id": gid, "preset": "streaming"}, ada)
    shown = read(gid, ada)
    assert {s["name"]: s["reused"] for s in shown["stages"]} == {
        "mood": True,
        "genre": True,
        "arrangement": True,
        "lyrics": False,  # skipped: an instrumental
        "voice": False,
        "mastering": False,
    }
    assert [s.status for s in song.stages.filter(name__in=["lyrics", "voice"])] == ["SKIPPED", "SKIPPED"]
    streaming = master_audio(song)
    streaming_gain = shown["master"]["gainDb"]
    assert lufs(streaming) == pytest.approx(-14.0, abs=0.5)
    assert np.array_equal(version_master(song, 1), club), "the club master is kept as version 1"

    # 3. Your preset: +1.5 dB/octave, half the side, 4:1 from -24 dBFS; each effect measured
    # against the streaming master (flat, full width, its compressor idle at -14 LUFS).
    run(django_capture_on_commit_callbacks, UPDATE, {"id": gid, "preset": squeeze}, ada)
    shown = read(gid, ada)
    squeezed = master_audio(song)
    assert lufs(squeezed) == pytest.approx(-14.0, abs=0.5)
    assert true_peak(squeezed) <= -1.0 + 0.05
    measured_tilt = tilt_change(streaming, squeezed)
    # ~1.2 here: the 4:1 compression that follows the EQ takes a little of the tilt back.
    assert measured_tilt == pytest.approx(1.5, abs=0.4)
    assert width_change(streaming, squeezed) == pytest.approx(0.5, abs=0.1)
    assert swing(streaming) - swing(squeezed) > 2.0, (swing(streaming), swing(squeezed))

    assert shown["master"]["preset"] == "bright narrow squeeze"
    assert shown["master"]["presetValues"] == {
        "targetLufs": -14.0,
        "eqTiltDbPerOctave": 1.5,
        "stereoWidth": 0.5,
        "compressionRatio": 4.0,
    }
    reported = measures(shown)
    assert (reported["eq_tilt"]["target"], reported["eq_tilt"]["unit"]) == (1.5, "dB/octave")
    assert reported["eq_tilt"]["achieved"] == pytest.approx(measured_tilt, abs=0.3)
    assert reported["stereo_width"]["achieved"] == pytest.approx(0.5, abs=0.1)
    assert reported["compression_ratio"]["achieved"] == pytest.approx(4.0, rel=0.1)
    assert reported["crest_factor"]["achieved"] < reported["crest_factor"]["before"]
    assert reported["true_peak"]["achieved"] == pytest.approx(true_peak(squeezed), abs=0.05)
    assert shown["master"]["referenceMatch"] is None

    # 4. 4:1 from -24 dBFS alone (flat, full width), its ratio measured here on the files: the
    # master's input is the streaming master (whose dynamics are idle at -14 LUFS) times the gain
    # difference, its output the finished master.wav.
    plain = execute(
        """mutation { createMasteringPreset(input: {name: "plain squeeze", targetLufs: -14,
             compressionRatio: 4, compressionThresholdDb: -24}) { id } }""",
        None,
        ada,
    ).data["createMasteringPreset"]["id"]
    run(django_capture_on_commit_callbacks, UPDATE, {"id": gid, "preset": plain}, ada)
    shown = read(gid, ada)
    level_in = level(streaming) + shown["master"]["gainDb"] - streaming_gain
    measured = effective_ratio(level_in, level(master_audio(song)), -24.0)
    assert measured == pytest.approx(4.0, rel=0.05)
    assert measures(shown)["compression_ratio"]["achieved"] == pytest.approx(measured, abs=0.15)


# ----- reference matching ------------------------------------------------------------------------


def bright_reference(seconds: float = 8.0) -> tuple[bytes, np.ndarray]:
    """A reference unlike the song: pink-ish noise tilted +1.5 dB/octave with a bump at 3 kHz and
    a pulse, at about -11 LUFS, as a FLAC file."""
    rng = np.random.default_rng(21)
    frames = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal((frames, 2)), axis=0)
    freqs = np.maximum(np.fft.rfftfreq(frames, 1 / RATE), 20.0)
    shape_db = 1.5 * np.log2(freqs / 1000) + 6 * np.exp(-(np.log2(freqs / 3000) ** 2) * 4)
    spectrum *= (10 ** (shape_db / 20) / np.sqrt(freqs))[:, None]
    audio = np.fft.irfft(spectrum, n=frames, axis=0)
    audio *= (0.6 + 0.4 * (np.sin(2 * np.pi * 2 * np.arange(frames) / RATE) > 0))[:, None]
    audio *= 10 ** ((-11.0 - lufs(audio)) / 20)
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, RATE, format="FLAC", subtype="PCM_24")
    decoded = soundfile.read(io.BytesIO(buffer.getvalue()), dtype="float64")[0]
    return buffer.getvalue(), decoded


def test_a_reference_uploaded_by_multipart_is_matched_in_loudness_and_spectrum(
    django_capture_on_commit_callbacks: Any,
) -> None:
    data, reference = bright_reference()
    client = Client()
    client.force_login(user("ada"))
    response = multipart_post(client, UPLOAD, {}, {"file": ("bright.flac", data)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    uploaded = body["data"]["uploadMasteringReference"]
    assert (uploaded["name"], uploaded["format"]) == ("bright", "FLAC")
    assert uploaded["integratedLufs"] == pytest.approx(lufs(reference), abs=0.05)
    assert uploaded["truePeakDbtp"] == pytest.approx(true_peak(reference), abs=0.05)
    assert [round(b["frequency"]) for b in uploaded["spectrum"]][::9] == [31, 250, 2000, 16000]

    # Mastered flat first (streaming), then re-mastered against the reference: the flat master is
    # the "before" (its spectrum is the mix's: no EQ, at -14 LUFS).
    ada = caller_for("ada")
    gid = run(django_capture_on_commit_callbacks, CREATE, {"preset": "streaming"}, ada)["createComposition"][
        "id"
    ]
    run(django_capture_on_commit_callbacks, UPDATE, {"id": gid, "reference": uploaded["id"]}, ada)
    song = Composition.objects.get()
    flat, mastered = version_master(song, 1), master_audio(song)
    # Loudness: the reference's.
    assert lufs(mastered) == pytest.approx(lufs(reference), abs=0.5)
    before, after = distance(bands(flat), bands(reference)), distance(bands(mastered), bands(reference))
    assert before > 6.0, before
    assert after <= before - 3.0 and after <= 0.6 * before, (before, after)

    match = read(gid, ada)["master"]["referenceMatch"]
    assert (match["referenceId"], match["name"]) == (uploaded["id"], "bright")
    assert match["referenceLufs"] == uploaded["integratedLufs"]
    assert match["distanceAfterDb"] == pytest.approx(after, abs=0.75)
    assert match["distanceBeforeDb"] > match["distanceAfterDb"] + 3.0
    # The refined match shrank the distance, so it is what shipped, first try.
    assert (match["eq"], match["shrank"]) == ("MATCHED", True)
    assert match["attempts"] == [{"eq": "MATCHED", "distanceAfterDb": match["distanceAfterDb"]}]
    assert max(abs(b["eqGainDb"]) for b in match["bands"]) <= 12.0
    tilt = measures(read(gid, ada))["eq_tilt"]
    assert tilt["target"] is None and tilt["achieved"] > 0.5  # the match brightened a darker song


def test_an_mp3_reference_is_accepted_and_measured_as_it_decodes() -> None:
    _, reference = bright_reference()
    buffer = io.BytesIO()
    soundfile.write(buffer, reference, RATE, format="MP3")  # libsndfile's own LAME, no ffmpeg
    decoded = soundfile.read(io.BytesIO(buffer.getvalue()), dtype="float64")[0]
    client = Client()
    client.force_login(user("ada"))
    response = multipart_post(client, UPLOAD, {}, {"file": ("bright.mp3", buffer.getvalue())})
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    uploaded = body["data"]["uploadMasteringReference"]
    assert (uploaded["name"], uploaded["format"]) == ("bright", "MP3")
    assert uploaded["durationSeconds"] == pytest.approx(len(decoded) / RATE, abs=0.01)
    assert uploaded["integratedLufs"] == pytest.approx(lufs(decoded), abs=0.05)
    assert uploaded["integratedLufs"] == pytest.approx(lufs(reference), abs=0.3)  # the MP3 keeps the level
    stored = MasteringReference.objects.get()
    assert (stored.format, stored.file.name.endswith(".mp3")) == ("MP3", True)
    assert stored.file.read() == buffer.getvalue()


def test_reference_names_go_through_the_content_check() -> None:
    data, _ = bright_reference(4.0)
    ada = caller_for("ada")
    for name, upload_name in (("fuck this", "bright.flac"), (None, "shit.flac")):  # given, or the file's
        result = execute(UPLOAD_NAMED, {"file": SimpleUploadedFile(upload_name, data), "name": name}, ada)
        assert result.errors[0].extensions == {
            "code": "CONTENT_REJECTED",
            "field": "name",
            "rule": "profanity",
        }
        assert result.errors[0].message.startswith("name was rejected by the content check")
    assert not MasteringReference.objects.exists()
    assert list(ModerationFlag.objects.values_list("field", "excerpt", "caller").order_by("pk")) == [
        ("name", "fuck", ada.client_key),
        ("name", "shit", ada.client_key),
    ]


def test_another_users_reference_cannot_be_seen_used_or_deleted() -> None:
    data, _ = bright_reference(4.0)
    bob, ada = caller_for("bob"), caller_for("ada")
    gid = execute(UPLOAD, {"file": SimpleUploadedFile("b.flac", data)}, bob).data["uploadMasteringReference"][
        "id"
    ]
    assert execute("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, ada).data["node"] is None
    assert execute("{ masteringReferences { id } }", None, ada).data["masteringReferences"] == []
    deleted = execute("mutation($id: ID!) { deleteMasteringReference(id: $id) }", {"id": gid}, ada)
    assert deleted.errors[0].extensions == {"code": "NOT_FOUND", "id": gid}
    used = execute(CREATE, {"reference": gid}, ada)
    assert used.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "masteringReference"}
    assert not Composition.objects.exists()
    assert execute("{ masteringReferences { id } }", None, bob).data["masteringReferences"] == [{"id": gid}]
    stored = MasteringReference.objects.get()
    assert stored.file.storage.exists(stored.file.name)
    assert (
        execute("mutation($id: ID!) { deleteMasteringReference(id: $id) }", {"id": gid}, bob).errors is None
    )
    assert not stored.file.storage.exists(stored.file.name)


def sine_flac(seconds: float = 5.0) -> bytes:
    buffer = io.BytesIO()
    tone = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(int(seconds * RATE)) / RATE)
    soundfile.write(buffer, tone, RATE, format="FLAC")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda: bright_reference(1.0)[0], "the recording is 1.00 s long; at least 3.0 s needed"),
        (lambda: b"ID3 but not really an mp3", "the file is not audio Coda can read"),
        (sine_flac, "a reference to match needs at least 12"),
    ],
)
def test_bad_reference_files_are_refused_with_the_reason(content: Any, message: str) -> None:
    data = content()
    result = execute(UPLOAD, {"file": SimpleUploadedFile("r.mp3", data)}, caller_for("ada"))
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "file"}
    assert message in result.errors[0].message
    assert not MasteringReference.objects.exists()


def test_a_user_keeps_at_most_max_references(monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.mastering import services

    monkeypatch.setattr(services, "MAX_REFERENCES", 2)
    data, _ = bright_reference(4.0)
    ada = caller_for("ada")
    for _ in range(2):
        assert execute(UPLOAD, {"file": SimpleUploadedFile("r.flac", data)}, ada).errors is None
    third = execute(UPLOAD, {"file": SimpleUploadedFile("r.flac", data)}, ada)
    assert third.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "file"}
    assert third.errors[0].message == "you keep 2 mastering references, the most allowed; delete one first"
    assert MasteringReference.objects.count() == 2
    assert execute(UPLOAD, {"file": SimpleUploadedFile("r.flac", data)}, caller_for("bob")).errors is None
