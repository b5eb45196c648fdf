"""Unit checks on the arrangement's building blocks: numerals, modes, voicing, form, phrase rhythms."""

from __future__ import annotations

import itertools
import random

import pytest

from modules.arrangement import harmony
from modules.arrangement.form import form_for_duration, plan_sections
from modules.arrangement.melody import ChordTimeline, melodize, phrase_rhythm, stable_pcs
from modules.arrangement.patterns import is_strong
from modules.composition.context import ChordEvent, MoodInfo, SectionPlan


def test_parse_family_reads_roman_numerals() -> None:
    numerals = harmony.parse_family("I-V-vi-IV")
    assert numerals is not None
    assert [n.degree for n in numerals] == [0, 4, 5, 3]
    assert [n.quality for n in numerals] == ["maj", "maj", "min", "maj"]
    bvii = harmony.parse_family("I-bVII-IV")
    assert bvii is not None and (bvii[1].degree, bvii[1].accidental) == (6, -1)
    maj7 = harmony.parse_family("Imaj7-IVmaj7")
    assert maj7 is not None and all(n.seventh for n in maj7)
    assert harmony.parse_family("12-bar blues") is None


@pytest.mark.parametrize(
    ("family", "scale", "fits"),
    [
        ("I-V-vi-IV", "major", True),
        ("I-V-vi-IV", "minor", False),
        ("i-VI-III-VII", "minor", True),
        ("i-VI-III-VII", "harmonic_minor", False),
        ("I-bVII-IV", "mixolydian", True),
        ("I-bVII-IV", "major", False),
        ("Imaj7-IVmaj7", "major", True),
        ("Imaj7-IVmaj7", "lydian", False),  # IV is diminished in Lydian
        ("ii-V-I", "major", True),
        ("i-iv-v", "minor", True),
        ("i-iv-v", "major", False),
    ],
)
def test_family_fit(family: str, scale: str, fits: bool) -> None:
    numerals = harmony.parse_family(family)
    assert numerals is not None
    assert (harmony.family_fit(numerals, scale) >= harmony.FIT_THRESHOLD) is fits


def test_every_mode_default_family_fits_its_mode() -> None:
    for scale, families in harmony.MODE_FAMILIES.items():
        for family in families:
            numerals = harmony.parse_family(family)
            assert numerals is not None and harmony.family_fit(numerals, scale) == 1.0, (scale, family)


def test_diatonic_chords() -> None:
    assert harmony.diatonic_chord(0, "major", 4, True) == (7, "7", [7, 11, 2, 5])  # G7 in C
    assert harmony.diatonic_chord(0, "major", 5, False) == (9, "min", [9, 0, 4])  # Am in C
    assert harmony.diatonic_chord(9, "harmonic_minor", 4, False) == (
        4,
        "maj",
        [4, 8, 11],
    )  # E in A harm. minor
    assert harmony.diatonic_chord(4, "phrygian", 1, False) == (5, "maj", [5, 9, 0])  # F in E Phrygian
    assert harmony.chord_symbol(10, "min7") == "A#m7"


@pytest.mark.parametrize(
    ("mood", "first"),
    [
        (MoodInfo("happy", 0.9, 0.7), "major"),
        (MoodInfo("dreamy", 0.7, 0.3, ["dreamy"]), "lydian"),
        (MoodInfo("confident", 0.4, 0.7, ["confident"]), "mixolydian"),
        (MoodInfo("sad", -0.6, 0.3), "minor"),
        (MoodInfo("dark", -0.7, 0.4, ["dark"]), "phrygian"),
        (MoodInfo("tense", -0.5, 0.9, ["tense"]), "harmonic_minor"),
    ],
)
def test_mood_orders_the_modes(mood: MoodInfo, first: str) -> None:
    assert harmony.mode_candidates(mood, mood.energy)[0] == first


def test_genre_progressions_decide_between_suitable_modes() -> None:
    # Dreamy prefers Lydian, but pop's I-V-vi-IV does not fit Lydian: major with sevenths wins.
    assert harmony.choose_scale(["lydian", "major"], ["I-V-vi-IV"]) == "major"
    assert harmony.choose_scale(["lydian", "major"], ["I-V-vi-II"]) == "lydian"
    assert harmony.choose_scale(["mixolydian", "major"], ["I-bVII-IV", "I-IV-V"]) == "mixolydian"
    assert harmony.fitting_families("minor", ["I-V-vi-IV"]) == list(harmony.MODE_FAMILIES["minor"])


def test_voice_leading_keeps_common_tones() -> None:
    c = harmony.voice_chord([0, 4, 7], None)
    assert c == [60, 64, 67]
    f = harmony.voice_chord([5, 9, 0], c)
    assert f == [60, 65, 69]  # C stays, E->F, G->A
    g = harmony.voice_chord([7, 11, 2], f)
    assert max(abs(a - b) for a, b in zip(f, g, strict=True)) <= 3  # no common tone: every voice steps


def test_short_sections_squeeze_the_loop_and_the_song_ends_home() -> None:
    loop = harmony.make_progression("I-V-vi-IV", False)
    intro = SectionPlan(0, "intro", 0, 2, 0.3, False)
    slots = harmony.section_slots(intro, loop)
    assert [(s, d, deg) for s, d, deg, _ in slots] == [
        (0.0, 2.0, 0),
        (2.0, 2.0, 4),
        (4.0, 2.0, 5),
        (6.0, 2.0, 3),
    ]
    outro = SectionPlan(5, "outro", 40, 2, 0.3, False)
    assert harmony.section_slots(outro, loop, cadence=True)[-1][2] == 0
    bridge = SectionPlan(7, "bridge", 60, 8, 0.5, True)
    degrees = [deg for _, _, deg, _ in harmony.section_slots(bridge, loop, bridge=True)]
    assert degrees == [0, 0, 4, 4, 5, 5, 3, 3]  # half the harmonic rhythm


def test_three_chord_families_make_four_bar_loops() -> None:
    assert harmony.make_progression("ii-V-I", False).chords == ((1, True), (4, True), (0, True), (0, True))


@pytest.mark.parametrize("duration", [15, 30, 75, 150, 240])
def test_form_boundaries(duration: int) -> None:
    expected = {15: 3, 30: 4, 75: 6, 150: 10, 240: 10}[duration]
    assert len(form_for_duration(duration)) == expected
    sections = plan_sections(duration, 120.0, 0.5, False)
    assert abs(sum(s.bars for s in sections) - duration * 120 / 240) <= 1


def test_mood_energy_lifts_the_whole_curve() -> None:
    calm = plan_sections(120, 100.0, 0.1, False)
    wild = plan_sections(120, 100.0, 0.9, False)
    assert all(w.energy > c.energy for w, c in zip(wild, calm, strict=True))


@pytest.mark.parametrize("section", ["verse", "pre-chorus", "chorus", "bridge"])
@pytest.mark.parametrize("tempo", [70.0, 120.0, 170.0])
def test_phrase_rhythms_are_singable(section: str, tempo: float) -> None:
    for seed in range(60):
        rhythm = phrase_rhythm(random.Random(seed), section, tempo, 0.5)
        assert 6 <= len(rhythm) <= 10
        assert rhythm[0][0] in (0.0, 0.5, 1.0)
        for (s1, d1), (s2, _) in itertools.pairwise(rhythm):
            assert s1 + d1 == s2 and d1 in (0.5, 1.0)
        last_start, last_duration = rhythm[-1]
        assert last_duration >= 1.5 and last_start + last_duration <= 7.0
        # Beats 1 and 3 of the phrase's bars are sung unless the phrase has not started yet.
        onsets = {s for s, _ in rhythm}
        assert all(b in onsets for b in (2.0, 4.0) if b < last_start)


def test_fast_tempos_sing_fewer_syllables() -> None:
    slow = [len(phrase_rhythm(random.Random(s), "verse", 72.0, 0.5)) for s in range(40)]
    fast = [len(phrase_rhythm(random.Random(s), "verse", 170.0, 0.5)) for s in range(40)]
    assert sum(fast) < sum(slow)


def test_melodize_moves_by_step_and_ends_on_a_stable_degree() -> None:
    chords = [
        ChordEvent(0.0, 4.0, 0, "maj", "C", [60, 64, 67]),
        ChordEvent(4.0, 4.0, 7, "maj", "G", [59, 62, 67]),
    ]
    onsets = [(0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0), (5.0, 2.0)]
    for seed in range(30):
        pitches = melodize(onsets, ChordTimeline(chords), 0, "major", 60, 84, random.Random(seed), is_strong)
        assert all(p % 12 in {0, 2, 4, 5, 7, 9, 11} for p in pitches)
        assert max(abs(b - a) for a, b in itertools.pairwise(pitches)) <= 9
        assert pitches[-1] % 12 in stable_pcs(0, "major") & {7, 11, 2}  # chord tone of G and degree 1/3/5
        assert pitches[0] % 12 in {0, 4, 7} and pitches[3] % 12 in {0, 4, 7}  # strong beats on chord tones


@pytest.mark.parametrize(
    ("prompt", "named"),
    [
        ("jazz in D minor", ("D", "minor")),
        ("a ballad in F# major", ("F#", "major")),
        ("funk in Bb", ("A#", None)),  # the mode left open; the tonic spelled as NOTE_NAMES spells it
        ("in B flat minor", ("A#", "minor")),
        ("rock in Am", ("A", "minor")),
        ("key of E", ("E", None)),
        ("a D minor ballad", ("D", "minor")),
        ("in d minor, please", ("D", "minor")),
        ("In Eb mixolydian", ("D#", "mixolydian")),
        ("in E harmonic minor", ("E", "harmonic_minor")),
        ("a song in a minor key", (None, None)),  # "a", not A
        ("A minor hit for the summer", (None, None)),  # an article, not a key
        ("made in G-funk style", (None, None)),
        ("recorded in D.C.", (None, None)),
        ("Made In America", (None, None)),
        ("dreamy pop about the sea", (None, None)),
    ],
)
def test_a_key_named_in_the_prompt_is_read(prompt: str, named: tuple[str | None, str | None]) -> None:
    assert harmony.prompt_key(prompt) == named
