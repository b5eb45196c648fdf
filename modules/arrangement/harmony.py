"""Harmony: mode from mood, key, progression families mapped onto the mode, voicing.

Progression families are written as roman numerals ("I-V-vi-IV", "i-VI-III-VII",
"I-bVII-IV", "Imaj7-IVmaj7"). A numeral names a scale degree of the chosen
mode; its case (and °/+) states the quality the family expects and an explicit
accidental pins the root relative to the major scale (bVII = a whole tone under
the tonic). Chords are always built diatonically on the chosen mode, so every
chord tone is in key; a family "fits" a mode when the diatonic chords have the
qualities the family expects. Mood picks a short list of suitable modes and the
genre's families decide among them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from modules.composition.context import NOTE_NAMES, SCALES, ChordEvent, MoodInfo, SectionPlan, prior_factor

MAJOR_STEPS = SCALES["major"]

_NUMERAL_RE = re.compile(
    r"^(?P<acc>[b#♭]?)(?P<num>VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
    r"(?P<mod>°|o|dim|\+|aug)?(?P<ext>maj7|M7|m7|7)?$"
)
_DEGREE = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}

# Stacked-third interval sets -> quality name used in ChordEvent.quality.
_QUALITY = {
    (4, 7): "maj",
    (3, 7): "min",
    (3, 6): "dim",
    (4, 8): "aug",
    (4, 7, 11): "maj7",
    (3, 7, 10): "min7",
    (4, 7, 10): "7",
    (3, 6, 10): "m7b5",
    (3, 7, 11): "mmaj7",
    (4, 8, 11): "maj7#5",
    (3, 6, 9): "dim7",
}
_SUFFIX = {
    "maj": "",
    "min": "m",
    "dim": "dim",
    "aug": "aug",
    "maj7": "maj7",
    "min7": "m7",
    "7": "7",
    "m7b5": "m7b5",
    "mmaj7": "m(maj7)",
    "maj7#5": "maj7#5",
    "dim7": "dim7",
}

# Families that fit each mode exactly; used when the genre offers none that fit.
MODE_FAMILIES: dict[str, tuple[str, ...]] = {
    "major": ("I-V-vi-IV", "vi-IV-I-V", "I-IV-V", "Imaj7-IVmaj7"),
    "lydian": ("I-V-vi-II", "Imaj7-II", "I-II-iii-II"),
    "mixolydian": ("I-bVII-IV", "I-v-bVII-IV", "I-IV-bVII-IV"),
    "dorian": ("i-IV", "i-bVII-IV", "i-IV-v-i"),
    "minor": ("i-VI-III-VII", "i-VII-VI-VII", "i-iv-v", "i-iv-VI-v"),
    "phrygian": ("i-bII", "i-bII-vii-i", "i-VI-bII-i"),
    "harmonic_minor": ("i-iv-V", "i-VI-iv-V", "i-V"),
}
# Jazz convention: ii-V-I is played with sevenths even when the family name omits them.
SEVENTH_FAMILIES = frozenset({"ii-V-I"})
MINOR_MODES = frozenset({"minor", "dorian", "phrygian", "harmonic_minor"})
FIT_THRESHOLD = 0.75

# Keys that sit well on guitars and keyboards are chosen more often.
_KEY_WEIGHTS_MAJOR = (3, 1, 3, 1, 2, 3, 1, 3, 1, 2, 2, 1)  # C C# D D# E F F# G G# A A# B
_KEY_WEIGHTS_MINOR = (2, 1, 3, 1, 3, 1, 2, 2, 1, 3, 1, 2)

_WORDS_DREAMY = {"dreamy", "bright", "ethereal", "magical", "floating", "wonder", "airy", "shimmering"}
_WORDS_DARK = {"dark", "ominous", "sinister", "menacing", "gloomy", "haunting", "eerie", "evil"}
_WORDS_TENSE = {"tense", "suspense", "suspenseful", "anxious", "dramatic", "urgent", "aggressive", "angry"}
_WORDS_CONFIDENT = {"confident", "groovy", "bluesy", "funky", "cool", "swagger", "playful", "bold"}


@dataclass(frozen=True)
class Numeral:
    degree: int  # 0..6, scale degree of the chosen mode
    accidental: int  # -1/+1 pins the root against the major scale; 0 = mode-relative
    quality: str  # triad quality the family expects: maj, min, dim, aug
    seventh: bool


@dataclass(frozen=True)
class ChordSlot:
    """A chord to play before voicing: a scale degree over a time span."""

    start: float
    duration: float
    degree: int
    seventh: bool
    section_index: int


def parse_family(name: str) -> list[Numeral] | None:
    """'I-V-vi-IV' -> numerals; None when any token is not a roman numeral (e.g. '12-bar blues')."""
    tokens = [t for t in re.split(r"[-\u2013\u2014\s]+", name.strip()) if t]
    numerals: list[Numeral] = []
    for token in tokens:
        match = _NUMERAL_RE.match(token)
        if not match:
            return None
        num, mod = match["num"], match["mod"] or ""
        if mod in ("°", "o", "dim"):
            quality = "dim"
        elif mod in ("+", "aug"):
            quality = "aug"
        else:
            quality = "maj" if num.isupper() else "min"
        accidental = {"b": -1, "♭": -1, "#": 1}.get(match["acc"], 0)
        numerals.append(Numeral(_DEGREE[num.lower()], accidental, quality, bool(match["ext"])))
    return numerals or None


def diatonic_chord(tonic: int, scale: str, degree: int, seventh: bool) -> tuple[int, str, list[int]]:
    """(root pitch class, quality, chord pitch classes from the root up) built from the mode's own notes."""
    steps = SCALES[scale]
    idx = [degree, degree + 2, degree + 4] + ([degree + 6] if seventh else [])
    semis = [steps[i % 7] + 12 * (i // 7) for i in idx]
    intervals = tuple(s - semis[0] for s in semis[1:])
    return (tonic + semis[0]) % 12, _QUALITY[intervals], [(tonic + s) % 12 for s in semis]


def chord_symbol(root: int, quality: str) -> str:
    return NOTE_NAMES[root] + _SUFFIX[quality]


def family_fit(numerals: list[Numeral], scale: str) -> float:
    """0..1: how well the mode's diatonic chords match what the family expects (tonic counts double)."""
    steps = SCALES[scale]
    score = weight = 0.0
    for n in numerals:
        w = 2.0 if n.degree == 0 else 1.0
        _, quality, _ = diatonic_chord(0, scale, n.degree, False)
        ok = quality == n.quality
        if n.accidental:
            ok = ok and steps[n.degree] == (MAJOR_STEPS[n.degree] + n.accidental) % 12
        # A diminished/augmented chord where the family wants a plain one sounds wrong, not just different.
        score += w * (1.0 if ok else (-0.5 if quality in ("dim", "aug") else 0.0))
        weight += w
    return max(0.0, score / weight)


def mode_candidates(mood: MoodInfo | None, energy: float) -> list[str]:
    """Modes that suit the mood, best first (MUSIC-NOTES 'Mood to harmony')."""
    valence = mood.valence if mood else 0.0
    words = {w.lower() for w in ([mood.name, *mood.tags] if mood else [])}
    dreamy, dark = bool(words & _WORDS_DREAMY), bool(words & _WORDS_DARK)
    tense = bool(words & _WORDS_TENSE) or (valence < -0.2 and energy >= 0.8)
    confident = bool(words & _WORDS_CONFIDENT)
    if valence >= 0.6:
        return ["lydian", "major"] if dreamy else ["major", "lydian"]
    if valence >= 0.3:
        if dreamy:
            return ["lydian", "major"]
        return ["mixolydian", "major", "dorian"] if confident else ["major", "mixolydian", "lydian"]
    if valence >= 0.05:
        if dreamy:
            return ["lydian", "major", "mixolydian"]
        return ["mixolydian", "dorian", "major"]
    if valence > -0.3:
        return ["dorian", "mixolydian", "minor"] if confident else ["dorian", "minor", "phrygian"]
    if tense:
        return ["harmonic_minor", "minor", "phrygian"]
    if dark or valence <= -0.7:
        return ["phrygian", "minor", "harmonic_minor"] if dark else ["minor", "phrygian", "harmonic_minor"]
    return ["minor", "dorian", "harmonic_minor"]


def wants_sevenths(mood: MoodInfo | None, scale: str) -> bool:
    """Dreamy moods colour major-ish modes with sevenths (MUSIC-NOTES: "Lydian or major 7th chords")."""
    words = {w.lower() for w in ([mood.name, *mood.tags] if mood else [])}
    return bool(words & _WORDS_DREAMY) and scale in ("major", "lydian")


SCALE_PRIOR_SHARE = 0.15  # a fully liked mode gains this much score: more than one rank of mood order


def choose_scale(candidates: list[str], families: list[str], prior: dict[str, float] | None = None) -> str:
    """The candidate mode best served by the genre's progression families (mood order breaks ties);
    a "scales" prior leans among the mood's candidates only, never past them."""
    parsed = [p for p in (parse_family(f) for f in families) if p]
    best_mode, best_score = candidates[0], -1e9
    for rank, mode in enumerate(candidates):
        fits = [family_fit(p, mode) for p in parsed]
        top = max(fits, default=0.0)
        score = (top if top >= FIT_THRESHOLD else 0.5) - 0.12 * rank
        score += SCALE_PRIOR_SHARE * max(-1.0, min(1.0, (prior or {}).get(mode, 0.0)))
        if score > best_score:
            best_mode, best_score = mode, score
    return best_mode


def fitting_families(scale: str, families: list[str]) -> list[str]:
    """Genre families that fit the mode, best first; the mode's own families when none do."""
    scored = []
    for order, name in enumerate(families):
        parsed = parse_family(name)
        if parsed:
            fit = family_fit(parsed, scale)
            if fit >= FIT_THRESHOLD:
                scored.append((-fit, order, name))
    return [name for _, _, name in sorted(scored)] or list(MODE_FAMILIES[scale])


# A key named in the prompt: "in D minor", "in F# major", "in Bb", "key of E", "a D minor ballad".
_MODE_NAMES = {
    "major": "major", "maj": "major", "ionian": "major",
    "minor": "minor", "min": "minor", "m": "minor", "aeolian": "minor",
    "harmonic minor": "harmonic_minor",
    "dorian": "dorian", "phrygian": "phrygian", "lydian": "lydian", "mixolydian": "mixolydian",
}  # fmt: skip
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "sharp": 1, "b": -1, "♭": -1, "flat": -1}
_NOTE = r"(?P<letter>[A-Ga-g])(?P<acc>#|♯|♭|b(?![a-z])|b(?=m(?![a-z]))|[ -](?i:sharp|flat))?"
_MODE = (
    r"(?:(?P<m>m)(?![a-z])|\s+(?P<mode>(?i:harmonic\s+minor|major|minor|maj|min|ionian|aeolian|dorian"
    r"|phrygian|lydian|mixolydian))(?![a-z]))?"
)
_END = r"(?![\w#♯♭-]|\.\w)"
# After "in" or "key of" the mode may be left out ("in Bb"); elsewhere a mode word must follow.
_KEY_AFTER_IN = re.compile(r"(?<![\w-])(?i:in|key\s+of|key)\s+" + _NOTE + _MODE + _END)
_KEY_NAMED = re.compile(r"(?<![\w#-])" + _NOTE + _MODE + _END)


def prompt_key(prompt: str) -> tuple[str | None, str | None]:
    """(tonic, mode) a prompt names, each None when it names none. The letter is a capital
    ("in a minor key" is no key); a lower-case one counts only after "in" with a mode word
    ("in d minor"), and never "a". Outside "in ..." a mode word must follow, and a bare "A" does
    not count ("A minor hit"). The tonic is spelled as in NOTE_NAMES (Bb -> A#)."""
    for pattern, needs_mode in ((_KEY_AFTER_IN, False), (_KEY_NAMED, True)):
        for found in pattern.finditer(prompt):
            letter, acc = found.group("letter"), (found.group("acc") or "").strip(" -").lower()
            mode = found.group("mode") or found.group("m")
            if letter.islower() and (letter == "a" or found.group("mode") is None):
                continue
            if needs_mode and (found.group("mode") is None or (letter == "A" and not acc)):
                continue
            tonic = NOTE_NAMES[(NOTE_NAMES.index(letter.upper()) + _ACCIDENTALS[acc]) % 12]
            scale = _MODE_NAMES[" ".join(mode.lower().split())] if mode else None
            return tonic, scale
    return None, None


def choose_key(rng: random.Random, scale: str, prior: dict[str, float] | None = None) -> str:
    """A tonic drawn by how common it is in the mode, each weight multiplied by the "keys" prior."""
    weights = _KEY_WEIGHTS_MINOR if scale in MINOR_MODES else _KEY_WEIGHTS_MAJOR
    if prior:
        leaned = zip(weights, NOTE_NAMES, strict=True)
        weights = tuple(w * prior_factor(prior.get(name, 0.0)) for w, name in leaned)
    return rng.choices(NOTE_NAMES, weights=weights, k=1)[0]


# ---------------------------------------------------------------- progressions over the form


@dataclass(frozen=True)
class Progression:
    name: str
    chords: tuple[tuple[int, bool], ...]  # (degree, seventh) per bar of the loop


def make_progression(name: str, sevenths: bool) -> Progression:
    """A loop of one chord per bar; 3-chord families hold their last chord so the loop is 4 bars."""
    numerals = parse_family(name) or []
    force7 = sevenths or name in SEVENTH_FAMILIES
    chords = [(n.degree, n.seventh or force7) for n in numerals]
    if len(chords) == 3:
        chords.append(chords[-1])
    return Progression(name, tuple(chords))


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


def describe(chords: tuple[tuple[int, bool], ...], scale: str) -> str:
    """Roman-numeral name of a loop as played in the mode, e.g. 'IV-vi-I-V'."""
    names: list[str] = []
    for degree, seventh in chords:
        triad = diatonic_chord(0, scale, degree, False)[1]
        numeral = _ROMAN[degree] if triad in ("maj", "aug") else _ROMAN[degree].lower()
        quality = diatonic_chord(0, scale, degree, seventh)[1]
        numeral += {
            "dim": "°", "aug": "+", "maj7": "maj7", "min7": "7", "7": "7", "m7b5": "ø7",
            "mmaj7": "maj7", "maj7#5": "maj7", "dim7": "°7",
        }.get(quality, "")  # fmt: skip
        if not names or names[-1] != numeral:
            names.append(numeral)
    return "-".join(names)


def rotate(progression: Progression, by: int) -> Progression:
    k = by % len(progression.chords)
    return Progression(progression.name, progression.chords[k:] + progression.chords[:k])


def _plain(scale: str, degree: int) -> bool:
    return diatonic_chord(0, scale, degree, False)[1] in ("maj", "min")


def pre_chorus_progression(scale: str, sevenths: bool) -> Progression:
    """Subdominant to dominant-ish motion that leans into the chorus, avoiding diminished chords."""
    for pair in ((3, 4), (5, 6), (1, 4), (5, 3), (1, 6)):
        if all(_plain(scale, d) for d in pair):
            chords = ((pair[0], sevenths), (pair[1], sevenths))
            return Progression(describe(chords, scale), chords)
    chords = ((3, sevenths), (4, sevenths))
    return Progression(describe(chords, scale), chords)


def section_slots(
    section: SectionPlan, progression: Progression, bridge: bool = False, cadence: bool = False
) -> list[tuple[float, float, int, bool]]:
    """(start, duration, degree, seventh) relative to the section start, one or two chords per bar."""
    loop = progression.chords
    bars = section.bars
    slots: list[tuple[float, float, int, bool]] = []
    if bars < len(loop):
        # Short section (intro/outro): squeeze the loop to two chords per bar so it is heard whole.
        for bar in range(bars):
            for half in range(2):
                degree, seventh = loop[(2 * bar + half) % len(loop)]
                slots.append((bar * 4.0 + half * 2.0, 2.0, degree, seventh))
    else:
        per_chord = 2 if bridge and bars >= 2 * len(loop) else 1  # slower harmonic rhythm for contrast
        for bar in range(bars):
            degree, seventh = loop[(bar // per_chord) % len(loop)]
            slots.append((bar * 4.0, 4.0, degree, seventh))
    if cadence:
        # The song ends on the tonic: the last slot (a bar, or its second half) resolves home.
        last_start, last_dur, _, seventh = slots[-1]
        slots[-1] = (last_start, last_dur, 0, seventh)
    merged: list[tuple[float, float, int, bool]] = []
    for slot in slots:
        if merged and merged[-1][2:] == slot[2:] and merged[-1][0] + merged[-1][1] == slot[0]:
            prev = merged[-1]
            # Keep bar-aligned chord events so every bar still shows a chord change point.
            if prev[1] < 4.0 and (prev[0] % 4.0) + prev[1] + slot[1] <= 4.0:
                merged[-1] = (prev[0], prev[1] + slot[1], prev[2], prev[3])
                continue
        merged.append(slot)
    return merged


# ---------------------------------------------------------------- voicing

VOICING_LOW, VOICING_HIGH, VOICING_CENTRE = 48, 72, 60.0


def _candidates(pcs: list[int], low: int, high: int) -> list[list[int]]:
    out: list[list[int]] = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for octave in range(2, 7):
            notes = [octave * 12 + order[0]]
            for pc in order[1:]:
                notes.append(notes[-1] + ((pc - notes[-1]) % 12 or 12))
            if notes[0] >= low and notes[-1] <= high:
                out.append(notes)
    return out


def voice_chord(
    pcs: list[int], previous: list[int] | None, low: int = VOICING_LOW, high: int = VOICING_HIGH
) -> list[int]:
    """Close voicing in [low, high] that moves least from the previous chord (root position to start)."""
    options = _candidates(pcs, low, high)
    if not options:  # only when the range is narrower than the chord; fall back to root position
        base = low + (pcs[0] - low) % 12
        return [base + ((pc - pcs[0]) % 12) for pc in pcs]

    def cost(notes: list[int]) -> float:
        centre = abs(sum(notes) / len(notes) - VOICING_CENTRE)
        if previous is None:
            return centre + (0.0 if notes[0] % 12 == pcs[0] else 6.0)
        if len(notes) == len(previous):
            # Voice by voice, bottom to top: the distance each line actually travels.
            move = float(sum(abs(n - p) for n, p in zip(notes, sorted(previous), strict=True)))
        else:  # three voices to four or back: each note to its nearest neighbour, both ways
            move = sum(min(abs(n - p) for p in previous) for n in notes) / 2.0
            move += sum(min(abs(p - n) for n in notes) for p in previous) / 2.0
        return move + 0.3 * centre

    return min(options, key=cost)


def realise(slots: list[ChordSlot], tonic: int, scale: str) -> list[ChordEvent]:
    """Chord events in song order with smooth voice leading between consecutive chords."""
    events: list[ChordEvent] = []
    previous: list[int] | None = None
    for slot in slots:
        root, quality, pcs = diatonic_chord(tonic, scale, slot.degree, slot.seventh)
        pitches = voice_chord(pcs, previous)
        previous = pitches
        events.append(
            ChordEvent(
                start=slot.start,
                duration=slot.duration,
                root=root,
                quality=quality,
                symbol=chord_symbol(root, quality),
                pitches=pitches,
                section_index=slot.section_index,
            )
        )
    return events
