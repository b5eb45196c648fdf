"""Who may see and change which compositions: every read and write goes through these."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Composition, CompositionShare, Visibility


def session_digest(session_key: str | None) -> str:
    """How an anonymous caller's session is stored: hashed, so a database read cannot replay it."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def _owned(caller: Any) -> Q:
    if caller.user_id is not None:
        return Q(owner_id=caller.user_id)
    if caller.session_key:
        return Q(owner__isnull=True, anonymous_session=session_digest(caller.session_key))
    return Q(pk__in=[])


def compositions_visible_to(
    caller: Any, queryset: QuerySet[Composition] | None = None
) -> QuerySet[Composition]:
    """Own, shared with the caller, or public."""
    queryset = Composition.objects.all() if queryset is None else queryset
    readable = _owned(caller) | Q(visibility=Visibility.PUBLIC)
    if caller.user_id is not None:
        readable |= Q(
            Exists(CompositionShare.objects.filter(composition_id=OuterRef("pk"), user_id=caller.user_id))
        )
    return queryset.filter(readable)


def compositions_owned_by(
    caller: Any, queryset: QuerySet[Composition] | None = None
) -> QuerySet[Composition]:
    """Only the owner (or the anonymous session that made it) may change a composition."""
    queryset = Composition.objects.all() if queryset is None else queryset
    return queryset.filter(_owned(caller))


def composition_mine(caller: Any, composition: Composition) -> bool:
    if caller.user_id is not None:
        return composition.owner_id == caller.user_id
    return (
        composition.owner_id is None
        and bool(caller.session_key)
        and composition.anonymous_session == session_digest(caller.session_key)
    )
