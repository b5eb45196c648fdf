"""Print a new CODA_PROVIDER_KEY, or re-encrypt the stored API keys under the newest key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from modules.providers.crypto import generate_key
from modules.providers.services import providers_reencrypt


class Command(BaseCommand):
    help = (
        "Print a fresh Fernet key for CODA_PROVIDER_KEY. To rotate: set CODA_PROVIDER_KEY=<new>,<old>, "
        "run this with --reencrypt, then drop the old key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reencrypt",
            action="store_true",
            help="Re-encrypt every stored API key under the first key of CODA_PROVIDER_KEY.",
        )

    def handle(self, *args: Any, reencrypt: bool = False, **options: Any) -> None:
        if reencrypt:
            count = providers_reencrypt()
            self.stdout.write(f"re-encrypted {count} API key{'s' if count != 1 else ''}")
            return
        self.stdout.write(generate_key())
