from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "modules.providers"
    label = "providers"
    verbose_name = "Providers"
