"""Lyrics engine: syllables per onset, rhyme, refrains, themes, user lyrics."""

from __future__ import annotations

import itertools
import re

import pronouncing
import pytest

from modules.composition.context import (
    CompositionContext,
    LyricLine,
    MoodInfo,
    SectionPlan,
    VocalPhrase,
)
from modules.lyrics.engine import LyricsResult, retime, theme_words, write_lyrics
from tests.songs import song_skeleton

MOODS = [
    MoodInfo("uplifting", 0.8, 0.7, ["happy"]),
    MoodInfo("dreamy", 0.3, 0.3, ["calm"]),
    MoodInfo("melancholic", -0.6, 0.3, ["sad"]),
    MoodInfo("dark", -0.5, 0.8, ["tense"]),
    MoodInfo("epic", 0.5, 0.9, ["powerful"]),
    MoodInfo("romantic", 0.5, 0.4, ["love"]),
    MoodInfo("neutral", 0.0, 0.5, []),
]


def build_context(
    prompt: str = "a dreamy song about the ocean at night",
    mood: MoodInfo | None = None,
    seed: int = 1,
    key: str = "A",
    scale: str = "minor",
) -> CompositionContext:
    """What the earlier stages would leave: sections, chords (i-VI-III-VII style) and
    2-bar vocal phrases of 5..11 onsets; repeated sections reuse their rhythm."""
    sections, chords, phrases, bar = song_skeleton(key, scale, seed, (0, 5, 2, 6))
    ctx = CompositionContext(prompt=prompt, seed=seed)
    ctx.mood = mood or MOODS[1]
    ctx.key, ctx.scale, ctx.tempo = key, scale, 100.0
    ctx.sections, ctx.chords, ctx.vocal_phrases = sections, chords, phrases
    ctx.total_beats = bar * 4.0
    return ctx


def occurrences(lines: list[LyricLine]) -> list[list[LyricLine]]:
    groups: list[list[LyricLine]] = []
    for line in lines:
        if groups and groups[-1][0].section_index == line.section_index:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def last_word(line: LyricLine) -> str:
    return re.findall(r"[A-Za-z']+", line.text)[-1].lower()


def rhyming_parts(word: str) -> set[str]:
    return {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(word)}


@pytest.mark.parametrize("mood", MOODS, ids=lambda m: m.name)
def test_every_line_has_one_syllable_per_onset(mood: MoodInfo) -> None:
    for seed in range(4):
        ctx = build_context(mood=mood, seed=seed)
        result = write_lyrics(ctx, seed)
        assert result.source == "generated"
        assert len(result.lines) == len(ctx.vocal_phrases)
        for line, phrase in zip(result.lines, ctx.vocal_phrases, strict=True):
            assert line.section_index == phrase.section_index
            assert len(line.syllables) == len(phrase.onsets), line.text
            for syllable, (start, duration) in zip(line.syllables, phrase.onsets, strict=True):
                assert (syllable.start, syllable.duration) == (start, duration)
                assert syllable.stress in (0, 1, 2)
            # Syllables spell the line's words, and word_end marks each word once.
            assert "".join(s.text for s in line.syllables) == re.sub(r"[^A-Za-z']", "", line.text)
            assert sum(s.word_end for s in line.syllables) == len(line.text.split())


def test_phrases_of_any_length_are_filled_exactly() -> None:
    phrases = [
        VocalPhrase(0, [[16.0 * k + 0.5 * i, 0.5] for i in range(n)], []) for k, n in enumerate(range(1, 19))
    ]
    ctx = CompositionContext(prompt="night drive", seed=3, vocal_phrases=phrases)
    ctx.sections = [SectionPlan(0, "verse", 0, 72, 0.5, True)]
    for seed in range(3):
        result = write_lyrics(ctx, seed)
        assert [len(line.syllables) for line in result.lines] == list(range(1, 19))


@pytest.mark.parametrize("mood", MOODS, ids=lambda m: m.name)
def test_rhyme_scheme_holds(mood: MoodInfo) -> None:
    for seed in range(5):
        result = write_lyrics(build_context(mood=mood, seed=seed), seed)
        for group in occurrences(result.lines):
            letters = "".join(line.rhyme for line in group)
            if group[0].section_name == "verse" and len(group) == 4:
                assert letters in ("ABAB", "AABB")
            if group[0].section_name == "chorus" and len(group) == 4:
                assert letters == "AABB"
            by_letter: dict[str, list[str]] = {}
            for line in group:
                by_letter.setdefault(line.rhyme, []).append(last_word(line))
            for letter, words in by_letter.items():
                for other in words[1:]:
                    assert rhyming_parts(words[0]) & rhyming_parts(other), (letter, words)
                # Different letters of a section do not share a rhyme.
            parts = [rhyming_parts(words[0]) for words in by_letter.values()]
            for i in range(len(parts)):
                for j in range(i + 1, len(parts)):
                    assert not parts[i] & parts[j]


def test_rhyming_lines_end_on_different_words() -> None:
    result = write_lyrics(build_context(seed=5), 5)
    for group in occurrences(result.lines):
        if group[0].section_name != "verse":
            continue
        ends = [last_word(line) for line in group]
        assert len(set(ends)) == len(ends)


def test_choruses_repeat_and_verses_differ() -> None:
    for seed in range(4):
        result = write_lyrics(build_context(seed=seed), seed)
        groups = occurrences(result.lines)
        choruses = [[line.text for line in g] for g in groups if g[0].section_name == "chorus"]
        verses = [[line.text for line in g] for g in groups if g[0].section_name == "verse"]
        assert len(choruses) == 2 and choruses[0] == choruses[1]
        assert len(verses) == 2 and not set(verses[0]) & set(verses[1])
        # The hook (first chorus line) gives the title.
        hook_words = {w.lower() for w in re.findall(r"[A-Za-z']+", choruses[0][0])}
        title_words = {w.lower() for w in result.title.split()}
        assert title_words and title_words <= hook_words


def test_prompt_theme_words_appear() -> None:
    for seed in range(6):
        result = write_lyrics(build_context("a dreamy song about the ocean at night", seed=seed), seed)
        words = re.findall(r"[a-z]+", " ".join(line.text for line in result.lines).lower())
        assert "ocean" in words and "night" in words
        assert result.theme_words[:3] == ["dreamy", "ocean", "night"]
        hook = next(line for line in result.lines if line.section_name == "chorus")
        assert "dreamy" in hook.text.lower()


def test_theme_words_skip_music_terms() -> None:
    assert theme_words("uplifting electronic music with dreamy vocals") == [("dreamy", "A")]
    assert [w for w, _ in theme_words("dark techno about a city at midnight")] == ["dark", "city", "midnight"]
    assert [w for w, _ in theme_words("dream-pop with female vocals about stars")] == ["stars"]


def test_mood_chooses_the_vocabulary() -> None:
    neutral_prompt = "a song"
    sad = write_lyrics(build_context(neutral_prompt, MoodInfo("melancholic", -0.7, 0.2, []), seed=2), 2)
    bright = write_lyrics(build_context(neutral_prompt, MoodInfo("uplifting", 0.8, 0.6, []), seed=2), 2)
    assert (sad.mood_family, bright.mood_family) == ("sad", "bright")
    assert sad.lines != bright.lines


def test_real_words_and_no_filler() -> None:
    for mood in MOODS:
        result = write_lyrics(build_context(mood=mood, seed=9), 9)
        for line in result.lines:
            words = re.findall(r"[a-z']+", line.text.lower())
            assert all(pronouncing.phones_for_word(w) for w in words), line.text
            assert not {"la", "na", "oh", "yeah", "ooh"} & set(words)
            content = [w for w in words if len(w) > 3]
            assert len(content) == len(set(content)) or len(words) > 12, line.text


def test_stress_falls_on_strong_onsets_more_than_weak_ones() -> None:
    strong = [0, 0]
    weak = [0, 0]
    for seed in range(8):
        ctx = build_context(seed=seed)
        for line, phrase in zip(write_lyrics(ctx, seed).lines, ctx.vocal_phrases, strict=True):
            for syllable, is_strong in zip(line.syllables, phrase.strong, strict=True):
                bucket = strong if is_strong else weak
                bucket[0] += syllable.stress > 0
                bucket[1] += 1
    assert strong[0] / strong[1] > weak[0] / weak[1] + 0.1
    assert strong[0] / strong[1] >= 0.65


def test_deterministic_per_seed() -> None:
    ctx = build_context(seed=4)
    first, again, other = write_lyrics(ctx, 11), write_lyrics(ctx, 11), write_lyrics(ctx, 12)
    assert first == again
    assert [line.text for line in first.lines] != [line.text for line in other.lines]


def test_instrumental_and_no_phrases_give_no_lines() -> None:
    ctx = build_context()
    ctx.instrumental = True
    assert write_lyrics(ctx, 1).lines == []
    ctx = build_context()
    ctx.vocal_phrases = []
    assert isinstance(write_lyrics(ctx, 1), LyricsResult)
    assert write_lyrics(ctx, 1).lines == []


USER_TEXT = """Under the neon we were young,
every word a song unsung.

Hold me closer, don't let go -
dancing in the afterglow!
"""


def test_user_lyrics_are_fitted_to_the_phrases() -> None:
    ctx = build_context(seed=2)
    ctx.inputs["lyrics"] = USER_TEXT
    result = write_lyrics(ctx, 2)
    source_lines = [ln.strip() for ln in USER_TEXT.splitlines() if ln.strip()]
    assert result.source == "user"
    assert len(result.lines) == len(ctx.vocal_phrases) == 16
    for i, (line, phrase) in enumerate(zip(result.lines, ctx.vocal_phrases, strict=True)):
        assert line.text == source_lines[i % 4]  # fewer lines than phrases: the stanzas cycle
        assert "".join(s.text for s in line.syllables) == re.sub(r"[^A-Za-z']", "", line.text)
        assert all(s.text for s in line.syllables)
        span_start = phrase.onsets[0][0]
        span_end = max(s + d for s, d in phrase.onsets)
        for a, b in itertools.pairwise(line.syllables):
            assert a.start + a.duration <= b.start + 1e-9
        assert line.syllables[0].start >= span_start - 1e-9
        assert line.syllables[-1].start + line.syllables[-1].duration <= span_end + 1e-9
        if len(line.syllables) == len(phrase.onsets):
            assert [[s.start, s.duration] for s in line.syllables] == phrase.onsets
    # CMU counts: "every" is three syllables, "closer" two.
    assert [s.text for s in result.lines[1].syllables][:3] == ["e", "ve", "ry"]
    assert result.title == "Under the Neon We Were Young"
    assert [line.rhyme for line in result.lines[:4]] == ["A", "A", "B", "B"]


def test_extra_user_lines_are_dropped() -> None:
    ctx = build_context(seed=2)
    ctx.inputs["lyrics"] = "\n".join(f"line number {n} of many" for n in range(40))
    result = write_lyrics(ctx, 2)
    assert [line.text for line in result.lines] == [f"line number {n} of many" for n in range(16)]


def test_retime_uses_the_eighth_grid_or_even_spacing() -> None:
    onsets = [[8.0, 1.0], [9.0, 1.0], [10.0, 2.0]]  # span 8..12: eight 8th-note slots
    five = retime(onsets, 5)
    assert len(five) == 5
    assert all((s * 2).is_integer() for s, _ in five)
    assert five[0][0] == 8.0 and abs(sum(d for _, d in five) - 4.0) < 1e-9
    twelve = retime(onsets, 12)  # more syllables than slots: evenly
    assert [round(d, 6) for _, d in twelve] == [round(4.0 / 12, 6)] * 12
    assert retime(onsets, 3) == [(8.0, 1.0), (9.0, 1.0), (10.0, 2.0)]


def test_long_chorus_brings_the_hook_back() -> None:
    rhythm = [[0.0, 1.0], [1.0, 0.5], [1.5, 0.5], [2.0, 1.0], [3.0, 0.5], [3.5, 0.5], [4.0, 2.0]]
    phrases = [VocalPhrase(0, [[8.0 * j + s, d] for s, d in rhythm], []) for j in range(8)]
    ctx = CompositionContext(prompt="summer love", seed=1, vocal_phrases=phrases)
    ctx.sections = [SectionPlan(0, "chorus", 0, 16, 0.9, True)]
    texts = [line.text for line in write_lyrics(ctx, 6).lines]
    assert texts[4:] == texts[:4]
    assert len(set(texts[:4])) == 4
