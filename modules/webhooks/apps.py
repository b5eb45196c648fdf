from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "modules.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from subscriptions.signals import event_published

        # Registers the Celery task in every process, workers included (backend.celery only
        # autodiscovers the composition module's tasks).
        from . import tasks  # noqa: F401
        from .receivers import on_event_published

        event_published.connect(on_event_published, dispatch_uid="webhooks.on_event_published")
