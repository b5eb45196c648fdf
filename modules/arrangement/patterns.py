"""The parts: drums, bass, chord comping, pad and lead, as note lists.

A note is [pitch, start_beat, duration_beats, velocity]. Rhythms come from the
genre's 16-step grids; section energy decides how much of a grid is played
(quiet intros drop the backbeat and ghost notes, choruses add 16th hats) and
how hard; the mood's energy lifts velocities across the song.
"""

from __future__ import annotations

import random

from modules.composition.context import ChordEvent, SectionPlan, Style, VocalPhrase

from .melody import ChordTimeline, Rhythm, melodize, scale_notes

Note = list[float]

KICK, RIM, SNARE, CLAP = 36, 37, 38, 39
CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM = 45, 47, 50
CRASH, RIDE = 49, 51
BACKBEAT = frozenset({SNARE, CLAP, RIM})
HATS = frozenset({CLOSED_HAT, PEDAL_HAT})

BASS_LOW, BASS_HIGH = 28, 52
LEAD_HIGH = 84  # the lead lives in 60..84; each use picks its own floor
STEPS = 16


def grid16(values: list[float] | None) -> list[float]:
    vals = [max(0.0, min(1.0, float(v))) for v in (values or [])][:STEPS]
    return vals + [0.0] * (STEPS - len(vals))


def step_time(bar: int, step: int, swing: float) -> float:
    """Beat of a 16th step; off-beat 16ths are delayed by the swing (a fraction of a 16th)."""
    return bar * 4.0 + step * 0.25 + (swing * 0.25 if step % 2 else 0.0)


def level(section_energy: float, mood_energy: float) -> float:
    return min(1.0, 0.55 + 0.35 * section_energy + 0.1 * mood_energy)


def velocity(value: float, lvl: float) -> int:
    return max(1, min(127, round(127 * value * lvl)))


def is_strong(beat: float) -> bool:
    """Beats 1 and 3 of a 4/4 bar."""
    return min(beat % 4.0, abs(beat % 4.0 - 2.0), 4.0 - beat % 4.0) < 1e-6


def total_bars(sections: list[SectionPlan]) -> int:
    return sections[-1].start_bar + sections[-1].bars if sections else 0


# ---------------------------------------------------------------- drums


def _fill(bar: int, first: int, lvl: float, swing: float, density: float, rng: random.Random) -> list[Note]:
    """A fill over the last half (or quarter) of a bar, crescendo into the next section."""
    steps = list(range(first, STEPS))
    if density < 0.35:
        steps = steps[::2]  # sparse genres: eighths, soft
        kinds = ["snare"]
    else:
        if density < 0.6:
            steps = steps[::2]
        kinds = ["snare", "toms", "mixed"]
    kind = rng.choice(kinds)
    toms = [HIGH_TOM, HIGH_TOM, MID_TOM, MID_TOM, LOW_TOM, LOW_TOM]
    notes: list[Note] = []
    for i, step in enumerate(steps):
        progress = i / max(1, len(steps) - 1)
        if kind == "snare" or (kind == "mixed" and progress < 0.5):
            pitch = SNARE
        else:
            pitch = toms[min(len(toms) - 1, int(progress * len(toms)))]
        value = 0.55 + 0.45 * progress
        notes.append([pitch, step_time(bar, step, swing), 0.25, velocity(value, lvl)])
    return notes


def drum_part(
    style: Style, sections: list[SectionPlan], mood_energy: float, rng: random.Random
) -> list[Note]:
    grids = {int(k): grid16(v) for k, v in style.drums.items() if str(k).strip().isdigit()}
    last_bar = total_bars(sections) - 1
    notes: list[Note] = []
    for si, sec in enumerate(sections):
        nxt = sections[si + 1] if si + 1 < len(sections) else None
        lvl = level(sec.energy, mood_energy)
        threshold = max(0.0, 0.6 - sec.energy)  # quiet sections drop ghost notes
        sparse = sec.name in ("intro", "outro") and sec.energy < 0.4  # the backbeat enters with the verse
        busy = sec.energy >= 0.75
        for b in range(sec.bars):
            bar = sec.start_bar + b
            t0 = bar * 4.0
            if bar == last_bar and nxt is None and sec.bars > 1:
                # The ending: one last kick and crash that ring out.
                notes += [[KICK, t0, 1.0, velocity(1.0, lvl)], [CRASH, t0, 3.0, velocity(0.9, lvl)]]
                continue
            fill_from: int | None = None
            if b == sec.bars - 1 and nxt is not None:
                fill_from = 8 if nxt.energy > sec.energy + 0.1 else 12  # bigger fill into a lift
            for pitch, grid in grids.items():
                for step, value in enumerate(grid):
                    if value <= 0.0 or value < threshold or (sparse and pitch in BACKBEAT):
                        continue
                    if (
                        fill_from is not None
                        and step >= fill_from
                        and not (pitch == KICK and step == fill_from)
                    ):
                        continue
                    notes.append([pitch, step_time(bar, step, style.swing), 0.25, velocity(value, lvl)])
                eighths_only = not any(grid[1::2]) and any(grid[0::2])
                if busy and pitch in HATS and eighths_only:
                    # Choruses get busier: ghost 16ths between the hats, as many as the style's density.
                    end = fill_from if fill_from is not None else STEPS
                    for step in range(1, end, 2):
                        if rng.random() < style.density:
                            notes.append([pitch, step_time(bar, step, style.swing), 0.2, velocity(0.35, lvl)])
            if b == 0 and sec.index > 0:
                notes.append([CRASH, t0, 2.0, velocity(0.85, lvl)])
            if fill_from is not None and nxt is not None:
                notes += _fill(
                    bar, fill_from, level(nxt.energy, mood_energy), style.swing, style.density, rng
                )
    return notes


# ---------------------------------------------------------------- bass


def chord_intervals(chord: ChordEvent) -> list[int]:
    """Semitones of the chord tones above the root, ascending: [0, third, fifth(, seventh)]."""
    return sorted({(p - chord.root) % 12 for p in chord.pitches})


def bass_root(pc: int) -> int:
    """The root in the bass's home octave, G1..F#2 (31..42)."""
    return 31 + (pc - 31) % 12


def _approach(target: int, current: int, tonic: int, scale: str) -> int:
    """A scale step next to the target root, on the side nearer the current note."""
    notes = [
        p for p in scale_notes(tonic, scale, BASS_LOW, BASS_HIGH) if p != target and abs(p - target) <= 2
    ]
    # Moving into the approach note sounds like a walk; repeating the current note does not.
    return min(notes, key=lambda p: (p == current, abs(p - current), p)) if notes else target


def _hit_steps(
    rhythm: list[float], bar: int, sec: SectionPlan, timeline: ChordTimeline, sustained: bool
) -> list[tuple[int, float]]:
    """Active steps of a bar with their grid values, plus steps where the harmony changes."""
    hits: dict[int, float] = {}
    if not sustained:
        threshold = max(0.0, 0.5 - sec.energy)
        hits = {s: v for s, v in enumerate(rhythm) if v > 0.0 and v >= threshold}
    t0 = bar * 4.0
    for step in range(STEPS):
        t = t0 + step * 0.25
        chord = timeline.at(t)
        if abs(chord.start - t) > 1e-6:
            continue
        previous = timeline.at(t - 0.01) if t > 0 else None
        if not (sustained or previous is None or previous.symbol != chord.symbol):
            continue
        # Strike a new chord on its first step unless the groove already hits it within this bar
        # (an off-beat skank keeps its off-beats).
        span_end = min(STEPS, step + round(chord.duration * 4))
        if sustained or not any(step <= s < span_end for s in hits):
            hits.setdefault(step, 0.8)
    return sorted(hits.items())


def bass_part(
    style: Style,
    sections: list[SectionPlan],
    timeline: ChordTimeline,
    tonic: int,
    scale: str,
    mood_energy: float,
    rng: random.Random,
) -> list[Note]:
    rhythm = grid16(style.bass_rhythm) if any(style.bass_rhythm) else grid16([1.0] + [0.0] * 7 + [0.8])
    quarters = [s for s, v in enumerate(rhythm) if v > 0]
    walking = quarters == [0, 4, 8, 12] and style.swing >= 0.15  # swung quarter bass: walk it
    notes: list[Note] = []
    for sec in sections:
        lvl = level(sec.energy, mood_energy)
        sustained = sec.energy < 0.3  # the quietest sections hold roots under the harmony
        for bar in range(sec.start_bar, sec.start_bar + sec.bars):
            hits = _hit_steps(rhythm, bar, sec, timeline, sustained)
            bar_end = bar * 4.0 + 4.0
            previous_pitch: int | None = None
            current_chord: ChordEvent | None = None
            for i, (step, value) in enumerate(hits):
                t = step_time(bar, step, style.swing)
                chord = timeline.at(t)
                change = timeline.next_change(t)
                nxt = step_time(bar, hits[i + 1][0], style.swing) if i + 1 < len(hits) else bar_end
                end = min(nxt, change) if change is not None and change > t else nxt
                root = bass_root(chord.root)
                intervals = chord_intervals(chord)
                third, fifth = root + intervals[1], root + intervals[2]
                new_chord = chord is not current_chord
                current_chord = chord
                next_chord = timeline.at(end + 1e-3) if change is not None and end >= change - 1e-6 else None
                if walking:
                    beat = step // 4
                    if new_chord:
                        pitch = root
                    elif next_chord is not None and next_chord.symbol != chord.symbol:
                        pitch = _approach(bass_root(next_chord.root), previous_pitch or root, tonic, scale)
                    else:
                        pitch = third if beat % 2 else fifth
                elif new_chord:
                    pitch = root
                elif (
                    next_chord is not None
                    and next_chord.symbol != chord.symbol
                    and sec.energy >= 0.5
                    and rng.random() < 0.5
                ):
                    pitch = _approach(bass_root(next_chord.root), previous_pitch or root, tonic, scale)
                elif step % 2 and sec.energy >= 0.6 and root + 12 <= BASS_HIGH:
                    pitch = root + 12  # octave pops on off-beat 16ths in busy sections
                elif step == 8 and rng.random() < 0.25 + 0.5 * style.density:
                    pitch = fifth
                else:
                    pitch = root
                duration = max(0.2, (end - t) * (0.95 if sustained else 0.9))
                notes.append([pitch, t, duration, velocity(0.6 + 0.4 * value, lvl)])
                previous_pitch = pitch
    return notes


# ---------------------------------------------------------------- chords and pad


def chord_part(
    style: Style, sections: list[SectionPlan], timeline: ChordTimeline, mood_energy: float
) -> list[Note]:
    rhythm = grid16(style.chord_rhythm) if any(style.chord_rhythm) else grid16([1.0] + [0.0] * 7 + [0.7])
    notes: list[Note] = []
    for sec in sections:
        lvl = level(sec.energy, mood_energy) * 0.85  # comping sits under the voice
        sustained = sec.energy < 0.3
        for bar in range(sec.start_bar, sec.start_bar + sec.bars):
            hits = _hit_steps(rhythm, bar, sec, timeline, sustained)
            bar_end = bar * 4.0 + 4.0
            for i, (step, value) in enumerate(hits):
                t = step_time(bar, step, style.swing)
                chord = timeline.at(t)
                change = timeline.next_change(t)
                nxt = step_time(bar, hits[i + 1][0], style.swing) if i + 1 < len(hits) else bar_end
                end = min(nxt, change) if change is not None and change > t else nxt
                if end - t < 0.3 and change is not None and end >= change - 1e-6 and i > 0:
                    continue  # a stab clipped by the next chord would only blur the change
                duration = max(0.2, (end - t) * 0.9)
                vel = velocity(0.55 + 0.45 * value, lvl)
                notes += [[p, t, duration, vel] for p in chord.pitches]
    return notes


def pad_voicing(chord: ChordEvent) -> list[int]:
    """Open voicing: root low, fifth above, third (and seventh) an octave up, so the pad frames the comp."""
    root = 48 + chord.root % 12 if chord.root % 12 <= 7 else 36 + chord.root % 12
    intervals = chord_intervals(chord)
    voiced = [root]
    if len(intervals) > 2:
        voiced.append(root + intervals[2])  # fifth
    voiced.append(root + 12 + intervals[1])  # tenth
    if len(intervals) > 3:
        voiced.append(root + 12 + intervals[3])  # seventh
    return sorted(voiced)


def pad_part(sections: list[SectionPlan], chords: list[ChordEvent], mood_energy: float) -> list[Note]:
    by_index = {s.index: s for s in sections}
    notes: list[Note] = []
    merged: list[ChordEvent] = []
    for chord in chords:
        last = merged[-1] if merged else None
        if last and last.symbol == chord.symbol and last.section_index == chord.section_index:
            merged[-1] = ChordEvent(
                last.start, last.duration + chord.duration, last.root, last.quality, last.symbol,
                last.pitches, last.section_index,
            )  # fmt: skip
        else:
            merged.append(chord)
    for chord in merged:
        sec = by_index[chord.section_index]
        # Pads carry quiet sections and step back when the band is loud.
        vel = max(1, min(127, round(40 + 30 * mood_energy + 25 * (1.0 - sec.energy))))
        notes += [[p, chord.start, chord.duration * 0.98, vel] for p in pad_voicing(chord)]
    return notes


# ---------------------------------------------------------------- lead


def _place(rhythms: list[Rhythm], start: float, end: float) -> list[tuple[float, float]]:
    """Lay phrase rhythms end to end from start, keeping notes that finish by end (leaving a breath)."""
    onsets: list[tuple[float, float]] = []
    for j, rhythm in enumerate(rhythms):
        base = start + 8.0 * j
        for offset, duration in rhythm:
            if base + offset + duration <= end - 0.25:
                onsets.append((base + offset, duration))
    return onsets


def lead_part(
    sections: list[SectionPlan],
    timeline: ChordTimeline,
    tonic: int,
    scale: str,
    rhythms: dict[str, list[Rhythm]],
    phrases: list[VocalPhrase],
    mood_energy: float,
    seed: int,
) -> list[Note]:
    """The hook in intro/outro, the tune in instrumental sections, answers in the singer's rests."""
    notes: list[Note] = []
    hook = rhythms.get("chorus") or next(iter(rhythms.values()), [])
    for sec in sections:
        start, end = sec.start_bar * 4.0, (sec.start_bar + sec.bars) * 4.0
        lvl = level(sec.energy, mood_energy)
        # Same section name + same chords -> same melody: repeated sections reuse their material.
        rng = random.Random(f"{seed}:lead:{sec.name}")
        if sec.name in ("intro", "outro") or (not sec.vocal and sec.name in rhythms):
            source = hook if sec.name in ("intro", "outro") else rhythms[sec.name]
            onsets = _place(source, start, end)
            if not onsets:
                onsets = [(start, max(0.5, end - start - 0.5))]
            low, high = (60, 77) if sec.name == "verse" else (64, LEAD_HIGH)
            value = 0.8 if sec.name in ("intro", "outro") else 0.9
        elif sec.vocal and sec.name != "verse":
            # Counter-melody: short answers in the rests between sung phrases, above the voice.
            onsets = []
            mine = sorted((p for p in phrases if p.section_index == sec.index), key=lambda p: p.onsets[0][0])
            for k, phrase in enumerate(mine):
                sung_end = phrase.onsets[-1][0] + phrase.onsets[-1][1]
                next_start = mine[k + 1].onsets[0][0] if k + 1 < len(mine) else end
                gap = next_start - sung_end
                if gap >= 2.0:
                    onsets += [(sung_end, 0.5), (sung_end + 0.5, 0.5), (sung_end + 1.0, min(1.5, gap - 1.25))]
                elif gap >= 1.0:
                    onsets += [(sung_end, 0.5), (sung_end + 0.5, gap - 0.75)]
            low, high = 69, LEAD_HIGH
            value = 0.6
        else:
            continue
        pitches = melodize(onsets, timeline, tonic, scale, low, high, rng, is_strong)
        notes += [[p, t, d * 0.95, velocity(value, lvl)] for p, (t, d) in zip(pitches, onsets, strict=True)]
    return notes
