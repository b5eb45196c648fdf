from django.apps import AppConfig


class GenreConfig(AppConfig):
    name = "modules.genre"
    label = "genre"
