"""Federation entity references (`_entities`), resolved through the type's get_queryset and the
optimizer, in one query per type and request.

A gateway asks a subgraph for many entities at once (`_entities(representations: [...])`);
strawberry calls the type's `resolve_reference` once per representation. Under the async view
each call returns a DataLoader future, so the representations of one request become one
`pk IN (...)` query; under synchronous execution (tests, scripts) each is fetched directly.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry_django.optimizer import optimizer
from strawberry_django.queryset import run_type_get_queryset
from strawberry_django.utils.typing import get_django_definition

from modules.composition.ids import pk_from_global_id

from .context import context_get
from .errors import BadUserInput

LOADERS = "entity_loaders"


def global_pk(global_id: object, type_name: str, field: str = "id") -> int:
    """The primary key behind a global id of `type_name`; a typed error for anything else."""
    pk = pk_from_global_id(global_id, type_name)
    if pk is None:
        raise BadUserInput(f"{global_id!r} is not a {type_name} id", field=field)
    return pk


def _fetch(cls: type, info: Info, pks: list[int]) -> dict[int, Any]:
    model = get_django_definition(cls, strict=True).model
    queryset = run_type_get_queryset(model._default_manager.filter(pk__in=pks), cls, info)
    extension = optimizer.get()
    if extension is not None:
        queryset = extension.optimize(queryset, info=info)
    return {obj.pk: obj for obj in queryset}


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def entity_reference(cls: type, info: Info, global_id: object, type_name: str) -> Any:
    """The object a reference names, or None when the caller may not read it (or it is gone)."""
    pk = global_pk(global_id, type_name)
    if not _running_loop():
        return _fetch(cls, info, [pk]).get(pk)
    loaders = context_get(info.context, LOADERS)
    if loaders is None:
        loaders = {}
        info.context[LOADERS] = loaders
    if cls not in loaders:

        async def load(keys: list[int]) -> list[Any]:
            found = await sync_to_async(_fetch)(cls, info, keys)
            return [found.get(key) for key in keys]

        loaders[cls] = DataLoader(load_fn=load)
    return loaders[cls].load(pk)


class Entity:
    """A model-backed relay Node as a federation entity: declare `directives=[Key(fields="id")]` on
    the type and inherit this; references resolve through the type's get_queryset, so an entity
    the caller may not read is null, as from `node(id)`."""

    @classmethod
    def resolve_reference(cls, info: Info, id: str, **fields: Any) -> Any:
        return entity_reference(cls, info, id, cls.__strawberry_definition__.name)  # type: ignore[attr-defined]
