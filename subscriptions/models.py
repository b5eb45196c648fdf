"""The event log: the source of truth for progress, replayed on subscribe."""

from django.db import models

from modules.composition.models import Composition


class ProgressEvent(models.Model):
    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    stage = models.CharField(
        max_length=32, blank=True, default="", help_text="empty for the composition itself"
    )
    status = models.CharField(max_length=16)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["composition", "seq"]
        constraints = [models.UniqueConstraint(fields=["composition", "seq"], name="unique_event_seq")]

    def __str__(self) -> str:
        return f"{self.composition_id}#{self.seq} {self.stage or 'composition'} {self.status}"
