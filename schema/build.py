"""Builds types from the modules' contributions: the schema package only collects."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import typing
from typing import Any

import strawberry
import strawberry_django
from django.conf import settings
from django.db.models import Model
from strawberry.types.field import StrawberryField

CORE_MODULE = "modules.composition"


def module_names() -> list[str]:
    return [CORE_MODULE, *settings.CODA_STAGES, *settings.CODA_SERVICE_MODULES]


def contributions(part: str, modules: list[str] | None = None) -> list[type]:
    """Each module's `types.<part>` class (CompositionFields, QueryFields, MutationFields...), if any."""
    found = []
    for name in module_names() if modules is None else modules:
        if importlib.util.find_spec(f"{name}.types") is None:
            continue
        module = importlib.import_module(f"{name}.types")
        if hasattr(module, part):
            found.append(getattr(module, part))
    return found


def field_names(mixin: type) -> set[str]:
    """The python names of the fields a contribution class declares (annotated or assigned)."""
    declared = set(typing.get_type_hints(mixin))
    declared |= {k for k, v in vars(mixin).items() if isinstance(v, StrawberryField)}
    return {name for name in declared if not name.startswith("_")}


def merged_namespace(mixins: list[type]) -> dict[str, Any]:
    """One class body from several: evaluated annotations plus field objects."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for mixin in mixins:
        annotations.update(typing.get_type_hints(mixin))
        # Field objects are copied: strawberry binds a field to the type and schema that process it,
        # and the same module field serves in the combined schema and in its module's subgraph.
        namespace.update(
            {
                k: copy.copy(v) if isinstance(v, StrawberryField) else v
                for k, v in vars(mixin).items()
                if not k.startswith("__")
            }
        )
    namespace["__annotations__"] = annotations
    return namespace


def django_type(
    name: str, model: type[Model], mixins: list[type], bases: tuple[type, ...] = (), **options: Any
) -> type:
    cls = type(name, bases, merged_namespace(mixins))
    return strawberry_django.type(model, name=name, **options)(cls)


def root_type(name: str, mixins: list[type], **options: Any) -> type:
    return strawberry.type(type(name, (), merged_namespace(mixins)), name=name, **options)


def input_type(name: str, mixins: list[type], **options: Any) -> type:
    return strawberry.input(type(name, (), merged_namespace(mixins)), name=name, **options)
