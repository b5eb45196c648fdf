"""Musical checks on the arrangement engine over a grid of styles, moods, lengths and seeds."""

from __future__ import annotations

import dataclasses
import io
import itertools

import mido
import pytest

from modules.arrangement.engine import ArrangementResult, LayerResult, arrange
from modules.arrangement.form import form_for_duration
from modules.arrangement.patterns import step_time
from modules.composition.context import (
    NOTE_NAMES,
    SCALES,
    SOURCE_INPUT,
    SOURCE_MOOD,
    SOURCE_SEED,
    ChordEvent,
    pitch_class,
    scale_pitch_classes,
)
from modules.composition.midi import DRUM_CHANNEL, MidiTrack, write_midi

EPS = 1e-6
# Humanising moves notes by about ±10 ms; at the tempos here that is well under 0.03 beats.
TIMING_TOLERANCE = 0.035

MINORISH = {"minor", "dorian", "phrygian", "harmonic_minor"}


def layer(result: ArrangementResult, name: str) -> LayerResult:
    found = [lay for lay in result.layers if lay.name == name]
    assert found, f"no {name} layer in {[lay.name for lay in result.layers]}"
    return found[0]


def section_of_bar(result: ArrangementResult, bar: int):
    for s in result.sections:
        if s.start_bar <= bar < s.start_bar + s.bars:
            return s
    raise AssertionError(f"bar {bar} outside the song")


def chord_at(result: ArrangementResult, beat: float) -> ChordEvent:
    return [c for c in result.chords if c.start <= beat + EPS][-1]


# ---------------------------------------------------------------- key, scale, notes


def test_every_pitched_note_is_in_key(case, song) -> None:
    result = song(*case)
    pcs = scale_pitch_classes(result.key, result.scale)
    for lay in result.layers:
        if lay.is_drum:
            continue
        outside = [n for n in lay.notes if int(n[0]) % 12 not in pcs]
        assert not outside, f"{lay.name}: {outside[:5]} not in {result.key} {result.scale}"


def test_every_note_lies_inside_the_song(case, song) -> None:
    result = song(*case)
    for lay in result.layers:
        assert lay.notes, f"{lay.name} is empty"
        for pitch, start, duration, velocity in lay.notes:
            assert start >= 0.0 and start + duration <= result.total_beats + EPS
            assert duration > 0 and 1 <= velocity <= 127 and 0 <= pitch <= 127


def test_key_and_scale_are_valid_and_sourced(case, song) -> None:
    result = song(*case)
    assert result.key in NOTE_NAMES and result.scale in SCALES
    assert (result.key_source, result.scale_source) == (SOURCE_SEED, SOURCE_MOOD)
    assert result.time_signature == [4, 4]


def test_explicit_key_and_scale_are_honoured(song) -> None:
    result = song("pop", "melancholic", 60, 5, key="Bb", scale="dorian")
    assert (result.key, result.scale) == ("A#", "dorian")
    assert (result.key_source, result.scale_source) == (SOURCE_INPUT, SOURCE_INPUT)
    pcs = scale_pitch_classes("Bb", "dorian")
    for lay in result.layers:
        if not lay.is_drum:
            assert {int(n[0]) % 12 for n in lay.notes} <= pcs
    assert all({p % 12 for p in c.pitches} <= pcs for c in result.chords)
    assert result.chords[0].root == 10  # the song starts on its tonic, Bb


@pytest.mark.parametrize("style", ["pop", "electronic", "hip-hop", "ambient", "jazz"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_valence_chooses_the_mode(song, style: str, seed: int) -> None:
    assert song(style, "melancholic", 60, seed).scale in MINORISH
    assert song(style, "tense", 60, seed).scale in MINORISH
    assert song(style, "uplifting", 60, seed).scale in {"major", "lydian"}


def test_dreamy_mood_gets_major_sevenths_or_lydian(song) -> None:
    result = song("pop", "dreamy", 60, 1)
    assert result.scale in {"lydian", "major"}
    qualities = {c.quality for c in result.chords}
    assert result.scale == "lydian" or "maj7" in qualities


def test_key_is_chosen_by_the_seed(song) -> None:
    keys = {song("pop", "uplifting", 30, seed).key for seed in range(1, 13)}
    assert len(keys) >= 3  # seeded, not a constant


# ---------------------------------------------------------------- form


@pytest.mark.parametrize("duration", [15, 20, 29, 30, 45, 74, 75, 120, 149, 150, 200, 240])
@pytest.mark.parametrize("tempo", [70.0, 96.0, 124.0, 174.0])
def test_song_lasts_the_requested_time(song, duration: int, tempo: float) -> None:
    result = song("pop", "uplifting", duration, 1, tempo=tempo)
    bar_seconds = 4 * 60.0 / tempo
    seconds = result.total_beats * 60.0 / tempo
    assert abs(seconds - duration) <= bar_seconds + EPS
    bars = sum(s.bars for s in result.sections)
    assert bars * 4 == result.total_beats
    start = 0
    for i, s in enumerate(result.sections):
        assert (s.index, s.start_bar) == (i, start) and s.bars >= 1
        start += s.bars
    assert [s.name for s in result.sections] == list(form_for_duration(duration))


@pytest.mark.parametrize(
    ("duration", "form"),
    [
        (20, ["intro", "chorus", "outro"]),
        (60, ["intro", "verse", "chorus", "outro"]),
        (100, ["intro", "verse", "chorus", "verse", "chorus", "outro"]),
        (
            200,
            [
                "intro",
                "verse",
                "pre-chorus",
                "chorus",
                "verse",
                "pre-chorus",
                "chorus",
                "bridge",
                "chorus",
                "outro",
            ],
        ),
    ],
)
def test_form_follows_music_notes(song, duration: int, form: list[str]) -> None:
    result = song("electronic", "uplifting", duration, 4)
    assert [s.name for s in result.sections] == form
    for s in result.sections:
        if s.name in ("intro", "outro"):
            assert 1 <= s.bars <= 4
        else:
            assert s.bars % 4 == 0


def test_sections_at_a_moderate_tempo_have_conventional_sizes(song) -> None:
    result = song("pop", "uplifting", 150, 2, tempo=96.0)  # 60 bars
    sizes = {s.name: s.bars for s in result.sections}
    assert sizes["intro"] in (2, 3, 4) and sizes["outro"] in (2, 3, 4)
    assert all(sizes[n] in (4, 8) for n in ("verse", "pre-chorus", "chorus", "bridge"))


def test_chorus_is_the_energy_peak_and_intro_is_low(case, song) -> None:
    result = song(*case)
    chorus = [s.energy for s in result.sections if s.name == "chorus"]
    others = [s.energy for s in result.sections if s.name != "chorus"]
    assert chorus and min(chorus) > max(others)
    intro = result.sections[0]
    assert intro.name == "intro" and intro.energy == min(s.energy for s in result.sections)


def test_vocal_flags(case, song) -> None:
    result = song(*case)
    for s in result.sections:
        assert s.vocal == (s.name in ("verse", "pre-chorus", "chorus", "bridge"))


# ---------------------------------------------------------------- chords


def test_every_bar_has_one_or_two_chords_in_key(case, song) -> None:
    result = song(*case)
    pcs = scale_pitch_classes(result.key, result.scale)
    bars = int(result.total_beats // 4)
    starts: dict[int, list[ChordEvent]] = {}
    for c in result.chords:
        starts.setdefault(int(c.start // 4), []).append(c)
        assert {p % 12 for p in c.pitches} <= pcs, c.symbol
        assert all(48 <= p <= 72 for p in c.pitches), c.pitches
        assert c.root == c.pitches[0] % 12 or c.root in {p % 12 for p in c.pitches}
        assert section_of_bar(result, int(c.start // 4)).index == c.section_index
    assert sorted(starts) == list(range(bars))
    for bar, events in starts.items():
        assert 1 <= len(events) <= 2 and events[0].start == bar * 4.0
    # Contiguous: each chord ends where the next starts, the last at the end of the song.
    for a, b in zip(result.chords, result.chords[1:], strict=False):
        assert a.start + a.duration == pytest.approx(b.start)
    last = result.chords[-1]
    assert last.start + last.duration == pytest.approx(result.total_beats)


def test_song_ends_on_the_tonic(case, song) -> None:
    result = song(*case)
    assert result.chords[-1].root == pitch_class(result.key)


def test_voice_leading_is_smooth(case, song) -> None:
    result = song(*case)
    moves = []
    for a, b in zip(result.chords, result.chords[1:], strict=False):
        # Each voice of the new chord goes to its nearest old voice.
        moves.append(sum(min(abs(p - q) for q in a.pitches) for p in b.pitches) / len(b.pitches))
    assert moves and sum(moves) / len(moves) <= 2.0
    assert max(moves) <= 5.0


def test_pop_progression_maps_onto_c_major(song) -> None:
    result = song("pop", "uplifting", 60, 1, key="C", scale="major")
    chorus = next(s for s in result.sections if s.name == "chorus")
    symbols = [c.symbol for c in result.chords if c.section_index == chorus.index]
    loops = {
        "I-V-vi-IV": ["C", "G", "Am", "F"],
        "vi-IV-I-V": ["Am", "F", "C", "G"],
        "I-IV-V": ["C", "F", "G", "G"],
    }
    expected = loops[result.progressions["chorus"]]
    assert symbols == (expected * 8)[: len(symbols)]


def test_minor_family_maps_onto_a_minor(song) -> None:
    result = song("hip-hop", "melancholic", 60, 1, key="A", scale="minor")
    assert result.progressions["chorus"] == "i-VI-III-VII"  # ii-V-I does not fit minor
    chorus = next(s for s in result.sections if s.name == "chorus")
    symbols = [c.symbol for c in result.chords if c.section_index == chorus.index]
    assert symbols[:4] == ["Am", "F", "C", "G"]


def test_jazz_ii_v_i_uses_sevenths(song) -> None:
    result = song("jazz", "uplifting", 60, 1, key="F", scale="major")
    chorus = next(s for s in result.sections if s.name == "chorus")
    chords = [c for c in result.chords if c.section_index == chorus.index]
    expected = {"ii-V-I": ["Gm7", "C7", "Fmaj7", "Fmaj7"], "Imaj7-IVmaj7": ["Fmaj7", "A#maj7"] * 2}
    assert [c.symbol for c in chords[:4]] == expected[result.progressions["chorus"]]
    assert all(len(c.pitches) == 4 for c in chords)


def test_repeated_sections_reuse_their_progression(song) -> None:
    result = song("pop", "uplifting", 200, 2)
    by_name: dict[str, list[list[str]]] = {}
    for s in result.sections:
        by_name.setdefault(s.name, []).append([c.symbol for c in result.chords if c.section_index == s.index])
    for name in ("verse", "chorus", "pre-chorus"):
        first, *rest = by_name[name]
        assert all(r == first for r in rest), name
    assert by_name["verse"][0] != by_name["chorus"][0]


# ---------------------------------------------------------------- vocal phrases


def test_vocal_phrases_are_singable_slots(case, song) -> None:
    result = song(*case)
    vocal = {s.index: s for s in result.sections if s.vocal}
    assert result.vocal_phrases
    assert {p.section_index for p in result.vocal_phrases} == set(vocal)
    previous_end = 0.0
    for phrase in result.vocal_phrases:
        section = vocal[phrase.section_index]
        lo, hi = section.start_bar * 4.0, (section.start_bar + section.bars) * 4.0
        assert 6 <= len(phrase.onsets) <= 10
        assert len(phrase.strong) == len(phrase.onsets)
        assert phrase.onsets[0][0] >= previous_end - EPS  # no overlap with the previous phrase
        for (start, duration), strong in zip(phrase.onsets, phrase.strong, strict=True):
            assert lo <= start and start + duration <= hi
            assert strong == (start % 4.0 in (0.0, 2.0))
        for (s1, d1), (s2, _) in zip(phrase.onsets, phrase.onsets[1:], strict=False):
            assert s1 + d1 <= s2 + EPS and d1 in (0.5, 1.0)  # eighths and quarters
        last_start, last_duration = phrase.onsets[-1]
        assert last_duration >= 1.5  # a longer last note
        span_start = lo + 8.0 * ((phrase.onsets[0][0] - lo) // 8.0)
        assert last_start + last_duration <= span_start + 7.0 + EPS  # at least a beat of rest
        assert any(phrase.strong)
        previous_end = last_start + last_duration


def test_phrases_are_about_one_per_two_bars(song) -> None:
    result = song("pop", "uplifting", 100, 1, tempo=112.0)
    for s in result.sections:
        count = sum(1 for p in result.vocal_phrases if p.section_index == s.index)
        assert count == (s.bars // 2 if s.vocal else 0)


def test_second_chorus_reuses_the_rhythm_shifted(song) -> None:
    result = song("electronic", "uplifting", 120, 3)
    choruses = [s for s in result.sections if s.name == "chorus"]
    assert len(choruses) == 2

    def relative(section) -> list[list[float]]:
        base = section.start_bar * 4.0
        return [
            [o[0] - base, o[1]]
            for p in result.vocal_phrases
            if p.section_index == section.index
            for o in p.onsets
        ]

    assert relative(choruses[0]) == relative(choruses[1])
    verses = [s for s in result.sections if s.name == "verse"]
    assert relative(verses[0]) == relative(verses[1]) != relative(choruses[0])


def test_instrumental_has_no_vocals_but_a_lead_tune(song) -> None:
    result = song("pop", "uplifting", 100, 1, instrumental=True)
    assert result.vocal_phrases == []
    assert not any(s.vocal for s in result.sections)
    lead = layer(result, "lead")
    for s in result.sections:
        lo, hi = s.start_bar * 4.0, (s.start_bar + s.bars) * 4.0
        assert sum(1 for n in lead.notes if lo <= n[1] < hi) >= 4, s.name


def test_counter_melody_stays_out_of_the_singers_way(song) -> None:
    result = song("pop", "uplifting", 100, 2)
    lead = layer(result, "lead")
    sung = [(o[0], o[0] + o[1]) for p in result.vocal_phrases for o in p.onsets]
    for _, start, duration, _ in lead.notes:
        for a, b in sung:
            overlap = min(b, start + duration) - max(a, start)
            assert overlap <= TIMING_TOLERANCE, (start, duration, a, b)


# ---------------------------------------------------------------- layers


def test_layers_have_distinct_channels_and_style_programs(case, song, styles) -> None:
    style_name = case[0]
    result = song(*case)
    channels = [lay.channel for lay in result.layers]
    assert len(set(channels)) == len(channels)
    for lay in result.layers:
        assert 0 <= lay.volume <= 127 and 0 <= lay.pan <= 127
        assert (lay.channel == DRUM_CHANNEL) == lay.is_drum == (lay.name == "drums")
        if lay.name in styles[style_name].programs:
            assert lay.program == styles[style_name].programs[lay.name]
    names = {lay.name for lay in result.layers}
    assert {"bass", "chords", "lead"} <= names and names & {"drums", "pad"}


def test_instruments_are_honoured(song) -> None:
    ambient = song("ambient", "neutral", 60, 1)
    assert [lay.name for lay in ambient.layers] == ["bass", "chords", "pad", "lead"]
    no_pad = song("electronic", "uplifting", 60, 1, instruments=("drums", "bass", "chords", "lead"))
    assert "pad" not in {lay.name for lay in no_pad.layers}
    # Asking for drums in a style without a drum grid yields a pad, not silence.
    bare = song("ambient", "neutral", 60, 1, instruments=("drums", "bass", "chords", "lead"))
    assert "pad" in {lay.name for lay in bare.layers} and "drums" not in {lay.name for lay in bare.layers}


def test_kicks_follow_the_style_grid(song, styles) -> None:
    result = song("electronic", "uplifting", 100, 1)
    drums = layer(result, "drums")
    kicks = sorted(n[1] for n in drums.notes if n[0] == 36)
    grid = styles["electronic"].drums["36"]
    checked = 0
    for s in result.sections:
        if s.name != "chorus":
            continue
        for bar in range(s.start_bar, s.start_bar + s.bars - 1):  # the last bar holds a fill
            expected = [step_time(bar, i, 0.0) for i, v in enumerate(grid) if v > 0]
            found = [k for k in kicks if bar * 4 - 0.1 <= k < bar * 4 + 3.9]
            assert len(found) == len(expected), bar
            for k, e in zip(found, expected, strict=True):
                assert abs(k - e) <= TIMING_TOLERANCE
                checked += 1
    assert checked >= 28


def test_crashes_mark_section_starts_and_fills_end_sections(song) -> None:
    result = song("pop", "uplifting", 100, 1)
    drums = layer(result, "drums")
    crashes = [n[1] for n in drums.notes if n[0] == 49]
    fill_notes = {38, 45, 47, 50}
    for s in result.sections[1:]:
        assert any(abs(c - s.start_bar * 4.0) <= TIMING_TOLERANCE for c in crashes), s.name
    for s in result.sections[:-1]:
        bar = s.start_bar + s.bars - 1
        late = [n for n in drums.notes if n[0] in fill_notes and bar * 4 + 2.9 <= n[1] < bar * 4 + 4]
        # The grid has no snare after beat 4; a fill puts several hits there.
        assert len(late) >= 2, s.name


def test_drums_are_busier_and_louder_in_the_chorus(song) -> None:
    result = song("pop", "uplifting", 100, 1)
    drums = layer(result, "drums")

    def per_bar(name: str) -> tuple[float, float]:
        notes, bars = [], 0
        for s in result.sections:
            if s.name == name:
                bars += s.bars
                notes += [n for n in drums.notes if s.start_bar * 4 <= n[1] < (s.start_bar + s.bars) * 4]
        return len(notes) / bars, sum(n[3] for n in notes) / len(notes)

    intro, verse, chorus = per_bar("intro"), per_bar("verse"), per_bar("chorus")
    assert chorus[0] > verse[0] > intro[0]
    assert chorus[1] > verse[1] > intro[1]


def test_swing_delays_off_beat_sixteenths(song, styles) -> None:
    result = song("hip-hop", "neutral", 60, 1)
    hats = [n[1] for n in layer(result, "drums").notes if n[0] == 42]
    offsets = [round((t * 4) % 1.0, 3) for t in hats]
    swung = [o for o in offsets if 0.15 <= o <= 0.45]  # 0.25 swing of a 16th, ± humanising
    straight = [o for o in offsets if o <= 0.15 or o >= 0.85]
    assert swung and straight
    assert not [o for o in offsets if 0.45 < o < 0.85]


def test_bass_register_and_roots(case, song) -> None:
    result = song(*case)
    bass = layer(result, "bass")
    assert all(28 <= n[0] <= 52 for n in bass.notes)
    # On every downbeat where the chord changes, the bass plays that chord's root.
    on_root = total = 0
    for c in result.chords:
        hits = [n for n in bass.notes if abs(n[1] - c.start) <= TIMING_TOLERANCE]
        if hits:
            total += 1
            on_root += hits[0][0] % 12 == c.root
    assert total and on_root / total >= 0.95


def test_jazz_bass_walks_quarters(song) -> None:
    result = song("jazz", "uplifting", 60, 2)
    bass = layer(result, "bass")
    verse = next(s for s in result.sections if s.name == "verse")
    for bar in range(verse.start_bar, verse.start_bar + verse.bars):
        notes = [n for n in bass.notes if bar * 4 - 0.05 <= n[1] < bar * 4 + 3.95]
        assert len(notes) == 4
        next_root = chord_at(result, bar * 4 + 4.0).root
        if next_root != chord_at(result, bar * 4).root:
            # Beat 4 approaches the next root by a step.
            target = min(
                (p for p in range(28, 53) if p % 12 == next_root), key=lambda p: abs(p - notes[3][0])
            )
            assert 1 <= abs(notes[3][0] - target) <= 2


def test_chord_layer_plays_the_voiced_chords(song) -> None:
    result = song("pop", "uplifting", 60, 1)
    comp = layer(result, "chords")
    for c in result.chords:
        struck = {n[0] for n in comp.notes if abs(n[1] - c.start) <= TIMING_TOLERANCE}
        assert struck == set(c.pitches), c.symbol


def test_lead_is_in_register_and_states_the_hook(case, song) -> None:
    result = song(*case)
    lead = layer(result, "lead")
    assert all(60 <= n[0] <= 84 for n in lead.notes)
    intro = result.sections[0]
    assert any(n[1] < (intro.start_bar + intro.bars) * 4 for n in lead.notes)
    # Notes on beats 1 and 3 are chord tones.
    strong = [n for n in lead.notes if min(n[1] % 2.0, 2.0 - n[1] % 2.0) <= TIMING_TOLERANCE]
    good = sum(1 for n in strong if n[0] % 12 in {p % 12 for p in chord_at(result, round(n[1])).pitches})
    assert strong and good / len(strong) >= 0.9


def test_lead_moves_mostly_by_step(song) -> None:
    result = song("pop", "uplifting", 100, 1, instrumental=True)
    pitches = [int(n[0]) for n in sorted(layer(result, "lead").notes, key=lambda n: n[1])]
    intervals = [abs(b - a) for a, b in itertools.pairwise(pitches)]
    assert sum(1 for i in intervals if i <= 4) / len(intervals) >= 0.7
    assert max(intervals) <= 12


def test_velocity_follows_mood_energy(song) -> None:
    loud = song("pop", "uplifting", 60, 1)  # energy 0.8
    soft = song("pop", "melancholic", 60, 1)  # energy 0.3
    for name in ("drums", "bass", "chords"):
        mean_loud = sum(n[3] for n in layer(loud, name).notes) / len(layer(loud, name).notes)
        mean_soft = sum(n[3] for n in layer(soft, name).notes) / len(layer(soft, name).notes)
        assert mean_loud > mean_soft + 3, name


def test_timing_is_humanised_but_tight(song) -> None:
    result = song("pop", "uplifting", 60, 1)
    offsets = [n[1] * 4 - round(n[1] * 4) for n in layer(result, "chords").notes]
    assert max(abs(o) for o in offsets) <= TIMING_TOLERANCE * 4
    assert sum(1 for o in offsets if abs(o) > 1e-3) > len(offsets) // 2


# ---------------------------------------------------------------- determinism and output


def test_same_seed_same_song_and_different_seed_different_notes(context) -> None:
    ctx = context("electronic", "uplifting", 60)
    a, b = arrange(ctx, 11), arrange(ctx, 11)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    c = arrange(ctx, 12)
    assert [lay.notes for lay in a.layers] != [lay.notes for lay in c.layers]
    # Even with the key fixed, the seed changes the performance.
    fixed = context("electronic", "uplifting", 60, key="D")
    assert [lay.notes for lay in arrange(fixed, 1).layers] != [lay.notes for lay in arrange(fixed, 2).layers]


def test_engine_does_not_mutate_the_context(context) -> None:
    ctx = context("pop", "dreamy", 100)
    before = ctx.to_dict()
    arrange(ctx, 3)
    assert ctx.to_dict() == before


def test_layers_write_to_midi_and_read_back(song) -> None:
    result = song("electronic", "uplifting", 60, 1)
    tracks = [
        MidiTrack(
            name=lay.name,
            notes=lay.notes,
            channel=DRUM_CHANNEL if lay.is_drum else lay.channel,
            program=lay.program,
            volume=lay.volume,
            pan=lay.pan,
        )
        for lay in result.layers
    ]
    data = write_midi(tracks, 126.0)
    midi = mido.MidiFile(file=io.BytesIO(data))
    assert len(midi.tracks) == len(result.layers) + 1
    for lay, track in zip(result.layers, midi.tracks[1:], strict=True):
        note_ons = [m for m in track if m.type == "note_on" and m.velocity > 0]
        assert len(note_ons) == len(lay.notes)
        assert {m.channel for m in note_ons} == {DRUM_CHANNEL if lay.is_drum else lay.channel}
    assert midi.length == pytest.approx(result.total_beats * 60 / 126.0, abs=0.05)


def test_no_style_or_mood_still_makes_a_song(context) -> None:
    ctx = context("pop", "neutral", 45)
    ctx.style, ctx.mood, ctx.energy, ctx.tempo, ctx.instruments = None, None, None, None, []
    result = arrange(ctx, 1)
    assert result.layers and result.chords and result.vocal_phrases
    assert abs(result.total_beats * 0.5 - 45) <= 2.0 + EPS  # default 120 bpm
