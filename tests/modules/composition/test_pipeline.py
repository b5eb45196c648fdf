"""The whole pipeline in-process on the test database: real engines, real files."""

from __future__ import annotations

import json
from typing import Any

import mido
import numpy as np
import pytest
import soundfile

from modules.composition.context import CompositionContext, scale_pitch_classes
from modules.composition.models import Composition
from modules.composition.pipeline import run_inline
from modules.composition.services import composition_create
from modules.genre.catalog import GENRES
from modules.voice.models import VoiceUse
from subscriptions.models import ProgressEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

STAGES = ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"]


def compose(prompt: str, seed: int = 11, duration: int = 20, **kwargs: Any) -> Composition:
    composition = composition_create(
        prompt=prompt, seed=seed, duration_seconds=duration, start=False, **kwargs
    )
    run_inline(composition.pk)
    composition.refresh_from_db()
    return composition


def test_a_prompt_becomes_a_real_song() -> None:
    song = compose("uplifting electronic music with dreamy vocals")
    assert song.status == "SUCCEEDED", song.error
    assert [(s.name, s.status) for s in song.stages.all()] == [(n, "SUCCEEDED") for n in STAGES]
    ctx = CompositionContext.from_dict(song.context)

    low, high = GENRES[ctx.genres[0].name].tempo_range
    assert low <= ctx.tempo <= high
    in_key = scale_pitch_classes(ctx.key, ctx.scale)
    for layer in song.layers.all():
        assert layer.note_count == len(layer.notes) > 0
        if not layer.is_drum:
            assert {int(n[0]) % 12 for n in layer.notes} <= in_key, layer.name

    syllables = [s for line in song.lyrics.lines.all() for s in line.syllables]
    assert len(song.voice.notes) == len(syllables) > 0
    # Every voice that sang is logged with who asked (here the system: no owner) and where.
    uses = list(VoiceUse.objects.filter(composition_id_used=song.pk).values_list("voice", "role", "user_id"))
    assert (song.voice.voice, "melody", None) in uses and len(uses) == len(set(uses))
    assert {int(n[0]) % 12 for n in song.voice.notes} <= in_key
    assert all(song.voice.low <= n[0] <= song.voice.high for n in song.voice.notes)
    assert [n[1] for n in song.voice.notes] == [s["start"] for s in syllables]

    master = song.master
    assert abs(master.integrated_lufs - master.target_lufs) <= 0.5
    assert master.true_peak_dbtp <= -1.0 + 1e-6
    assert master.duration_seconds == pytest.approx(20, abs=60 / ctx.tempo * 4)
    names = {a.name for a in song.artifacts.all()}
    assert {"master.wav", "master.flac", "master.mp3", "composition.mid", "vocal.mid", "lyrics.lrc"} <= names
    assert {f"stem-{layer.name}.flac" for layer in song.layers.all()} | {
        "stem-vocal.flac",
        "stem-harmony.flac",
    } <= names
    # The lyrics are sung, melody and chorus harmony: voiced under every note, and stems of the mix.
    assert song.voice.harmony
    for name, notes in (("vocal", song.voice.notes), ("harmony", song.voice.harmony)):
        sung, rate = soundfile.read(song.artifacts.get(name=f"{name}-sung.flac").file.open("rb"))
        spb = 60 / ctx.tempo
        for pitch, start, duration, _velocity in notes:
            a, b = int((start + 0.25 * duration) * spb * rate), int((start + 0.75 * duration) * spb * rate)
            assert np.sqrt(np.mean(sung[a:b] ** 2)) > 0.005, f"{name}: silent note {pitch} at beat {start}"
        stem, _ = soundfile.read(song.artifacts.get(name=f"stem-{name}.flac").file.open("rb"))
        assert np.corrcoef(stem[: len(sung), 0], sung)[0, 1] > 0.99
    sheet = json.loads(song.artifacts.get(name="composition.json").file.open("rb").read())
    assert sheet["context"]["key"] == ctx.key and sheet["seed"] == song.seed
    assert [t["name"] for t in sheet["tracks"]][: song.layers.count() + 1] == [
        *(layer.name for layer in song.layers.all()),
        "vocal",
    ]
    lrc = song.artifacts.get(name="lyrics.lrc").file.open("rb").read().decode().splitlines()
    first_line = song.lyrics.lines.first()
    seconds = first_line.syllables[0]["start"] * 60 / ctx.tempo
    assert lrc[1] == f"[{int(seconds // 60):02d}:{seconds % 60:05.2f}]{first_line.text}"
    full = mido.MidiFile(file=song.master.midi.file.open("rb"))
    # conductor + layers + vocal + the harmony voice of the choruses
    assert full.type == 1 and len(full.tracks) == song.layers.count() + 2 + bool(song.voice.harmony)
    for track, layer in zip(full.tracks[1:], song.layers.all(), strict=False):
        expression = [m.value for m in track if m.type == "control_change" and m.control == 11]
        assert expression and expression[-1] == 0, f"{layer.name}: volume lane missing or not fading out"
    assert any(lane["parameter"] == "filter" for lane in song.layers.get(name="pad").automation)
    vocal_track = next(t for t in full.tracks if t.name == "vocal")
    lyric_events = [m.text for m in vocal_track if m.type == "lyrics"]
    assert lyric_events == song.voice.syllables

    events = list(ProgressEvent.objects.filter(composition=song).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert (events[0].status, events[-1].stage, events[-1].status) == ("QUEUED", "", "SUCCEEDED")
    started = [e.stage for e in events if e.status == "STARTED"]
    assert started == STAGES


def test_same_prompt_and_seed_give_the_same_notes_words_and_bytes(settings: Any) -> None:
    settings.CODA_REUSE_RESULTS = False  # recompute, don't reuse: this is about determinism
    one = compose("melancholic folk ballad about the sea", seed=5, duration=15)
    two = compose("melancholic folk ballad about the sea", seed=5, duration=15)
    assert [layer.notes for layer in one.layers.all()] == [layer.notes for layer in two.layers.all()]
    assert one.lyrics.text == two.lyrics.text
    assert one.voice.notes == two.voice.notes
    for name in ("composition.mid", "vocal.mid", "master.flac", "composition.json", "lyrics.lrc"):
        a = one.artifacts.get(name=name).file.open("rb").read()
        b = two.artifacts.get(name=name).file.open("rb").read()
        assert a == b, name
    assert not any(run.reused for run in two.stages.all())
    other = compose("melancholic folk ballad about the sea", seed=6, duration=15)
    assert [layer.notes for layer in other.layers.all()] != [layer.notes for layer in one.layers.all()]


def test_a_failing_stage_fails_the_composition_and_keeps_everything_before_it(settings: Any) -> None:
    settings.CODA_SOUNDFONT = "/nonexistent/missing.sf2"
    song = compose("happy pop song", duration=15)
    assert song.status == "FAILED"
    assert song.error.startswith("mastering: ")
    stages = {s.name: s for s in song.stages.all()}
    assert stages["mastering"].status == "FAILED"
    assert "missing.sf2" in stages["mastering"].error
    assert all(stages[n].status == "SUCCEEDED" for n in STAGES[:-1])
    assert song.layers.count() >= 4 and song.lyrics.lines.count() > 0
    assert not hasattr(song, "master") or song.master is None
    last = ProgressEvent.objects.filter(composition=song).order_by("-seq")[:2]
    assert [(e.stage, e.status) for e in last] == [("", "FAILED"), ("mastering", "FAILED")]


def test_stems_sum_to_the_master_where_the_limiter_rests() -> None:
    song = compose("calm ambient piano with soft vocals", seed=4, duration=20)
    assert song.master.target_lufs <= -16
    # A quiet song: every stem has headroom with the master gain alone, so no headroom gain.
    assert song.master.stem_gain_db == 0.0
    mix, _rate = soundfile.read(song.master.flac.file.open("rb"))
    stems = [soundfile.read(a.file.open("rb"))[0] for a in song.artifacts.filter(kind="stem")]
    assert len(stems) == song.layers.count() + 1 + bool(song.voice.harmony)
    total = np.sum(stems, axis=0)
    assert total.shape == mix.shape
    assert np.sqrt(np.mean((total - mix) ** 2)) / np.sqrt(np.mean(mix**2)) < 0.01


def test_instrumental_skips_lyrics_and_voice() -> None:
    song = compose("driving rock instrumental", duration=15, instrumental=True)
    assert song.status == "SUCCEEDED", song.error
    status = {s.name: s.status for s in song.stages.all()}
    assert status["lyrics"] == status["voice"] == "SKIPPED"
    assert not hasattr(song, "lyrics") and not hasattr(song, "voice")
    assert song.master.integrated_lufs == pytest.approx(song.master.target_lufs, abs=0.5)


def test_explicit_inputs_win_and_say_so() -> None:
    lyrics = "Walking down the river road\nCarry all the light I owe"
    song = compose(
        "a song",
        duration=20,
        inputs={
            "genres": [{"name": "jazz", "weight": 0.7}, {"name": "lo-fi", "weight": 0.3}],
            "key": "F#",
            "scale": "dorian",
            "tempo": 84,
            "voice": "baritone",
            "mood": "nostalgic",
            "lyrics": lyrics,
        },
    )
    assert song.status == "SUCCEEDED", song.error
    ctx = CompositionContext.from_dict(song.context)
    assert (ctx.key, ctx.scale, ctx.tempo, ctx.vocal_style, ctx.mood.name) == (
        "F#",
        "dorian",
        84,
        "baritone",
        "nostalgic",
    )
    assert [(g.name, round(g.weight, 2)) for g in ctx.genres] == [("jazz", 0.7), ("lo-fi", 0.3)]
    for field in ("key", "scale", "tempo", "genres", "mood", "vocal_style", "lyrics"):
        assert ctx.sources[field] == "input", field
    assert song.lyrics.source == "user"
    sung = " ".join(line.text for line in song.lyrics.lines.all())
    assert "river road" in sung.lower()
    assert all(45 <= n[0] <= 65 for n in song.voice.notes)
