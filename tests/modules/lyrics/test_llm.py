"""What the lyrics stage asks a language model, and how it checks and fits the answer (pure code)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.lyrics.engine import syllable_count
from modules.lyrics.llm import (
    SYSTEM_PROMPT,
    InvalidLyrics,
    chat_messages,
    lyrics_ask,
    parse_answer,
    rhyme_scheme,
)
from tests.modules.lyrics.test_engine import MOODS, build_context
from tests.modules.providers.chat import TITLE, lyrics_for


def test_the_request_carries_theme_mood_music_and_every_line_with_its_syllables_and_rhyme() -> None:
    ctx = build_context(prompt="a dreamy song about the ocean at night", mood=MOODS[1], seed=1)
    ask = lyrics_ask(ctx)
    payload = ask.payload()
    assert payload["prompt"] == "a dreamy song about the ocean at night"
    assert payload["theme"] == ["dreamy", "ocean", "night"]
    assert payload["mood"] == {"name": "dreamy", "valence": 0.3, "energy": 0.3, "tags": ["calm"]}
    assert payload["music"] == {"tempo_bpm": 100, "key": "A minor"}
    # One entry per vocal phrase of each written section, with the phrase's onset count.
    asked = [(s["index"], ln["syllables"]) for s in payload["sections"] for ln in s.get("lines", [])]
    phrases = [(p.section_index, len(p.onsets)) for p in ctx.vocal_phrases if p.section_index != 4]
    assert asked == phrases
    assert [
        (s["index"], s["name"], s.get("rhyme_scheme"), s.get("repeat_of")) for s in payload["sections"]
    ] == [
        (1, "verse", "ABAB", None),
        (2, "chorus", "AABB", None),
        (3, "verse", "ABAB", None),
        (4, "chorus", None, 2),  # the second chorus has the first one's rhythm: its words are repeated
    ]
    system, user = chat_messages(ask)
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user"
    assert json.loads(user["content"].split("\n", 1)[1]) == payload


@pytest.mark.parametrize(
    ("name", "count", "letters"),
    [
        ("verse", 4, "ABAB"),
        ("verse", 8, "ABABCDCD"),
        ("verse", 3, "ABA"),
        ("verse", 6, "ABABCC"),
        ("chorus", 4, "AABB"),
        ("chorus", 5, "AABBC"),
        ("bridge", 2, "AA"),
        ("chorus", 1, "A"),
    ],
)
def test_rhyme_schemes(name: str, count: int, letters: str) -> None:
    assert rhyme_scheme(name, count) == letters


def answer(ctx: Any, edit: Any = None) -> tuple[Any, str]:
    ask = lyrics_ask(ctx)
    data = lyrics_for(ask.payload())
    if edit is not None:
        edit(data)
    return ask, json.dumps(data)


def test_a_good_answer_is_fitted_one_syllable_per_note_with_refrains_repeated() -> None:
    ctx = build_context(seed=2)
    ask, content = answer(ctx)
    fitted = parse_answer(content, ask, ctx)
    result = fitted.result
    assert result.title == TITLE
    assert result.source == "generated"
    assert (fitted.on_count, fitted.retimed) == (12, 0)  # 3 written sections of 4 lines, all exact
    assert len(result.lines) == len(ctx.vocal_phrases) == 16
    for line, phrase in zip(result.lines, ctx.vocal_phrases, strict=True):
        assert line.section_index == phrase.section_index
        assert syllable_count(line.text) == len(phrase.onsets) == len(line.syllables)
        assert [[s.start, s.duration] for s in line.syllables] == phrase.onsets
        assert line.text.startswith("Dreamy ")
    chorus = [ln.text for ln in result.lines if ln.section_index == 2]
    assert [ln.text for ln in result.lines if ln.section_index == 4] == chorus
    # Rhyme letters are what the words rhyme: the chorus asked AABB and the server kept it.
    assert [ln.rhyme for ln in result.lines if ln.section_index == 2] == ["A", "A", "B", "B"]


def test_lines_off_their_count_are_retimed_over_their_phrase() -> None:
    ctx = build_context(seed=2)
    first = ctx.vocal_phrases[0]  # 8 onsets over beats 16..22.5

    def longer(data: dict[str, Any]) -> None:
        data["sections"][0]["lines"][0] += " and more"  # two syllables over

    ask, content = answer(ctx, longer)
    fitted = parse_answer(content, ask, ctx)
    assert (fitted.on_count, fitted.retimed) == (11, 1)
    line = fitted.result.lines[0]
    assert len(line.syllables) == len(first.onsets) + 2
    assert line.syllables[0].start == first.onsets[0][0]
    end = max(s + d for s, d in first.onsets)
    assert line.syllables[-1].start + line.syllables[-1].duration == pytest.approx(end)
    assert all(s.duration > 0 for s in line.syllables)


def test_json_in_a_markdown_fence_is_accepted() -> None:
    ctx = build_context(seed=3)
    ask, content = answer(ctx)
    fitted = parse_answer(f"```json\n{content}\n```", ask, ctx)
    assert len(fitted.result.lines) == len(ctx.vocal_phrases)


def test_sections_without_indexes_are_taken_in_order() -> None:
    ctx = build_context(seed=3)

    def drop_indexes(data: dict[str, Any]) -> None:
        for section in data["sections"]:
            del section["index"]

    ask, content = answer(ctx, drop_indexes)
    assert len(parse_answer(content, ask, ctx).result.lines) == len(ctx.vocal_phrases)


def test_a_missing_title_comes_from_the_hook() -> None:
    ctx = build_context(seed=3)
    ask, content = answer(ctx, lambda data: data.pop("title"))
    result = parse_answer(content, ask, ctx).result
    hook = next(ln.text for ln in result.lines if ln.section_name == "chorus")
    assert result.title and result.title.split()[0].lower() in hook.lower()


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("content", "edit", "message"),
    [
        ("Sure! Here are your lyrics: la la la", None, "not JSON (36 characters)"),
        ('["a", "list"]', None, "a JSON list, not an object"),
        ('{"title": "x"}', None, "no 'sections' list"),
        (None, _set(("sections",), [{"lines": []}]), "1 sections without their indexes; 3 were asked"),
        (None, lambda d: d["sections"].pop(1), "section 2 is missing"),
        (None, _set(("sections", 0, "lines"), "one line"), "section 1 (verse) has no 'lines' list"),
        (None, lambda d: d["sections"][1]["lines"].pop(), "section 2 (chorus) has 3 lines; 4 were asked"),
        (None, _set(("sections", 0, "lines", 2), 7), "line 3 of section 1 (verse) is a number, not a string"),
        (None, _set(("sections", 0, "lines", 1), " ... !! "), "line 2 of section 1 (verse) has no words"),
        (
            None,
            _set(("sections", 2, "lines", 0), "la " * 80),
            "line 1 of section 3 (verse) is 239 characters long (at most 200)",
        ),
        (
            None,
            _set(("sections", 1, "lines", 0), "we go"),
            "line 1 of section 2 (chorus) has 2 syllables for 6 notes",
        ),
        (
            None,
            _set(("sections", 1, "lines", 3), "the ocean is a wonderful memory of the evening light"),
            "line 4 of section 2 (chorus) has 16 syllables for 6 notes",
        ),
    ],
)
def test_unusable_answers_say_what_is_wrong(content: str | None, edit: Any, message: str) -> None:
    ctx = build_context(seed=1)
    ask, good = answer(ctx, edit)
    with pytest.raises(InvalidLyrics) as caught:
        parse_answer(content if content is not None else good, ask, ctx)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("content", "edit", "quoted"),
    [
        ("Sure! Here are your lyrics: la la la", None, "'Sure! Here are your lyrics: la la la'"),
        (None, _set(("sections", 1, "lines", 0), "we go"), "'we go'"),
    ],
)
def test_the_models_text_is_kept_apart_from_the_message(content: str | None, edit: Any, quoted: str) -> None:
    """The message reaches progress events any reader sees, so the model's unchecked text is only in
    `detail`, for the staff-only call log."""
    ctx = build_context(seed=1)
    ask, good = answer(ctx, edit)
    with pytest.raises(InvalidLyrics) as caught:
        parse_answer(content if content is not None else good, ask, ctx)
    assert caught.value.detail == quoted
    assert quoted.strip("'") not in str(caught.value)
