"""Reads on moods: a user's custom moods, what a mood name means to a caller, and the
compositions that fit a mood (through the composition selectors, so nobody sees another's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.functions import Power, Sqrt

from modules.composition.models import Composition, Status
from modules.composition.selectors import compositions_owned_by, compositions_visible_to
from modules.composition.stages import InputError

from .engine import MOODS, mood_key
from .models import CustomMood, Playlist

# Compositions within this distance of a mood's point (valence -1..1, energy 0..1) belong to its
# playlist: about the gap between neighbouring catalog moods ("sad" takes in "melancholic").
MATCH_RADIUS = 0.35

SCOPE_MINE = "mine"  # the caller's own compositions
SCOPE_VISIBLE = "visible"  # also those shared with the caller and public ones


@dataclass(frozen=True)
class MoodPoint:
    """A mood as a caller may name it: built-in, or one of the caller's own."""

    name: str
    valence: float
    energy: float
    custom: bool


def custom_moods_of(user: Any) -> QuerySet[CustomMood]:
    if user is None:
        return CustomMood.objects.none()
    return CustomMood.objects.filter(owner=user).order_by("key", "id")


def custom_mood_of(user: Any, pk: int) -> CustomMood:
    """CustomMood.DoesNotExist unless it is the user's."""
    return custom_moods_of(user).get(pk=pk)


def unknown_mood_message(name: str, mine: list[str]) -> str:
    message = f"unknown mood {name!r}; choose one of: {', '.join(sorted(MOODS))}"
    if mine:
        message += f"; or one of yours: {', '.join(sorted(mine, key=str.casefold))}"
    return message


def mood_point(user: Any, name: str, field: str = "mood") -> MoodPoint:
    """What `name` means to `user`: a built-in mood, else one of the user's custom moods (another
    user's custom mood is unknown here); InputError listing what is accepted otherwise."""
    key = mood_key(name)
    if key in MOODS:
        spec = MOODS[key]
        return MoodPoint(spec.name, spec.valence, spec.energy, False)
    mine = list(custom_moods_of(user))
    for mood in mine:
        if mood.key == key:
            return MoodPoint(mood.name, mood.valence, mood.energy, True)
    raise InputError(field, unknown_mood_message(name, [m.name for m in mine]))


def compositions_by_mood(caller: Any, point: MoodPoint, scope: str = SCOPE_MINE) -> QuerySet[Composition]:
    """Finished compositions the caller may read whose mood is this one (by name) or near it on the
    valence/energy plane, nearest first, then newest. Annotated with `mood_distance`."""
    readable = compositions_visible_to(caller) if scope == SCOPE_VISIBLE else compositions_owned_by(caller)
    named = Q(mood__name__iexact=point.name, mood__custom=point.custom)
    if point.custom:  # another user's custom mood of the same name is another mood
        named &= Q(owner_id=caller.user_id)
    return (
        readable.filter(status=Status.SUCCEEDED, mood__isnull=False)
        .annotate(
            mood_distance=Sqrt(
                Power(F("mood__valence") - point.valence, 2) + Power(F("mood__energy") - point.energy, 2),
                output_field=FloatField(),
            )
        )
        .filter(named | Q(mood_distance__lte=MATCH_RADIUS))
        .order_by("mood_distance", "-created_at", "-id")
    )


def playlists_of(user: Any) -> QuerySet[Playlist]:
    if user is None:
        return Playlist.objects.none()
    return Playlist.objects.filter(owner=user).order_by("-created_at", "-id")


def playlist_of(user: Any, pk: int) -> Playlist:
    """Playlist.DoesNotExist unless it is the user's."""
    return playlists_of(user).get(pk=pk)
