from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ModerationFlag


@admin.register(ModerationFlag)
class ModerationFlagAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "rule",
        "action",
        "source",
        "field",
        "excerpt",
        "composition",
        "caller",
        "reviewed",
    )
    list_filter = ("rule", "reviewed", "source", "action", "field")
    search_fields = ("excerpt", "caller", "composition__prompt", "reviewer_note")
    date_hierarchy = "created_at"
    list_select_related = ("composition",)
    raw_id_fields = ("composition",)
    # What the check recorded is evidence: only the review itself is editable.
    readonly_fields = ("composition", "field", "rule", "excerpt", "source", "action", "caller", "created_at")
    fields = (*readonly_fields, "reviewed", "reviewer_note")
    actions = ("mark_reviewed",)

    @admin.action(description="Mark selected flags as reviewed")
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[ModerationFlag]) -> None:
        count = queryset.update(reviewed=True)
        self.message_user(request, f"{count} flag(s) marked as reviewed.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flags come from the content check, not from people
