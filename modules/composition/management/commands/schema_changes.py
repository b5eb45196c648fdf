"""`manage.py schema_changes [--against FILE]`: the live schema against the latest released one
(schema/releases/), breaking changes first; exits 1 if there is any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "List breaking and dangerous changes of the live schema against a released schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--against", type=Path, help="a released SDL file (default: the latest release)")

    def handle(self, *args: Any, against: Path | None, **options: Any) -> None:
        from schema import schema
        from schema.changes import released_versions, schema_changes, sdl_schema

        released = against or released_versions()[-1]
        changes = schema_changes(sdl_schema(released.read_text()), schema._schema)
        self.stdout.write(f"against {released.name}:")
        for line in changes.breaking:
            self.stdout.write(f"  BREAKING  {line}")
        for line in changes.dangerous:
            self.stdout.write(f"  dangerous {line}")
        if changes.breaking:
            raise CommandError(f"{len(changes.breaking)} breaking change(s): deprecate instead of removing")
        self.stdout.write(f"  no breaking change ({len(changes.dangerous)} dangerous)")
