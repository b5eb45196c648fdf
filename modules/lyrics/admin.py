from django.contrib import admin

from .models import LyricLine, Lyrics


class LyricsInline(admin.StackedInline):
    model = Lyrics
    extra = 0
    fields = ("title", "source", "provider", "text")


ELEMENT_INLINES = [LyricsInline]


class LyricLineInline(admin.TabularInline):
    model = LyricLine
    extra = 0
    fields = ("index", "section_name", "text", "rhyme")


@admin.register(Lyrics)
class LyricsAdmin(admin.ModelAdmin):
    list_display = ("composition", "title", "source", "provider")
    list_filter = ("source", "provider")
    search_fields = ("title", "text", "composition__prompt")
    inlines = [LyricLineInline]


@admin.register(LyricLine)
class LyricLineAdmin(admin.ModelAdmin):
    list_display = ("lyrics", "index", "section_name", "text", "rhyme")
    search_fields = ("text",)
