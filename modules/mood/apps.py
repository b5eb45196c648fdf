from django.apps import AppConfig


class MoodConfig(AppConfig):
    name = "modules.mood"
    label = "mood"
