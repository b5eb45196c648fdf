# ruff: noqa: RUF001  (IPA vowel symbols name the test voices)
"""Voice profiles through GraphQL, with recordings the tests synthesize: uploads over the multipart
request spec, consent, privacy and grants, the use log, and the measured effect of singing with a
profile on the sung vocal.

Re-measure the figures with
    .venv/bin/python -m pytest tests/modules/voice/test_profile_api.py -s -k moves
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import soundfile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from strawberry import relay

from modules.accounts.caller import READ
from modules.accounts.models import UsageCounter
from modules.composition.models import Composition, StageRun
from modules.composition.pipeline import execute_stage, run_inline
from modules.voice.models import VocalLine, VoiceProfile, VoiceProfileGrant, VoiceSample, VoiceUse
from modules.voice.profiles import analyse, formant_distance, semitones
from modules.voice.services import CONSENT_STATEMENTS, CONSENT_VERSION
from tests.graphql import caller_for, data_of, execute, user
from tests.modules.voice.voices import SR, encoded, synthetic_voice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

UNTIL_VOICE = ["mood", "genre", "arrangement", "lyrics", "voice"]
DEEP = (0.85, (95.0, 140.0, 110.0, 160.0, 100.0))

PROFILE_FIELDS = """
  id name owner ownedByMe
  analysis { medianPitchHz pitchRangeHz { low high } formantsHz { f1 f2 f3 } spectralCentroidHz
             voicedRatio sampleSeconds }
  singing { low high singer formantShift }
  consent { version statement basis speakerName givenAt }
  samples { name format sizeBytes sampleRate durationSeconds }
  grants { username createdAt revokedAt }
  uses(first: 20) { edges { node { username compositionId role reused createdAt } } }
"""
CREATE_PROFILE = f"""
mutation($name: String!, $samples: [Upload!]!, $consent: VoiceConsentInput!) {{
  createVoiceProfile(name: $name, samples: $samples, consent: $consent) {{ {PROFILE_FIELDS} }}
}}"""
MY_PROFILES = f"{{ voiceProfiles {{ {PROFILE_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on VoiceProfile { name } } }"
GRANT = """mutation($id: ID!, $u: String!) {
  grantVoiceProfile(profileId: $id, username: $u) { grants { username revokedAt } }
}"""
REVOKE = """mutation($id: ID!, $u: String!) {
  revokeVoiceProfileGrant(profileId: $id, username: $u) { grants { username revokedAt } }
}"""
DELETE = "mutation($id: ID!) { deleteVoiceProfile(id: $id) }"
COMPOSE = """mutation($input: CreateCompositionInput!) { createComposition(input: $input) { id status } }"""
UPDATE = """mutation($id: ID!, $input: UpdateCompositionInput!) {
  updateComposition(id: $id, input: $input) { id }
}"""
REGENERATE = """mutation($id: ID!) { regenerateStage(compositionId: $id, stage: "voice", seed: 9) { id } }"""
EDIT_LINE = """mutation($id: ID!, $line: Int!, $text: String!) {
  editLyricsLine(compositionId: $id, line: $line, text: $text) { status }
}"""
SUNG = """query($id: ID!) { composition(id: $id) {
  voice { voice low high voiceProfile formantShift }
  context { vocalStyle vocalRange vocalFormantShift sources { field source } }
  artifacts { name url }
} }"""


def consent(**changes: Any) -> dict[str, Any]:
    given = {
        "version": CONSENT_VERSION,
        "statement": CONSENT_STATEMENTS[CONSENT_VERSION],
        "basis": "SELF",
        "agreed": True,
    }
    return {**given, **changes}


def wav(x: np.ndarray, name: str = "take.wav", fmt: str = "WAV") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, encoded(x, SR, fmt))


def decoded(data: bytes) -> np.ndarray:
    return soundfile.read(io.BytesIO(data))[0]


def code(result: Any) -> str | None:
    return result.errors[0].extensions.get("code") if result.errors else None


def multipart(client: Client, query: str, variables: dict[str, Any], files: list[SimpleUploadedFile]) -> Any:
    """A GraphQL multipart request (jaydenseric's spec): operations, map, then the files."""
    variables = {**variables, "samples": [None] * len(files)}
    mapping = {str(k): [f"variables.samples.{k}"] for k in range(len(files))}
    data: dict[str, Any] = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps(mapping),
    }
    data.update({str(k): f for k, f in enumerate(files)})
    response = client.post("/graphql", data=data)
    assert response.status_code == 200, response.content
    return response.json()


def signed_in(name: str) -> Client:
    client = Client()
    client.force_login(user(name))
    return client


def with_token(name: str) -> Client:
    """A client the way curl is one: a bearer token, no session, Django's CSRF check enforced."""
    from modules.accounts.tokens import token_create

    _, raw = token_create(user(name), name="curl", scopes=["read", "compose"])
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})


def make_profile(owner: str = "alice", name: str = "deep", voice: tuple = DEEP) -> dict[str, Any]:
    x = synthetic_voice(*voice)
    return data_of(
        CREATE_PROFILE, {"name": name, "samples": [wav(x)], "consent": consent()}, caller_for(owner)
    )["createVoiceProfile"]


def compose(who: str, profile_id: str | None, seed: int = 5, duration: int = 15) -> str:
    inputs: dict[str, Any] = {
        "prompt": "a slow folk song with deep male vocals",
        "seed": seed,
        "durationSeconds": duration,
    }
    if profile_id:
        inputs["voiceProfile"] = profile_id
    return data_of(COMPOSE, {"input": inputs}, caller_for(who))["createComposition"]["id"]


def charged() -> int:
    """Everything taken from anyone's compose quotas so far."""
    return sum(UsageCounter.objects.values_list("count", flat=True))


def pk_of(global_id: str) -> int:
    return int(relay.from_base64(global_id)[1])


def sing_until_voice(global_id: str) -> list[str]:
    return [execute_stage(pk_of(global_id), stage) for stage in UNTIL_VOICE]


# --------------------------------------------------------------------------- making a profile


def test_a_multipart_upload_makes_a_measured_private_profile(media_root: Any) -> None:
    low, high = synthetic_voice(*DEEP), synthetic_voice(0.85, (120.0, 150.0), vowels=("ɑ", "ə", "i") * 3)
    body = multipart(
        signed_in("alice"),
        CREATE_PROFILE,
        {"name": "  My  deep voice ", "consent": consent(basis="PERMISSION", speakerName="Sam Ray")},
        [wav(low, "take one.wav"), wav(high, "take-2.flac", "FLAC")],
    )
    assert body.get("errors") is None, body
    made = body["data"]["createVoiceProfile"]
    # The analysis is the one `analyse` makes of the recordings as uploaded (16-bit).
    pcm = analyse([(decoded(encoded(low, SR)), SR), (decoded(encoded(high, SR, "FLAC")), SR)])
    analysis = made["analysis"]
    assert analysis == {
        "medianPitchHz": pcm.median_pitch_hz,
        "pitchRangeHz": {"low": pcm.pitch_low_hz, "high": pcm.pitch_high_hz},
        "formantsHz": {"f1": pcm.f1_hz, "f2": pcm.f2_hz, "f3": pcm.f3_hz},
        "spectralCentroidHz": pcm.spectral_centroid_hz,
        "voicedRatio": pcm.voiced_ratio,
        "sampleSeconds": pcm.sample_seconds,
    }
    assert 115 < analysis["medianPitchHz"] < 140 and analysis["sampleSeconds"] == pytest.approx(
        11.5, abs=0.01
    )
    assert made["name"] == "My deep voice" and made["owner"] == "alice" and made["ownedByMe"] is True
    assert made["singing"]["singer"] == "bass" and made["singing"]["formantShift"] < 0.9
    assert made["consent"]["basis"] == "PERMISSION" and made["consent"]["speakerName"] == "Sam Ray"
    assert made["consent"]["version"] == CONSENT_VERSION and made["consent"]["statement"].startswith(
        "I am the person"
    )
    assert [(s["name"], s["format"], s["sampleRate"]) for s in made["samples"]] == [
        ("take one.wav", "WAV", SR),
        ("take-2.flac", "FLAC", SR),
    ]
    assert made["samples"][0]["durationSeconds"] == pytest.approx(7.0, abs=0.001)
    assert made["grants"] == [] and made["uses"]["edges"] == []
    # The recordings are kept through Django's storage, byte for byte, and never given a URL.
    samples = list(VoiceSample.objects.filter(profile__name="My deep voice").order_by("id"))
    assert [s.file.name.split("/")[0:2] for s in samples] == [["voice-profiles", str(user("alice").pk)]] * 2
    assert samples[0].file.read() == encoded(low, SR) and samples[0].size_bytes == len(encoded(low, SR))
    text = json.dumps(body)
    assert "/files/" not in text and "http" not in text and "voice-profiles" not in text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"agreed": False}, "consent.agreed", "consent is required"),
        ({"version": "2020-1"}, "consent.version", "not the current one; agree to version '2026-11'"),
        ({"statement": "I agree."}, "consent.statement", "does not match the text of version"),
        ({"basis": "PERMISSION"}, "consent.speakerName", "name the speaker who gave you permission"),
    ],
)
def test_no_consent_no_profile(changes: dict[str, Any], field: str, message: str, media_root: Any) -> None:
    x = synthetic_voice(*DEEP)
    result = execute(
        CREATE_PROFILE, {"name": "v", "samples": [wav(x)], "consent": consent(**changes)}, caller_for("alice")
    )
    assert code(result) == "BAD_USER_INPUT" and result.errors[0].extensions["field"] == field
    assert message in result.errors[0].message
    assert not VoiceProfile.objects.exists() and not (media_root / "voice-profiles").exists()


def noise(seconds: float) -> np.ndarray:
    return 0.2 * np.random.default_rng(1).standard_normal(int(seconds * SR))


@pytest.mark.parametrize(
    ("files", "field", "message"),
    [
        (
            lambda: [SimpleUploadedFile("a.wav", b"RIFF1234WAVEnot really")],
            "samples.0",
            "not audio Coda can read",
        ),
        (
            lambda: [wav(synthetic_voice(*DEEP)), wav(synthetic_voice(*DEEP)[:SR], fmt="OGG")],
            "samples.1",
            "OGG audio; accepted: WAV, FLAC",
        ),
        (lambda: [wav(synthetic_voice(*DEEP)[: SR // 2])], "samples.0", "at least 1.0 s needed"),
        (lambda: [wav(np.zeros(2 * SR))], "samples.0", "the recording is silent"),
        (
            lambda: [
                wav(synthetic_voice(*DEEP)),
                SimpleUploadedFile("1k.wav", encoded(noise(3.0)[:3000], 1000)),
            ],
            "samples.1",
            "sampled at 1000 Hz; at least 16000 Hz needed",
        ),
        (
            lambda: [
                SimpleUploadedFile("phone.flac", encoded(synthetic_voice(*DEEP, sr=8000), 8000, "FLAC"))
            ],
            "samples.0",
            "sampled at 8000 Hz; at least 16000 Hz needed",
        ),
        (  # 130 s of silence is a few kilobytes of FLAC: refused from its header, never decoded
            lambda: [SimpleUploadedFile("long.flac", encoded(np.zeros(130 * 16000), 16000, "FLAC"))],
            "samples.0",
            "the recording is 130.0 s long; at most 120.0 s are accepted",
        ),
        (lambda: [wav(noise(3.0))], "samples", "s of voiced sound; at least 1 s is needed"),
        (lambda: [wav(synthetic_voice(*DEEP))] * 6, "samples", "6 recordings; at most 5"),
        (lambda: [], "samples", "upload at least one recording"),
    ],
)
def test_bad_recordings_are_refused_with_the_reason(
    files: Callable[[], list[SimpleUploadedFile]], field: str, message: str
) -> None:
    result = execute(
        CREATE_PROFILE, {"name": "v", "samples": files(), "consent": consent()}, caller_for("alice")
    )
    assert code(result) == "BAD_USER_INPUT", result.errors
    assert result.errors[0].extensions["field"] == field and message in result.errors[0].message
    assert not VoiceProfile.objects.exists()


def test_names_are_checked(media_root: Any) -> None:
    make_profile(name="deep")
    again = execute(
        CREATE_PROFILE,
        {"name": "DEEP", "samples": [wav(synthetic_voice(*DEEP))], "consent": consent()},
        caller_for("alice"),
    )
    assert (
        code(again) == "BAD_USER_INPUT"
        and "already have a voice profile named 'DEEP'" in again.errors[0].message
    )
    blank = execute(CREATE_PROFILE, {"name": "  ", "samples": [], "consent": consent()}, caller_for("alice"))
    assert code(blank) == "BAD_USER_INPUT" and blank.errors[0].extensions["field"] == "name"


def test_a_user_keeps_at_most_max_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.voice import services

    monkeypatch.setattr(services, "MAX_PROFILES", 2)
    make_profile(name="one")
    make_profile(name="two")
    third = execute(
        CREATE_PROFILE,
        {"name": "three", "samples": [wav(synthetic_voice(*DEEP))], "consent": consent()},
        caller_for("alice"),
    )
    assert third.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "samples"}
    assert third.errors[0].message == "you keep 2 voice profiles, the most allowed; delete one first"
    assert sorted(VoiceProfile.objects.values_list("name", flat=True)) == ["one", "two"]
    make_profile(owner="bob", name="three")  # another user's are theirs to count


def test_profiles_need_an_account_and_the_compose_scope() -> None:
    x = synthetic_voice(*DEEP)
    anonymous = execute(
        CREATE_PROFILE, {"name": "v", "samples": [wav(x)], "consent": consent()}, caller_for(None)
    )
    assert code(anonymous) == "UNAUTHENTICATED"
    assert code(execute(MY_PROFILES, None, caller_for(None))) == "UNAUTHENTICATED"
    read_only = caller_for("alice", scopes=frozenset({READ}))
    refused = execute(CREATE_PROFILE, {"name": "v", "samples": [wav(x)], "consent": consent()}, read_only)
    assert code(refused) == "FORBIDDEN"
    assert data_of(MY_PROFILES, None, read_only) == {"voiceProfiles": []}
    statement = data_of("{ voiceConsentStatement { version statement } }", None, caller_for(None))
    assert statement["voiceConsentStatement"] == {
        "version": CONSENT_VERSION,
        "statement": CONSENT_STATEMENTS[CONSENT_VERSION],
    }


# --------------------------------------------------------------------------- privacy and grants


def test_a_profile_is_private_until_granted_and_revoked_grants_stop_new_use() -> None:
    profile = make_profile("alice")
    pid = profile["id"]
    bob, alice = caller_for("bob"), caller_for("alice")
    user("carol")
    # Another user learns nothing: not in the list, not a node, NOT_FOUND everywhere.
    assert data_of(MY_PROFILES, None, bob) == {"voiceProfiles": []}
    assert data_of(NODE, {"id": pid}, bob) == {"node": None}
    for query, variables in (
        (GRANT, {"id": pid, "u": "carol"}),
        (REVOKE, {"id": pid, "u": "carol"}),
        (DELETE, {"id": pid}),
    ):
        assert code(execute(query, variables, bob)) == "NOT_FOUND"
    refused = execute(COMPOSE, {"input": {"prompt": "folk song", "voiceProfile": pid}}, bob)
    assert code(refused) == "NOT_FOUND" and refused.errors[0].extensions["field"] == "voiceProfile"
    assert not Composition.objects.filter(owner__username="bob").exists()

    # Granted: bob sees it (not its consent, recordings, grants or uses) and may sing with it.
    assert code(execute(GRANT, {"id": pid, "u": "nobody"}, alice)) == "BAD_USER_INPUT"
    assert "you own this voice profile" in execute(GRANT, {"id": pid, "u": "alice"}, alice).errors[0].message
    granted = data_of(GRANT, {"id": pid, "u": "bob"}, alice)["grantVoiceProfile"]["grants"]
    assert granted == [{"username": "bob", "revokedAt": None}]
    assert data_of(GRANT, {"id": pid, "u": "bob"}, alice)["grantVoiceProfile"]["grants"] == granted  # once
    seen = data_of(MY_PROFILES, None, bob)["voiceProfiles"]
    assert [(p["id"], p["owner"], p["ownedByMe"]) for p in seen] == [(pid, "alice", False)]
    assert seen[0]["consent"] is None and seen[0]["samples"] == [] and seen[0]["grants"] == []
    assert seen[0]["uses"]["edges"] == [] and seen[0]["analysis"] == profile["analysis"]
    assert data_of(NODE, {"id": pid}, bob) == {"node": {"id": pid, "name": "deep"}}
    finished, queued = compose("bob", pid, seed=5), compose("bob", pid, seed=6)
    assert run_inline(pk_of(finished)) == "SUCCEEDED"
    # ... but may not manage it.
    assert code(execute(GRANT, {"id": pid, "u": "carol"}, bob)) == "NOT_FOUND"

    # Revoked: gone for bob again, for new compositions and for edits of his existing one.
    revoked = data_of(REVOKE, {"id": pid, "u": "bob"}, alice)["revokeVoiceProfileGrant"]["grants"]
    assert revoked[0]["username"] == "bob" and revoked[0]["revokedAt"] is not None
    assert code(execute(REVOKE, {"id": pid, "u": "bob"}, alice)) == "BAD_USER_INPUT"
    assert data_of(MY_PROFILES, None, bob) == {"voiceProfiles": []}
    assert code(execute(COMPOSE, {"input": {"prompt": "folk song", "voiceProfile": pid}}, bob)) == "NOT_FOUND"
    edit = execute(UPDATE, {"id": finished, "input": {"tempo": 90}}, bob)
    assert code(edit) == "NOT_FOUND" and edit.errors[0].extensions["field"] == "voiceProfile"
    # The pipeline checks again when it sings: a composition queued before the revocation fails, and
    # so does singing a finished one again.
    assert sing_until_voice(queued) == ["SUCCEEDED"] * 4 + ["FAILED"]
    failed = Composition.objects.get(pk=pk_of(queued))
    assert failed.status == "FAILED" and "no longer available to the composition's owner" in failed.error
    # Regenerating or editing a line of his finished one is refused too, before anything changes:
    # no version, no draft, no new files, nothing charged to his quota.
    song = Composition.objects.get(pk=pk_of(finished))
    before = (song.versions.count(), song.lyrics_drafts.count(), song.artifacts.count(), charged())
    for query, variables in (
        (REGENERATE, {"id": finished}),
        (EDIT_LINE, {"id": finished, "line": 0, "text": "Hold me now"}),
    ):
        edit = execute(query, variables, bob)
        assert code(edit) == "NOT_FOUND" and edit.errors[0].extensions["field"] == "voiceProfile"
        assert edit.errors[0].message == f"no voice profile with id {pid}"
    song.refresh_from_db()
    assert song.status == "SUCCEEDED"
    assert (song.versions.count(), song.lyrics_drafts.count(), song.artifacts.count(), charged()) == before
    assert (
        VoiceUse.objects.filter(profile__isnull=False).count()
        == VoiceUse.objects.filter(composition_id_used=pk_of(finished)).count()
    )  # only the song sung while granted
    # Granted again: a new grant row, the old one stays revoked in the record.
    again = data_of(GRANT, {"id": pid, "u": "bob"}, alice)["grantVoiceProfile"]["grants"]
    assert [g["revokedAt"] is None for g in again] == [False, True]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not an id", "BAD_USER_INPUT"),
        (relay.to_base64("Composition", 1), "BAD_USER_INPUT"),
        (relay.to_base64("VoiceProfile", 999), "NOT_FOUND"),
    ],
)
def test_voice_profile_input_is_checked(value: str, expected: str) -> None:
    result = execute(COMPOSE, {"input": {"prompt": "folk song", "voiceProfile": value}}, caller_for("alice"))
    assert code(result) == expected and result.errors[0].extensions["field"] == "voiceProfile"
    assert (
        code(execute(COMPOSE, {"input": {"prompt": "folk song", "voiceProfile": value}}, caller_for(None)))
        == expected
    )


def test_every_use_is_logged_and_listed_to_the_owner_only(settings: Any) -> None:
    pid = make_profile("alice")["id"]
    user("bob")
    data_of(GRANT, {"id": pid, "u": "bob"}, caller_for("alice"))
    mine, bobs = compose("alice", pid, seed=5), compose("bob", pid, seed=6)
    assert sing_until_voice(mine) == ["SUCCEEDED"] * 5 and sing_until_voice(bobs) == ["SUCCEEDED"] * 5
    again = compose("bob", pid, seed=6)  # the same request: its result is reused, and still logged
    assert sing_until_voice(again) == ["SUCCEEDED"] * 5
    uses = data_of(MY_PROFILES, None, caller_for("alice"))["voiceProfiles"][0]["uses"]["edges"]
    melody = [
        (u["node"]["username"], u["node"]["compositionId"], u["node"]["reused"])
        for u in uses
        if u["node"]["role"] == "melody"
    ]
    assert melody == [("bob", again, True), ("bob", bobs, False), ("alice", mine, False)]
    assert {u["node"]["role"] for u in uses} <= {"melody", "harmony"}
    assert all(u["node"]["createdAt"] for u in uses)
    assert data_of(MY_PROFILES, None, caller_for("bob"))["voiceProfiles"][0]["uses"]["edges"] == []
    # Catalog voices keep being logged without a profile.
    plain = compose("alice", None, seed=5)
    sing_until_voice(plain)
    assert VoiceUse.objects.filter(profile__isnull=True, composition_id_used=pk_of(plain)).exists()


def test_a_revoked_grant_cannot_sing_through_a_reused_result(settings: Any) -> None:
    """The same request twice reuses the first one's results (CODA_REUSE_RESULTS): after the grant
    is revoked, the voice stage fails instead of restoring the vocal sung with the profile."""
    settings.CODA_REUSE_RESULTS = True
    pid = make_profile("alice")["id"]
    user("bob")
    data_of(GRANT, {"id": pid, "u": "bob"}, caller_for("alice"))
    sung, again = compose("bob", pid, seed=5), compose("bob", pid, seed=5)
    assert sing_until_voice(sung) == ["SUCCEEDED"] * 5
    data_of(REVOKE, {"id": pid, "u": "bob"}, caller_for("alice"))
    uses = VoiceUse.objects.count()

    # Another composition: the stages before the voice are reused from the first; the voice is not.
    assert sing_until_voice(again) == ["SUCCEEDED"] * 4 + ["FAILED"]
    runs = {run.name: run for run in StageRun.objects.filter(composition_id=pk_of(again))}
    assert (
        runs["lyrics"].reused is True and runs["voice"].status == "FAILED" and runs["voice"].reused is False
    )
    failed = Composition.objects.get(pk=pk_of(again))
    assert failed.status == "FAILED"
    assert failed.error == (
        f"voice: VoiceProfileUnavailable: voice profile {pid} is no longer available to the "
        "composition's owner (deleted, or its grant revoked); choose another voice"
    )
    assert not VocalLine.objects.filter(composition=failed).exists()
    assert not failed.artifacts.filter(name__in=["vocal-sung.flac", "harmony-sung.flac"]).exists()
    # The same composition, run again (a resumed pipeline): its own result is not reused either.
    assert execute_stage(pk_of(sung), "voice") == "FAILED"
    assert VoiceUse.objects.count() == uses


def test_deleting_a_profile_deletes_its_recordings_and_keeps_the_log(
    media_root: Any, django_capture_on_commit_callbacks: Callable
) -> None:
    pid = make_profile("alice")["id"]
    song = compose("alice", pid)
    sing_until_voice(song)
    files = [s.file.name for s in VoiceSample.objects.all()]
    assert files and all(default_storage.exists(f) for f in files)
    assert code(execute(DELETE, {"id": pid}, caller_for("bob"))) == "NOT_FOUND"
    with django_capture_on_commit_callbacks(execute=True):
        assert data_of(DELETE, {"id": pid}, caller_for("alice")) == {"deleteVoiceProfile": pid}
    assert not VoiceProfile.objects.exists() and not VoiceSample.objects.exists()
    assert not any(default_storage.exists(f) for f in files)
    assert VoiceUse.objects.filter(composition_id_used=pk_of(song), profile=None).exists()
    assert (
        code(execute(COMPOSE, {"input": {"prompt": "folk", "voiceProfile": pid}}, caller_for("alice")))
        == "NOT_FOUND"
    )


# --------------------------------------------------------------------------- the measured effect


def sung_vocal(client: Client, composition: str) -> tuple[dict[str, Any], np.ndarray]:
    """The composition's voice and context, and its sung vocal downloaded from its signed URL."""
    found = data_of(SUNG, {"id": composition}, caller_for("alice"))["composition"]
    url = next(a["url"] for a in found["artifacts"] if a["name"] == "vocal-sung.flac")
    response = client.get(url)
    assert response.status_code == 200
    audio, rate = soundfile.read(io.BytesIO(b"".join(response.streaming_content)))
    assert rate == SR
    return found, audio


def test_singing_with_a_profile_moves_the_vocal_towards_the_voice(
    settings: Any, django_capture_on_commit_callbacks: Callable
) -> None:
    """The same prompt and seed, composed without and with a profile of a deep voice made by the
    test; the sung vocal stem and the uploaded recording measured by the same analysis."""
    settings.CODA_PIPELINE = "sync"
    voice = synthetic_voice(*DEEP)
    client = with_token("alice")
    body = multipart(client, CREATE_PROFILE, {"name": "deep", "consent": consent()}, [wav(voice)])
    assert body.get("errors") is None, body
    profile = body["data"]["createVoiceProfile"]
    sample = analyse([(decoded(encoded(voice, SR)), SR)])
    compositions = {}
    for label, pid in (("without", None), ("with", profile["id"])):
        with django_capture_on_commit_callbacks(execute=True):  # the pipeline runs on commit, here inline
            compositions[label] = compose("alice", pid, duration=30)
    figures = {}
    for label, composition in compositions.items():
        found, audio = sung_vocal(client, composition)
        heard = analyse([(audio, SR)])
        figures[label] = {
            "singer": found["voice"]["voice"],
            "median_pitch_hz": heard.median_pitch_hz,
            "formants_hz": heard.formants,
            "pitch_distance_st": round(abs(semitones(heard.median_pitch_hz, sample.median_pitch_hz)), 2),
            "formant_distance_pct": round(formant_distance(heard.formants, sample.formants), 1),
        }
        if label == "with":
            shift = profile["singing"]["formantShift"]
            assert found["voice"]["voiceProfile"] == profile["id"] and found["voice"]["formantShift"] == shift
            assert [found["voice"]["low"], found["voice"]["high"]] == [
                profile["singing"]["low"],
                profile["singing"]["high"],
            ]
            context = found["context"]
            assert context["vocalFormantShift"] == shift and context["vocalRange"] == [
                found["voice"]["low"],
                found["voice"]["high"],
            ]
            sources = {s["field"]: s["source"] for s in context["sources"]}
            assert (
                sources["vocal_range"]
                == sources["vocal_style"]
                == sources["vocal_formant_shift"]
                == "voice_profile"
            )
        else:
            assert found["voice"]["voiceProfile"] == "" and found["context"]["vocalFormantShift"] is None
    print(
        f"\nsample: median {sample.median_pitch_hz} Hz, F1-F3 {sample.formants}; singing {profile['singing']}"
    )
    for label, numbers in figures.items():
        print(f"{label} profile: {numbers}")
    before, after = figures["without"], figures["with"]
    assert before["singer"] in ("bass", "baritone")  # the prompt asked for a deep male voice
    # Median pitch: from more than 5 semitones above the voice to within 1 (a register centred on its
    # median; a 30 s song is a verse and a chorus, which sits 2 semitones higher).
    assert before["pitch_distance_st"] >= 5.0 and after["pitch_distance_st"] <= 1.0
    # Formants (mean |log ratio| of F1-F3): from over 20 % away to under 7 %, at least 3 times closer.
    assert before["formant_distance_pct"] >= 20.0 and after["formant_distance_pct"] <= 7.0
    assert before["formant_distance_pct"] >= 3 * after["formant_distance_pct"]
    assert all(a < b for a, b in zip(after["formants_hz"], before["formants_hz"], strict=True))
    assert Composition.objects.filter(status="SUCCEEDED").count() == 2


# --------------------------------------------------------------------------- query count


def stored_profile(owner: Any, name: str, grantee: Any) -> VoiceProfile:
    """A profile row with a sample, a grant and a use (no analysis run: only the query count matters)."""
    profile = VoiceProfile.objects.create(
        owner=owner,
        name=name,
        median_pitch_hz=126.0,
        pitch_low_hz=102.0,
        pitch_high_hz=155.0,
        f1_hz=427.0,
        f2_hz=1278.0,
        f3_hz=2095.0,
        spectral_centroid_hz=748.0,
        voiced_ratio=0.8,
        sample_seconds=7.0,
        voiced_seconds=5.6,
        analysis_version="1",
        consent_version=CONSENT_VERSION,
        consent_statement=CONSENT_STATEMENTS[CONSENT_VERSION],
        consent_basis="SELF",
        consent_given_at="2026-11-25T12:00:00Z",
    )
    VoiceSample.objects.create(
        profile=profile,
        file=f"voice-profiles/{owner.pk}/{name}.wav",
        name=f"{name}.wav",
        format="WAV",
        mime_type="audio/wav",
        size_bytes=100,
        sample_rate=SR,
        duration_seconds=7.0,
        sha256="0" * 64,
    )
    VoiceProfileGrant.objects.create(profile=profile, user=grantee)
    VoiceUse.objects.create(voice="bass", role="melody", composition_id_used=1, user=grantee, profile=profile)
    return profile


@pytest.mark.parametrize("count", [1, 5])
def test_listing_profiles_costs_the_same_queries_for_one_or_many(count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alice, bob = user("alice"), user("bob")
    for k in range(count):
        stored_profile(alice, f"p{k}", bob)
    who = caller_for(alice)
    with CaptureQueriesContext(connection) as captured:
        found = data_of(MY_PROFILES, None, who)["voiceProfiles"]
    assert len(found) == count and all(len(p["uses"]["edges"]) == 1 for p in found)
    assert all(p["grants"][0]["username"] == "bob" and p["samples"][0]["format"] == "WAV" for p in found)
    # Profiles, samples, grants with their users, uses with theirs (one windowed query).
    assert len(captured.captured_queries) == 4, [q["sql"][:80] for q in captured.captured_queries]
