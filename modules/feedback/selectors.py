"""Reads on feedback: a user's own feedback and profile, and what an element is, as attributes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from modules.composition.models import Composition
from modules.composition.stages import InputError

from .engine import Profile, song_attributes
from .models import Feedback, FeedbackElement, PreferenceProfile

# Element -> the Composition's related name of the stage's element (one row each).
SINGLE_ELEMENTS = {
    FeedbackElement.MOOD: "mood",
    FeedbackElement.GENRE: "genre",
    FeedbackElement.LYRICS: "lyrics",
    FeedbackElement.VOICE: "voice",
    FeedbackElement.MASTER: "master",
}


def feedback_of(user_id: int | None) -> QuerySet[Feedback]:
    """A user's own feedback, newest first (none for an anonymous caller)."""
    if user_id is None:
        return Feedback.objects.none()
    return Feedback.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def profile_of(user_id: int | None) -> tuple[Profile, PreferenceProfile | None]:
    """The user's profile (empty when there is none yet) and its row."""
    if user_id is None:
        return Profile(), None
    row = PreferenceProfile.objects.filter(user_id=user_id).first()
    return Profile.from_dict(row.profile if row else None), row


def _element_row(composition: Composition, related: str) -> Any:
    try:
        return getattr(composition, related)
    except ObjectDoesNotExist:
        return None


def _measured_lufs(elements: dict[str, Any]) -> float | None:
    """The integrated loudness measured on a version's master, if it had one."""
    rows = (elements.get("mastering") or {}).get("Master") or []
    measured = rows[0].get("integrated_lufs") if rows else None
    return float(measured) if measured is not None else None


def element_attributes(composition: Composition, element: str, key: str) -> dict[str, Any]:
    """What the element is now, as the engine's attributes; InputError when it does not exist."""
    context = composition.context or {}
    if element == FeedbackElement.COMPOSITION:
        master = _element_row(composition, "master")
        return song_attributes(context, master.integrated_lufs if master is not None else None)
    if element == FeedbackElement.VERSION:
        version = composition.versions.filter(number=int(key)).first()
        if version is None:
            numbers = list(composition.versions.order_by("number").values_list("number", flat=True))
            have = f"its versions are {', '.join(map(str, numbers))}" if numbers else "it has no versions yet"
            raise InputError("version", f"composition has no version {key}; {have}")
        return song_attributes(version.context, _measured_lufs(version.elements))
    if element == FeedbackElement.LAYER:
        layer = composition.layers.filter(name=key).first()
        if layer is None:
            names = list(composition.layers.order_by("index").values_list("name", flat=True))
            have = f"its layers are {', '.join(names)}" if names else "it has no layers yet"
            raise InputError("layer", f"composition has no layer {key!r}; {have}")
        return {} if layer.is_drum else {"programs": {str(layer.program): 1.0}}
    row = _element_row(composition, SINGLE_ELEMENTS[FeedbackElement(element)])
    if row is None:
        missing = f"composition has no {element.lower()} element (not made yet, or not part of this song)"
        raise InputError("element", missing)
    if element == FeedbackElement.MOOD:
        return {"moods": {row.name: 1.0}}
    if element == FeedbackElement.GENRE:
        tempo = context.get("tempo") or row.tempo
        return {
            "genres": {g["name"]: float(g["weight"]) for g in row.weights},
            "tempo": {"value": float(tempo), "share": 1.0},
        }
    if element == FeedbackElement.LYRICS:  # lyrics are written to the mood: they speak for it, softly
        mood = (context.get("mood") or {}).get("name")
        return {"moods": {mood: 0.5}} if mood else {}
    if element == FeedbackElement.VOICE:
        return {"voices": {row.voice: 1.0}}
    return {"loudness": {"value": float(row.integrated_lufs), "share": 1.0}}  # MASTER
