"""`python manage.py sweep`: resume or fail compositions stuck with no live worker."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from modules.composition.services import compositions_sweep_stuck


class Command(BaseCommand):
    help = "Resume (or fail, after CODA_MAX_RESUMES) compositions silent for CODA_STUCK_AFTER_SECONDS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(compositions_sweep_stuck()))
