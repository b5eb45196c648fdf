from django.contrib import admin

from .models import VocalLine


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
