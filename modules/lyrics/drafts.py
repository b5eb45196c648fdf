"""Lyrics drafts: every text the lyrics had, numbered per composition.

Written by the lyrics stage (when it writes words the newest draft doesn't have) and by
the line-edit services; kept when the stage's element is replaced, so the history stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Max

from modules.composition.context import LyricLine
from modules.composition.models import Composition

from .models import LyricsDraft


def draft_latest(composition: Composition) -> LyricsDraft | None:
    return LyricsDraft.objects.filter(composition=composition).order_by("-number").first()


def draft_create(
    composition: Composition,
    *,
    origin: str,
    title: str,
    text: str,
    lines: Sequence[str],
    user: Any = None,
) -> LyricsDraft:
    number = (LyricsDraft.objects.filter(composition=composition).aggregate(n=Max("number"))["n"] or 0) + 1
    return LyricsDraft.objects.create(
        composition=composition,
        number=number,
        origin=origin,
        title=title,
        text=text,
        lines=list(lines),
        created_by=user,
    )


def draft_record(
    composition: Composition, *, origin: str, title: str, text: str, lines: Sequence[LyricLine | str]
) -> LyricsDraft:
    """The current draft for words the lyrics stage wrote: the newest one when it has these
    words already (a rerun that changed only timing, or edits applied again), else a new one."""
    texts = [line if isinstance(line, str) else line.text for line in lines]
    latest = draft_latest(composition)
    if latest is not None and latest.lines == texts and latest.title == title:
        return latest
    return draft_create(composition, origin=origin, title=title, text=text, lines=texts)
