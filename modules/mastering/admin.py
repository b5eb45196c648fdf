from django.contrib import admin

from .models import Master, MasteringPreset, MasteringReference


class MasterInline(admin.StackedInline):
    model = Master
    extra = 0


ELEMENT_INLINES = [MasterInline]


@admin.register(Master)
class MasterAdmin(admin.ModelAdmin):
    list_display = (
        "composition",
        "preset",
        "integrated_lufs",
        "target_lufs",
        "true_peak_dbtp",
        "duration_seconds",
    )
    search_fields = ("composition__prompt",)


@admin.register(MasteringPreset)
class MasteringPresetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "target_lufs", "ceiling_dbtp", "eq_tilt_db_per_octave", "stereo_width")
    search_fields = ("name", "owner__username")


@admin.register(MasteringReference)
class MasteringReferenceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "format", "duration_seconds", "integrated_lufs", "created_at")
    search_fields = ("name", "owner__username", "sha256")
    readonly_fields = ("sha256", "band_levels")
