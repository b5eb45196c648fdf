"""Model factories: a composition with every element, without running the engines."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from modules.arrangement.models import Layer, Section
from modules.composition.context import CompositionContext
from modules.composition.models import Artifact, Composition, StageRun, Status, Version
from modules.composition.stages import ordered_names
from modules.genre.models import GenreBlend
from modules.lyrics.models import LyricLine, Lyrics
from modules.mastering.models import Master
from modules.mood.models import Mood
from modules.voice.models import VocalLine
from tests.graphql import user


def artifact(composition: Composition, name: str, stage: str, kind: str = "midi") -> Artifact:
    item = Artifact(
        composition=composition, stage=stage, kind=kind, name=name, mime_type="audio/midi", size_bytes=4
    )
    item.file.save(name, ContentFile(b"MThd"), save=False)
    item.save()
    return item


def full_composition(
    prompt: str = "uplifting electronic music with dreamy vocals", seed: int = 1, owner: Any = None
) -> Composition:
    """A finished composition with every element, owned by `owner` (the tests' default user if None)."""
    context = CompositionContext(
        prompt=prompt, seed=seed, duration_seconds=30, key="D", scale="major", tempo=124.0
    )
    c = Composition.objects.create(
        owner=owner or user(),
        prompt=prompt,
        seed=seed,
        status=Status.SUCCEEDED,
        duration_seconds=30,
        context=context.to_dict(),
    )
    StageRun.objects.bulk_create(
        StageRun(composition=c, name=n, position=i, status="SUCCEEDED", progress=1.0)
        for i, n in enumerate(ordered_names())
    )
    Mood.objects.create(
        composition=c, name="uplifting", valence=0.7, energy=0.6, tags=["uplifting"], source="prompt"
    )
    GenreBlend.objects.create(
        composition=c,
        primary="electronic",
        weights=[{"name": "electronic", "weight": 1.0}],
        source="prompt",
        tempo=124.0,
        loudness_target=-9.0,
        programs={"bass": 39},
    )
    for i, name in enumerate(["intro", "chorus", "outro"]):
        Section.objects.create(
            composition=c, index=i, name=name, start_bar=i * 4, bars=4, energy=0.5, chords=["C"]
        )
    for i, name in enumerate(["drums", "bass"]):
        Layer.objects.create(
            composition=c,
            index=i,
            name=name,
            role=name,
            program=0,
            channel=9 if name == "drums" else 0,
            is_drum=name == "drums",
            note_count=1,
            notes=[[36, 0.0, 1.0, 100]],
            midi=artifact(c, f"layer-{name}.mid", "arrangement"),
        )
    lyrics = Lyrics.objects.create(composition=c, title="Hook", source="generated", text="we rise")
    LyricLine.objects.create(
        lyrics=lyrics,
        index=0,
        section_index=1,
        section_name="chorus",
        text="we rise",
        syllables=[
            {"text": "we", "start": 16.0, "duration": 1.0, "stress": 1, "word_end": True},
            {"text": "rise", "start": 17.0, "duration": 1.0, "stress": 1, "word_end": True},
        ],
    )
    VocalLine.objects.create(
        composition=c,
        voice="alto",
        source="seed",
        low=53,
        high=74,
        program=53,
        notes=[[60, 16.0, 1.0, 90], [62, 17.0, 1.0, 90]],
        syllables=["we", "rise"],
        midi=artifact(c, "vocal.mid", "voice"),
    )
    Master.objects.create(
        composition=c,
        target_lufs=-9.0,
        loudness_before=-20.0,
        integrated_lufs=-9.0,
        gain_db=11.0,
        sample_peak_dbfs=-1.2,
        true_peak_dbtp=-1.0,
        duration_seconds=30.0,
        sample_rate=44100,
        wav=artifact(c, "master.wav", "mastering", "audio"),
        flac=artifact(c, "master.flac", "mastering", "audio"),
        mp3=artifact(c, "master.mp3", "mastering", "audio"),
        midi=artifact(c, "composition.mid", "mastering"),
    )
    version = Version.objects.create(
        composition=c,
        number=1,
        reason="regenerate lyrics with seed 2",
        context=c.context,
        elements={"lyrics": {}},
    )
    version.artifacts.set([c.artifacts.get(name="vocal.mid")])
    return c
