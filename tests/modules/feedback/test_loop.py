"""The feedback loop through the real pipeline: feedback moves a user's profile, the profile leans
the choices their next open prompt leaves open (measured: tempo, genre weights, voice odds), and
nobody else's compositions move."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from strawberry import relay

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.composition.pipeline import run_inline
from modules.composition.services import composition_create, composition_regenerate
from modules.composition.stages import stage_seed
from modules.voice.engine import choose_voice
from tests.graphql import caller_for, data_of, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "sync_pipeline")]

OPEN = "a song for tonight"  # says nothing of mood, genre, tempo, key or voice
SUBMIT = """mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { id kind element rating }
}"""


def composed(who: Any, prompt: str = OPEN, seed: int = 11, **inputs: Any) -> Composition:
    composition = composition_create(
        prompt=prompt, seed=seed, duration_seconds=15, inputs=inputs, caller=caller_for(who), start=False
    )
    run_inline(composition.pk)
    composition.refresh_from_db()
    assert composition.status == "SUCCEEDED", composition.error
    return composition


def feedback(who: Any, composition: Composition, kind: str, **extra: Any) -> None:
    variables = {
        "input": {"compositionId": relay.to_base64("Composition", composition.pk), "kind": kind, **extra}
    }
    data_of(SUBMIT, variables, caller_for(who))


def genre_weights(composition: Composition) -> dict[str, float]:
    return {g["name"]: g["weight"] for g in composition.context["genres"]}


def chosen(composition: Composition) -> dict[str, Any]:
    """What an open prompt leaves to be chosen, as the composition chose it."""
    ctx = composition.context
    return {
        "mood": ctx["mood"]["name"],
        "genres": genre_weights(composition),
        "tempo": ctx["tempo"],
        "key": ctx["key"],
        "scale": ctx["scale"],
        "voice": ctx["vocal_style"],
        "loudness": ctx["loudness_target"],
    }


def test_liking_slow_jazz_and_disliking_rock_moves_an_open_prompt_there_and_no_one_else() -> None:
    alice, bob = user("alice"), user("bob")
    before_alice, before_bob = composed(alice), composed(bob)
    assert chosen(before_alice) == chosen(before_bob), (
        "no feedback yet: the same prompt and seed, the same song"
    )
    baseline = chosen(before_bob)
    assert baseline["genres"] == {"pop": 0.5249, "r&b": 0.4751} and baseline["tempo"] == 128.0

    jazz = composed(alice, "slow jazz ballad", 5, tempo=66)
    rock = composed(alice, "rock anthem", 6)
    assert (genre_weights(jazz), jazz.context["tempo"]) == ({"jazz": 1.0}, 66.0)
    assert (genre_weights(rock), rock.context["tempo"]) == ({"rock": 1.0}, 133.2)
    feedback(alice, jazz, "LIKE", rating=5, text="more of this")
    feedback(alice, rock, "DISLIKE", rating=1)

    after_alice, after_bob = composed(alice), composed(bob)

    # Alice: the open choices lean towards slow jazz, measurably.
    now = chosen(after_alice)
    assert genre_weights(after_alice).get("jazz", 0.0) - baseline["genres"].get("jazz", 0.0) == 0.5721
    assert genre_weights(after_alice).get("rock", 0.0) == 0.0
    assert now["tempo"] == 78.6 and baseline["tempo"] - now["tempo"] == pytest.approx(49.4)
    assert now["mood"] == "romantic"  # the liked jazz ballad's mood, for a prompt that names none
    assert now["loudness"] == -14.9  # pop/r&b's -11.9, pulled towards the liked jazz master's -15
    sources = after_alice.context["sources"]
    assert {f: sources[f] for f in ("mood", "genres", "tempo", "loudness_target")} == dict.fromkeys(
        ("mood", "genres", "tempo", "loudness_target"), "profile"
    )
    assert after_alice.context["priors"]["tempo"] == {"source": "profile", "value": 80.35, "strength": 0.5}
    assert after_alice.context["priors"]["genres"]["weights"] == {"jazz": 0.4621, "rock": -0.4621}

    # Bob gave no feedback: his song is the one he had before, and it has no priors at all.
    assert chosen(after_bob) == baseline
    assert after_bob.context["priors"] == {} and "profile" not in after_bob.context["sources"].values()

    # An explicit input still wins over the profile: Alice asks for rock at 140 and gets it.
    asked = composed(alice, seed=11, genres=[{"name": "rock", "weight": 1}], tempo=140)
    assert (genre_weights(asked), asked.context["tempo"]) == ({"rock": 1.0}, 140.0)
    assert {"genres", "tempo"}.isdisjoint(asked.context["priors"])
    assert (asked.context["sources"]["genres"], asked.context["sources"]["tempo"]) == ("input", "input")

    # Deterministic: the same seed and the same profile make the same song, every stage reused.
    again = composed(alice)
    assert chosen(again) == now and all(again.stages.values_list("reused", flat=True))


def voice_odds(composition: Composition, voice: str, seeds: int = 300) -> float:
    """How often the voice stage picks `voice` for this composition, over `seeds` stage seeds (what
    regenerateStage("voice", seed) draws)."""
    context = CompositionContext.from_dict(composition.context)
    picks = Counter(choose_voice(context, seed)[0].name for seed in range(seeds))
    return round(picks[voice] / seeds, 4)


def test_disliking_a_voice_makes_it_less_likely_next_time(django_capture_on_commit_callbacks: Any) -> None:
    carol, bob = user("carol"), user("bob")
    sung = composed(carol, voice="alto")
    assert sung.voice.voice == "alto"
    feedback(carol, sung, "DISLIKE", element="VOICE")

    carols, bobs = composed(carol), composed(bob)
    assert carols.context["priors"] == {"voices": {"source": "profile", "weights": {"alto": -0.4621}}}
    assert genre_weights(carols) == genre_weights(bobs), "only the voice prior differs"
    bob_odds, carol_odds = voice_odds(bobs, "alto"), voice_odds(carols, "alto")
    assert (bob_odds, carol_odds) == (0.2333, 0.1167)  # alto's odds multiplied by exp(1.5 * -0.4621) = 0.5
    assert carol_odds < 0.6 * bob_odds

    # Through the voice stage itself: on a seed where Bob's draw is the alto and Carol's leaned one
    # is not, her stage sings another voice and her context says the profile chose it.
    base, leaned = (CompositionContext.from_dict(song.context) for song in (bobs, carols))
    seed = next(
        s for s in range(300) if choose_voice(base, s)[0].name == "alto" != choose_voice(leaned, s)[0].name
    )
    with django_capture_on_commit_callbacks(execute=True):
        composition_regenerate(carols, "voice", seed)
    carols.refresh_from_db()
    assert carols.status == "SUCCEEDED", carols.error
    assert stage_seed(CompositionContext.from_dict(carols.context), "voice") == seed
    assert carols.voice.voice != "alto" and carols.context["sources"]["vocal_style"] == "profile"
