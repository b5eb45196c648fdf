from django.conf import settings
from django.db import models

from modules.composition.models import Composition, Version


class Lyrics(models.Model):
    composition = models.OneToOneField(Composition, on_delete=models.CASCADE, related_name="lyrics")
    title = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(max_length=16, help_text="generated or user")
    provider = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Who wrote generated lyrics: a provider, or 'built-in'; empty for the user's own",
    )
    text = models.TextField(blank=True, default="")

    class Meta:
        verbose_name_plural = "lyrics"

    def __str__(self) -> str:
        return self.title or f"lyrics of {self.composition_id}"


class LyricLine(models.Model):
    lyrics = models.ForeignKey(Lyrics, on_delete=models.CASCADE, related_name="lines")
    index = models.PositiveSmallIntegerField()
    section_index = models.PositiveSmallIntegerField()
    section_name = models.CharField(max_length=32)
    text = models.CharField(max_length=300)
    written = models.CharField(
        max_length=300, blank=True, default="", help_text="The words the lyrics stage wrote, before any edit"
    )
    rhyme = models.CharField(max_length=4, blank=True, default="")
    syllables = models.JSONField(default=list, help_text="[{text, start, duration, stress, word_end}]")

    class Meta:
        ordering = ["lyrics", "index"]

    def __str__(self) -> str:
        return self.text


class DraftOrigin(models.TextChoices):
    GENERATED = "generated", "written by the lyrics stage"
    USER = "user", "the user's own lyrics, fitted by the lyrics stage"
    EDIT = "edit", "a line edit"
    REOPENED = "reopened", "final lyrics opened again for editing"


class LyricsDraft(models.Model):
    """One text the lyrics had. Draft 1 is what the lyrics stage wrote; each line edit makes the
    next. The newest draft is the current one; a draft marked final locks line edits until the
    lyrics are reopened (a new draft with the same words)."""

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="lyrics_drafts")
    number = models.PositiveIntegerField()
    origin = models.CharField(max_length=16, choices=DraftOrigin.choices)
    title = models.CharField(max_length=200, blank=True, default="")
    text = models.TextField(blank=True, default="")
    lines = models.JSONField(default=list, help_text="the text of each line, in order")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["composition", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["composition", "number"], name="unique_lyrics_draft_number")
        ]

    def __str__(self) -> str:
        return f"draft {self.number} of {self.composition_id}"

    @property
    def final(self) -> bool:
        return self.finalized_at is not None


class LyricsLineEdit(models.Model):
    """Who changed which line, when, from what to what, and how the words were fitted to the notes."""

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="lyrics_edits")
    draft = models.ForeignKey(LyricsDraft, on_delete=models.CASCADE, related_name="edits")
    version = models.ForeignKey(
        Version,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="What the composition was before the edit",
    )
    line_index = models.PositiveSmallIntegerField()
    section_index = models.PositiveSmallIntegerField()
    section_name = models.CharField(max_length=32)
    before = models.CharField(max_length=300)
    after = models.CharField(max_length=300)
    syllables_before = models.PositiveSmallIntegerField()
    syllables_after = models.PositiveSmallIntegerField()
    fit = models.CharField(max_length=8, help_text="same, merged or split: what happened to the notes")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["composition", "-draft_id", "line_index"]  # newest edit first, its lines in order

    def __str__(self) -> str:
        return f"line {self.line_index}: {self.before!r} -> {self.after!r}"
