"""schema.graphql at the repository root is the exported SDL of the live schema."""

from pathlib import Path

from strawberry.printer import print_schema

from schema import schema

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
