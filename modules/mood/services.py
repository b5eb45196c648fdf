"""Writes on custom moods: a user's own named moods (valence, energy, words)."""

from __future__ import annotations

import math
import re
from typing import Any

from django.db import IntegrityError, transaction

from modules.composition.stages import InputError
from modules.moderation.services import moderation_check

from .engine import MOODS, mood_key
from .models import CustomMood
from .selectors import custom_mood_of, custom_moods_of

MAX_CUSTOM_MOODS = 50  # per user
MAX_NAME_CHARS = 40
MAX_WORDS = 20
MAX_WORD_CHARS = 30
MAX_WORD_TOKENS = 3  # a word may be a short phrase ("grey skies")
MAX_DESCRIPTION_CHARS = 200
_NAME = re.compile(r"^[^\W_](?:[\w' &-]*[^\W_])?$")  # letters and digits, inner spaces, ' & -


class CustomMoodConflict(InputError):
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
