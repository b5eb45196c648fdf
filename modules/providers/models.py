"""The provider registry, every call made to a provider (its health), and users' preferences.

The built-in providers (each stage's offline engine) have no row: they are code, always present and
always healthy, so no admin action or missing data migration can take a stage's last resort away.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from . import crypto

# The name the built-in engines go by in routes and preferences; no provider may take it.
BUILT_IN = "built-in"


class ProviderKind(models.TextChoices):
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible chat completions"


# What each kind of provider can do: the stages it has an implementation for.
KIND_CAPABILITIES: dict[str, tuple[str, ...]] = {ProviderKind.OPENAI_COMPATIBLE: ("lyrics",)}
# How a kind is named in explanations: "openai-compatible 'local-llm'".
KIND_LABELS: dict[str, str] = {ProviderKind.OPENAI_COMPATIBLE: "openai-compatible", BUILT_IN: "built-in"}

name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{0,63}$",
    "at most 64 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit",
)


class Provider(models.Model):
    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[name_validator],
        help_text="How routes, preferences and events name it, e.g. local-llm",
    )
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)
    capabilities = models.JSONField(
        default=list, blank=True, help_text="The stages it may serve (names, e.g. ['lyrics'])"
    )
    endpoint = models.URLField(
        max_length=500,
        # Only staff set it, so local and private addresses are allowed (a local model server).
        help_text="Base URL of the API, e.g. http://127.0.0.1:8080/v1 "
        "(POSTs go to <endpoint>/chat/completions)",
    )
    model = models.CharField(
        max_length=200, blank=True, default="", help_text="The model name sent with each request"
    )
    # A Fernet token (see crypto.py); never shown anywhere: the admin has a write-only field.
    api_key_encrypted = models.TextField(blank=True, default="", editable=False)
    priority = models.IntegerField(
        default=0, help_text="Among healthy providers of a capability, the highest priority is chosen"
    )
    enabled = models.BooleanField(default=True, help_text="Disabled providers are never chosen")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "name"]

    def __str__(self) -> str:
        return f"{self.label} ({', '.join(self.capabilities) or 'no capabilities'})"

    @property
    def label(self) -> str:
        """'openai-compatible 'local-llm'': the kind and the name, as explanations show it."""
        return f"{KIND_LABELS.get(self.kind, self.kind)} '{self.name}'"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)

    def set_api_key(self, plain: str | None) -> None:
        """Store `plain` encrypted (empty or None removes the key); save the row to keep it."""
        self.api_key_encrypted = crypto.encrypt(plain) if plain else ""

    def api_key(self) -> str:
        """The decrypted key ("" when none); CredentialsUnreadable when the key changed."""
        return crypto.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""

    def serves(self, capability: str) -> bool:
        return capability in (self.capabilities or [])

    def clean(self) -> None:
        from modules.composition.stages import registry

        if self.name == BUILT_IN:
            raise ValidationError({"name": f"{BUILT_IN!r} names the offline engines; choose another name"})
        capabilities = self.capabilities if isinstance(self.capabilities, list) else None
        if capabilities is None or not all(isinstance(c, str) for c in capabilities):
            raise ValidationError({"capabilities": "a list of stage names"})
        stages = list(registry())
        unknown = [c for c in capabilities if c not in stages]
        if unknown:
            raise ValidationError(
                {"capabilities": f"unknown stage {unknown[0]!r}; stages: {', '.join(stages)}"}
            )
        supported = KIND_CAPABILITIES.get(self.kind, ())
        unsupported = [c for c in capabilities if c not in supported]
        if unsupported:
            raise ValidationError(
                {
                    "capabilities": f"a {KIND_LABELS.get(self.kind, self.kind)} provider cannot serve "
                    f"{unsupported[0]!r}; it can serve: {', '.join(supported) or 'nothing yet'}"
                }
            )
        self.capabilities = [s for s in stages if s in capabilities]  # pipeline order, no repeats


class CallOutcome(models.TextChoices):
    OK = "ok", "answered with a valid result"
    REJECTED = "rejected", "valid, but refused by the content check"
    TIMEOUT = "timeout", "no answer in time"
    UNREACHABLE = "unreachable", "could not connect"
    HTTP_ERROR = "http_error", "answered with an HTTP error"
    INVALID = "invalid", "answered something unusable"
    CREDENTIALS = "credentials", "its API key could not be decrypted"


# Outcomes that count as the provider working: a content-check refusal is about the words asked
# for, not about the provider, and is not held against its health.
HEALTHY_OUTCOMES = frozenset({CallOutcome.OK, CallOutcome.REJECTED})


class ProviderCall(models.Model):
    """One attempt at a provider: the log the admin shows, and what health is computed from."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="calls")
    stage = models.CharField(max_length=32)
    composition = models.ForeignKey(
        "composition.Composition",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider_calls",
    )
    attempt = models.PositiveSmallIntegerField(help_text="1 for the first try of a request")
    seed = models.BigIntegerField(null=True, blank=True, help_text="The seed sent with the request")
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    ok = models.BooleanField(help_text="Counts as a success for health")
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["provider", "-id"], name="provider_call_latest")]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.stage} attempt {self.attempt}: {self.outcome}"


class ProviderPreference(models.Model):
    """A user's preferred provider for one capability; no provider means the built-in engine."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_preferences"
    )
    capability = models.CharField(max_length=32)
    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="preferred_by",
        help_text="Empty: the built-in engine",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "capability"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "capability"], name="one_provider_preference_per_capability"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.capability}: {self.provider_name}"

    @property
    def provider_name(self) -> str:
        return self.provider.name if self.provider_id and self.provider else BUILT_IN
