"""Writes on moods: a user's own named moods (valence, energy, words) and playlists."""

from __future__ import annotations

import math
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from modules.composition.selectors import compositions_visible_to
from modules.composition.stages import InputConflict, InputError
from modules.moderation.services import moderation_check

from .engine import MOODS, mood_key
from .models import CustomMood, Playlist, PlaylistEntry
from .selectors import (
    SCOPE_MINE,
    compositions_by_mood,
    custom_mood_of,
    custom_moods_of,
    mood_point,
    playlist_of,
    playlists_of,
)

MAX_CUSTOM_MOODS = 50  # per user
MAX_NAME_CHARS = 40
MAX_WORDS = 20
MAX_WORD_CHARS = 30
MAX_WORD_TOKENS = 3  # a word may be a short phrase ("grey skies")
MAX_DESCRIPTION_CHARS = 200
_NAME = re.compile(r"^[^\W_](?:[\w' &-]*[^\W_])?$")  # letters and digits, inner spaces, ' & -


class CustomMoodConflict(InputConflict):
    """The owner already has a mood of that name."""


def _name(name: str) -> tuple[str, str]:
    """(name as shown, key as matched)."""
    shown = re.sub(r"\s+", " ", name or "").strip()
    if not shown:
        raise InputError("name", "give your mood a name")
    if len(shown) > MAX_NAME_CHARS:
        raise InputError("name", f"the name is {len(shown)} characters long; the limit is {MAX_NAME_CHARS}")
    if not _NAME.match(shown) or not any(c.isalpha() for c in shown):
        raise InputError(
            "name", f"{shown!r}: a mood name has letters (and digits, spaces, hyphens, apostrophes, &)"
        )
    key = mood_key(shown)
    if key in MOODS:
        raise InputError("name", f"{key!r} is a built-in mood; give yours another name")
    return shown, key


def _valence(valence: float) -> float:
    if not math.isfinite(valence) or not -1.0 <= valence <= 1.0:
        raise InputError("valence", f"valence is from -1 (sad, dark) to 1 (happy, bright), not {valence}")
    return round(float(valence), 3)


def _energy(energy: float) -> float:
    if not math.isfinite(energy) or not 0.0 <= energy <= 1.0:
        raise InputError("energy", f"energy is from 0 (calm) to 1 (intense), not {energy}")
    return round(float(energy), 3)


def _words(words: list[str], key: str) -> list[str]:
    if len(words) > MAX_WORDS:
        raise InputError("words", f"give at most {MAX_WORDS} words, not {len(words)}")
    out: list[str] = []
    for word in words:
        text = mood_key(word)
        if not text or len(word.strip()) > MAX_WORD_CHARS or len(text.split()) > MAX_WORD_TOKENS:
            raise InputError(
                "words",
                f"{word!r}: each word is a word or a phrase of up to {MAX_WORD_TOKENS} words, "
                f"at most {MAX_WORD_CHARS} characters",
            )
        if text in MOODS:
            raise InputError("words", f"{text!r} is a built-in mood; your mood's words can't take it over")
        if text != key and text not in out:
            out.append(text)
    return out


def _description(description: str) -> str:
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            "description",
            f"the description is {len(text)} characters long; the limit is {MAX_DESCRIPTION_CHARS}",
        )
    return text


def _check_content(caller_key: str, **texts: str) -> None:
    for field, text in texts.items():
        moderation_check(text, field=field, caller_key=caller_key)


def _save(mood: CustomMood) -> CustomMood:
    """Save, turning the (owner, key) uniqueness into a typed error."""
    if custom_moods_of(mood.owner).filter(key=mood.key).exclude(pk=mood.pk).exists():
        raise CustomMoodConflict("name", f"you already have a mood named {mood.name!r}")
    try:
        with transaction.atomic():
            mood.save()
    except IntegrityError:  # made by a concurrent request meanwhile
        raise CustomMoodConflict("name", f"you already have a mood named {mood.name!r}") from None
    return mood


def custom_mood_create(
    owner: Any,
    *,
    name: str,
    valence: float,
    energy: float,
    words: list[str] | None = None,
    description: str = "",
    caller_key: str = "",
) -> CustomMood:
    shown, key = _name(name)
    mood = CustomMood(
        owner=owner,
        name=shown,
        key=key,
        valence=_valence(valence),
        energy=_energy(energy),
        words=_words(words or [], key),
        description=_description(description),
    )
    _check_content(caller_key, name=shown, words=", ".join(mood.words), description=mood.description)
    if custom_moods_of(owner).count() >= MAX_CUSTOM_MOODS:
        raise InputError(
            "name", f"you have {MAX_CUSTOM_MOODS} moods, the most one may keep; delete one first"
        )
    return _save(mood)


def custom_mood_update(
    owner: Any,
    pk: int,
    *,
    name: str | None = None,
    valence: float | None = None,
    energy: float | None = None,
    words: list[str] | None = None,
    description: str | None = None,
    caller_key: str = "",
) -> CustomMood:
    """Change what is given. Compositions made with the mood keep what it was then; an edit of
    one of them (updateComposition) takes what it is now."""
    mood = custom_mood_of(owner, pk)
    if name is not None:
        mood.name, mood.key = _name(name)
    if valence is not None:
        mood.valence = _valence(valence)
    if energy is not None:
        mood.energy = _energy(energy)
    if words is not None:
        mood.words = _words(words, mood.key)
    elif name is not None:
        mood.words = [w for w in mood.words if w != mood.key]
    if description is not None:
        mood.description = _description(description)
    _check_content(caller_key, name=mood.name, words=", ".join(mood.words), description=mood.description)
    return _save(mood)


def custom_mood_delete(owner: Any, pk: int) -> None:
    custom_mood_of(owner, pk).delete()


# --------------------------------------------------------------------------- playlists

MAX_PLAYLISTS = 100  # per user
MAX_PLAYLIST_ENTRIES = 200
MAX_PLAYLIST_NAME_CHARS = 80


class CompositionUnknown(InputError):
    """A composition id the caller may not read (or that does not exist)."""

    def __init__(self, field: str, pk: int) -> None:
        super().__init__(field, f"no composition with id {pk}")
        self.pk = pk


class PlaylistConflict(InputError):
    """The composition is in the playlist already, or the playlist is full."""


def _playlist_name(name: str, caller: Any) -> str:
    shown = re.sub(r"\s+", " ", name or "").strip()
    if not shown:
        raise InputError("name", "give the playlist a name")
    if len(shown) > MAX_PLAYLIST_NAME_CHARS:
        raise InputError(
            "name", f"the name is {len(shown)} characters long; the limit is {MAX_PLAYLIST_NAME_CHARS}"
        )
    moderation_check(shown, field="name", caller_key=caller.client_key)
    return shown


def _readable(caller: Any, pks: list[int], field: str) -> list[int]:
    """`pks` in order, each once, every one a composition the caller may read."""
    unique = list(dict.fromkeys(pks))
    found = set(compositions_visible_to(caller).filter(pk__in=unique).values_list("pk", flat=True))
    for pk in unique:
        if pk not in found:
            raise CompositionUnknown(field, pk)
    return unique


def _renumber(playlist: Playlist, order: list[int]) -> None:
    """Give the entries of `order` (entry ids) the positions 0, 1, 2... in that order."""
    entries = {e.pk: e for e in playlist.entries.all()}
    changed = []
    for position, pk in enumerate(order):
        entry = entries[pk]
        if entry.position != position:
            entry.position = position
            changed.append(entry)
    PlaylistEntry.objects.bulk_update(changed, ["position"])
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=timezone.now())


def playlist_create(
    caller: Any,
    *,
    name: str,
    mood: str | None = None,
    composition_ids: list[int] | None = None,
    scope: str = SCOPE_MINE,
    limit: int = 50,
) -> Playlist:
    """A playlist of the caller's: of these compositions in this order; else, with a mood, of its
    mood playlist as it is now (the first `limit`); else empty."""
    owner = caller.user
    shown = _playlist_name(name, caller)
    if not 1 <= limit <= MAX_PLAYLIST_ENTRIES:
        raise InputError("limit", f"limit is from 1 to {MAX_PLAYLIST_ENTRIES}, not {limit}")
    point = mood_point(owner, mood) if mood else None
    if composition_ids:
        if len(composition_ids) > MAX_PLAYLIST_ENTRIES:
            raise InputError(
                "compositionIds", f"a playlist holds at most {MAX_PLAYLIST_ENTRIES} compositions"
            )
        pks = _readable(caller, composition_ids, "compositionIds")
    elif point is not None:
        pks = list(compositions_by_mood(caller, point, scope).values_list("pk", flat=True)[:limit])
    else:
        pks = []
    if playlists_of(owner).count() >= MAX_PLAYLISTS:
        raise InputError(
            "name", f"you have {MAX_PLAYLISTS} playlists, the most one may keep; delete one first"
        )
    with transaction.atomic():
        playlist = Playlist.objects.create(owner=owner, name=shown, mood=point.name if point else "")
        PlaylistEntry.objects.bulk_create(
            PlaylistEntry(playlist=playlist, composition_id=pk, position=i) for i, pk in enumerate(pks)
        )
    return playlist


def playlist_add(caller: Any, playlist_pk: int, composition_pk: int, position: int | None = None) -> Playlist:
    """Put a composition the caller may read into the playlist, at `position` (default: last)."""
    with transaction.atomic():
        playlist = playlists_of(caller.user).select_for_update().get(pk=playlist_pk)
        _readable(caller, [composition_pk], "compositionId")
        order = list(playlist.entries.order_by("position").values_list("pk", "composition_id"))
        if any(c == composition_pk for _, c in order):
            raise PlaylistConflict("compositionId", "that composition is in the playlist already")
        if len(order) >= MAX_PLAYLIST_ENTRIES:
            raise PlaylistConflict(
                "playlistId", f"the playlist is full ({MAX_PLAYLIST_ENTRIES} compositions)"
            )
        at = len(order) if position is None else _position(position, len(order) + 1)
        entry = PlaylistEntry.objects.create(playlist=playlist, composition_id=composition_pk, position=at)
        ids = [pk for pk, _ in order]
        ids.insert(at, entry.pk)
        _renumber(playlist, ids)
    return playlist


def _position(position: int, size: int) -> int:
    if not 0 <= position < size:
        raise InputError("position", f"position is from 0 to {size - 1}, not {position}")
    return position


def _entry_order(playlist: Playlist, composition_pk: int) -> tuple[list[int], int]:
    """(entry ids in order, the index of the composition's entry)."""
    order = list(playlist.entries.order_by("position").values_list("pk", "composition_id"))
    for index, (_, composition) in enumerate(order):
        if composition == composition_pk:
            return [pk for pk, _ in order], index
    raise InputError("compositionId", "that composition is not in the playlist")


def playlist_move(caller: Any, playlist_pk: int, composition_pk: int, position: int) -> Playlist:
    with transaction.atomic():
        playlist = playlists_of(caller.user).select_for_update().get(pk=playlist_pk)
        ids, index = _entry_order(playlist, composition_pk)
        at = _position(position, len(ids))
        ids.insert(at, ids.pop(index))
        _renumber(playlist, ids)
    return playlist


def playlist_remove(caller: Any, playlist_pk: int, composition_pk: int) -> Playlist:
    with transaction.atomic():
        playlist = playlists_of(caller.user).select_for_update().get(pk=playlist_pk)
        ids, index = _entry_order(playlist, composition_pk)
        PlaylistEntry.objects.filter(pk=ids.pop(index)).delete()
        _renumber(playlist, ids)
    return playlist


def playlist_rename(caller: Any, playlist_pk: int, name: str) -> Playlist:
    playlist = playlist_of(caller.user, playlist_pk)
    playlist.name = _playlist_name(name, caller)
    playlist.save(update_fields=["name", "updated_at"])
    return playlist


def playlist_delete(caller: Any, playlist_pk: int) -> None:
    playlist_of(caller.user, playlist_pk).delete()
