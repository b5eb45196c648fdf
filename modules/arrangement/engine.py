"""The arrangement engine: key, mode, form, chords, vocal slots and instrument layers.

`arrange(ctx, seed)` is a pure function of the context and the seed. Every
random choice draws from its own `random.Random` seeded with the seed and a
purpose label, so changing one part (say the drums) never shifts another.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from modules.composition.context import (
    NOTE_NAMES,
    SCALES,
    SOURCE_INPUT,
    SOURCE_MOOD,
    SOURCE_PROFILE,
    SOURCE_PROMPT,
    SOURCE_REFERENCE,
    SOURCE_SEED,
    ChordEvent,
    CompositionContext,
    SectionPlan,
    Style,
    VocalPhrase,
    pitch_class,
)

from . import harmony
from .automation import automation_lanes
from .form import plan_sections
from .harmony import ChordSlot, Progression
from .melody import ChordTimeline, Rhythm, section_rhythms
from .patterns import Note, bass_part, chord_part, drum_part, is_strong, lead_part, pad_part

DRUM_CHANNEL = 9
TIME_SIGNATURE = [4, 4]
HUMANISE_SECONDS = 0.010

# Layer name -> (musical role, MIDI channel, default GM program, pan, base volume).
LAYER_SPECS: dict[str, tuple[str, int, int, int, int]] = {
    "drums": ("rhythm", DRUM_CHANNEL, 0, 64, 100),
    "bass": ("bass", 0, 33, 64, 100),
    "chords": ("harmony", 1, 0, 46, 86),
    "pad": ("pad", 2, 89, 84, 74),
    "lead": ("melody", 3, 80, 72, 92),
}
LAYER_ORDER = ("drums", "bass", "chords", "pad", "lead")
# Instrument words the genre stage or a client may use, mapped onto the layers the engine writes.
INSTRUMENT_ALIASES: dict[str, str] = {
    "drums": "drums", "drum": "drums", "percussion": "drums", "beat": "drums", "808": "drums",
    "bass": "bass", "sub": "bass", "sub bass": "bass",
    "chords": "chords", "piano": "chords", "keys": "chords", "guitar": "chords", "organ": "chords",
    "rhodes": "chords", "epiano": "chords",
    "pad": "pad", "pads": "pad", "strings": "pad", "choir": "pad",
    "lead": "lead", "melody": "lead", "synth": "lead", "sax": "lead", "brass": "lead", "bells": "lead",
}  # fmt: skip

# A plain pop groove for contexts that reach the engine without a genre style.
DEFAULT_STYLE = Style(
    swing=0.0,
    drums={
        "36": [1.0, 0, 0, 0, 0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0],
        "38": [0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0, 0, 0, 1.0, 0, 0, 0],
        "42": [0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0, 0.7, 0, 0.5, 0],
    },
    programs={"bass": 33, "chords": 0, "pad": 89, "lead": 80},
    bass_rhythm=[1.0, 0, 0, 0, 0, 0, 0.6, 0, 0.9, 0, 0, 0, 0, 0, 0.6, 0],
    chord_rhythm=[1.0, 0, 0, 0, 0, 0, 0, 0, 0.8, 0, 0, 0, 0, 0, 0, 0],
    density=0.5,
    progressions=["I-V-vi-IV", "vi-IV-I-V"],
)


@dataclass
class LayerResult:
    name: str  # layer name: drums, bass, chords, pad, lead
    role: str  # rhythm, bass, harmony, pad, melody
    program: int  # GM program, 0-based (ignored for drums)
    channel: int  # MIDI channel 0..15; 9 for drums
    is_drum: bool
    volume: int  # CC7 0..127
    pan: int  # CC10 0..127
    notes: list[Note] = field(default_factory=list)  # [pitch, start_beat, duration_beats, velocity]
    automation: list[dict[str, Any]] = field(default_factory=list)  # lanes, see automation.py


@dataclass
class ArrangementResult:
    key: str
    key_source: str
    scale: str
    scale_source: str
    time_signature: list[int]
    total_beats: float
    sections: list[SectionPlan]
    chords: list[ChordEvent]
    vocal_phrases: list[VocalPhrase]
    layers: list[LayerResult]
    progressions: dict[str, str] = field(default_factory=dict)  # section name -> progression family played


def _rng(seed: int, purpose: str) -> random.Random:
    return random.Random(f"coda-arrangement:{seed}:{purpose}")


def _clamp01(x: float) -> float:
    return max(0.0, min(1.0, x))


# ---------------------------------------------------------------- harmony plan


def _rotation_start(progression: Progression, prefer: tuple[int, ...]) -> int:
    """Index of the first non-tonic chord whose degree is in `prefer` (half the loop otherwise)."""
    for degree in prefer:
        for i, (d, _) in enumerate(progression.chords):
            if i and d == degree:
                return i
    return len(progression.chords) // 2


def _progressions(
    scale: str, style: Style, sevenths: bool, rng: random.Random
) -> tuple[dict[str, Progression], dict[str, str]]:
    """The loop each section type plays; the chorus gets the genre's best-fitting family."""
    families = harmony.fitting_families(scale, style.progressions)
    # Earlier (better fitting, more preferred) families are likelier for the chorus.
    chorus_name = rng.choices(families, weights=[1.0 / (i + 1) for i in range(len(families))], k=1)[0]
    chorus = harmony.make_progression(chorus_name, sevenths)
    others = [f for f in families if f != chorus_name]
    if others:
        verse_name = rng.choice(others)
        verse = harmony.make_progression(verse_name, sevenths)
    else:
        verse = harmony.rotate(chorus, _rotation_start(chorus, (5, 3)))
        verse_name = harmony.describe(verse.chords, scale)
    bridge = harmony.rotate(chorus, _rotation_start(chorus, (3, 5, 4)))
    # The pre-chorus keeps the song's colour: sevenths if the chorus has them.
    pre = harmony.pre_chorus_progression(scale, sevenths or any(sev for _, sev in chorus.chords))
    plan = {
        "intro": chorus,
        "chorus": chorus,
        "outro": chorus,
        "verse": verse,
        "bridge": bridge,
        "pre-chorus": pre,
    }
    names = {
        "intro": chorus_name,
        "chorus": chorus_name,
        "outro": chorus_name,
        "verse": verse_name,
        "bridge": harmony.describe(bridge.chords, scale),
        "pre-chorus": pre.name,
    }
    return plan, names


def _chord_slots(sections: list[SectionPlan], plan: dict[str, Progression]) -> list[ChordSlot]:
    slots: list[ChordSlot] = []
    for i, sec in enumerate(sections):
        rel = harmony.section_slots(
            sec, plan[sec.name], bridge=sec.name == "bridge", cadence=i == len(sections) - 1
        )
        base = sec.start_bar * 4.0
        slots += [ChordSlot(base + s, d, deg, sev, sec.index) for s, d, deg, sev in rel]
    return slots


# ---------------------------------------------------------------- vocal slots


def _vocal_plan(
    sections: list[SectionPlan], seed: int, tempo: float, density: float
) -> tuple[dict[str, list[Rhythm]], list[VocalPhrase]]:
    """Phrase rhythms per section name (repeats reuse them) and the vocal phrases they place."""
    rhythms: dict[str, list[Rhythm]] = {}
    for sec in sections:
        if sec.name in ("intro", "outro") or sec.name in rhythms:
            continue
        rng = _rng(seed, f"vocal:{sec.name}")
        rhythms[sec.name] = section_rhythms(rng, sec.name, max(1, sec.bars // 2), tempo, density)
    if "chorus" not in rhythms:  # the lead's hook borrows the chorus rhythm even in odd forms
        rhythms["chorus"] = section_rhythms(_rng(seed, "vocal:chorus"), "chorus", 1, tempo, density)
    phrases: list[VocalPhrase] = []
    for sec in sections:
        if not sec.vocal:
            continue
        base = sec.start_bar * 4.0
        for j, rhythm in enumerate(rhythms[sec.name][: max(1, sec.bars // 2)]):
            onsets = [[base + 8.0 * j + o, d] for o, d in rhythm]
            phrases.append(VocalPhrase(sec.index, onsets, [is_strong(o[0]) for o in onsets]))
    return rhythms, phrases


# ---------------------------------------------------------------- layers


def _wanted_layers(ctx: CompositionContext, style: Style) -> list[str]:
    has_grid = any(any(float(v) > 0 for v in grid) for grid in style.drums.values())
    if ctx.instruments:
        wanted = {INSTRUMENT_ALIASES.get(i.strip().lower(), "") for i in ctx.instruments}
    else:
        wanted = {"drums", "pad"} if "pad" in style.programs else {"drums"}
    wanted |= {"bass", "chords", "lead"}  # the harmonic and melodic core is always there
    if not has_grid:
        wanted.discard("drums")
    if not wanted & {"drums", "pad"}:
        wanted.add("drums" if has_grid else "pad")  # something must carry time or space
    return [name for name in LAYER_ORDER if name in wanted]


def _humanise(notes: list[Note], rng: random.Random, spb: float, total: float, vel_jitter: int) -> list[Note]:
    """Small seeded timing (about ±10 ms) and velocity deviations; notes stay inside the song."""
    jitter = HUMANISE_SECONDS / spb
    out: list[Note] = []
    for pitch, start, duration, vel in sorted(notes, key=lambda n: (n[1], n[0])):
        t = min(max(0.0, start + rng.uniform(-jitter, jitter)), total - 0.05)
        d = max(0.05, min(duration, total - t))
        v = max(1, min(127, int(vel) + rng.randint(-vel_jitter, vel_jitter)))
        out.append([int(pitch), round(t, 4), round(d, 4), v])
    return out


# ---------------------------------------------------------------- entry point


def arrange(ctx: CompositionContext, seed: int) -> ArrangementResult:
    style = ctx.style or DEFAULT_STYLE
    tempo = float(ctx.tempo or 120.0)
    spb = 60.0 / tempo
    mood_energy = _clamp01(ctx.energy if ctx.energy is not None else (ctx.mood.energy if ctx.mood else 0.5))

    # Mode: explicit input wins, then one the prompt names ("in D minor"), then a genre reference
    # track's (major or minor); otherwise the mood's candidates, decided by the genre's progressions.
    # The key likewise. A key or mode the prompt names is settled: no prior leans it.
    reference = ctx.inputs.get("genre_reference") or {}
    named_key, named_scale = harmony.prompt_key(ctx.prompt or "")
    requested_scale = ctx.inputs.get("scale")
    if requested_scale in SCALES:
        scale, scale_source = str(requested_scale), SOURCE_INPUT
    elif named_scale is not None:
        scale, scale_source = named_scale, SOURCE_PROMPT
    elif reference.get("scale") in SCALES:
        scale, scale_source = str(reference["scale"]), SOURCE_REFERENCE
    else:
        # The mood's candidate modes, decided by the genre's progressions, leaned by a "scales" prior.
        candidates = harmony.mode_candidates(ctx.mood, mood_energy)
        scale = harmony.choose_scale(candidates, style.progressions, ctx.prior_weights("scales"))
        unleaned = harmony.choose_scale(candidates, style.progressions)
        scale_source = SOURCE_MOOD if scale == unleaned else SOURCE_PROFILE

    requested_key = ctx.inputs.get("key")
    if requested_key:
        key, key_source = NOTE_NAMES[pitch_class(str(requested_key))], SOURCE_INPUT
    elif named_key is not None:
        key, key_source = named_key, SOURCE_PROMPT
    elif reference.get("key"):
        key, key_source = NOTE_NAMES[pitch_class(str(reference["key"]))], SOURCE_REFERENCE
    else:
        key = harmony.choose_key(_rng(seed, "key"), scale, ctx.prior_weights("keys"))
        unleaned = harmony.choose_key(_rng(seed, "key"), scale)
        key_source = SOURCE_SEED if key == unleaned else SOURCE_PROFILE
    tonic = pitch_class(key)

    sections = plan_sections(float(ctx.duration_seconds), tempo, mood_energy, ctx.instrumental)
    bars = sections[-1].start_bar + sections[-1].bars
    total_beats = float(bars * 4)

    plan, progression_names = _progressions(
        scale, style, harmony.wants_sevenths(ctx.mood, scale), _rng(seed, "progression")
    )
    chords = harmony.realise(_chord_slots(sections, plan), tonic, scale)
    timeline = ChordTimeline(chords)

    rhythms, phrases = _vocal_plan(sections, seed, tempo, style.density)

    layers: list[LayerResult] = []
    for name in _wanted_layers(ctx, style):
        role, channel, default_program, pan, volume = LAYER_SPECS[name]
        if name == "drums":
            notes = drum_part(style, sections, mood_energy, _rng(seed, "drums"))
        elif name == "bass":
            notes = bass_part(style, sections, timeline, tonic, scale, mood_energy, _rng(seed, "bass"))
        elif name == "chords":
            notes = chord_part(style, sections, timeline, mood_energy)
        elif name == "pad":
            notes = pad_part(sections, chords, mood_energy)
        else:
            notes = lead_part(sections, timeline, tonic, scale, rhythms, phrases, mood_energy, seed)
        notes = _humanise(
            notes, _rng(seed, f"humanise:{name}"), spb, total_beats, 6 if name == "drums" else 4
        )
        layers.append(
            LayerResult(
                name=name,
                role=role,
                program=int(style.programs.get(name, default_program)) if name != "drums" else 0,
                channel=channel,
                is_drum=name == "drums",
                volume=max(1, min(127, round(volume * (0.85 + 0.15 * mood_energy)))),
                pan=pan,
                notes=notes,
                automation=automation_lanes(role, sections),
            )
        )

    return ArrangementResult(
        key=key,
        key_source=key_source,
        scale=scale,
        scale_source=scale_source,
        time_signature=list(TIME_SIGNATURE),
        total_beats=total_beats,
        sections=sections,
        chords=chords,
        vocal_phrases=phrases if not ctx.instrumental else [],
        layers=layers,
        progressions={s.name: progression_names[s.name] for s in sections},
    )
