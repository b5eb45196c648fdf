from django.contrib import admin

from .models import LyricLine, Lyrics, LyricsDraft, LyricsLineEdit


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


class LyricsLineEditInline(admin.TabularInline):
    model = LyricsLineEdit
    extra = 0
    fields = ("line_index", "section_name", "before", "after", "fit", "editor", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(LyricsDraft)
class LyricsDraftAdmin(admin.ModelAdmin):
    list_display = ("composition", "number", "origin", "title", "created_by", "created_at", "finalized_at")
    list_filter = ("origin", "created_at")
    search_fields = ("title", "text", "composition__prompt", "created_by__username")
    raw_id_fields = ("composition", "created_by", "finalized_by")
    inlines = [LyricsLineEditInline]


@admin.register(LyricsLineEdit)
class LyricsLineEditAdmin(admin.ModelAdmin):
    list_display = (
        "composition",
        "line_index",
        "section_name",
        "before",
        "after",
        "fit",
        "editor",
        "created_at",
    )
    list_filter = ("fit", "section_name", "created_at")
    search_fields = ("before", "after", "composition__prompt", "editor__username")
    raw_id_fields = ("composition", "draft", "version", "editor")
