"""What changed between a released schema and the live one, by graphql-core's own comparison
(`find_breaking_changes`, `find_dangerous_changes`).

Released schemas are kept in schema/releases/<version>.graphql; a field is deprecated, never removed,
so the check against the latest release must find no breaking change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

RELEASES = Path(__file__).parent / "releases"


@dataclass(frozen=True)
class SchemaChanges:
    breaking: list[str]
    dangerous: list[str]


def released_versions() -> list[Path]:
    """The released schemas, oldest first (by version number)."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.stem.split("."))

    return sorted(RELEASES.glob("*.graphql"), key=version)


def sdl_schema(sdl: str) -> GraphQLSchema:
    # assume_valid_sdl: a subgraph's SDL uses federation's directives without defining them.
    return build_schema(sdl, assume_valid_sdl=True)


def schema_changes(released: GraphQLSchema, live: GraphQLSchema) -> SchemaChanges:
    return SchemaChanges(
        breaking=[f"{c.type.name}: {c.description}" for c in find_breaking_changes(released, live)],
        dangerous=[f"{c.type.name}: {c.description}" for c in find_dangerous_changes(released, live)],
    )
