"""Health from the call log, and the router's choices: priority, preference, unhealthy skipped,
cool-down and probation, the built-in fallback; each with the reason it gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from modules.composition.stages import InputError, ordered_names
from modules.providers import router
from modules.providers.models import CallOutcome, Provider, ProviderCall
from modules.providers.selectors import health_of
from modules.providers.services import call_record, preference_set, provider_create
from tests.graphql import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]


def make(name: str, priority: int = 0, **options: Any) -> Provider:
    return provider_create(
        name=name,
        kind="openai_compatible",
        endpoint=f"http://127.0.0.1:9/{name}/v1",
        capabilities=options.pop("capabilities", ["lyrics"]),
        priority=priority,
        **options,
    )


def calls(provider: Provider, *outcomes: tuple[str, int]) -> None:
    """Record calls, oldest first: (outcome, duration in ms)."""
    for outcome, ms in outcomes:
        call_record(provider, stage="lyrics", attempt=1, outcome=outcome, duration_ms=ms, error=f"{outcome}!")


OK, TIMEOUT, DOWN = CallOutcome.OK, CallOutcome.TIMEOUT, CallOutcome.UNREACHABLE


def test_health_is_the_success_rate_and_latency_of_the_latest_calls(settings: Any) -> None:
    settings.CODA_PROVIDER_HEALTH_WINDOW = 4
    provider = make("local-llm")
    assert health_of([provider.pk])[provider.pk].summary() == "no calls yet"
    calls(provider, (TIMEOUT, 300), (TIMEOUT, 300), (OK, 500), (OK, 400), (TIMEOUT, 300), (OK, 100))
    health = health_of([provider.pk])[provider.pk]
    # The window holds the last 4 calls: 500 ok, 400 ok, 300 timeout, 100 ok.
    assert (health.calls, health.successes, health.streak) == (4, 3, 0)
    assert (health.p50_ms, health.p95_ms) == (300, 500)
    assert health.success_rate == 0.75
    assert health.summary() == "75% ok, 300 ms p50"
    assert health.status == "HEALTHY" and health.last_error == "timeout!"


def test_a_content_check_refusal_is_not_held_against_a_provider() -> None:
    provider = make("local-llm")
    calls(provider, *[(CallOutcome.REJECTED, 200)] * 3)
    health = health_of([provider.pk])[provider.pk]
    assert (health.successes, health.status) == (3, "HEALTHY")


def test_health_of_many_providers_is_one_query(django_assert_num_queries: Any) -> None:
    providers = [make(f"p{i}") for i in range(5)]
    for provider in providers:
        calls(provider, (OK, 100), (DOWN, 5))
    with django_assert_num_queries(1):
        found = health_of([p.pk for p in providers])
    assert [h.calls for h in found.values()] == [2] * 5


def test_the_call_log_keeps_the_latest_calls_only(settings: Any) -> None:
    settings.CODA_PROVIDER_HEALTH_WINDOW = 3
    settings.CODA_PROVIDER_CALL_LOG = 5
    provider, other = make("a"), make("b")
    calls(other, (OK, 1))
    calls(provider, *[(OK, ms) for ms in range(1, 9)])
    kept = list(
        ProviderCall.objects.filter(provider=provider).order_by("id").values_list("duration_ms", flat=True)
    )
    assert kept == [4, 5, 6, 7, 8]
    assert ProviderCall.objects.filter(provider=other).count() == 1


def test_the_highest_priority_healthy_provider_is_chosen() -> None:
    make("low", priority=1)
    make("high", priority=10)
    make("middle", priority=5)
    make("off", priority=99, enabled=False)
    found = router.route("lyrics")
    assert found.name == "high"
    assert found.reason == "openai-compatible 'high' (priority 10, no calls yet)"
    assert [(p.name, p.reason) for p in found.passed_over] == [
        ("middle", "lower priority than 'high'"),
        ("low", "lower priority than 'high'"),
    ]


def test_unhealthy_providers_are_skipped_until_they_cool_down(settings: Any) -> None:
    high, low = make("high", priority=10), make("low", priority=1)
    calls(high, (OK, 400), (OK, 400), (TIMEOUT, 300), (TIMEOUT, 300))
    calls(low, (OK, 420), (OK, 380))
    assert router.route("lyrics").name == "high"  # two failures in a row, 50% ok: not yet
    calls(high, (DOWN, 3))
    found = router.route("lyrics")
    assert found.name == "low"
    assert found.reason == "openai-compatible 'low' (priority 1, 100% ok, 380 ms p50)"
    assert [(p.name, p.reason) for p in found.passed_over] == [("high", "unhealthy: its last 3 calls failed")]
    health = health_of([high.pk])[high.pk]
    assert health.status == "UNHEALTHY"
    last = ProviderCall.objects.filter(provider=high).latest("id").created_at
    assert health.retry_at == last + timedelta(seconds=300)
    # After the cool-down it is tried again (on probation), and chosen first again.
    ProviderCall.objects.filter(provider=high).update(created_at=timezone.now() - timedelta(seconds=301))
    again = router.route("lyrics")
    assert again.name == "high"
    assert (
        again.reason
        == "openai-compatible 'high' (priority 10, 40% ok, 300 ms p50; on probation after failing)"
    )
    # One more failure and it is out again at once.
    calls(high, (TIMEOUT, 300))
    assert router.route("lyrics").name == "low"


def test_a_low_success_rate_is_unhealthy_too(settings: Any) -> None:
    provider = make("flaky")
    calls(provider, (OK, 1), (DOWN, 1), (DOWN, 1), (OK, 1), (DOWN, 1), (DOWN, 1), (OK, 1), (DOWN, 1))
    found = router.route("lyrics")
    assert found.built_in
    assert found.reason == "built-in: no healthy provider"
    assert [(p.name, p.reason) for p in found.passed_over] == [
        ("flaky", "unhealthy: 38% ok, 1 ms p50 over the last 8 calls")
    ]


def test_without_providers_every_stage_uses_its_built_in_engine() -> None:
    make("lyrics-only", capabilities=["lyrics"])
    found = router.routes()
    assert [r.capability for r in found] == ordered_names()
    mood = found[0]
    assert (mood.capability, mood.name, mood.kind, mood.reason) == (
        "mood",
        "built-in",
        "built-in",
        "built-in: no provider serves mood",
    )
    assert next(r for r in found if r.capability == "lyrics").name == "lyrics-only"


def test_a_users_preference_wins_while_it_is_healthy() -> None:
    alice, bob = user("alice"), user("bob")
    make("big", priority=10)
    small = make("small", priority=1)
    preference_set(alice, "lyrics", "small")
    mine = router.route("lyrics", alice)
    assert (mine.name, mine.preferred) == ("small", True)
    assert mine.reason == "openai-compatible 'small' (your preference, no calls yet)"
    assert router.route("lyrics", bob).name == "big"  # someone else's preference is not yours
    assert router.route("lyrics", None).name == "big"
    calls(small, (DOWN, 2), (DOWN, 2), (DOWN, 2))
    fallback = router.route("lyrics", alice)
    assert (fallback.name, fallback.preferred) == ("big", False)
    assert fallback.reason == (
        "openai-compatible 'big' (priority 10, no calls yet); "
        "your preferred 'small' is unhealthy: its last 3 calls failed"
    )


def test_preferring_the_built_in_engine_asks_no_provider() -> None:
    alice = user("alice")
    make("big", priority=10)
    preference_set(alice, "lyrics", "built-in")
    found = router.route("lyrics", alice)
    assert (found.built_in, found.preferred, found.reason) == (True, True, "built-in: your preference")


def test_a_preferred_provider_that_was_disabled_is_noted_and_passed_by() -> None:
    alice = user("alice")
    only = make("only")
    preference_set(alice, "lyrics", "only")
    Provider.objects.filter(pk=only.pk).update(enabled=False)
    found = router.route("lyrics", alice)
    assert found.reason == "built-in: no provider serves lyrics; your preferred 'only' is disabled"


def test_preferences_are_checked() -> None:
    alice = user("alice")
    make("big")
    with pytest.raises(InputError) as caught:
        preference_set(alice, "lyricz", "big")
    assert caught.value.field == "capability"
    assert caught.value.message == (
        "unknown capability 'lyricz'; capabilities: mood, genre, arrangement, lyrics, voice, mastering"
    )
    with pytest.raises(InputError) as caught:
        preference_set(alice, "lyrics", "nope")
    assert (caught.value.field, caught.value.message) == (
        "provider",
        "no provider named 'nope'; for lyrics: 'big', 'built-in'",
    )
    with pytest.raises(InputError) as caught:
        preference_set(alice, "mood", "big")
    assert caught.value.message == "'big' does not serve mood; for mood: 'built-in'"
    assert preference_set(alice, "lyrics", "big").provider_name == "big"
    assert preference_set(alice, "lyrics", None) is None
    assert not alice.provider_preferences.exists()


def test_a_provider_is_validated_like_the_admin_validates_it() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="names the offline engines"):
        make("built-in")
    with pytest.raises(ValidationError, match="cannot serve 'mood'; it can serve: lyrics"):
        make("moody", capabilities=["mood"])
    with pytest.raises(ValidationError, match="unknown stage 'drums'"):
        make("drummer", capabilities=["drums"])
    with pytest.raises(ValidationError, match="at most 64 lower-case letters"):
        make("Local LLM")
