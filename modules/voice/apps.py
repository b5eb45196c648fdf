from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "modules.voice"
    label = "voice"
