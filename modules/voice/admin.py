from django.contrib import admin

from .models import VocalLine, VoiceProfile, VoiceProfileGrant, VoiceSample, VoiceUse


class VocalLineInline(admin.StackedInline):
    model = VocalLine
    extra = 0
    fields = (
        "voice",
        "source",
        "low",
        "high",
        "program",
        "voice_profile",
        "formant_shift",
        "syllables",
        "midi",
    )


ELEMENT_INLINES = [VocalLineInline]


@admin.register(VocalLine)
class VocalLineAdmin(admin.ModelAdmin):
    list_display = ("composition", "voice", "low", "high", "source", "formant_shift")
    list_filter = ("voice",)
    search_fields = ("voice", "composition__prompt")
    exclude = ("notes",)


@admin.register(VoiceUse)
class VoiceUseAdmin(admin.ModelAdmin):
    list_display = ("voice", "profile", "role", "composition_id_used", "user", "reused", "created_at")
    list_filter = ("voice", "role", "reused")
    search_fields = ("voice", "user__username", "profile__name")
    raw_id_fields = ("profile", "user")


class VoiceSampleInline(admin.TabularInline):
    """What was uploaded, never the recording itself: no file link, nothing to change."""

    model = VoiceSample
    extra = 0
    can_delete = False
    fields = ("name", "format", "size_bytes", "sample_rate", "duration_seconds", "sha256", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


class VoiceProfileGrantInline(admin.TabularInline):
    model = VoiceProfileGrant
    extra = 0
    fields = ("user", "created_at", "revoked_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


@admin.register(VoiceProfile)
class VoiceProfileAdmin(admin.ModelAdmin):
    """Profiles with their consent record; the measurements and the consent are read-only (they are
    what was measured and agreed to at upload)."""

    list_display = ("name", "owner", "median_pitch_hz", "consent_basis", "consent_version", "created_at")
    list_filter = ("consent_basis", "consent_version")
    search_fields = ("name", "owner__username", "consent_speaker_name")
    raw_id_fields = ("owner",)
    inlines = [VoiceSampleInline, VoiceProfileGrantInline]
    readonly_fields = (
        "median_pitch_hz",
        "pitch_low_hz",
        "pitch_high_hz",
        "f1_hz",
        "f2_hz",
        "f3_hz",
        "spectral_centroid_hz",
        "voiced_ratio",
        "sample_seconds",
        "voiced_seconds",
        "analysis_version",
        "consent_version",
        "consent_statement",
        "consent_basis",
        "consent_speaker_name",
        "consent_given_at",
        "created_at",
    )
