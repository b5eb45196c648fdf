"""Regeneration, edits, reuse by input hash, versions, cancellation, retries and the stuck sweep,
through the real pipeline on the test database."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from modules.composition.context import CompositionContext
from modules.composition.models import Artifact, Composition, StageRun
from modules.composition.pipeline import execute_stage, run_inline
from modules.composition.services import (
    CompositionBusy,
    composition_cancel,
    composition_create,
    composition_regenerate,
    composition_update,
    compositions_sweep_stuck,
)
from modules.composition.stages import InputError
from subscriptions.models import ProgressEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

STAGES = ["mood", "genre", "arrangement", "lyrics", "voice", "mastering"]
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def composed(prompt: str = "dreamy pop about the sea", seed: int = 3, **kwargs: Any) -> Composition:
    composition = composition_create(prompt=prompt, seed=seed, duration_seconds=20, start=False, **kwargs)
    run_inline(composition.pk)
    composition.refresh_from_db()
    assert composition.status == "SUCCEEDED", composition.error
    return composition


def reused(composition: Composition) -> dict[str, bool]:
    return dict(composition.stages.values_list("name", "reused"))


def events_since(composition: Composition, seq: int) -> list[ProgressEvent]:
    return list(ProgressEvent.objects.filter(composition=composition, seq__gt=seq).order_by("seq"))


def test_regenerating_lyrics_reruns_only_lyrics_voice_and_mastering_and_keeps_a_version(
    django_capture_on_commit_callbacks: Any,
) -> None:
    song = composed()
    old_text, old_layers = song.lyrics.text, [layer.notes for layer in song.layers.all()]
    old_files = {a.name: a.file.name for a in song.artifacts.filter(current=True)}
    seq = song.last_seq

    with django_capture_on_commit_callbacks(execute=True):  # the rerun is dispatched on commit
        composition_regenerate(song, "lyrics", seed=99)
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    assert reused(song) == {s: s in ("mood", "genre", "arrangement") for s in STAGES}
    assert song.lyrics.text != old_text
    assert [layer.notes for layer in song.layers.all()] == old_layers, "the arrangement was not recomputed"
    assert song.stages.get(name="lyrics").seed == 99

    after = events_since(song, seq)
    assert (after[0].status, after[0].message) == ("QUEUED", "regenerate lyrics with seed 99")
    assert [(e.stage, e.message) for e in after if e.stage == "arrangement"] == [
        ("arrangement", "reused: inputs unchanged")
    ]
    assert [e.stage for e in after if e.status == "STARTED"] == ["lyrics", "voice", "mastering"]

    version = song.versions.get()
    assert (version.number, version.reason) == (1, "regenerate lyrics with seed 99")
    assert version.elements["lyrics"]["Lyrics"]["text"] == old_text
    kept = {a.name: a.file.name for a in version.artifacts.all()}
    assert kept == old_files, "the version lists exactly the files the composition had"
    for name in kept:
        assert Path(Artifact.objects.get(file=kept[name]).file.path).exists(), f"{name} was overwritten"
    current = list(song.artifacts.filter(current=True).values_list("name", flat=True))
    assert len(current) == len(set(current)), "one current file per name"
    assert song.artifacts.get(current=True, name="lyrics.lrc").file.name != old_files["lyrics.lrc"]


def test_editing_the_tempo_reruns_the_arrangement_and_what_follows_never_mood_or_genre(
    django_capture_on_commit_callbacks: Any,
) -> None:
    song = composed()
    with django_capture_on_commit_callbacks(execute=True):
        composition_update(song, inputs={"tempo": 96})
    song.refresh_from_db()
    assert song.status == "SUCCEEDED", song.error
    assert reused(song) == {s: s in ("mood", "genre") for s in STAGES}
    context = CompositionContext.from_dict(song.context)
    assert (context.tempo, context.sources["tempo"]) == (96.0, "input")
    assert song.genre.tempo != 96.0, "the genre's own tempo is kept; the explicit tempo is the arrangement's"
    assert song.versions.get().reason == "edit tempo=96"


def test_the_same_request_twice_costs_one_pipeline_run() -> None:
    first = composed("sunny folk song", 8)
    second = composed("sunny folk song", 8)
    assert all(reused(second).values())
    assert not any(reused(first).values())
    assert (
        second.lyrics.text == first.lyrics.text
        and second.master.integrated_lufs == first.master.integrated_lufs
    )
    assert [e.message for e in second.events.filter(status="STARTED")] == [], "no stage was recomputed"
    shared = second.artifacts.get(name="master.flac", current=True)
    assert shared.file.name == first.artifacts.get(name="master.flac", current=True).file.name
    assert Path(shared.file.path).exists()


def test_changes_wait_for_the_running_pipeline_and_bad_ones_are_refused() -> None:
    queued = composition_create(prompt="calm piano", seed=1, duration_seconds=15, start=False)
    with pytest.raises(CompositionBusy, match="wait for it to finish or cancel it"):
        composition_regenerate(queued, "lyrics")
    song = composed()
    with pytest.raises(InputError, match="unknown stage 'melody'"):
        composition_regenerate(song, "melody")
    with pytest.raises(InputError, match="unknown key"):
        composition_update(song, inputs={"key": "H"})
    with pytest.raises(InputError, match="nothing to change"):
        composition_update(song, inputs={})


@pytest.mark.parametrize(
    "second",
    [
        lambda song: composition_regenerate(song, "lyrics", seed=2),
        lambda song: composition_update(song, inputs={"tempo": 90}),
    ],
    ids=["regenerate", "edit"],
)
def test_two_changes_that_both_passed_the_idle_check_queue_one_version_not_two(second: Any) -> None:
    """Two requests read the finished composition before either queued it (the race of two
    concurrent regenerations): the first queues it; the second, holding the same stale view,
    is refused once the locked composition shows it busy, and only one version is kept."""
    song = composition_create(prompt="calm piano", seed=1, duration_seconds=15, start=False)
    Composition.objects.filter(pk=song.pk).update(status="SUCCEEDED", finished_at=timezone.now())
    first_view, second_view = Composition.objects.get(pk=song.pk), Composition.objects.get(pk=song.pk)
    composition_regenerate(first_view, "lyrics", seed=1)
    with pytest.raises(CompositionBusy, match="composition is QUEUED"):
        second(second_view)
    song.refresh_from_db()
    assert list(song.versions.values_list("number", "reason")) == [(1, "regenerate lyrics with seed 1")]
    assert song.stages.get(name="lyrics").seed is None and song.inputs.get("tempo") is None


def test_cancelling_a_queued_composition_ends_it_and_nothing_runs_afterwards() -> None:
    composition = composition_create(prompt="calm piano", seed=1, duration_seconds=15, start=False)
    composition_cancel(composition)
    composition.refresh_from_db()
    assert composition.status == "CANCELLED"
    assert set(composition.stages.values_list("status", flat=True)) == {"CANCELLED"}
    last = composition.last_seq
    assert execute_stage(composition.pk, "mood") == "CANCELLED"
    assert composition.events.order_by("-seq").first().status == "CANCELLED"
    assert composition.events.count() == last
    with pytest.raises(InputError, match="already finished"):
        composition_cancel(composition)


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_stage_stops_it_at_its_next_progress_report() -> None:
    composition = composition_create(
        prompt="epic cinematic trailer", seed=2, duration_seconds=90, start=False
    )
    worker = threading.Thread(target=run_inline, args=(composition.pk,))
    worker.start()
    deadline = time.monotonic() + 120
    while not StageRun.objects.filter(composition=composition, name="mastering", status="RUNNING").exists():
        assert time.monotonic() < deadline and worker.is_alive(), "mastering never started"
        time.sleep(0.05)
    cancelled_at = time.monotonic()
    composition_cancel(composition)
    worker.join(60)
    stopped_after = time.monotonic() - cancelled_at
    composition.refresh_from_db()
    assert composition.status == "CANCELLED"
    assert composition.stages.get(name="mastering").status == "CANCELLED"
    assert not hasattr(composition, "master"), "the cancelled stage stored nothing"
    assert stopped_after < 5, f"the stage went on for {stopped_after:.1f} s after the cancel"
    final = composition.events.order_by("-seq").first()
    assert (final.stage, final.status) == ("", "CANCELLED"), "no event after the final one"


def test_a_transient_error_is_retried_with_backoff_and_reported(settings: Any, tmp_path: Path) -> None:
    late = tmp_path / "arriving.sf2"
    settings.CODA_SOUNDFONT = str(late)
    settings.CODA_RETRY_BACKOFF_SECONDS = 0.4
    composition = composition_create(prompt="happy pop", seed=5, duration_seconds=15, start=False)
    for stage in STAGES[:-1]:
        execute_stage(composition.pk, stage)
    # The soundfont shows up while the first retry waits.
    threading.Timer(0.1, lambda: os.symlink(SOUNDFONT, late)).start()
    assert execute_stage(composition.pk, "mastering") == "SUCCEEDED"
    run = composition.stages.get(name="mastering")
    assert run.attempts == 2
    retries = composition.events.filter(stage="mastering", status="RETRYING")
    assert [e.message for e in retries] == [
        f"attempt 1 of 3 failed (TransientStageError: soundfont not found: {late}); retrying in 0.4 s"
    ]


def test_a_permanent_error_fails_fast_without_retries(settings: Any, tmp_path: Path) -> None:
    not_a_soundfont = tmp_path / "notes.sf2"
    not_a_soundfont.write_text("this is not a soundfont")
    settings.CODA_SOUNDFONT = str(not_a_soundfont)
    composition = composition_create(prompt="happy pop", seed=5, duration_seconds=15, start=False)
    started = time.monotonic()
    assert run_inline(composition.pk) == "FAILED"
    assert time.monotonic() - started < 30
    assert not composition.events.filter(status="RETRYING").exists()
    assert composition.stages.get(name="mastering").attempts == 1
    assert "cannot load soundfont" in composition.stages.get(name="mastering").error


def stall(composition: Composition, minutes: int = 30) -> None:
    """What a dead worker leaves: a RUNNING stage and no sign of life for a while."""
    past = timezone.now() - timedelta(minutes=minutes)
    Composition.objects.filter(pk=composition.pk).update(status="RUNNING", updated_at=past)
    StageRun.objects.filter(composition=composition, name="mood").update(status="RUNNING", heartbeat_at=past)
    ProgressEvent.objects.filter(composition=composition).update(created_at=past)


def test_the_sweep_resumes_a_stalled_composition_then_fails_one_that_keeps_stalling(settings: Any) -> None:
    settings.CODA_STUCK_AFTER_SECONDS = 60
    stuck = composition_create(prompt="lo-fi beats to study to", seed=4, duration_seconds=15, start=False)
    alive = composition_create(prompt="lo-fi beats to study to", seed=5, duration_seconds=15, start=False)
    stall(stuck)
    assert compositions_sweep_stuck() == {"resumed": [stuck.pk], "failed": []}
    stuck.refresh_from_db()
    assert (stuck.status, stuck.resumes) == ("SUCCEEDED", 1)
    assert stuck.events.filter(message="resumed after the pipeline stalled").exists()
    assert Composition.objects.get(pk=alive.pk).status == "QUEUED", "a fresh composition is left alone"

    hopeless = composition_create(prompt="lo-fi beats", seed=6, duration_seconds=15, start=False)
    Composition.objects.filter(pk=hopeless.pk).update(resumes=settings.CODA_MAX_RESUMES)
    stall(hopeless)
    assert compositions_sweep_stuck() == {"resumed": [], "failed": [hopeless.pk]}
    hopeless.refresh_from_db()
    assert (hopeless.status, hopeless.error) == ("FAILED", "stalled: no worker finished it")
    assert hopeless.events.order_by("-seq").first().status == "FAILED"
