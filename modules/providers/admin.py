"""The registry in the admin: providers with a write-only API key, their call log and health, and
users' preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from modules.composition.stages import registry

from .models import KIND_CAPABILITIES, Provider, ProviderCall, ProviderPreference
from .selectors import health_of


class ProviderForm(forms.ModelForm):
    capabilities = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The stages it may serve. Today an OpenAI-compatible provider can serve: "
        + ", ".join(KIND_CAPABILITIES["openai_compatible"]),
    )
    endpoint = forms.URLField(
        max_length=500,
        assume_scheme="http",  # local model servers mostly speak plain http
        help_text=Provider._meta.get_field("endpoint").help_text,
    )
    # Write-only: never rendered back, not even as dots; blank keeps the stored key.
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        label="API key",
        help_text="Sent as 'Authorization: Bearer <key>'; stored encrypted and never shown. "
        "Leave blank to keep the current key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored API key")

    class Meta:
        model = Provider
        fields = ("name", "kind", "capabilities", "endpoint", "model", "priority", "enabled")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["capabilities"].choices = [(name, name) for name in registry()]
        if self.instance.pk:
            self.fields["api_key"].help_text += (
                " A key is stored." if self.instance.has_api_key else " No key is stored."
            )

    def save(self, commit: bool = True) -> Provider:
        provider: Provider = super().save(commit=False)
        if self.cleaned_data.get("clear_api_key"):
            provider.set_api_key(None)
        elif self.cleaned_data.get("api_key"):
            provider.set_api_key(self.cleaned_data["api_key"])
        if commit:
            provider.save()
        return provider


class ProviderCallInline(admin.TabularInline):
    model = ProviderCall
    extra = 0
    max_num = 0
    fields = (
        "created_at",
        "stage",
        "composition",
        "attempt",
        "outcome",
        "duration_ms",
        "status_code",
        "error",
    )
    readonly_fields = fields
    can_delete = False
    ordering = ("-id",)
    verbose_name_plural = "calls (newest first)"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("composition")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ("name", "kind", "capability_list", "priority", "enabled", "health")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "endpoint", "model")
    fields = (
        "name",
        "kind",
        "capabilities",
        "endpoint",
        "model",
        "api_key",
        "clear_api_key",
        "priority",
        "enabled",
        "health",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("health", "created_at", "updated_at")
    inlines = [ProviderCallInline]

    @admin.display(description="capabilities")
    def capability_list(self, obj: Provider) -> str:
        return ", ".join(obj.capabilities)

    @admin.display(description="health")
    def health(self, obj: Provider) -> str:
        if obj.pk is None:
            return "-"
        health = health_of([obj.pk])[obj.pk]
        detail = f"{health.status}: {health.summary()}"
        if not health.healthy or health.status == "PROBATION":
            detail += f"; {health.trouble()}"
        return detail


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "provider",
        "stage",
        "composition",
        "attempt",
        "outcome",
        "duration_ms",
        "created_at",
    )
    list_filter = ("outcome", "stage", "provider")
    search_fields = ("=composition__id", "error")
    readonly_fields = (
        "provider",
        "stage",
        "composition",
        "attempt",
        "seed",
        "outcome",
        "ok",
        "duration_ms",
        "status_code",
        "error",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProviderPreference)
class ProviderPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "capability", "provider", "updated_at")
    list_filter = ("capability",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
