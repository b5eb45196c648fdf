"""Reads on genre references: scoped to their owner, and resolved for a composition's inputs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from strawberry import relay

from modules.composition.stages import InputError

from .models import GenreReference


def references_of(owner_id: int | None) -> QuerySet[GenreReference]:
    return GenreReference.objects.filter(owner_id=owner_id).order_by("-created_at", "-id")


def global_pk(value: Any, type_name: str) -> int | None:
    """The primary key in a relay global id of `type_name`, or None when it is not one."""
    try:
        gid = relay.GlobalID.from_id(str(value))
        return int(gid.node_id) if gid.type_name == type_name else None
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def genre_reference_choice(caller: Any, global_id: str) -> dict[str, Any]:
    """What a composition reads from the reference it names: the data, not the id, so its stages'
    input hashes follow what the reference measured."""
    owner_id = caller.user_id if caller is not None else None
    pk = global_pk(global_id, "GenreReference")
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
