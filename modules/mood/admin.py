from django.contrib import admin

from .models import CustomMood, Mood, Playlist, PlaylistEntry


class MoodInline(admin.StackedInline):
    model = Mood
    extra = 0


ELEMENT_INLINES = [MoodInline]


@admin.register(Mood)
class MoodAdmin(admin.ModelAdmin):
    list_display = ("composition", "name", "valence", "energy", "source", "custom")
    list_filter = ("name", "source", "custom")
    search_fields = ("name", "composition__prompt")


@admin.register(CustomMood)
class CustomMoodAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "valence", "energy", "updated_at")
    search_fields = ("name", "key", "description", "owner__username")
    readonly_fields = ("key", "created_at", "updated_at")
    raw_id_fields = ("owner",)


class PlaylistEntryInline(admin.TabularInline):
    model = PlaylistEntry
    extra = 0
    fields = ("position", "composition", "added_at")
    readonly_fields = ("added_at",)
    raw_id_fields = ("composition",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "mood", "created_at")
    search_fields = ("name", "mood", "owner__username")
    raw_id_fields = ("owner",)
    inlines = [PlaylistEntryInline]
