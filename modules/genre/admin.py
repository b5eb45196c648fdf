from django.contrib import admin

from .models import GenreBlend


class GenreBlendInline(admin.StackedInline):
    model = GenreBlend
    extra = 0


ELEMENT_INLINES = [GenreBlendInline]


@admin.register(GenreBlend)
class GenreBlendAdmin(admin.ModelAdmin):
    list_display = ("composition", "primary", "tempo", "loudness_target", "source")
    list_filter = ("primary",)
    search_fields = ("primary", "composition__prompt")
