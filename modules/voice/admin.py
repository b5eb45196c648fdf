from django.contrib import admin

from .models import VocalLine, VoiceUse


class VocalLineInline(admin.StackedInline):
    model = VocalLine
    extra = 0
    fields = ("voice", "source", "low", "high", "program", "syllables", "midi")


ELEMENT_INLINES = [VocalLineInline]


@admin.register(VocalLine)
class VocalLineAdmin(admin.ModelAdmin):
    list_display = ("composition", "voice", "low", "high", "source")
    list_filter = ("voice",)
    search_fields = ("voice", "composition__prompt")
    exclude = ("notes",)


@admin.register(VoiceUse)
class VoiceUseAdmin(admin.ModelAdmin):
    list_display = ("voice", "role", "composition_id_used", "user", "reused", "created_at")
    list_filter = ("voice", "role", "reused")
    search_fields = ("voice", "user__username")
