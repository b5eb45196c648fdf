"""Elements as plain data: a stage's rows as JSON and back.

Versions keep what a composition was; a reused result is restored into another
composition from the same data. Artifact links are kept by artifact name.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from .models import Artifact, Composition


def row_snapshot(obj: Model) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name == "composition":
            continue
        if field.is_relation:
            if field.related_model is Artifact:
                artifact = getattr(obj, field.name)
                data[field.name] = artifact.name if artifact else None
            continue  # links to parents are rebuilt by whoever restores the children
        data[field.name] = field.value_from_object(obj)
    return data


def row_restore(
    model: type[Model], data: dict[str, Any], artifacts: dict[str, Artifact], **links: Any
) -> Model:
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name not in data:
            continue
        if field.is_relation:
            if field.related_model is Artifact:
                values[field.name] = artifacts.get(data[field.name]) if data[field.name] else None
            continue
        values[field.name] = data[field.name]
    return model.objects.create(**values, **links)


def rows_snapshot(model: type[Model], composition: Composition) -> list[dict[str, Any]]:
    return [row_snapshot(obj) for obj in model.objects.filter(composition=composition)]


def rows_restore(
    model: type[Model], composition: Composition, rows: list[dict[str, Any]], artifacts: dict[str, Artifact]
) -> list[Model]:
    model.objects.filter(composition=composition).delete()
    return [row_restore(model, row, artifacts, composition=composition) for row in rows]
