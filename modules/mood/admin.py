from django.contrib import admin

from .models import Mood


class MoodInline(admin.StackedInline):
    model = Mood
    extra = 0


ELEMENT_INLINES = [MoodInline]


@admin.register(Mood)
class MoodAdmin(admin.ModelAdmin):
    list_display = ("composition", "name", "valence", "energy", "source")
    list_filter = ("name", "source")
    search_fields = ("name", "composition__prompt")
