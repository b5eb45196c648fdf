from django.contrib import admin

from .models import Artifact, Composition, StageRun


class StageRunInline(admin.TabularInline):
    model = StageRun
    extra = 0
    fields = ("position", "name", "status", "progress", "attempts", "started_at", "finished_at", "error")
    readonly_fields = fields
    can_delete = False


class ArtifactInline(admin.TabularInline):
    model = Artifact
    extra = 0
    fields = ("name", "kind", "stage", "mime_type", "size_bytes", "duration_seconds", "file")
    readonly_fields = fields
    can_delete = False


def element_inlines() -> list[type[admin.options.InlineModelAdmin]]:
    """Each module's `admin.ELEMENT_INLINES`, so a composition shows every element."""
    import importlib

    from django.conf import settings

    inlines: list[type[admin.options.InlineModelAdmin]] = []
    for module in settings.CODA_STAGES:
        try:
            inlines.extend(getattr(importlib.import_module(f"{module}.admin"), "ELEMENT_INLINES", []))
        except ModuleNotFoundError:
            continue
    return inlines


@admin.register(Composition)
class CompositionAdmin(admin.ModelAdmin):
    list_display = ("id", "prompt", "status", "seed", "duration_seconds", "owner", "created_at")
    list_filter = ("status", "instrumental", "created_at")
    search_fields = ("prompt", "=id", "owner__username")
    readonly_fields = ("created_at", "updated_at", "finished_at", "last_seq")
    inlines = [StageRunInline, ArtifactInline]

    def get_inlines(self, request, obj):  # type: ignore[no-untyped-def]
        return [*self.inlines, *element_inlines()]


@admin.register(StageRun)
class StageRunAdmin(admin.ModelAdmin):
    list_display = ("composition", "name", "status", "progress", "attempts", "finished_at")
    list_filter = ("name", "status")
    search_fields = ("composition__prompt", "name", "error")


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("composition", "name", "kind", "mime_type", "size_bytes")
    list_filter = ("kind", "stage")
    search_fields = ("name", "composition__prompt")
