"""Voice engine: picks a voice and sings the lyrics, one note per syllable.

The melody of each lyric line is found by a Viterbi search over the scale
notes inside the voice's range. Costs encode what makes a line singable:
steps preferred over leaps, a leap turning back by step, chord tones on
strong beats and stressed syllables, a contour around the middle of the range
(higher in choruses), phrase ends on degrees 1, 3 or 5. Some choices are hard
rules rather than costs: notes stay in the scale and range, strong onsets take
chord tones, phrase ends take stable degrees. A line whose text and rhythm
come back (a chorus) is sung to the same melody.
"""

from __future__ import annotations

import bisect
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.composition.context import (
    SCALES,
    SOURCE_INPUT,
    SOURCE_PROFILE,
    SOURCE_PROMPT,
    SOURCE_SEED,
    SOURCE_VOICE_PROFILE,
    ChordEvent,
    CompositionContext,
    LyricLine,
    VocalPhrase,
    pitch_class,
    prior_factor,
    scale_pitch_classes,
)

if TYPE_CHECKING:
    from .profiles import ProfileSinger

STABLE_DEGREES = (0, 2, 4)  # scale indexes of degrees 1, 3, 5

# Section -> shift of the melody's centre (semitones): choruses sit higher.
REGISTER_SHIFT = {
    "chorus": 2.0,
    "pre-chorus": 1.0,
    "bridge": 1.0,
    "verse": -1.0,
    "intro": -1.0,
    "outro": -2.0,
}

# Interval size (semitones) -> cost: steps and thirds are cheap, beyond a sixth is rare.
INTERVAL_COST = (0.8, 0.0, 0.0, 0.5, 0.6, 2.2, 4.0, 3.0, 5.0, 6.0, 14.0, 16.0, 18.0)
LEAP = 5  # a fourth or more is a leap that should turn back
UNRESOLVED_LEAP_COST = 6.0
ZIGZAG_COST = 0.5
CONTOUR_WEIGHT = 0.25
OUTSIDE_TESSITURA_COST = 1.0
STRESSED_NON_CHORD_COST = 1.5
WEAK_NON_CHORD_COST = 0.3
MOTIF_DEVIATION_COST = 3.0
NOISE = 0.6


@dataclass(frozen=True)
class VoiceSpec:
    name: str
    low: int  # MIDI note, comfortable range
    high: int
    program: int  # GM program (0-based) the line is rendered with
    description: str


VOICES: dict[str, VoiceSpec] = {
    "soprano": VoiceSpec("soprano", 60, 81, 53, "high female voice, C4-A5, bright and airy"),
    "mezzo": VoiceSpec("mezzo", 57, 77, 53, "middle female voice, A3-F5, the common pop register"),
    "alto": VoiceSpec("alto", 53, 74, 52, "low female voice, F3-D5, warm and dark"),
    "tenor": VoiceSpec("tenor", 48, 69, 53, "high male voice, C3-A4, the common rock and pop register"),
    "baritone": VoiceSpec("baritone", 45, 65, 52, "middle male voice, A2-F4, full and rounded"),
    "bass": VoiceSpec("bass", 40, 64, 52, "low male voice, E2-E4, deep"),
}

# Genre -> GM program, where the genre has a voice colour of its own.
GENRE_PROGRAMS = {
    "electronic": 54,
    "house": 54,
    "techno": 54,
    "trap": 54,
    "drum-and-bass": 54,
    "dream-pop": 54,
    "ambient": 52,
    "cinematic": 52,
}

# Genre -> voice weights when nothing in the prompt or input decides.
GENRE_VOICES: dict[str, dict[str, float]] = {
    "pop": {"soprano": 2, "mezzo": 3, "tenor": 2, "alto": 1},
    "rock": {"tenor": 3, "baritone": 2, "mezzo": 1},
    "electronic": {"soprano": 3, "mezzo": 2, "tenor": 1},
    "house": {"mezzo": 3, "soprano": 2, "alto": 1},
    "techno": {"alto": 2, "baritone": 1, "mezzo": 1},
    "hip-hop": {"baritone": 3, "tenor": 2, "alto": 1},
    "trap": {"baritone": 3, "tenor": 2},
    "lo-fi": {"mezzo": 2, "alto": 2, "tenor": 1},
    "jazz": {"alto": 3, "baritone": 2, "mezzo": 1},
    "r&b": {"mezzo": 3, "alto": 2, "tenor": 2},
    "ambient": {"soprano": 3, "mezzo": 1},
    "cinematic": {"soprano": 3, "bass": 1, "baritone": 1},
    "folk": {"alto": 2, "tenor": 2, "baritone": 1},
    "dream-pop": {"soprano": 3, "mezzo": 2},
    "drum-and-bass": {"mezzo": 2, "soprano": 2},
    "reggae": {"tenor": 2, "baritone": 2},
}
DEFAULT_VOICES = {"soprano": 1.0, "mezzo": 1.0, "alto": 1.0, "tenor": 1.0, "baritone": 1.0, "bass": 0.5}

_VOCAL_WORDS = frozenset(
    {"voice", "voices", "vocal", "vocals", "singer", "singers", "sung", "sings", "vocalist"}
)
_FEMALE = frozenset({"female", "woman", "women", "girl", "feminine", "diva", "she"})
_MALE = frozenset({"male", "man", "men", "guy", "boy", "masculine", "he"})
_HIGH = frozenset({"high", "airy", "angelic", "falsetto", "bright", "light"})
_LOW = frozenset({"deep", "low", "husky", "gravelly", "dark", "rich", "smoky", "baritone"})
_INSTRUMENTS = frozenset(
    {"sax", "saxophone", "clarinet", "guitar", "line", "drum", "drums", "trombone", "flute"}
)
_NAME_ALIASES = {"mezzo-soprano": "mezzo", "contralto": "alto", "mezzosoprano": "mezzo"}


@dataclass
class VoiceResult:
    voice: str
    voice_source: str  # SOURCE_INPUT / SOURCE_PROMPT / SOURCE_SEED / SOURCE_PROFILE / SOURCE_VOICE_PROFILE
    low: int
    high: int
    notes: list[list[float]] = field(
        default_factory=list
    )  # [pitch, start, duration, velocity], one per syllable
    syllables: list[str] = field(default_factory=list)  # the syllable sung on each note
    program: int = 53


# --------------------------------------------------------------------------- voice choice


def choose_voice(ctx: CompositionContext, seed: int) -> tuple[VoiceSpec, str]:
    """The voice and where the choice came from: the input, the prompt, or the seed (by genre and mood)."""
    rng = random.Random(f"voice-choice:{seed}")
    explicit = ctx.inputs.get("voice")
    if explicit is not None and str(explicit).strip():
        name = str(explicit).strip().lower()
        name = _NAME_ALIASES.get(name, name)
        if name not in VOICES:
            raise ValueError(f"unknown voice {explicit!r}; choose one of: {', '.join(VOICES)}")
        return VOICES[name], SOURCE_INPUT
    weights = _prompt_voices(ctx.prompt)
    if weights:
        return VOICES[_pick(weights, rng)], SOURCE_PROMPT
    seeded = _seeded_voices(ctx)
    prior = ctx.prior_weights("voices")
    if not prior:
        return VOICES[_pick(seeded, rng)], SOURCE_SEED
    # The caller's profile leans the draw: each voice's weight times its prior factor.
    leaned = {name: w * prior_factor(prior.get(name, 0.0)) for name, w in seeded.items()}
    name = _pick(leaned, rng)
    unleaned = _pick(seeded, random.Random(f"voice-choice:{seed}"))
    return VOICES[name], SOURCE_SEED if name == unleaned else SOURCE_PROFILE


def _pick(weights: dict[str, float], rng: random.Random) -> str:
    names = sorted(weights)
    return rng.choices(names, [weights[n] for n in names])[0]


def _prompt_voices(prompt: str) -> dict[str, float]:
    """Voice weights the prompt asks for, {} if it says nothing about the voice."""
    tokens = re.findall(r"[a-z&-]+", prompt.lower())
    near_vocal: set[str] = set()
    for k, token in enumerate(tokens):
        if token in _VOCAL_WORDS or token.startswith("sing"):
            near_vocal.update(tokens[max(0, k - 3) : k + 2])
    named = []
    for k, token in enumerate(tokens):
        name = _NAME_ALIASES.get(token, token)
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if name in VOICES and following not in _INSTRUMENTS:
            # "bass" and "alto" also name instruments: believe them only next to a vocal word.
            if name in ("bass", "alto") and token not in near_vocal:
                continue
            named.append(name)
    if named:
        return {named[0]: 1.0}
    words = set(tokens)
    female = bool(words & {"female", "feminine"} or (words & _FEMALE and near_vocal & _FEMALE))
    male = bool(words & {"male", "masculine"} or (words & _MALE and near_vocal & _MALE))
    high = bool(near_vocal & _HIGH) or "falsetto" in words
    low = bool(near_vocal & _LOW)
    if female and not male:
        if high:
            return {"soprano": 1.0}
        if low:
            return {"alto": 1.0}
        return {"soprano": 2.0, "mezzo": 3.0, "alto": 1.0}
    if male and not female:
        if high:
            return {"tenor": 1.0}
        if low:
            return {"bass": 1.0, "baritone": 1.0}
        return {"tenor": 3.0, "baritone": 2.0}
    if high:
        return {"soprano": 2.0, "tenor": 1.0}
    if low:
        return {"baritone": 2.0, "bass": 1.0, "alto": 1.0}
    return {}


def _seeded_voices(ctx: CompositionContext) -> dict[str, float]:
    weights: dict[str, float] = {}
    for genre in ctx.genres or []:
        for name, w in GENRE_VOICES.get(genre.name, DEFAULT_VOICES).items():
            weights[name] = weights.get(name, 0.0) + w * genre.weight
    if not weights:
        weights = dict(DEFAULT_VOICES)
    if ctx.mood is not None:
        # Bright, energetic moods lean to higher voices; dark, low moods to lower ones.
        lift = 0.5 * ctx.mood.valence + 0.5 * (ctx.mood.energy - 0.5)
        for name in weights:
            centre = (VOICES[name].low + VOICES[name].high) / 2.0
            weights[name] *= max(0.2, 1.0 + lift * (centre - 60.0) / 10.0)
    return weights


# --------------------------------------------------------------------------- singing


@dataclass
class _Slot:
    """One syllable to sing, with what the harmony and metre ask of it."""

    start: float
    duration: float
    stress: int
    strong: bool
    chord: set[int]  # pitch classes of the chord sounding at the onset
    text: str


def sing(ctx: CompositionContext, seed: int, profile: ProfileSinger | None = None) -> VoiceResult:
    """The melody of the lyrics, in the register of the chosen voice, or of a voice profile (which
    then decides: the `voice` input and the prompt are not consulted)."""
    if profile is not None:
        catalog = VOICES[profile.voice]
        description = f"a voice profile, sung by the {catalog.name} singer"
        spec = VoiceSpec(profile.voice, profile.low, profile.high, catalog.program, description)
        source = SOURCE_VOICE_PROFILE
    else:
        spec, source = choose_voice(ctx, seed)
    program = _program(ctx, spec)
    result = VoiceResult(spec.name, source, spec.low, spec.high, [], [], program)
    if not ctx.lyrics:
        return result
    key, scale = ctx.key or "C", ctx.scale if ctx.scale in SCALES else "major"
    in_scale = scale_pitch_classes(key, scale)
    tonic = pitch_class(key)
    stable = {(tonic + SCALES[scale][d]) % 12 for d in STABLE_DEGREES}
    pitches = [p for p in range(spec.low, spec.high + 1) if p % 12 in in_scale]
    chords = sorted(ctx.chords, key=lambda c: c.start)
    starts = [c.start for c in chords]
    sections = {s.index: s for s in ctx.sections}
    phrases = _phrases_by_line(ctx)
    motifs: dict[tuple[object, ...], list[int]] = {}
    previous: int | None = None
    beats_per_bar = float(ctx.time_signature[0]) if ctx.time_signature else 4.0
    for index, line in enumerate(ctx.lyrics):
        if not line.syllables:
            continue
        slots = _slots(line, phrases.get(index), chords, starts, beats_per_bar)
        section = sections.get(line.section_index)
        energy = section.energy if section is not None else 0.6
        motif_key = (
            line.section_name,
            line.text,
            tuple((round(s.start - slots[0].start, 3), s.duration) for s in slots),
        )
        motif = motifs.get(motif_key)
        if motif is not None and _fits(motif, slots, stable, spec):
            melody = motif
        else:
            rng = random.Random(f"voice:{seed}:{line.section_name}:{line.text}")
            centre = (
                (spec.low + spec.high) / 2.0
                + REGISTER_SHIFT.get(line.section_name, 0.0)
                + 2.0 * (energy - 0.5)
            )
            melody = _viterbi(slots, pitches, stable, spec, centre, previous, motif, rng)
            motifs.setdefault(motif_key, melody)
        for k, (slot, pitch) in enumerate(zip(slots, melody, strict=True)):
            following = slots[k + 1].start if k + 1 < len(slots) else None
            duration = slot.duration if following is None else min(slot.duration, following - slot.start)
            vel = _velocity(energy, slot, k == len(slots) - 1)
            result.notes.append([pitch, round(slot.start, 6), round(max(duration, 0.05), 6), vel])
            result.syllables.append(slot.text)
        previous = melody[-1]
    return result


def _program(ctx: CompositionContext, spec: VoiceSpec) -> int:
    if ctx.genres:
        top = max(ctx.genres, key=lambda g: g.weight)
        return GENRE_PROGRAMS.get(top.name, spec.program)
    return spec.program


def _phrases_by_line(ctx: CompositionContext) -> dict[int, VocalPhrase]:
    """Lyric lines are written one per vocal phrase, in order."""
    if len(ctx.vocal_phrases) != len(ctx.lyrics):
        return {}
    return dict(enumerate(ctx.vocal_phrases))


def _slots(
    line: LyricLine, phrase: VocalPhrase | None, chords: list[ChordEvent], starts: list[float], bar: float
) -> list[_Slot]:
    flags: dict[float, bool] = {}
    if phrase is not None and len(phrase.strong) == len(phrase.onsets):
        flags = {round(float(o[0]), 6): bool(s) for o, s in zip(phrase.onsets, phrase.strong, strict=True)}
    out: list[_Slot] = []
    for syl in line.syllables:
        at = round(float(syl.start), 6)
        strong = flags.get(at, _metric_strong(syl.start, bar))
        out.append(
            _Slot(syl.start, syl.duration, syl.stress, strong, _chord_at(syl.start, chords, starts), syl.text)
        )
    return out


def _metric_strong(beat: float, bar: float) -> bool:
    """Downbeats, and the middle of an even bar (beats 1 and 3 in 4/4)."""
    pos = beat % bar
    marks = [0.0, bar / 2.0] if bar % 2 == 0 else [0.0]
    return any(min(abs(pos - m), abs(pos - m - bar)) < 1e-6 for m in marks)


def _chord_at(beat: float, chords: list[ChordEvent], starts: list[float]) -> set[int]:
    if not chords:
        return set()
    i = max(0, bisect.bisect_right(starts, beat + 1e-9) - 1)
    chord = chords[i]
    pcs = {p % 12 for p in chord.pitches}
    return pcs or {chord.root % 12}


def _candidates(slot: _Slot, last: bool, pitches: list[int], stable: set[int]) -> list[int]:
    """Hard rules: strong onsets on chord tones, phrase ends on stable degrees."""
    options = pitches
    if slot.strong:
        chordal = [p for p in options if p % 12 in slot.chord]
        options = chordal or options
    if last:
        settled = [p for p in options if p % 12 in stable]
        options = settled or [p for p in pitches if p % 12 in stable] or options
    return options


def _fits(melody: list[int], slots: list[_Slot], stable: set[int], spec: VoiceSpec) -> bool:
    """Can a remembered melody be sung again over this line's harmony?"""
    if len(melody) != len(slots):
        return False
    for k, (pitch, slot) in enumerate(zip(melody, slots, strict=True)):
        if not spec.low <= pitch <= spec.high:
            return False
        if slot.strong and slot.chord and pitch % 12 not in slot.chord:
            return False
        if k == len(slots) - 1 and pitch % 12 not in stable:
            return False
    return True


def _interval_class(step: int) -> int:
    """-2 leap down, -1 step down, 0 unison, 1 step up, 2 leap up."""
    if step == 0:
        return 0
    size = 2 if abs(step) >= LEAP else 1
    return size if step > 0 else -size


def _transition(prev_class: int, step: int) -> float:
    size = abs(step)
    cost = INTERVAL_COST[min(size, len(INTERVAL_COST) - 1)]
    # After a leap: turn back by step.
    if abs(prev_class) == 2 and not (0 < size < LEAP and (step > 0) != (prev_class > 0)):
        cost += UNRESOLVED_LEAP_COST
    # Step, step back, step... a zigzag goes nowhere; runs and arcs carry a line.
    if abs(prev_class) == 1 and 0 < size < LEAP and (step > 0) != (prev_class > 0):
        cost += ZIGZAG_COST
    return cost


def _viterbi(
    slots: list[_Slot],
    pitches: list[int],
    stable: set[int],
    spec: VoiceSpec,
    centre: float,
    previous: int | None,
    motif: list[int] | None,
    rng: random.Random,
) -> list[int]:
    n = len(slots)
    shape = rng.choice(("arch", "arch", "rise", "fall", "valley"))
    span = rng.uniform(3.0, 6.0)
    comfort_low, comfort_high = spec.low + 3, spec.high - 3
    options = [_candidates(slot, k == n - 1, pitches, stable) for k, slot in enumerate(slots)]

    def node_cost(k: int, pitch: int) -> float:
        slot = slots[k]
        x = k / (n - 1) if n > 1 else 0.5
        contour = {
            "arch": 1.0 - abs(2.0 * x - 1.0),
            "rise": x,
            "fall": 1.0 - x,
            "valley": abs(2.0 * x - 1.0),
        }[shape]
        target = centre + span * (contour - 0.5)
        cost = CONTOUR_WEIGHT * abs(pitch - target)
        cost += OUTSIDE_TESSITURA_COST * (max(0, comfort_low - pitch) + max(0, pitch - comfort_high))
        if slot.chord and pitch % 12 not in slot.chord:
            cost += STRESSED_NON_CHORD_COST if slot.stress == 1 else WEAK_NON_CHORD_COST
        if motif is not None and k < len(motif) and pitch != motif[k]:
            cost += MOTIF_DEVIATION_COST
        return cost + rng.random() * NOISE

    # State: (pitch, class of the interval that reached it).
    best: dict[tuple[int, int], tuple[float, list[int]]] = {}
    for pitch in options[0]:
        cost = node_cost(0, pitch)
        if previous is not None:
            cost += 0.5 * INTERVAL_COST[min(abs(pitch - previous), len(INTERVAL_COST) - 1)]
        best[(pitch, 0)] = (cost, [pitch])
    for k in range(1, n):
        nodes = {pitch: node_cost(k, pitch) for pitch in options[k]}
        step_best: dict[tuple[int, int], tuple[float, list[int]]] = {}
        for (pitch, klass), (cost, path) in best.items():
            for nxt, node in nodes.items():
                total = cost + node + _transition(klass, nxt - pitch)
                state = (nxt, _interval_class(nxt - pitch))
                if state not in step_best or total < step_best[state][0]:
                    step_best[state] = (total, path)
        best = {state: (cost, [*path, state[0]]) for state, (cost, path) in step_best.items()}
    return min(best.values(), key=lambda v: (v[0], v[1]))[1]


def _velocity(energy: float, slot: _Slot, last: bool) -> int:
    vel = 58.0 + 40.0 * energy + (8.0 if slot.stress == 1 else 0.0) + (5.0 if slot.strong else 0.0)
    if last:
        vel -= 4.0  # phrase ends relax
    return max(30, min(120, round(vel)))
