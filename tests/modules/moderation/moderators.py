"""Stand-ins for a "stronger classifier", loaded by dotted path through settings.CODA_MODERATOR.

They live outside the test modules so that the class the settings name and the class a test
imports are the same object (pytest imports test files under names of its own)."""

from __future__ import annotations

import re
from typing import ClassVar

from modules.moderation.engine import Verdict


class FlagsWord:
    """Flags any text with WORD as a whole word ("the" is in nearly every generated line)."""

    word: ClassVar[str] = "the"

    def check(self, text: str, *, field: str) -> Verdict | None:
        match = re.search(rf"\b{re.escape(self.word)}\b", text, re.IGNORECASE)
        if match is None:
            return None
        return Verdict("test_word", f"mentions {self.word!r}", match.group())


class FlagsFirstTexts:
    """Flags the first `times` texts it sees, then allows everything: a flag, then a pass."""

    times: ClassVar[int] = 1
    seen: ClassVar[list[tuple[str, str]]] = []  # (field, text) in order

    def check(self, text: str, *, field: str) -> Verdict | None:
        FlagsFirstTexts.seen.append((field, text))
        if len(FlagsFirstTexts.seen) <= FlagsFirstTexts.times:
            return Verdict("test_first", "the first text is always flagged", text[:40])
        return None


class NoCheckMethod:
    """Not a moderator: CODA_MODERATOR naming it is a configuration error."""
