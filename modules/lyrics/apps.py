from django.apps import AppConfig


class LyricsConfig(AppConfig):
    name = "modules.lyrics"
    label = "lyrics"
