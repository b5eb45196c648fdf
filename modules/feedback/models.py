"""Feedback on a composition or any element of it, and each user's preference profile."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from modules.composition.models import Composition


class FeedbackKind(models.TextChoices):
    LIKE = "LIKE"
    DISLIKE = "DISLIKE"
    TWEAK = "TWEAK"  # "close, but change something": its rating (if any) says which way
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"


class FeedbackElement(models.TextChoices):
    COMPOSITION = "COMPOSITION"
    MOOD = "MOOD"
    GENRE = "GENRE"
    LAYER = "LAYER"  # element_key: the layer's name
    LYRICS = "LYRICS"
    VOICE = "VOICE"
    MASTER = "MASTER"
    VERSION = "VERSION"  # element_key: the version's number


class Feedback(models.Model):
    """One user's word on one element of one composition: one model whatever the element."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    composition = models.ForeignKey(
        Composition,
        null=True,
        on_delete=models.SET_NULL,  # the profile keeps what it learnt when a composition goes
        related_name="feedback",
    )
    element = models.CharField(max_length=16, choices=FeedbackElement.choices)
    element_key = models.CharField(
        max_length=64, blank=True, default="", help_text="The layer's name or the version's number"
    )
    kind = models.CharField(max_length=8, choices=FeedbackKind.choices)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True, default="")
    context = models.JSONField(default=dict, blank=True, help_text="What the client says about the moment")
    attributes = models.JSONField(
        default=dict, blank=True, help_text="The element's musical attributes when the feedback was given"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="feedback_user_time"),
            models.Index(fields=["composition", "user"], name="feedback_composition_user"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="feedback_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        key = f" {self.element_key}" if self.element_key else ""
        return f"{self.kind} {self.element}{key} on #{self.composition_id} by {self.user_id}"


class PreferenceProfile(models.Model):
    """What a user's feedback adds up to (modules.feedback.engine.Profile), kept between feedback."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference_profile"
    )
    profile = models.JSONField(default=dict, blank=True, help_text="engine.Profile as JSON")
    reset_at = models.DateTimeField(
        null=True, blank=True, help_text="Feedback before this no longer counts (resetPreferences)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
