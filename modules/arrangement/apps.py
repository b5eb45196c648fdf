from django.apps import AppConfig


class ArrangementConfig(AppConfig):
    name = "modules.arrangement"
    label = "arrangement"
