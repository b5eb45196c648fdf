from django.contrib import admin

from .models import GenreBlend, GenreReference


class GenreBlendInline(admin.StackedInline):
    model = GenreBlend
    extra = 0


ELEMENT_INLINES = [GenreBlendInline]


@admin.register(GenreBlend)
class GenreBlendAdmin(admin.ModelAdmin):
    list_display = ("composition", "primary", "tempo", "loudness_target", "source")
    list_filter = ("primary",)
    search_fields = ("primary", "composition__prompt")


@admin.register(GenreReference)
class GenreReferenceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "tempo", "key", "scale", "key_margin", "created_at")
    search_fields = ("name", "owner__username", "sha256")
    readonly_fields = ("sha256", "chroma")
