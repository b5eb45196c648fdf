"""Writes on providers: the registry, users' preferences, and asking a provider with retries.

`provider_ask` is what a stage calls once the router chose a provider: it sends the request, lets
the stage validate the answer, retries (with a derived seed) on a timeout, a refused connection, a
5xx or an unusable answer, records every attempt in the call log (which is the provider's health)
and tells the stage what happened at each step through `notify`, so the stage can put it in its
progress events. When every attempt failed it raises ProviderFailed and the stage falls back to its
built-in engine.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import transaction

from modules.composition.stages import InputError, registry

from .crypto import CredentialsUnreadable, reencrypt
from .models import BUILT_IN, HEALTHY_OUTCOMES, CallOutcome, Provider, ProviderCall, ProviderPreference
from .openai import ProviderError, chat_completion

log = logging.getLogger(__name__)

T = TypeVar("T")
Notify = Callable[[str], None]


class Unusable(Exception):
    """Raised by a stage's `accept` for an answer it cannot use: INVALID (shape, counts) or REJECTED
    (the content check). `message` reaches progress events, so it never quotes the answer; `detail`
    (a quote of what was wrong) goes to the staff-only call log."""

    def __init__(self, outcome: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.detail = detail


class ProviderFailed(Exception):
    """Every attempt at a provider failed; the stage falls back to its built-in engine."""

    def __init__(self, provider: Provider, attempts: int, last: ProviderError) -> None:
        self.provider = provider
        self.attempts = attempts
        self.last = last
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"provider '{provider.name}' failed after {tries}: {last.message}")


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T  # what the stage's `accept` made of the answer
    attempt: int
    duration_ms: int
    seed: int


# --------------------------------------------------------------------------- the registry


def provider_create(
    *,
    name: str,
    kind: str,
    endpoint: str,
    capabilities: list[str],
    model: str = "",
    api_key: str = "",
    priority: int = 0,
    enabled: bool = True,
) -> Provider:
    """Add a provider (validated as the admin validates it); the API key is stored encrypted."""
    provider = Provider(
        name=name,
        kind=kind,
        endpoint=endpoint,
        capabilities=capabilities,
        model=model,
        priority=priority,
        enabled=enabled,
    )
    provider.set_api_key(api_key)
    provider.full_clean()
    provider.save()
    return provider


def provider_set_api_key(provider: Provider, api_key: str | None) -> Provider:
    """Replace (or, with None or "", remove) a provider's API key."""
    provider.set_api_key(api_key)
    provider.save(update_fields=["api_key_encrypted", "updated_at"])
    return provider


def providers_reencrypt() -> int:
    """Re-encrypt every stored API key under the newest CODA_PROVIDER_KEY; how many were."""
    count = 0
    with transaction.atomic():
        for provider in Provider.objects.select_for_update().exclude(api_key_encrypted=""):
            provider.api_key_encrypted = reencrypt(provider.api_key_encrypted)
            provider.save(update_fields=["api_key_encrypted"])
            count += 1
    return count


# --------------------------------------------------------------------------- preferences


def _stage_names() -> list[str]:
    return list(registry())


def _check_capability(capability: str) -> str:
    names = _stage_names()
    if capability not in names:
        raise InputError("capability", f"unknown capability {capability!r}; capabilities: {', '.join(names)}")
    return capability


def preference_set(user: Any, capability: str, provider_name: str | None) -> ProviderPreference | None:
    """State the user's preferred provider for a capability: a provider's name, BUILT_IN, or None to
    let the router choose again. Returns the preference (None when cleared)."""
    _check_capability(capability)
    if provider_name is None:
        ProviderPreference.objects.filter(user=user, capability=capability).delete()
        return None
    provider: Provider | None = None
    if provider_name.strip() != BUILT_IN:
        provider = Provider.objects.filter(name=provider_name.strip(), enabled=True).first()
        serving = [p.name for p in Provider.objects.filter(enabled=True) if p.serves(capability)]
        choices = ", ".join([*(repr(n) for n in serving), repr(BUILT_IN)])
        if provider is None:
            raise InputError("provider", f"no provider named {provider_name!r}; for {capability}: {choices}")
        if not provider.serves(capability):
            raise InputError(
                "provider", f"{provider_name!r} does not serve {capability}; for {capability}: {choices}"
            )
    preference, _ = ProviderPreference.objects.update_or_create(
        user=user, capability=capability, defaults={"provider": provider}
    )
    return preference


# --------------------------------------------------------------------------- calls


def retry_seed(seed: int, retry: int) -> int:
    """The seed of the n-th retry: derived, so a retry asks for something new, reproducibly."""
    return zlib.crc32(f"{seed}:provider-retry:{retry}".encode()) & 0x7FFFFFFF


def call_record(
    provider: Provider,
    *,
    stage: str,
    attempt: int,
    outcome: str,
    duration_ms: int = 0,
    seed: int | None = None,
    status_code: int | None = None,
    error: str = "",
    composition: Any = None,
) -> ProviderCall:
    """Log one call (it counts toward the provider's health) and drop the provider's oldest calls
    beyond CODA_PROVIDER_CALL_LOG."""
    call = ProviderCall.objects.create(
        provider=provider,
        stage=stage,
        composition=composition,
        attempt=attempt,
        seed=seed,
        outcome=outcome,
        ok=outcome in HEALTHY_OUTCOMES,
        duration_ms=max(0, duration_ms),
        status_code=status_code,
        error=error[:1000],
    )
    keep = max(settings.CODA_PROVIDER_HEALTH_WINDOW, settings.CODA_PROVIDER_CALL_LOG)
    oldest_kept = (
        ProviderCall.objects.filter(provider=provider)
        .order_by("-id")
        .values_list("id", flat=True)[keep - 1 : keep]
    )
    cutoff = list(oldest_kept)
    if cutoff:
        ProviderCall.objects.filter(provider=provider, id__lt=cutoff[0]).delete()
    return call


def provider_ask(
    provider: Provider,
    *,
    stage: str,
    messages: list[dict[str, str]],
    seed: int,
    accept: Callable[[str], T],
    notify: Notify,
    composition: Any = None,
    temperature: float = 0.8,
) -> Answer[T]:
    """Ask `provider` (a chat-completions provider) and return what `accept` makes of its answer.

    `accept(content)` validates the answer's text and returns the stage's result, or raises
    Unusable. Attempts: 1 + CODA_PROVIDER_RETRIES, each bounded by CODA_PROVIDER_TIMEOUT_SECONDS,
    the n-th retry with `retry_seed(seed, n)`; an HTTP error that another try cannot fix (401, 404...)
    is not retried. Raises ProviderFailed when no attempt gave a usable answer.
    """
    retries = max(0, settings.CODA_PROVIDER_RETRIES)
    timeout = float(settings.CODA_PROVIDER_TIMEOUT_SECONDS)
    try:
        api_key = provider.api_key()
    except CredentialsUnreadable as error:
        failure = ProviderError(CallOutcome.CREDENTIALS, str(error), retryable=False)
        call_record(
            provider,
            stage=stage,
            attempt=1,
            outcome=failure.outcome,
            error=failure.message,
            composition=composition,
        )
        notify(f"provider '{provider.name}': {failure.message}; not retried")
        raise ProviderFailed(provider, 1, failure) from None
    for attempt in range(1, retries + 2):
        attempt_seed = seed if attempt == 1 else retry_seed(seed, attempt - 1)
        clock = time.monotonic()
        status_code: int | None = None
        try:
            completion = chat_completion(
                provider.endpoint,
                model=provider.model,
                api_key=api_key,
                messages=messages,
                seed=attempt_seed,
                timeout=timeout,
                temperature=temperature,
            )
            status_code = completion.status_code
            value = accept(completion.content)
        except ProviderError as error:
            failure = error
            status_code = error.status_code
        except Unusable as unusable:
            failure = ProviderError(
                unusable.outcome, unusable.message, status_code=status_code, detail=unusable.detail
            )
        else:
            duration_ms = round((time.monotonic() - clock) * 1000)
            call_record(
                provider,
                stage=stage,
                attempt=attempt,
                outcome=CallOutcome.OK,
                duration_ms=duration_ms,
                seed=attempt_seed,
                status_code=status_code,
                composition=composition,
            )
            return Answer(value, attempt, duration_ms, attempt_seed)
        duration_ms = round((time.monotonic() - clock) * 1000)
        call_record(
            provider,
            stage=stage,
            attempt=attempt,
            outcome=failure.outcome,
            duration_ms=duration_ms,
            seed=attempt_seed,
            status_code=status_code,
            error=failure.logged,
            composition=composition,
        )
        log.info("provider %s, %s attempt %s: %s", provider.name, stage, attempt, failure.logged)
        if not failure.retryable:
            notify(f"provider '{provider.name}' {failure.message}; not retried")
            raise ProviderFailed(provider, attempt, failure)
        if attempt > retries:
            notify(f"provider '{provider.name}' {failure.message}; retries exhausted")
            raise ProviderFailed(provider, attempt, failure)
        notify(f"provider '{provider.name}' {failure.message}, retry {attempt}/{retries}")
        time.sleep(float(settings.CODA_PROVIDER_BACKOFF_SECONDS) * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover
