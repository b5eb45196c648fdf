from django.conf import settings
from django.db import models

from modules.composition.models import Composition


class Mood(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="mood")
    name = models.CharField(max_length=40)
    valence = models.FloatField(help_text="-1 sad/dark .. 1 happy/bright")
    energy = models.FloatField(help_text="0 calm .. 1 intense")
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16)
    custom = models.BooleanField(default=False, help_text="One of the owner's custom moods")

    def __str__(self) -> str:
        return self.name


class CustomMood(models.Model):
    """A user's own mood: a name to use in the `mood` input and in prompts, with its point on the
    valence/energy plane and the words that call it up."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="custom_moods")
    name = models.CharField(max_length=40)
    key = models.CharField(max_length=60, help_text="The name as prompts are read: lower case, one space")
    valence = models.FloatField(help_text="-1 sad/dark .. 1 happy/bright")
    energy = models.FloatField(help_text="0 calm .. 1 intense")
    words = models.JSONField(
        default=list, blank=True, help_text="words and short phrases that mean this mood"
    )
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="unique_custom_mood_name_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name


class Playlist(models.Model):
    """A user's own list of compositions in an order of their choosing; made empty, from a list of
    compositions, or from a mood (its mood playlist as it was then)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=80)
    mood = models.CharField(max_length=40, blank=True, default="", help_text="The mood it was made from")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PlaylistEntry(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(help_text="0 is first")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "composition"], name="unique_playlist_composition")
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}: {self.composition_id}"
