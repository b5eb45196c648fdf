from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "modules.moderation"
    label = "moderation"
    verbose_name = "Moderation"
