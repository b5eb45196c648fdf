"""Endpoints an integrator registered, the deliveries owed to them, and every attempt made."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    COMPOSITION_SUCCEEDED = "COMPOSITION_SUCCEEDED"
    COMPOSITION_FAILED = "COMPOSITION_FAILED"
    COMPOSITION_CANCELLED = "COMPOSITION_CANCELLED"
    STAGE_SUCCEEDED = "STAGE_SUCCEEDED"
    STAGE_FAILED = "STAGE_FAILED"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="EventType values this endpoint receives")
    # Kept in clear: every delivery is signed with it. Shown to the owner only on create and rotate.
    secret = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    def clean(self) -> None:
        """The admin form goes through the same URL check as the API."""
        from django.core.exceptions import ValidationError

        from .urls_safety import UnsafeURL, check_url

        try:
            check_url(self.url)
        except UnsafeURL as error:
            raise ValidationError({"url": str(error)}) from None


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    composition = models.ForeignKey(
        "composition.Composition", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    seq = models.PositiveIntegerField(help_text="Sequence number of the event in its composition")
    payload = models.JSONField(default=dict, help_text="The progress event as published")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts made, all cycles")
    cycle_start = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts made before the current cycle (a redelivery starts a new one)"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One delivery per endpoint and event: a duplicated event or task never sends twice.
            models.UniqueConstraint(
                fields=["endpoint", "composition", "seq"], name="unique_webhook_delivery_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} → endpoint {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    response_body = models.CharField(
        max_length=500, blank=True, default="", help_text="First 500 characters of the response"
    )

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="unique_webhook_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error[:40]}"
