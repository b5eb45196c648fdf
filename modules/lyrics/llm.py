"""Lyrics from a language model: the structured request built from the context, and the check of
what comes back. Pure functions, no I/O: the stage sends and receives (through modules.providers).

The request carries what the music already fixed: the theme words and mood, the tempo and key, and
for every sung section its lines with the syllable count of each (one syllable per note) and the
rhyme letter of each. Refrains that come back with the same rhythm are asked for once and repeated.
The answer must be one JSON object with exactly the lines asked; lines whose syllable count is off
are re-timed over their phrase with the engine's own syllable tools (the user-lyrics fitting), and a
line too far off to sing (under half or over twice its notes) makes the answer unusable.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from modules.composition.context import CompositionContext

from .engine import LyricsResult, fit_lines, sung_words, syllable_count, theme_words

MAX_LINE_CHARS = 200
MAX_TITLE_CHARS = 120

SYSTEM_PROMPT = """You are a lyricist. You write the words of a song whose music is already made: \
each line is sung one syllable per note, so each line must have the number of syllables asked.

Answer with one JSON object and nothing else (no prose, no markdown):
{"title": "<song title>", "sections": [{"index": <section index>, "lines": ["<line>", ...]}, ...]}

Rules:
- Write every section listed under "sections" that has "lines", in order, each with exactly as \
many lines as it lists.
- Line i of a section has the "syllables" count of its entry i (sung syllables).
- Lines of a section with the same "rhyme" letter end on words that rhyme.
- A section with "repeat_of" is sung with the words of that earlier section: do not write it.
- Write about the theme, in the mood given, in plain singable English. No profanity, no real \
people's names, no links, no line numbers, no labels such as "Verse 1", no quotation marks."""


class InvalidLyrics(ValueError):
    """An answer that cannot be used. The message says what was wrong without quoting the answer
    (it reaches progress events, which every reader of the composition sees, and the model's text is
    unchecked); `detail` holds the quote, for the staff-only call log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class LineAsk:
    syllables: int  # the notes of its phrase
    rhyme: str  # rhyme letter within the section


@dataclass(frozen=True)
class SectionAsk:
    index: int  # the section's index in the arrangement
    name: str
    lines: tuple[LineAsk, ...]
    repeat_of: int | None = None  # a refrain sung again with the words of this earlier section

    @property
    def rhyme_scheme(self) -> str:
        return "".join(line.rhyme for line in self.lines)


@dataclass(frozen=True)
class LyricsAsk:
    """Everything the provider is told about the song."""

    prompt: str
    theme: tuple[str, ...]
    mood: dict[str, Any] | None
    tempo: float | None
    key: str | None
    sections: tuple[SectionAsk, ...]

    @property
    def written(self) -> list[SectionAsk]:
        """The sections the provider writes (repeats are copied)."""
        return [s for s in self.sections if s.repeat_of is None]

    def payload(self) -> dict[str, Any]:
        sections: list[dict[str, Any]] = []
        for section in self.sections:
            entry: dict[str, Any] = {"index": section.index, "name": section.name}
            if section.repeat_of is not None:
                entry["repeat_of"] = section.repeat_of
            else:
                entry["rhyme_scheme"] = section.rhyme_scheme
                entry["lines"] = [{"syllables": ln.syllables, "rhyme": ln.rhyme} for ln in section.lines]
            sections.append(entry)
        music: dict[str, Any] = {}
        if self.tempo:
            music["tempo_bpm"] = round(self.tempo)
        if self.key:
            music["key"] = self.key
        return {
            "prompt": self.prompt,
            "theme": list(self.theme),
            "mood": self.mood,
            "music": music,
            "sections": sections,
        }


def rhyme_scheme(name: str, count: int) -> str:
    """Rhyme letters of a section's lines: verses ABAB, other sections AABB, in blocks of four
    (CDCD, CCDD... for the next block); a short last block keeps the start of the pattern."""
    pattern = "ABAB" if name == "verse" else "AABB"
    letters = ""
    for block in range(0, count, 4):
        size = min(4, count - block)
        shape = pattern[:size] if size != 2 else "AA"
        letters += "".join(chr(ord(c) + 2 * (block // 4)) for c in shape)
    return letters


def lyrics_ask(ctx: CompositionContext) -> LyricsAsk:
    """The request for a context whose arrangement is made (sections and vocal phrases)."""
    names = {s.index: s.name for s in ctx.sections}
    groups: list[tuple[int, list[int]]] = []  # (section index, syllables per phrase)
    for phrase in ctx.vocal_phrases:
        if groups and groups[-1][0] == phrase.section_index:
            groups[-1][1].append(len(phrase.onsets))
        else:
            groups.append((phrase.section_index, [len(phrase.onsets)]))
    sections: list[SectionAsk] = []
    for index, counts in groups:
        name = names.get(index, "verse")
        earlier = next(
            (
                s
                for s in sections
                if name != "verse"
                and s.name == name
                and s.repeat_of is None
                and [ln.syllables for ln in s.lines] == counts
            ),
            None,
        )
        letters = rhyme_scheme(name, len(counts))
        lines = tuple(LineAsk(n, letter) for n, letter in zip(counts, letters, strict=True))
        sections.append(SectionAsk(index, name, lines, earlier.index if earlier else None))
    mood = None
    if ctx.mood is not None:
        mood = {
            "name": ctx.mood.name,
            "valence": round(ctx.mood.valence, 2),
            "energy": round(ctx.mood.energy, 2),
            "tags": list(ctx.mood.tags),
        }
    key = f"{ctx.key} {ctx.scale.replace('_', ' ')}" if ctx.key and ctx.scale else ctx.key
    return LyricsAsk(
        prompt=ctx.prompt,
        theme=tuple(w for w, _ in theme_words(ctx.prompt)),
        mood=mood,
        tempo=ctx.tempo,
        key=key,
        sections=tuple(sections),
    )


def chat_messages(ask: LyricsAsk) -> list[dict[str, str]]:
    """The chat-completion messages: the rules, then the song as JSON."""
    song = json.dumps(ask.payload(), ensure_ascii=False)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Write the lyrics of this song:\n{song}"},
    ]


@dataclass(frozen=True)
class Fitted:
    result: LyricsResult
    on_count: int  # written lines whose syllables matched their notes exactly
    retimed: int  # written lines re-timed over their phrase


_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n\s*```$", re.DOTALL)


def _json_object(content: str) -> dict[str, Any]:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:  # many local models wrap JSON in a markdown fence even in JSON mode
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidLyrics(f"not JSON ({len(text)} characters)", detail=repr(text[:60])) from None
    if not isinstance(data, dict):
        raise InvalidLyrics(f"a JSON {_json_kind(data)}, not an object")
    return data


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "list"}.get(type(value), type(value).__name__)


def _clean_line(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidLyrics(f"{where} is a {_json_kind(value)}, not a string")
    line = " ".join(value.split()).strip("\"'\u201c\u201d ")
    if not sung_words(line):
        raise InvalidLyrics(f"{where} has no words")
    if len(line) > MAX_LINE_CHARS:
        raise InvalidLyrics(f"{where} is {len(line)} characters long (at most {MAX_LINE_CHARS})")
    return line


def _sections_by_index(data: dict[str, Any], ask: LyricsAsk) -> dict[int, Any]:
    items = data.get("sections")
    if not isinstance(items, list):
        raise InvalidLyrics("no 'sections' list")
    written = ask.written
    if items and all(isinstance(i, dict) and isinstance(i.get("index"), int) for i in items):
        by_index = {i["index"]: i for i in items}
    elif len(items) == len(written) and all(isinstance(i, dict) for i in items):
        by_index = {s.index: i for s, i in zip(written, items, strict=True)}  # no indexes: in order
    else:
        raise InvalidLyrics(f"{len(items)} sections without their indexes; {len(written)} were asked")
    missing = [s.index for s in written if s.index not in by_index]
    if missing:
        raise InvalidLyrics(f"section {missing[0]} is missing")
    return by_index


def parse_answer(content: str, ask: LyricsAsk, ctx: CompositionContext) -> Fitted:
    """The lyrics in a provider's answer, fitted to the vocal phrases; InvalidLyrics otherwise."""
    data = _json_object(content)
    by_index = _sections_by_index(data, ask)
    words: dict[int, list[str]] = {}
    on_count = retimed = 0
    for section in ask.written:
        lines = by_index[section.index].get("lines")
        where = f"section {section.index} ({section.name})"
        if not isinstance(lines, list):
            raise InvalidLyrics(f"{where} has no 'lines' list")
        if len(lines) != len(section.lines):
            raise InvalidLyrics(f"{where} has {len(lines)} lines; {len(section.lines)} were asked")
        cleaned: list[str] = []
        for k, (value, asked) in enumerate(zip(lines, section.lines, strict=True)):
            line = _clean_line(value, f"line {k + 1} of {where}")
            count = syllable_count(line)
            if not math.ceil(asked.syllables / 2) <= count <= 2 * asked.syllables:
                notes = asked.syllables
                raise InvalidLyrics(
                    f"line {k + 1} of {where} has {count} syllables for {notes} notes", detail=repr(line[:60])
                )
            on_count += count == asked.syllables
            retimed += count != asked.syllables
            cleaned.append(line)
        words[section.index] = cleaned
    texts: list[str] = []
    for section in ask.sections:
        texts.extend(words[section.repeat_of if section.repeat_of is not None else section.index])
    title = data.get("title")
    title = (
        " ".join(title.split()).strip("\"'\u201c\u201d ")[:MAX_TITLE_CHARS] if isinstance(title, str) else ""
    )
    return Fitted(fit_lines(ctx, texts, title), on_count, retimed)
