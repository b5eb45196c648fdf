from django.db import models

from modules.composition.models import Composition


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
    rhyme = models.CharField(max_length=4, blank=True, default="")
    syllables = models.JSONField(default=list, help_text="[{text, start, duration, stress, word_end}]")

    class Meta:
        ordering = ["lyrics", "index"]

    def __str__(self) -> str:
        return self.text
