from django.apps import AppConfig


class CompositionConfig(AppConfig):
    name = "modules.composition"
    label = "composition"
    verbose_name = "Compositions"
