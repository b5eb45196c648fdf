"""The Celery app; its settings are the CELERY_* names in backend.settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("coda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["modules.composition"])
