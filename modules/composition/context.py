"""The shared composition context: what every stage reads and enriches.

Plain dataclasses, no Django, so engines stay pure functions of
(context, seed). The context round-trips through JSON (`to_dict`/`from_dict`)
because it is stored on the Composition and handed between processes.

Units: pitches are MIDI note numbers, times are in beats (quarter notes)
from the start of the song, velocities are 1..127, pitch classes 0..11 (C=0).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

# Where a context value came from (shown to clients next to the value).
SOURCE_PROMPT = "prompt"  # read from the prompt text
SOURCE_INPUT = "input"  # given explicitly in createComposition
SOURCE_GENRE = "genre"  # a default of the chosen genre blend
SOURCE_MOOD = "mood"  # derived from the mood
SOURCE_SEED = "seed"  # chosen by the seeded random generator
SOURCE_DEFAULT = "default"  # a fixed default
SOURCE_PROFILE = "profile"  # the caller's preference profile, where prompt and inputs left it open

# Choices a prior may lean (CompositionContext.priors), and the explicit input that settles each:
# a given input always wins, so its prior is never stored. Loudness is settled by a mastering choice
# with a target or a reference (the mastering stage's `settles`). Categorical choices carry
# {"weights": {value: weight in -1..1}}, numeric ones {"value": x, "strength": 0..1}.
PRIOR_CHOICES: dict[str, str | None] = {
    "moods": "mood",
    "genres": "genres",
    "tempo": "tempo",
    "keys": "key",
    "scales": "scale",
    "voices": "voice",
    "loudness": None,
    "programs": None,
}
PRIOR_GAIN = 1.5  # a categorical weight w multiplies a choice's odds by exp(PRIOR_GAIN * w): x0.22 .. x4.5
SOURCE_VOICE_PROFILE = "voice_profile"  # measured from the recordings of a voice profile
SOURCE_REFERENCE = "reference"  # measured from a reference track the caller uploaded

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Scale/mode name -> semitone steps from the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}


def pitch_class(note_name: str) -> int:
    """'C#' -> 1, 'Bb' -> 10. Raises ValueError for anything else."""
    name = note_name.strip()
    if not 1 <= len(name) <= 2 or name[0].upper() not in "CDEFGAB" or name[1:] not in ("", "#", "b"):
        raise ValueError(f"not a note name: {note_name!r}")
    base = NOTE_NAMES.index(name[0].upper())
    return (base + {"": 0, "#": 1, "b": -1}[name[1:]]) % 12


def scale_pitch_classes(key: str, scale: str) -> set[int]:
    tonic = pitch_class(key)
    return {(tonic + step) % 12 for step in SCALES[scale]}


@dataclass
class MoodInfo:
    name: str  # e.g. "uplifting", "melancholic", "dreamy"
    valence: float  # -1 (sad/dark) .. 1 (happy/bright)
    energy: float  # 0 (calm) .. 1 (intense)
    tags: list[str] = field(default_factory=list)  # descriptive words found/derived
    custom: bool = False  # one of the owner's own custom moods (by name in the input or the prompt)


@dataclass
class GenreWeight:
    name: str  # catalog name, e.g. "electronic"
    weight: float  # weights of a blend sum to 1


@dataclass
class Style:
    """The playing style of the genre blend, written by the genre stage and
    read by arrangement and mastering. Step grids are 16 sixteenth-notes of
    one 4/4 bar with values 0..1 (0 = no hit, else relative velocity)."""

    swing: float = 0.0  # 0 straight .. 0.33 hard swing (delay of off-beat 16ths, fraction of a 16th)
    drums: dict[str, list[float]] = field(default_factory=dict)  # GM drum note (as str) -> 16 steps
    programs: dict[str, int] = field(default_factory=dict)  # role -> GM program (0-based)
    bass_rhythm: list[float] = field(default_factory=list)  # 16 steps
    chord_rhythm: list[float] = field(default_factory=list)  # 16 steps; sustained pads ignore it
    density: float = 0.5  # 0 sparse .. 1 busy
    progressions: list[str] = field(default_factory=list)  # preferred progression families, e.g. "I-V-vi-IV"
    loudness_target: float = -14.0  # integrated LUFS for the master


@dataclass
class SectionPlan:
    index: int
    name: str  # intro, verse, pre-chorus, chorus, bridge, outro
    start_bar: int
    bars: int
    energy: float  # 0..1, intro low, chorus high
    vocal: bool  # does the voice sing here


@dataclass
class ChordEvent:
    start: float  # beats
    duration: float  # beats
    root: int  # pitch class
    quality: str  # "maj", "min", "dim", "aug", "maj7", "min7", "7", "sus2", "sus4", ...
    symbol: str  # e.g. "Am7"
    pitches: list[int]  # the voiced chord, MIDI notes
    section_index: int = 0


@dataclass
class VocalPhrase:
    """A slot the lyrics fill and the voice sings: one syllable per onset."""

    section_index: int
    onsets: list[list[float]]  # [[start_beat, duration_beats], ...]
    strong: list[bool] = field(default_factory=list)  # onset falls on a strong beat


@dataclass
class Syllable:
    text: str
    start: float  # beats
    duration: float  # beats
    stress: int = 0  # CMU stress: 1 primary, 2 secondary, 0 none
    word_end: bool = False


@dataclass
class LyricLine:
    section_index: int
    section_name: str
    text: str
    syllables: list[Syllable]
    rhyme: str = ""  # rhyme-scheme letter, e.g. "A"


@dataclass
class CompositionContext:
    prompt: str
    seed: int
    duration_seconds: int = 60
    instrumental: bool = False
    # Explicit inputs from createComposition: mood (str), genres ([{name, weight}]),
    # key (str), scale (str), tempo (float), voice (str), lyrics (str), voice_profile (a
    # VoiceProfile's global id); and what stages resolved from stored things the caller named
    # (Stage.resolve_inputs): genre_reference ({id, name, tempo, key, scale, ...}), mastering
    # ({preset, target_lufs, ..., reference}).
    inputs: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # context field -> SOURCE_*
    stage_seeds: dict[str, int] = field(default_factory=dict)  # a stage's seed when regenerated with its own
    # Leanings for choices the prompt and inputs leave open (PRIOR_CHOICES), each with its "source";
    # set once when the composition is created (settings.CODA_CONTEXT_PRIORS), so reruns keep them.
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)

    # mood stage
    mood: MoodInfo | None = None
    energy: float | None = None
    # genre stage
    genres: list[GenreWeight] = field(default_factory=list)
    style: Style | None = None
    tempo: float | None = None  # bpm
    instruments: list[str] = field(default_factory=list)  # layer names the style suggests
    loudness_target: float | None = None
    # arrangement stage
    key: str | None = None  # tonic name from NOTE_NAMES
    scale: str | None = None  # a key of SCALES
    time_signature: list[int] = field(default_factory=lambda: [4, 4])
    sections: list[SectionPlan] = field(default_factory=list)
    chords: list[ChordEvent] = field(default_factory=list)
    vocal_phrases: list[VocalPhrase] = field(default_factory=list)
    total_beats: float = 0.0
    # lyrics stage
    lyrics: list[LyricLine] = field(default_factory=list)
    # voice stage
    vocal_style: str | None = None  # the catalog voice that sings, e.g. "soprano"
    vocal_range: list[int] | None = None  # [low, high] MIDI notes
    vocal_formant_shift: float | None = None  # ratio on the singer's formants (1: its own voice)

    def prior_weights(self, choice: str) -> dict[str, float]:
        """A categorical prior's weights ({} when there is none)."""
        return dict((self.priors.get(choice) or {}).get("weights") or {})

    def prior_value(self, choice: str) -> tuple[float, float] | None:
        """A numeric prior's (value, strength), or None."""
        prior = self.priors.get(choice) or {}
        if prior.get("value") is None:
            return None
        return float(prior["value"]), float(prior.get("strength", 0.0))

    def seconds_per_beat(self) -> float:
        return 60.0 / float(self.tempo or 120.0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompositionContext:
        return _build(cls, data)


def prior_factor(weight: float) -> float:
    """How much a prior weight (-1 .. 1) multiplies a choice's odds or fit."""
    return math.exp(PRIOR_GAIN * max(-1.0, min(1.0, float(weight))))


def lean(value: float, target: float, strength: float, low: float, high: float) -> float:
    """`value` moved towards `target` by `strength` (0 .. 1), kept inside [low, high]."""
    moved = value + max(0.0, min(1.0, strength)) * (target - value)
    return max(low, min(high, moved))


@functools.cache
def _fields(tp: type) -> dict[str, Any]:
    """A dataclass's field types, resolved once (get_type_hints is slow)."""
    hints = typing.get_type_hints(tp)
    return {f.name: hints[f.name] for f in dataclasses.fields(tp)}


def _build(tp: Any, value: Any) -> Any:
    """Rebuild nested dataclasses from JSON-ready dicts (asdict's inverse)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        fields = _fields(tp)
        return tp(**{k: _build(fields[k], v) for k, v in value.items() if k in fields})
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], value) if len(inner) == 1 else value
    if origin is list and args:
        return [_build(args[0], v) for v in value]
    if origin is dict and len(args) == 2:
        return {k: _build(args[1], v) for k, v in value.items()}
    return value
