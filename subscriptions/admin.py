from django.contrib import admin

from .models import ProgressEvent


@admin.register(ProgressEvent)
class ProgressEventAdmin(admin.ModelAdmin):
    list_display = ("composition", "seq", "stage", "status", "progress", "message", "created_at")
    list_filter = ("status", "stage")
    search_fields = ("message", "composition__prompt")
