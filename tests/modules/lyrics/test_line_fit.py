"""Edited lines on their notes: one syllable a note, notes merged or split, edits as patches."""

from __future__ import annotations

import pytest

from modules.composition.context import LyricLine, Syllable, VocalPhrase
from modules.lyrics.engine import (
    FIT_MERGED,
    FIT_SAME,
    FIT_SPLIT,
    LineEdit,
    LineFitError,
    apply_edits,
    edited_line,
    fit_to_notes,
    sung_pieces,
    syllable_limit,
)

# A bar and a half of eighths ending on a dotted quarter: strong onsets on beats 14 and 16.
VERSE = VocalPhrase(
    1,
    [[12.5 + 0.5 * i, 0.5] for i in range(9)] + [[17.0, 1.5]],
    [False, False, False, True, False, False, False, True, False, False],
)
# Quarters and a half note, strong on the downbeat and beat 3.
CHORUS = VocalPhrase(2, [[36.0, 1.0], [37.0, 1.0], [38.0, 1.0], [39.0, 1.0], [40.0, 1.0], [41.0, 2.0]],
                     [True, False, True, False, True, False])  # fmt: skip


def ends(timings: list[tuple[float, float]]) -> list[float]:
    return [round(start + duration, 6) for start, duration in timings]


def test_as_many_syllables_as_notes_take_the_notes_as_they_are() -> None:
    timings, fit = fit_to_notes(VERSE, [1, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    assert fit == FIT_SAME
    assert timings == [(s, d) for s, d in VERSE.onsets]


def test_fewer_syllables_merge_notes_keeping_start_end_and_stress_on_strong_beats() -> None:
    # "You drift inside the sea": you drift in-SIDE the SEA.
    stresses = [stress for _, stress, _ in sung_pieces("You drift inside the sea")]
    assert stresses == [1, 1, 2, 1, 0, 1]
    timings, fit = fit_to_notes(VERSE, stresses)
    assert fit == FIT_MERGED and len(timings) == 6
    starts = [start for start, _ in timings]
    assert starts[0] == 12.5, "the line keeps its first note (its LRC time)"
    assert ends(timings)[-1] == 18.5, "and ends where the phrase ends"
    assert all(a + d == b for (a, d), b in zip(timings, starts[1:], strict=False)), "no gaps: notes are held"
    assert set(starts) <= {s for s, _ in VERSE.onsets}, "merging only drops onsets, it adds none"
    # Both strong onsets (14 and 16) carry stressed syllables, and the last syllable the last note.
    assert {14.0, 16.0} <= set(starts)
    assert all(stresses[k] > 0 for k, s in enumerate(starts) if s in (14.0, 16.0))
    assert starts[-1] == 17.0


def test_one_syllable_holds_the_whole_phrase() -> None:
    timings, fit = fit_to_notes(CHORUS, [1])
    assert (timings, fit) == ([(36.0, 7.0)], FIT_MERGED)


def test_more_syllables_split_the_longest_notes_on_the_beat_and_keep_the_cadence() -> None:
    timings, fit = fit_to_notes(CHORUS, [1, 0, 1, 0, 1, 0, 1, 0])
    assert fit == FIT_SPLIT and len(timings) == 8
    # Two quarters split into eighths, spread over the line; the half note at the end stays whole.
    assert timings[-1] == (41.0, 2.0)
    assert sorted(d for _, d in timings) == [0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 2.0]
    assert [s for s, d in timings if d == 0.5] in ([36.0, 36.5, 39.0, 39.5], [37.0, 37.5, 39.0, 39.5])
    assert ends(timings)[-1] == 43.0 and timings[0][0] == 36.0
    # A dotted note is cut on the beat, not in its middle: 17.0-18.5 -> 17-18 and 18-18.5.
    split, _ = fit_to_notes(VocalPhrase(1, [[17.0, 1.5]], [True]), [1, 1])
    assert split == [(17.0, 1.0), (18.0, 0.5)]


def test_every_split_note_is_on_the_sixteenth_grid_and_at_least_a_sixteenth() -> None:
    for count in range(len(VERSE.onsets) + 1, syllable_limit(VERSE) + 1):
        timings, _ = fit_to_notes(VERSE, [1] * count)
        assert len(timings) == count
        for start, duration in timings:
            assert duration >= 0.25 and (start * 4) == int(start * 4), (count, start, duration)
        assert [s for s, _ in timings] == sorted(s for s, _ in timings)


def test_too_many_syllables_is_a_clear_error() -> None:
    assert syllable_limit(VERSE) == 20 and syllable_limit(CHORUS) == 12
    with pytest.raises(
        LineFitError, match="the line has 13 syllables; it is sung on 6 notes, which take at most 12"
    ):
        fit_to_notes(CHORUS, [1] * 13)
    with pytest.raises(LineFitError, match="no words"):
        fit_to_notes(CHORUS, [])
    # Sixteenths cannot be cut: four of them take four syllables at most.
    assert syllable_limit(VocalPhrase(0, [[0.0, 0.25]] * 4, [])) == 4


def test_an_edited_line_keeps_its_section_and_rhyme_letter() -> None:
    line = LyricLine(2, "chorus", "Hold me through the twilight", [], "B")
    edited, fit = edited_line(line, CHORUS, "Hold me, hold me through the endless twilight")
    assert (edited.section_index, edited.section_name, edited.rhyme) == (2, "chorus", "B")
    assert fit == FIT_SPLIT
    assert "".join(s.text for s in edited.syllables) == "Holdmeholdmethroughtheendlesstwilight"
    assert [s.word_end for s in edited.syllables].count(True) == 8


def test_edits_apply_only_while_the_line_still_says_what_was_edited() -> None:
    lines = [
        LyricLine(1, "verse", "You drift inside the dreamy satellite", [Syllable("x", 12.5, 0.5)], "A"),
        LyricLine(2, "chorus", "Hold me through the twilight", [Syllable("x", 36.0, 1.0)], "A"),
    ]
    edits = [
        LineEdit(1, "Hold me through the twilight", "Hold me now"),
        LineEdit(0, "Some other words written before", "Never applied"),
        LineEdit(7, "No such line", "Never applied"),
    ]
    out = apply_edits(lines, [VERSE, CHORUS], edits)
    assert [line.text for line in out] == ["You drift inside the dreamy satellite", "Hold me now"]
    assert out[0] is lines[0]
    # Three stressed syllables on the three strong onsets, each held to the next.
    assert [(s.start, s.duration) for s in out[1].syllables] == [(36.0, 2.0), (38.0, 2.0), (40.0, 3.0)]
    # Words that no longer fit their phrase leave the line as written.
    too_long = [LineEdit(1, "Hold me through the twilight", "la " * 13)]
    assert apply_edits(lines, [VERSE, CHORUS], too_long)[1] is lines[1]


def test_stored_edits_round_trip_and_junk_is_ignored() -> None:
    edits = [LineEdit(3, "a", "b"), LineEdit(1, "c", "d")]
    assert LineEdit.parse([e.to_dict() for e in edits]) == sorted(edits, key=lambda e: e.line)
    assert LineEdit.parse(None) == [] and LineEdit.parse([{"line": 1}]) == []
