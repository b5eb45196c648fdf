"""The core: a Composition owns every element; StageRun and Artifact track its making."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Status(models.TextChoices):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}


class StageStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"


class Visibility(models.TextChoices):
    PRIVATE = "PRIVATE"  # the owner and the users it is shared with
    PUBLIC = "PUBLIC"  # anyone may read it; only the owner may change it


class Composition(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="compositions"
    )
    anonymous_session = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_index=True,
        help_text="SHA-256 of the session that made it, for a composition without an owner",
    )
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE)
    prompt = models.TextField()
    seed = models.BigIntegerField()
    duration_seconds = models.PositiveIntegerField(default=60)
    instrumental = models.BooleanField(default=False)
    inputs = models.JSONField(default=dict, blank=True, help_text="Explicit inputs of createComposition")
    context = models.JSONField(default=dict, blank=True, help_text="The shared CompositionContext")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True, default="")
    last_seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the latest event")
    task_ids = models.JSONField(default=list, blank=True, help_text="Celery task ids of the running pipeline")
    resumes = models.PositiveSmallIntegerField(
        default=0, help_text="Times the stuck-pipeline sweep resumed it"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.prompt[:60]}"

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class StageRun(models.Model):
    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=32)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=StageStatus.choices, default=StageStatus.PENDING)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    seed = models.BigIntegerField(null=True, blank=True, help_text="The stage's own seed")
    input_hash = models.CharField(
        max_length=64, blank=True, default="", db_index=True, help_text="Hash of exactly what the stage read"
    )
    output = models.JSONField(default=dict, blank=True, help_text="What the stage added to the context")
    reused = models.BooleanField(default=False, help_text="Result reused, not recomputed")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of a running stage"
    )

    class Meta:
        ordering = ["composition", "position"]
        constraints = [
            models.UniqueConstraint(fields=["composition", "name"], name="unique_stage_per_composition")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


def artifact_path(instance: Artifact, filename: str) -> str:
    return f"compositions/{instance.composition_id}/{filename}"


class Artifact(models.Model):
    """A file a stage wrote through Django's storage API."""

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="artifacts")
    stage = models.CharField(max_length=32)
    kind = models.CharField(max_length=32, help_text="midi, audio, ...")
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to=artifact_path, max_length=300)
    mime_type = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    current = models.BooleanField(
        default=True, help_text="False once replaced; kept for the versions that list it"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["composition", "stage", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["composition", "name"],
                condition=models.Q(current=True),
                name="unique_current_artifact_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Version(models.Model):
    """What a composition was before a regeneration or an edit: its context, elements and files."""

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    context = models.JSONField(default=dict)
    elements = models.JSONField(default=dict, help_text="stage -> its element as it was")
    stages = models.JSONField(
        default=dict,
        blank=True,
        help_text="stage -> its run as it was (status, input hash, output, seed), so a restore "
        "leaves every stage addressed by what it really holds",
    )
    artifacts = models.ManyToManyField(Artifact, related_name="versions", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["composition", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["composition", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"v{self.number}: {self.reason}"


class CompositionShare(models.Model):
    """Read access the owner granted to another user."""

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_compositions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["composition", "user"], name="unique_share_per_user")]

    def __str__(self) -> str:
        return f"{self.composition_id} shared with {self.user_id}"
