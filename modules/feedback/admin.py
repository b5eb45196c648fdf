from django.contrib import admin

from .models import Feedback, PreferenceProfile


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "composition", "element", "element_key", "kind", "rating", "created_at")
    list_filter = ("kind", "element", "created_at")
    search_fields = ("text", "user__username", "=composition__id", "=id")
    fields = (
        "user",
        "composition",
        "element",
        "element_key",
        "kind",
        "rating",
        "text",
        "context",
        "attributes",
        "created_at",
    )
    readonly_fields = fields  # what a user said is theirs: read, never rewritten here
    raw_id_fields = ("user", "composition")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(PreferenceProfile)
class PreferenceProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "updated_at", "reset_at")
    search_fields = ("user__username",)
    fields = ("user", "profile", "reset_at", "updated_at")
    readonly_fields = fields  # rebuilt from feedback; reset through resetPreferences
