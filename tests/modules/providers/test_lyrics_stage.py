"""The lyrics stage with providers: a real chat server writes the lyrics from the context it was
sent; a slow, garbage-answering, refusing or down server makes the stage fall back to the built-in
writer; every attempt and the fallback are progress events; every call counts toward health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modules.composition.context import CompositionContext
from modules.composition.models import Composition
from modules.composition.pipeline import execute_stage
from modules.composition.services import composition_create
from modules.composition.stages import input_hash, stage_seed
from modules.lyrics.engine import syllable_count, write_lyrics
from modules.lyrics.llm import SYSTEM_PROMPT
from modules.lyrics.models import Lyrics
from modules.lyrics.stage import STAGE, _as_text
from modules.moderation.models import ModerationFlag
from modules.providers import router
from modules.providers.models import CallOutcome, Provider, ProviderCall
from modules.providers.selectors import health_of
from modules.providers.services import preference_set, provider_create, retry_seed
from subscriptions.models import ProgressEvent
from tests.graphql import caller_for, user
from tests.modules.lyrics.test_engine import MOODS, build_context
from tests.modules.providers.chat import TITLE, ChatServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "provider_settings")]

KEY = "sk-local-abc123"
PROMPT = "a dreamy song about the ocean at night"


def register(endpoint: str, name: str = "local-llm", priority: int = 10, **options: Any) -> Provider:
    return provider_create(
        name=name,
        kind="openai_compatible",
        endpoint=endpoint,
        capabilities=["lyrics"],
        model="tiny-llm",
        api_key=options.pop("api_key", KEY),
        priority=priority,
        **options,
    )


def run_stage(owner: Any = None, seed: int = 1, **inputs: Any) -> tuple[Composition, CompositionContext]:
    context = build_context(prompt=PROMPT, mood=MOODS[1], seed=seed)
    context.inputs.update(inputs)
    composition = Composition.objects.create(prompt=PROMPT, seed=seed, context=context.to_dict(), owner=owner)
    STAGE.run(composition, context, lambda fraction, message: None)
    return composition, context


def messages(composition: Composition) -> list[str]:
    return list(
        ProgressEvent.objects.filter(composition=composition, stage="lyrics").values_list(
            "message", flat=True
        )
    )


def built_in_text(context: CompositionContext) -> str:
    return _as_text(write_lyrics(context, stage_seed(context, "lyrics")).lines)


def test_a_provider_writes_the_lyrics_from_the_context_it_was_sent(
    chat_server: Callable[..., ChatServer],
) -> None:
    chat = chat_server()
    register(chat.endpoint)
    composition, context = run_stage(owner=user("alice"))
    (request,) = chat.requests
    # Sent: the key, the model, the stage's seed, JSON mode, the rules and the song's context.
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.body
    assert (body["model"], body["seed"], body["response_format"]) == (
        "tiny-llm",
        stage_seed(context, "lyrics"),
        {"type": "json_object"},
    )
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    song = request.song
    assert song["theme"] == ["dreamy", "ocean", "night"]
    assert song["mood"]["name"] == "dreamy" and song["music"] == {"tempo_bpm": 100, "key": "A minor"}
    asked = [ln["syllables"] for s in song["sections"] for ln in s.get("lines", [])]
    assert asked == [len(p.onsets) for p in context.vocal_phrases if p.section_index != 4]
    assert [s.get("rhyme_scheme") for s in song["sections"]] == ["ABAB", "AABB", "ABAB", None]
    # Used: the server's lines, one syllable per note, the refrain repeated.
    lyrics = Lyrics.objects.get(composition=composition)
    assert (lyrics.provider, lyrics.source, lyrics.title) == ("local-llm", "generated", TITLE)
    lines = list(lyrics.lines.order_by("index"))
    assert len(lines) == len(context.vocal_phrases)
    for line, phrase in zip(lines, context.vocal_phrases, strict=True):
        assert line.text.startswith("Dreamy ")
        assert syllable_count(line.text) == len(line.syllables) == len(phrase.onsets)
    assert lyrics.text != built_in_text(context)
    assert [ln.text for ln in context.lyrics] == [ln.text for ln in lines]
    # Recorded: the events a client watching progress sees, and one successful call.
    notes = messages(composition)
    assert notes[0] == "asking openai-compatible 'local-llm' (priority 10, no calls yet)"
    assert notes[1].startswith("lyrics by provider 'local-llm' (attempt 1, ")
    assert notes[1].endswith(" ms): 16 lines, 12 written, 12 on their syllable count, 0 re-timed")
    call = ProviderCall.objects.get()
    assert (call.outcome, call.ok, call.attempt, call.composition, call.stage) == (
        "ok",
        True,
        1,
        composition,
        "lyrics",
    )
    assert health_of([call.provider_id])[call.provider_id].summary() == f"100% ok, {call.duration_ms} ms p50"


@pytest.mark.parametrize(
    ("mode", "options", "outcome", "failure"),
    [
        ("slow", {"delay": 2.0}, CallOutcome.TIMEOUT, "timed out after 0.3 s"),
        ("garbage", {}, CallOutcome.INVALID, "answered unusable lyrics: not JSON (69 characters)"),
        (
            "short",
            {},
            CallOutcome.INVALID,
            "answered unusable lyrics: section 1 (verse) has 3 lines; 4 were asked",
        ),
        (
            "html",
            {},
            CallOutcome.INVALID,
            "answered something that is not JSON",
        ),
        ("status", {"status_code": 503}, CallOutcome.HTTP_ERROR, "answered HTTP 503"),
    ],
)
def test_a_failing_provider_is_retried_then_the_built_in_writer_takes_over(
    chat_server: Callable[..., ChatServer], mode: str, options: dict[str, Any], outcome: str, failure: str
) -> None:
    chat = chat_server(mode=mode, **options)
    provider = register(chat.endpoint, name=f"{mode}-llm")
    composition, context = run_stage()
    name = f"{mode}-llm"
    assert messages(composition) == [
        f"asking openai-compatible '{name}' (priority 10, no calls yet)",
        f"provider '{name}' {failure}, retry 1/2",
        f"provider '{name}' {failure}, retry 2/2",
        f"provider '{name}' {failure}; retries exhausted",
        f"fell back to built-in: provider '{name}' failed after 3 attempts: {failure}",
    ]
    lyrics = Lyrics.objects.get(composition=composition)
    assert (lyrics.provider, lyrics.text) == ("built-in", built_in_text(context))
    # Three attempts, the retries with derived seeds, each logged; the provider is now unhealthy.
    seed = stage_seed(context, "lyrics")
    assert chat.count == 3
    assert [r.body["seed"] for r in chat.requests] == [seed, retry_seed(seed, 1), retry_seed(seed, 2)]
    logged = list(
        ProviderCall.objects.filter(provider=provider).order_by("id").values_list("attempt", "outcome", "ok")
    )
    assert logged == [(1, outcome, False), (2, outcome, False), (3, outcome, False)]
    assert health_of([provider.pk])[provider.pk].status == "UNHEALTHY"
    # The model's (or a proxy's) unchecked text never reaches the events any reader sees; the
    # staff-only call log keeps it.
    quoted = {"garbage": "la la la", "html": "Bad Gateway"}.get(mode)
    if quoted is not None:
        assert not any(quoted in note for note in messages(composition))
        assert all(quoted in error for error in ProviderCall.objects.values_list("error", flat=True))
    # The next composition is not kept waiting: the router skips it and says why.
    again, _ = run_stage(seed=2)
    assert chat.count == 3
    assert messages(again) == ["built-in: no healthy provider"]
    assert Lyrics.objects.get(composition=again).provider == "built-in"


def test_a_slow_provider_costs_about_its_timeout_per_attempt(chat_server: Callable[..., ChatServer]) -> None:
    import time

    register(chat_server(mode="slow", delay=2.0).endpoint)
    started = time.monotonic()
    run_stage()
    assert 0.9 <= time.monotonic() - started < 2.5  # 3 attempts x 0.3 s, plus the built-in writer


def test_a_provider_that_is_down_is_fallen_back_from_at_once(closed_port: int) -> None:
    provider = register(f"http://127.0.0.1:{closed_port}/v1", name="down-llm")
    composition, context = run_stage()
    notes = messages(composition)
    assert len(notes) == 5
    assert notes[1].startswith("provider 'down-llm' could not connect: ") and notes[1].endswith(", retry 1/2")
    assert notes[-1].startswith(
        "fell back to built-in: provider 'down-llm' failed after 3 attempts: could not connect"
    )
    assert Lyrics.objects.get(composition=composition).text == built_in_text(context)
    assert set(ProviderCall.objects.filter(provider=provider).values_list("outcome", flat=True)) == {
        "unreachable"
    }


def test_an_error_another_try_cannot_fix_is_not_retried(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server(mode="status", status_code=401)
    provider = register(chat.endpoint)
    composition, _ = run_stage()
    assert messages(composition)[1:] == [
        "provider 'local-llm' answered HTTP 401; not retried",
        "fell back to built-in: provider 'local-llm' failed after 1 attempt: answered HTTP 401",
    ]
    assert chat.count == 1
    # The server's error body (quoting a masked key) is for staff, in the call log only.
    assert ProviderCall.objects.get(provider=provider).error == (
        "answered HTTP 401: Incorrect API key provided: sk-abc***xyz"
    )
    assert "sk-abc" not in " ".join(messages(composition))


def test_a_retry_that_succeeds_is_used(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server(fail_first=1)
    register(chat.endpoint)
    composition, context = run_stage()
    notes = messages(composition)
    assert notes[1] == "provider 'local-llm' answered HTTP 503, retry 1/2"
    assert notes[2].startswith("lyrics by provider 'local-llm' (attempt 2, ")
    assert Lyrics.objects.get(composition=composition).provider == "local-llm"
    assert chat.requests[1].body["seed"] == retry_seed(stage_seed(context, "lyrics"), 1)


def test_lyrics_the_content_check_refuses_are_flagged_retried_and_replaced(
    chat_server: Callable[..., ChatServer],
) -> None:
    chat = chat_server(mode="rude")
    provider = register(chat.endpoint)
    composition, context = run_stage()
    refused = "wrote lyrics the content check refused (rule: profanity)"
    assert messages(composition)[1:] == [
        f"provider 'local-llm' {refused}, retry 1/2",
        f"provider 'local-llm' {refused}, retry 2/2",
        f"provider 'local-llm' {refused}; retries exhausted",
        f"fell back to built-in: provider 'local-llm' failed after 3 attempts: {refused}",
    ]
    assert ModerationFlag.objects.filter(composition=composition, field="generated_lyrics").count() == 3
    assert Lyrics.objects.get(composition=composition).text == built_in_text(context)
    # The words asked for were refused, not the provider: its health is untouched.
    assert health_of([provider.pk])[provider.pk].status == "HEALTHY"


def test_the_users_preference_for_the_built_in_writer_sends_nothing(
    chat_server: Callable[..., ChatServer],
) -> None:
    chat = chat_server()
    register(chat.endpoint)
    alice = user("alice")
    preference_set(alice, "lyrics", "built-in")
    composition, _ = run_stage(owner=alice)
    assert chat.count == 0
    assert messages(composition) == []
    assert Lyrics.objects.get(composition=composition).provider == "built-in"
    # Someone else's composition still goes to the provider.
    run_stage(owner=user("bob"))
    assert chat.count == 1


def test_the_users_preferred_provider_writes_their_lyrics(chat_server: Callable[..., ChatServer]) -> None:
    big, small = chat_server(), chat_server()
    register(big.endpoint, name="big", priority=10)
    register(small.endpoint, name="small", priority=1)
    alice = user("alice")
    preference_set(alice, "lyrics", "small")
    composition, _ = run_stage(owner=alice)
    assert (big.count, small.count) == (0, 1)
    assert messages(composition)[0] == "asking openai-compatible 'small' (your preference, no calls yet)"
    assert Lyrics.objects.get(composition=composition).provider == "small"


def test_the_users_own_lyrics_go_to_no_provider(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server()
    register(chat.endpoint)
    composition, _ = run_stage(lyrics="the sea is calm tonight\nand so am I")
    assert chat.count == 0
    lyrics = Lyrics.objects.get(composition=composition)
    assert (lyrics.source, lyrics.provider) == ("user", "")


def test_the_stage_hash_covers_the_owners_route_not_the_registry() -> None:
    context = build_context(seed=3)
    alice, bob = user("alice"), user("bob")
    song = Composition.objects.create(prompt=PROMPT, seed=3, context=context.to_dict(), owner=alice)

    def key(owner: Any = alice) -> str:
        song.owner = owner
        return input_hash(STAGE, context, {"arrangement": "x"}, STAGE.route(song, context))

    before = key()
    assert set(STAGE.fingerprint()) == {"moderator"}
    assert STAGE.route(song, context) == {}  # the built-in writer: the hash is what it always was
    assert before == input_hash(STAGE, context, {"arrangement": "x"})
    register("http://127.0.0.1:9/v1", name="disabled-llm", enabled=False)
    assert key() == before
    provider = register("http://127.0.0.1:9/v1")
    # Who writes, by name, kind, endpoint and model; never the key.
    assert STAGE.route(song, context) == {
        "provider": "local-llm",
        "kind": "openai_compatible",
        "endpoint": "http://127.0.0.1:9/v1",
        "model": "tiny-llm",
    }
    with_provider = key()
    assert with_provider != before
    # Alice prefers the built-in writer: her route, and so her hash, is the built-in one; Bob's isn't.
    preference_set(alice, "lyrics", "built-in")
    assert (key(alice), key(bob)) == (before, with_provider)
    Provider.objects.filter(pk=provider.pk).update(model="bigger-llm")
    assert key(bob) not in (before, with_provider)
    # A provider the route does not choose changes nothing: it would not write these lyrics.
    register("http://127.0.0.1:9/v1", name="backup-llm", priority=1)
    assert key(alice) == before
    # The user's own lyrics go to no provider, whoever's route it is.
    context.inputs["lyrics"] = "the sea is calm tonight"
    assert STAGE.route(song, context) == {}


def composed_up_to_lyrics(owner: Any, seed: int = 3) -> Composition:
    composition = composition_create(
        prompt=PROMPT, seed=seed, duration_seconds=30, start=False, caller=caller_for(owner)
    )
    for stage in ("mood", "genre", "arrangement", "lyrics"):
        assert execute_stage(composition.pk, stage) == "SUCCEEDED"
    composition.refresh_from_db()
    return composition


def lyrics_run(composition: Composition) -> tuple[str, bool]:
    run = composition.stages.get(name="lyrics")
    return composition.lyrics.provider, run.reused


def test_with_reuse_on_an_owner_who_prefers_the_built_in_writer_never_gets_anothers_llm_lyrics(
    chat_server: Callable[..., ChatServer], settings: Any
) -> None:
    assert settings.CODA_REUSE_RESULTS
    chat = chat_server()
    register(chat.endpoint)
    bob, alice = user("bob"), user("alice")
    bobs = composed_up_to_lyrics(bob)
    assert lyrics_run(bobs) == ("local-llm", False) and chat.count == 1
    # The same prompt and seed: every stage before lyrics is Bob's, reused.
    preference_set(alice, "lyrics", "built-in")
    alices = composed_up_to_lyrics(alice)
    assert alices.stages.get(name="arrangement").reused
    assert lyrics_run(alices) == ("built-in", False), "her preference: the built-in writer, not Bob's LLM"
    assert chat.count == 1, "nothing of hers was sent"
    assert alices.lyrics.text != bobs.lyrics.text
    # Someone whose route is Bob's does reuse his provider's lyrics.
    carols = composed_up_to_lyrics(user("carol"))
    assert lyrics_run(carols) == ("local-llm", True) and carols.lyrics.text == bobs.lyrics.text
    assert chat.count == 1


def test_with_reuse_on_a_fallback_result_is_stored_as_the_built_in_writers_not_the_providers(
    chat_server: Callable[..., ChatServer], settings: Any
) -> None:
    assert settings.CODA_REUSE_RESULTS
    settings.CODA_PROVIDER_COOLDOWN_SECONDS = 0  # a failed provider is tried again at once (probation)
    chat = chat_server(fail_first=3)  # down for the first composition's three attempts, then back
    register(chat.endpoint)
    first = composed_up_to_lyrics(user("bob"))
    assert lyrics_run(first) == ("built-in", False) and chat.count == 3
    # Stored under the built-in writer's address, not the provider's.
    run = first.stages.get(name="lyrics")
    context = CompositionContext.from_dict(first.context)
    needs = {"arrangement": first.stages.get(name="arrangement").input_hash}
    assert run.input_hash == input_hash(STAGE, context, needs)
    assert run.input_hash != input_hash(STAGE, context, needs, STAGE.route(first, context))
    # The provider answers again: the next identical request asks it instead of reusing the fallback.
    second = composed_up_to_lyrics(user("carol"))
    assert lyrics_run(second) == ("local-llm", False) and chat.count == 4
    # An owner who prefers the built-in writer may reuse the fallback: it is exactly the built-in result.
    alice = user("alice")
    preference_set(alice, "lyrics", "built-in")
    third = composed_up_to_lyrics(alice)
    assert lyrics_run(third) == ("built-in", True) and third.lyrics.text == first.lyrics.text


def test_in_the_pipeline_the_events_are_logged_in_order_between_started_and_succeeded(
    chat_server: Callable[..., ChatServer], closed_port: int, settings: Any
) -> None:
    settings.CODA_REUSE_RESULTS = False
    register(f"http://127.0.0.1:{closed_port}/v1", name="down-llm")
    composition = composition_create(prompt=PROMPT, seed=3, duration_seconds=30, start=False)
    for stage in ("mood", "genre", "arrangement", "lyrics"):
        assert execute_stage(composition.pk, stage) == "SUCCEEDED"
    events = list(
        ProgressEvent.objects.filter(composition=composition, stage="lyrics")
        .order_by("seq")
        .values_list("status", "message")
    )
    assert [status for status, _ in events] == ["STARTED", *["PROGRESS"] * 5, "SUCCEEDED"]
    assert events[1][1] == "asking openai-compatible 'down-llm' (priority 10, no calls yet)"
    assert events[5][1].startswith("fell back to built-in: provider 'down-llm' failed after 3 attempts")
    run = composition.stages.get(name="lyrics")
    assert run.status == "SUCCEEDED"
    assert composition.lyrics.provider == "built-in"
    # Three failed calls in a row: the next composition goes straight to the built-in writer.
    assert router.route("lyrics").reason == "built-in: no healthy provider"


def test_a_cancelled_composition_stops_before_asking(chat_server: Callable[..., ChatServer]) -> None:
    from modules.composition.stages import StageCancelled

    chat = chat_server()
    register(chat.endpoint)
    context = build_context(prompt=PROMPT, mood=MOODS[1], seed=1)
    composition = Composition.objects.create(
        prompt=PROMPT, seed=1, context=context.to_dict(), status="CANCELLED"
    )
    with pytest.raises(StageCancelled):
        STAGE.run(composition, context, lambda fraction, message: None)
    assert chat.count == 0 and not ProviderCall.objects.exists()
