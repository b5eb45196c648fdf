from django.contrib import admin

from .models import Layer, Section


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ("index", "name", "start_bar", "bars", "energy", "vocal", "chords")


class LayerInline(admin.TabularInline):
    model = Layer
    extra = 0
    fields = ("index", "name", "role", "program", "channel", "volume", "pan", "note_count", "midi")


ELEMENT_INLINES = [SectionInline, LayerInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ("composition", "index", "name", "bars", "energy", "vocal")
    list_filter = ("name",)
    search_fields = ("name", "composition__prompt")


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ("composition", "index", "name", "role", "program", "note_count")
    list_filter = ("role",)
    search_fields = ("name", "composition__prompt")
    exclude = ("notes",)
