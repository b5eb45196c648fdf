"""Every part of the public schema says what it is: a third-party integrator reads the SDL, not our code.

Walks the live graphql-core schema: every named type (object, interface, union, input, enum, custom
scalar), every field and its arguments, every input field and every enum value must carry a
description, and every deprecation must name what replaces it ("deprecations instead of removals").
What GraphQL itself defines (introspection `__*` types, the built-in scalars) and what Apollo
Federation adds (`_Service`, `_Entity`, `_Any`, `_service`, `_entities`, `link__*`, `federation__*`)
are not ours to describe and are left out. There is no allow-list: strawberry's own relay types
(Node, PageInfo, connections and edges, their arguments) and its DateTime scalar come described.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from typing import Annotated, NewType

import pytest
import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    specified_scalar_types,
)
from strawberry.schema.config import StrawberryConfig

from schema.schema import schema
from schema.subgraphs import subgraph_modules, subgraph_schema

BUILT_IN_SCALARS = frozenset(specified_scalar_types)
FEDERATION_PREFIXES = ("link__", "federation__")


def foreign(name: str) -> bool:
    """Defined by GraphQL itself or added by Apollo Federation, not by Coda."""
    return name.startswith("_") or name.startswith(FEDERATION_PREFIXES) or name in BUILT_IN_SCALARS


def described(thing: object) -> bool:
    return bool((getattr(thing, "description", None) or "").strip())


def our_types(graphql_schema: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    for name, named in sorted(graphql_schema.type_map.items()):
        if not foreign(name):
            yield named


def parts(graphql_schema: GraphQLSchema) -> Iterator[tuple[str, object]]:
    """(path, part) for every describable part of the schema Coda defines."""
    for named in our_types(graphql_schema):
        yield named.name, named
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            fields: dict[str, GraphQLField] = named.fields
            for field_name, field in fields.items():
                if foreign(field_name):
                    continue
                yield f"{named.name}.{field_name}", field
                arg: GraphQLArgument
                for arg_name, arg in field.args.items():
                    yield f"{named.name}.{field_name}({arg_name}:)", arg
        elif isinstance(named, GraphQLInputObjectType):
            input_field: GraphQLInputField
            for field_name, input_field in named.fields.items():
                yield f"{named.name}.{field_name}", input_field
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                yield f"{named.name}.{value_name}", value
        else:
            assert isinstance(named, GraphQLScalarType | GraphQLUnionType), named


def missing_descriptions(graphql_schema: GraphQLSchema) -> list[str]:
    return [path for path, part in parts(graphql_schema) if not described(part)]


def deprecations(graphql_schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for path, part in parts(graphql_schema):
        reason = getattr(part, "deprecation_reason", None)
        if reason is not None:
            yield path, reason


# A replacement is named in backquotes (`newField`, `Type.field`) or after "use"/"replaced by".
NAMES_REPLACEMENT = re.compile(
    r"`[A-Za-z_][\w.]*(\([\w:]*\))?`|\b(use|replaced by)\s+`?[A-Za-z_]\w*", re.IGNORECASE
)


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing = missing_descriptions(schema._schema)
    assert not missing, f"{len(missing)} parts of the schema have no description:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted(subgraph_modules()))
def test_every_module_subgraph_is_described_too(name: str) -> None:
    """What an operator composing the subgraphs sees (each has its own root types)."""
    missing = missing_descriptions(subgraph_schema(name)._schema)
    assert not missing, f"subgraph {name}: no description on\n" + "\n".join(missing)


def test_every_deprecation_names_its_replacement() -> None:
    vague = [
        f"{path}: {reason!r}"
        for path, reason in deprecations(schema._schema)
        if not names_replacement(reason)
    ]
    assert not vague, "a deprecation reason must name the replacement (`newField`, or 'Use newField'):\n" + (
        "\n".join(vague)
    )


def names_replacement(reason: str) -> bool:
    return NAMES_REPLACEMENT.search(reason) is not None


# The checks above, pointed at a small federated schema with one gap of every kind.


@strawberry.enum(description="A colour.")
class Colour(Enum):
    RED = strawberry.enum_value("RED", description="Red.")
    BLUE = "BLUE"
    GREEN = strawberry.enum_value("GREEN", description="Green.", deprecation_reason="No longer offered.")


@strawberry.input
class Paint:
    colour: Colour = strawberry.field(description="Its colour.")
    litres: float


@strawberry.interface(description="Something with a name.")
class Named:
    name: str


@strawberry.federation.type(keys=["id"], description="A wall.")
class Wall(Named):
    id: strawberry.ID = strawberry.field(description="Its id.")
    height: float = strawberry.field(description="Metres.", deprecation_reason="Use `heightMetres`.")
    tall: bool = strawberry.field(description="Over 3 m.", deprecation_reason="Do not rely on it.")


Shade = NewType("Shade", str)


@strawberry.type(description="Reading walls.")
class SampleQuery:
    @strawberry.field(description="One wall.")
    def wall(
        self, id: strawberry.ID, paint: Annotated[Paint | None, strawberry.argument(description="x")] = None
    ) -> Wall:
        raise NotImplementedError

    @strawberry.field
    def shade(self) -> Shade:  # type: ignore[valid-type]
        raise NotImplementedError

    @strawberry.field(description="Walls or colours.")
    def things(self) -> list[Annotated[Wall | Colour2, strawberry.union("Thing")]]:
        raise NotImplementedError


@strawberry.type(description="A colour as an object.")
class Colour2:
    colour: Colour = strawberry.field(description="The colour.")


def sample_schema() -> GraphQLSchema:
    return strawberry.federation.Schema(
        query=SampleQuery,
        types=[Colour2],
        federation_version="2.7",
        config=StrawberryConfig(
            scalar_map={Shade: strawberry.scalar(name="Shade", serialize=str, parse_value=str)}
        ),
    )._schema


def test_the_walk_reports_every_kind_of_gap_and_nothing_federation_added() -> None:
    assert missing_descriptions(sample_schema()) == [
        "Colour.BLUE",
        "Named.name",
        "Paint",
        "Paint.litres",
        "Query.wall(id:)",
        "Query.shade",
        "Shade",
        "Thing",
        "Wall.name",
    ]


def test_the_walk_covers_the_live_schema_parts_it_should() -> None:
    paths = dict(parts(schema._schema))
    for path in (
        "Composition.mood",
        "Query.compositions(after:)",
        "StageStatus.RUNNING",
        "NoteList",
        "PageInfo",
    ):
        assert path in paths, path
    assert not {"String", "Boolean", "__Schema", "__Type"} & set(paths)


def test_a_deprecation_must_name_its_replacement() -> None:
    assert dict(deprecations(sample_schema())) == {
        "Colour.GREEN": "No longer offered.",
        "Wall.height": "Use `heightMetres`.",
        "Wall.tall": "Do not rely on it.",
    }
    assert names_replacement("Use `heightMetres`.")
    assert names_replacement("Replaced by `Composition.master`.")
    assert names_replacement("use loudnessTarget instead")
    assert not names_replacement("No longer offered.")
    assert not names_replacement("Do not rely on it.")
