"""Reads on genre references: scoped to their owner, and resolved for a composition's inputs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from modules.composition.ids import pk_from_global_id
from modules.composition.stages import InputError

from .models import GenreReference


def references_of(owner_id: int | None) -> QuerySet[GenreReference]:
    return GenreReference.objects.filter(owner_id=owner_id).order_by("-created_at", "-id")


def genre_reference_choice(caller: Any, global_id: str) -> dict[str, Any]:
    """What a composition reads from the reference it names: the data, not the id, so its stages'
    input hashes follow what the reference measured."""
    owner_id = caller.user_id if caller is not None else None
    pk = pk_from_global_id(global_id, "GenreReference")
    found = references_of(owner_id).filter(pk=pk).first() if pk is not None else None
    if found is None:  # someone else's reads exactly like one that does not exist
        raise InputError(
            "genreReference", f"no genre reference with id {global_id}; upload one with uploadGenreReference"
        )
    return {
        "id": found.pk,
        "name": found.name,
        "sha256": found.sha256,
        "tempo": found.tempo,
        "key": found.key,
        "scale": found.scale,
    }
