from django.contrib import admin

from .models import Master


class MasterInline(admin.StackedInline):
    model = Master
    extra = 0


ELEMENT_INLINES = [MasterInline]


@admin.register(Master)
class MasterAdmin(admin.ModelAdmin):
    list_display = ("composition", "integrated_lufs", "target_lufs", "true_peak_dbtp", "duration_seconds")
    search_fields = ("composition__prompt",)
