"""Writes on feedback: submit, delete, and the profile they keep up to date (refresh, reset)."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from modules.composition.models import Composition
from modules.composition.stages import InputError

from .engine import FeedbackEvent, Profile, build_profile
from .models import Feedback, FeedbackElement, FeedbackKind, PreferenceProfile
from .selectors import element_attributes

MAX_TEXT_CHARS = 2000
MAX_CONTEXT_CHARS = 4000  # the client's context, as compact JSON
MAX_EVENTS = 5000  # the newest feedback a profile is built from


def _element_key(element: str, layer: str | None, version: int | None) -> str:
    """Which layer or version: given exactly when the element needs it."""
    if element == FeedbackElement.LAYER:
        if not (layer or "").strip():
            raise InputError("layer", "element LAYER needs `layer`: the name of one of its layers")
    elif layer is not None:
        raise InputError("layer", f"`layer` is only for element LAYER, not {element}")
    if element == FeedbackElement.VERSION:
        if version is None:
            raise InputError("version", "element VERSION needs `version`: one of its version numbers")
        if version < 1:
            raise InputError("version", f"version numbers start at 1, not {version}")
    elif version is not None:
        raise InputError("version", f"`version` is only for element VERSION, not {element}")
    if element == FeedbackElement.LAYER:
        return (layer or "").strip().lower()
    return str(version) if element == FeedbackElement.VERSION else ""


def _check(kind: str, rating: int | None, text: str, context: Any) -> dict[str, Any]:
    if kind not in FeedbackKind.values:
        raise InputError("kind", f"kind must be one of {', '.join(FeedbackKind.values)}, not {kind!r}")
    if rating is not None and not 1 <= rating <= 5:
        raise InputError("rating", f"rating must be between 1 and 5, not {rating}")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError("text", f"text is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}")
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise InputError("context", "context must be a JSON object")
    size = len(json.dumps(context, separators=(",", ":"), default=str))
    if size > MAX_CONTEXT_CHARS:
        raise InputError("context", f"context is {size} characters of JSON; the limit is {MAX_CONTEXT_CHARS}")
    return context


def feedback_submit(
    user: Any,
    composition: Composition,
    *,
    element: str,
    kind: str,
    rating: int | None = None,
    text: str = "",
    context: dict[str, Any] | None = None,
    layer: str | None = None,
    version: int | None = None,
) -> Feedback:
    """Store the user's feedback on an element of a composition they may read (the caller checks
    that), with what the element is now, and bring their profile up to date."""
    if element not in FeedbackElement.values:
        raise InputError("element", f"element must be one of {', '.join(FeedbackElement.values)}")
    text = (text or "").strip()
    context = _check(kind, rating, text, context)
    key = _element_key(element, layer, version)
    attributes = element_attributes(composition, element, key)
    with transaction.atomic():
        feedback = Feedback.objects.create(
            user=user,
            composition=composition,
            element=element,
            element_key=key,
            kind=kind,
            rating=rating,
            text=text,
            context=context,
            attributes=attributes,
        )
        profile_refresh(user)
    return feedback


def feedback_delete(user: Any, feedback_id: int) -> None:
    """Delete one of the user's feedback and forget what it taught; Feedback.DoesNotExist otherwise."""
    with transaction.atomic():
        Feedback.objects.get(pk=feedback_id, user=user).delete()
        profile_refresh(user)


def _events(user: Any, since: Any) -> list[FeedbackEvent]:
    rows = Feedback.objects.filter(user=user)
    if since is not None:
        rows = rows.filter(created_at__gt=since)
    return [
        FeedbackEvent(
            id=row.pk,
            element=row.element,
            kind=row.kind,
            rating=row.rating,
            attributes=row.attributes,
            at=row.created_at.timestamp(),
        )
        for row in rows.order_by("-created_at", "-id")[:MAX_EVENTS]
    ]


def _locked_profile(user: Any) -> PreferenceProfile:
    """The user's profile row, locked until the transaction ends: concurrent feedback waits its turn,
    so each refresh sees every earlier feedback."""
    PreferenceProfile.objects.get_or_create(user=user)
    return PreferenceProfile.objects.select_for_update().get(user=user)


def profile_refresh(user: Any) -> PreferenceProfile:
    """Rebuild the profile from the user's feedback since their last reset."""
    with transaction.atomic():
        row = _locked_profile(user)
        row.profile = build_profile(_events(user, row.reset_at)).to_dict()
        row.save(update_fields=["profile", "updated_at"])
    return row


def preferences_reset(user: Any) -> PreferenceProfile:
    """Forget every preference: feedback given so far stays (and stays queryable) but no longer counts."""
    with transaction.atomic():
        row = _locked_profile(user)
        row.reset_at = timezone.now()
        row.profile = Profile().to_dict()
        row.save(update_fields=["profile", "reset_at", "updated_at"])
    return row
