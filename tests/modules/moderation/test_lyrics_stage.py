"""Generated lyrics pass the content check; flagged ones are recorded and rewritten from derived
seeds (still deterministic), and the stage fails when every rewrite is flagged too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.composition.pipeline import execute_stage
from modules.composition.services import composition_create
from modules.composition.stages import InputError, input_hash, stage_seed
from modules.lyrics.engine import write_lyrics
from modules.lyrics.models import Lyrics
from modules.lyrics.stage import MODERATION_RETRIES, STAGE, _as_text, retry_seed
from modules.moderation import services
from modules.moderation.engine import RulesModerator
from modules.moderation.models import Action, ModerationFlag, Source
from tests.modules.lyrics.test_engine import MOODS, build_context
from tests.modules.moderation.moderators import FlagsFirstTexts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

HERE = "tests.modules.moderation.moderators"


@pytest.fixture(autouse=True)
def fresh_moderators() -> Iterator[None]:
    services._load.cache_clear()
    FlagsFirstTexts.seen.clear()
    yield
    services._load.cache_clear()


def run_stage(prompt: str, seed: int, mood: int = 1, **inputs: Any) -> tuple[Composition, CompositionContext]:
    context = build_context(prompt=prompt, mood=MOODS[mood], seed=seed)
    context.inputs.update(inputs)
    composition = Composition.objects.create(prompt=prompt, seed=seed, context=context.to_dict())
    STAGE.run(composition, context, lambda fraction, message: None)
    return composition, context


def stored_text(composition: Composition) -> str:
    return Lyrics.objects.get(composition=composition).text


@pytest.mark.parametrize(
    ("prompt", "mood"),
    [
        ("a dreamy song about the ocean at night", 1),
        ("murder ballad about killing time by the river", 2),
        ("dark trap beat about blood, guns and money", 3),
        ("a love song for a summer wedding", 5),
    ],
)
def test_generated_lyrics_pass_the_shipped_check(prompt: str, mood: int) -> None:
    for seed in range(3):
        composition, context = run_stage(prompt, seed, mood)
        # Unflagged lyrics are exactly what the engine writes for the seed: nothing changed.
        assert stored_text(composition) == _as_text(
            write_lyrics(context, stage_seed(context, "lyrics")).lines
        )
    assert not ModerationFlag.objects.exists()
    checker = RulesModerator()
    for seed in range(3, 8):
        result = write_lyrics(build_context(prompt=prompt, mood=MOODS[mood], seed=seed), seed)
        assert checker.check(f"{result.title}\n{_as_text(result.lines)}", field="generated_lyrics") is None


def test_flagged_lyrics_are_recorded_and_rewritten_from_a_derived_seed(settings: Any) -> None:
    settings.CODA_MODERATOR = f"{HERE}.FlagsFirstTexts"
    composition, context = run_stage("a dreamy song about the ocean at night", seed=4)
    flag = ModerationFlag.objects.get()
    assert (flag.composition, flag.field, flag.rule) == (composition, "generated_lyrics", "test_first")
    assert (flag.source, flag.action) == (Source.GENERATED, Action.FLAGGED)
    seed = stage_seed(context, "lyrics")
    original = _as_text(write_lyrics(context, seed).lines)
    rewritten = _as_text(write_lyrics(context, retry_seed(seed, 1)).lines)
    assert original != rewritten
    assert stored_text(composition) == rewritten
    assert [field for field, _ in FlagsFirstTexts.seen] == ["generated_lyrics"] * 2
    assert original in FlagsFirstTexts.seen[0][1]
    # Deterministic: the same seed and the same verdicts give the same words.
    FlagsFirstTexts.seen.clear()
    again, _ = run_stage("a dreamy song about the ocean at night", seed=4)
    assert stored_text(again) == rewritten


def test_lyrics_flagged_on_every_attempt_fail_the_stage(settings: Any) -> None:
    settings.CODA_MODERATOR = f"{HERE}.FlagsWord"  # flags "the", in nearly every line
    with pytest.raises(InputError) as caught:
        run_stage("a dreamy song about the ocean at night", seed=2)
    assert caught.value.field == "generated_lyrics"
    assert getattr(caught.value, "rule", None) == "test_word"
    assert "failed the content check 4 times (rule: test_word)" in caught.value.message
    assert ModerationFlag.objects.filter(action=Action.FLAGGED).count() == MODERATION_RETRIES + 1
    assert not Lyrics.objects.exists()


def test_user_lyrics_are_not_checked_again_by_the_stage(settings: Any) -> None:
    settings.CODA_MODERATOR = f"{HERE}.FlagsWord"
    composition, _ = run_stage("a love song", seed=1, lyrics="the sea, the sky\nthe night is mine")
    assert Lyrics.objects.get(composition=composition).source == "user"
    assert not ModerationFlag.objects.exists()


def test_the_moderator_is_part_of_the_lyrics_stage_hash(settings: Any) -> None:
    context = build_context(seed=3)
    before = input_hash(STAGE, context, {"arrangement": "x"})
    assert input_hash(STAGE, context, {"arrangement": "x"}) == before
    settings.CODA_MODERATOR = f"{HERE}.FlagsWord"
    assert input_hash(STAGE, context, {"arrangement": "x"}) != before


def test_the_pipeline_records_a_failed_lyrics_stage_with_the_reason(settings: Any) -> None:
    composition = composition_create(
        prompt="dreamy pop about summer nights", seed=3, duration_seconds=30, start=False
    )
    settings.CODA_MODERATOR = f"{HERE}.FlagsWord"
    for stage in ("mood", "genre", "arrangement"):
        assert execute_stage(composition.pk, stage) == "SUCCEEDED"
    assert execute_stage(composition.pk, "lyrics") == "FAILED"
    run = composition.stages.get(name="lyrics")
    assert run.error.startswith("ModerationRejected: the generated lyrics failed the content check")
    assert composition.moderation_flags.count() == MODERATION_RETRIES + 1
    composition.refresh_from_db()
    assert composition.status == "FAILED" and "content check" in composition.error
