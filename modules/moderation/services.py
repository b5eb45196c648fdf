"""The content check as the rest of Coda uses it: which moderator, the typed error, the flags.

Inputs (prompt, user lyrics) go through `moderation_check`, which raises `ModerationRejected`
(an `InputError`, so it becomes a typed error naming the field) and records a REJECTED flag.
Generated text goes through `moderation_flag_generated`, which records a FLAGGED flag and
leaves what to do (regenerate, fail) to the stage.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from modules.composition.stages import InputError

from .engine import Moderator, Verdict
from .models import Action, ModerationFlag, Source

if TYPE_CHECKING:
    from modules.composition.models import Composition

DEFAULT_MODERATOR = "modules.moderation.engine.RulesModerator"


class ModerationRejected(InputError):
    """A text the content check refused; `.field`, `.message` and the broken `.rule`."""

    def __init__(self, field: str, message: str, rule: str, excerpt: str = "") -> None:
        super().__init__(field, message)
        self.rule = rule
        self.excerpt = excerpt


def moderator() -> Moderator:
    """The configured moderator (settings.CODA_MODERATOR), built once per dotted path."""
    return _load(_path())


def moderator_fingerprint() -> str:
    """Names the moderator and its version: what a stage hashes when its result depends on it."""
    return f"{_path()}:{getattr(moderator(), 'version', '')}"


def _path() -> str:
    return str(getattr(settings, "CODA_MODERATOR", "") or DEFAULT_MODERATOR)


@functools.cache
def _load(path: str) -> Moderator:
    # Cached by path, so a settings override in tests switches moderator without a reset.
    try:
        factory = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"CODA_MODERATOR {path!r} cannot be imported: {exc}") from exc
    instance = factory()
    if not isinstance(instance, Moderator):
        raise ImproperlyConfigured(f"CODA_MODERATOR {path!r} has no check(text, *, field) method")
    return instance


def moderation_check(
    text: str, *, field: str, caller_key: str = "", composition: Composition | None = None
) -> None:
    """Raise ModerationRejected (recording a REJECTED flag) when `text` fails the check.

    Call it outside any transaction that the rejection rolls back, or the flag goes with it."""
    if not text or not text.strip():
        return
    verdict = moderator().check(text, field=field)
    if verdict is None:
        return
    _record(verdict, field, Source.INPUT, Action.REJECTED, composition, caller_key)
    verb = "were" if field.endswith("lyrics") else "was"
    message = f"{field} {verb} rejected by the content check (rule: {verdict.rule}): {verdict.message}"
    raise ModerationRejected(field, f'{message} ("{verdict.excerpt}")', verdict.rule, verdict.excerpt)


def moderation_flag_generated(composition: Composition | None, field: str, text: str) -> Verdict | None:
    """Check text a stage generated; when it fails, record a FLAGGED flag and return the verdict."""
    if not text or not text.strip():
        return None
    verdict = moderator().check(text, field=field)
    if verdict is not None:
        _record(verdict, field, Source.GENERATED, Action.FLAGGED, composition, "")
    return verdict


def _record(
    verdict: Verdict,
    field: str,
    source: Source,
    action: Action,
    composition: Composition | None,
    caller: str,
) -> ModerationFlag:
    return ModerationFlag.objects.create(
        composition=composition,
        field=field[:32],
        rule=verdict.rule[:32],
        excerpt=verdict.excerpt[:200],
        source=source,
        action=action,
        caller=caller[:100],
    )
