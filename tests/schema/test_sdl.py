"""schema.graphql at the repository root is the exported SDL of the live schema, and the live
schema keeps every contract of the latest release in schema/releases/."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command
from strawberry.printer import print_schema

from schema import schema
from schema.changes import released_versions, schema_changes, sdl_schema

SDL_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_live_schema() -> None:
    live = print_schema(schema).strip()
    committed = SDL_FILE.read_text().strip()
    assert committed == live, "schema.graphql is stale: run `make schema` and commit it"


def test_composition_exposes_every_module_field() -> None:
    sdl = print_schema(schema)
    block = sdl[sdl.index("type Composition implements Node") :]
    block = block[: block.index("}")]
    for field in (
        "mood:",
        "genre:",
        "sections:",
        "layers:",
        "lyrics:",
        "voice:",
        "master:",
        "stages:",
        "artifacts:",
    ):
        assert field in block, field


def test_nothing_released_was_removed_or_changed() -> None:
    """A field is deprecated, never removed: the live schema keeps every released contract."""
    latest = released_versions()[-1]
    changes = schema_changes(sdl_schema(latest.read_text()), schema._schema)
    assert changes.breaking == [], f"breaking changes against {latest.name}"


def test_the_check_names_a_removed_field_and_a_changed_type() -> None:
    released = sdl_schema(
        released_versions()[-1]
        .read_text()
        .replace("type Composition implements Node {", "type Composition implements Node {\n  legacy: String")
        .replace("  seed: Int!", "  seed: String!", 1)
    )
    breaking = schema_changes(released, schema._schema).breaking
    assert breaking == [
        "FIELD_REMOVED: Field Composition.legacy was removed.",
        "FIELD_CHANGED_KIND: Field Composition.seed changed type from String! to Int!.",
    ]


def test_schema_changes_command_reports_against_the_latest_release() -> None:
    out = StringIO()
    call_command("schema_changes", stdout=out)
    assert out.getvalue().startswith(f"against {released_versions()[-1].name}:")
    assert "no breaking change" in out.getvalue()
