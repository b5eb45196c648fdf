from django.apps import AppConfig


class MasteringConfig(AppConfig):
    name = "modules.mastering"
    label = "mastering"
