from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_body")
    readonly_fields = fields
    can_delete = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "url", "active", "created_at")
    list_filter = ("active", "created_at")
    search_fields = ("url", "description", "owner__username", "=id")
    # The secret stays out of the admin: owners see it once, through the API.
    fields = ("owner", "url", "events", "description", "active", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("owner",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "composition", "event_type", "seq", "status", "attempts", "created_at")
    list_filter = ("status", "event_type", "created_at")
    search_fields = ("endpoint__url", "=composition__id", "=id")
    fields = (
        "endpoint",
        "composition",
        "event_type",
        "seq",
        "payload",
        "status",
        "attempts",
        "cycle_start",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields  # a log: changed only by attempts and redelivery
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
