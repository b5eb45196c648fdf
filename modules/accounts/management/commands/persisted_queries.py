"""`manage.py persisted_queries FILE.graphql... --output persisted-queries.json`: the safelist.

Writes an Apollo persisted-query manifest (schema/security/persisted.py) of the given documents,
each validated against the live schema first, for CODA_PERSISTED_QUERIES=safelist. Lives here
because `schema` is not an installed app; it is the limits' tool, not the accounts'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from graphql import GraphQLError, parse, validate


class Command(BaseCommand):
    help = "Write the safelist (an Apollo persisted-query manifest) of GraphQL documents."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("documents", nargs="+", help="files with one GraphQL document each")
        parser.add_argument("--output", default="persisted-queries.json", help="the manifest to write")

    def handle(self, *args: Any, documents: list[str], output: str, **options: Any) -> None:
        from schema import schema
        from schema.security.persisted import build_manifest

        bodies = []
        for name in documents:
            body = Path(name).read_text()
            try:
                errors = validate(schema._schema, parse(body))
            except GraphQLError as error:
                raise CommandError(f"{name}: {error.message}") from None
            if errors:
                raise CommandError(f"{name}: {errors[0].message}")
            bodies.append(body)
        manifest = build_manifest(bodies)
        Path(output).write_text(json.dumps(manifest, indent=2) + "\n")
        self.stdout.write(f"{len(manifest['operations'])} operations written to {output}")
