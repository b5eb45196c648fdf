"""LRC: timed lyrics for players, one `[mm:ss.xx]` tag per line."""

from __future__ import annotations

from modules.composition.context import LyricLine


def timestamp(seconds: float) -> str:
    centis = round(seconds * 100)
    return f"[{centis // 6000:02d}:{centis % 6000 / 100:05.2f}]"


def to_lrc(lines: list[LyricLine], seconds_per_beat: float, title: str = "") -> str:
    """Each line stamped with the time its first syllable is sung."""
    out = [f"[ti:{title}]"] if title else []
    out += [
        f"{timestamp(line.syllables[0].start * seconds_per_beat)}{line.text}"
        for line in lines
        if line.syllables
    ]
    return "\n".join(out) + "\n"
