"""Genre engine: choose a blend of up to three genres and derive its style and tempo.

Genres come from the explicit `genres` input, else from genre names found
in the prompt ("uplifting electronic music with dreamy vocals" -> electronic,
with dream-pop as a faint second), else from the mood's affinity to each
genre. The blend's Style is a weighted average of its genres' grids and
numbers, so a 70/30 blend sits between its parents; programs come from the
dominant genre. Tempo is an explicit input, else a number of bpm the prompt
states ("jazz at 80bpm", within the bounds an explicit tempo has), else a
reference track's (see `reference_tempo`), else a point inside the blended
tempo range chosen by the energy (higher energy, faster).

Where the prompt and inputs leave a choice open, the caller's preference
profile leans it (CompositionContext.priors): genre fits chosen by mood are
multiplied by the "genres" prior, the tempo is pulled towards the preferred
one (inside the dominant genre's own range) unless the prompt speaks of tempo
(a tempo word, an Italian marking such as "andante", or a number of bpm),
and a role's program may move to a better-liked one of the blend or of the
same General MIDI family. Each leaned choice is reported with the source
"profile". The loudness target is the blend's own: the mastering stage
decides the master's (a preset, a reference, else this one leaned by the
profile).

Tempos an octave apart are compatible (hip-hop at 87 bpm is drum & bass at
174 felt half-time), so a secondary genre's tempo range is folded by an
octave when that brings it nearer the dominant genre's, and its step grids
are stretched or compressed to match.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

from modules.composition.context import (
    SOURCE_GENRE,
    SOURCE_INPUT,
    SOURCE_MOOD,
    SOURCE_PROFILE,
    SOURCE_PROMPT,
    SOURCE_REFERENCE,
    CompositionContext,
    GenreWeight,
    Style,
    lean,
    prior_factor,
)

from .catalog import GENRES, LAYERS, PHRASES, ROLES, STEPS, GenreSpec, normalize_text

MAX_GENRES = 3
MIN_TEMPO, MAX_TEMPO = 40.0, 220.0  # the bounds the API accepts for an explicit tempo
LAYER_SHARE = 0.3  # a layer plays if genres holding this share of the blend use it
MIN_SECONDARY = 0.15  # a mood-chosen second genre below this share is dropped
TEMPO_JITTER = 0.04  # seeded wobble of the position in the tempo range, so songs differ slightly
AFFINITY_WIDTH = 0.35  # distance in the valence/energy plane at which a genre's fit falls to 1/e
JAZZ_BALLAD_BELOW = 0.45  # energy below which a banded genre (jazz) takes its slow band
PROGRAM_MARGIN = 0.1  # a role's program changes only for one liked this much more
GM_FAMILY = 8  # General MIDI programs come in families of eight (pianos, basses, ...)
# Words that speak of tempo: a prompt that uses one settles the tempo, and no prior leans it. With
# the Italian tempo markings ("grave" left out: in English it is a mood), "beats per minute", and a
# number of bpm ("at 80bpm"), which also sets the tempo itself (`prompt_tempo`).
TEMPO_WORDS = frozenset(
    {
        "slow", "slower", "slowly", "fast", "faster", "quick", "quickly", "upbeat", "uptempo", "downtempo",
        "bpm", "tempo", "brisk", "rapid", "speedy", "leisurely", "sluggish", "pace", "paced", "racing",
        "largo", "larghetto", "lento", "adagio", "adagietto", "andante", "andantino", "moderato",
        "allegretto", "allegro", "vivace", "vivacissimo", "presto", "prestissimo",
    }
)  # fmt: skip
_BEATS_PER_MINUTE = r"(?:bpm|b\.p\.m\.?|beats?\s+(?:per|a|each)\s+minute)"
_STATED_TEMPO = re.compile(r"(?<![\d.])(\d{1,4}(?:\.\d+)?)\s*-?\s*" + _BEATS_PER_MINUTE + r"(?![a-z])")
_SPEAKS_OF_BPM = re.compile(_BEATS_PER_MINUTE + r"(?![a-z])")

# Words around a genre name that weaken it ("a hint of jazz", "jazz-influenced house").
_WEAKER_BEFORE = frozenset(
    ["hint", "hints", "touch", "touches", "dash", "splash", "bit", "little", "sprinkle", "subtle", "slight"]
)
_WEAKER_AFTER = frozenset(
    [
        "influenced",
        "influences",
        "inspired",
        "tinged",
        "flavored",
        "flavoured",
        "elements",
        "vibes",
        "undertones",
    ]
)
# After "with", genre words usually describe a part, not the piece ("drum & bass with ambient pads").
_ACCOMPANY = frozenset(["with", "plus", "featuring", "over"])
ACCOMPANY_FACTOR = 0.6
_NEGATORS = frozenset(["not", "no", "without", "non", "never"])


@dataclass
class GenreResult:
    genres: list[GenreWeight]  # heaviest first, weights sum to 1, at most MAX_GENRES
    genres_source: str  # SOURCE_INPUT, SOURCE_PROMPT or SOURCE_MOOD
    style: Style
    tempo: float  # bpm, one decimal
    tempo_source: str  # SOURCE_INPUT, SOURCE_PROMPT, SOURCE_REFERENCE, SOURCE_GENRE or SOURCE_PROFILE
    instruments: list[str]  # layer names, canonical order
    loudness_target: float  # integrated LUFS: the blend's own (mastering decides the master's)
    tempo_range: tuple[float, float] = (0.0, 0.0)  # the blend's range at this energy (bpm)
    half_time: bool = False  # the dominant genre is felt at half tempo (trap)
    scores: dict[str, float] = field(default_factory=dict)  # genre -> evidence (prompt hits or mood fit)
    programs_source: str = SOURCE_GENRE  # SOURCE_GENRE or SOURCE_PROFILE
    reference: dict[str, Any] | None = None  # the genre reference that steered the tempo, if any


# --- choosing the genres -------------------------------------------------------------------


def _valid_names() -> str:
    return ", ".join(sorted(GENRES))


def _explicit_genres(raw: Any) -> list[tuple[str, float]]:
    if not isinstance(raw, list | tuple):
        raise ValueError('genres must be a list of {"name", "weight"} items')
    merged: dict[str, float] = {}
    for item in raw:
        if isinstance(item, GenreWeight):
            name, weight = item.name, item.weight
        elif isinstance(item, dict):
            name, weight = item.get("name"), item.get("weight", 1.0)
        else:
            raise ValueError(f'each genre must be {{"name", "weight"}}, not {item!r}')
        key = str(name or "").strip().lower()
        if key not in GENRES:
            raise ValueError(f"unknown genre {name!r}; valid genres: {_valid_names()}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise ValueError(f"weight of genre {key!r} must be a number, not {weight!r}")
        if weight <= 0:
            raise ValueError(f"weight of genre {key!r} must be greater than 0, not {weight}")
        merged[key] = merged.get(key, 0.0) + float(weight)
    if len(merged) > MAX_GENRES:
        raise ValueError(f"at most {MAX_GENRES} genres can be blended, got {len(merged)}")
    # Stable sort: equal weights keep the client's order.
    return sorted(merged.items(), key=lambda kv: -kv[1])


def detect_genres(prompt: str) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Named genres (keywords, weight 1) and weaker cues found in the prompt,
    plus each genre's last position (the head of "electronic jazz" is jazz)."""
    tokens = normalize_text(prompt).split()
    longest = max(len(p.split()) for p in PHRASES)
    named: dict[str, float] = {}
    cues: dict[str, float] = {}
    last_seen: dict[str, int] = {}
    accompanying = False
    i = 0
    while i < len(tokens):
        if tokens[i] in _ACCOMPANY:
            accompanying = True
        for n in range(min(longest, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + n])
            if phrase in PHRASES:
                break
        else:
            i += 1
            continue
        before = tokens[max(0, i - 3) : i]
        after = tokens[i + n : i + n + 1]
        if not any(t in _NEGATORS for t in before[-2:]):  # "no drums", "not rock"
            factor = 0.4 if any(t in _WEAKER_BEFORE for t in before) else 1.0
            factor *= 0.5 if any(t in _WEAKER_AFTER for t in after) else 1.0
            factor *= ACCOMPANY_FACTOR if accompanying else 1.0
            for genre, weight in PHRASES[phrase].items():
                target = named if weight >= 1.0 else cues
                target[genre] = target.get(genre, 0.0) + weight * factor
                last_seen[genre] = i
        i += n
    return named, cues, last_seen


def _top(scores: dict[str, float], order: dict[str, int], limit: int) -> list[tuple[str, float]]:
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], -order.get(kv[0], -1)))
    return [(name, score) for name, score in ranked[:limit] if score > 0]


def _prompt_genres(
    named: dict[str, float], cues: dict[str, float], order: dict[str, int]
) -> list[tuple[str, float]]:
    # Cues only join a blend that the prompt anchors with a named genre.
    scores = dict(named)
    for genre, weight in cues.items():
        scores[genre] = scores.get(genre, 0.0) + weight
    return _top(scores, order, MAX_GENRES)


def _mood_genres(
    valence: float,
    energy: float,
    cues: dict[str, float],
    rng: random.Random,
    prior: dict[str, float] | None = None,
) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """The two genres whose mood affinity fits best, cues and a small seeded wobble breaking near-ties;
    each fit multiplied by the prior's factor for the genre (liked up, disliked down)."""
    fit: dict[str, float] = {}
    for name, spec in GENRES.items():
        d = min(math.dist((valence, energy), point) for point in spec.affinity)
        fit[name] = math.exp(-((d / AFFINITY_WIDTH) ** 2)) + cues.get(name, 0.0) + rng.uniform(0.0, 0.05)
        fit[name] *= prior_factor((prior or {}).get(name, 0.0))
    # Squared fits: the better-fitting genre leads the blend clearly rather than splitting it evenly.
    ranked = [(n, s * s) for n, s in _top(fit, {}, 2)]
    total = sum(s for _, s in ranked)
    chosen = [(n, s) for n, s in ranked if s / total >= MIN_SECONDARY]
    return chosen, {n: round(s, 3) for n, s in fit.items()}


def _normalize(weighted: list[tuple[str, float]]) -> list[GenreWeight]:
    total = sum(w for _, w in weighted)
    weights = [round(w / total, 4) for _, w in weighted]
    weights[0] = round(weights[0] + 1.0 - sum(weights), 4)  # rounding remainder to the dominant genre
    return [GenreWeight(name, weight) for (name, _), weight in zip(weighted, weights, strict=True)]


# --- tempo ---------------------------------------------------------------------------------


def _band(spec: GenreSpec, energy: float, position: float) -> tuple[tuple[float, float], float]:
    """The genre's tempo range at this energy (jazz: ballad or swing band), and where
    `position` (an energy, 0..1) falls inside that range."""
    if not spec.tempo_bands:
        return spec.tempo_range, min(1.0, max(0.0, position))
    if energy < JAZZ_BALLAD_BELOW:
        band, pos = spec.tempo_bands[0], position / JAZZ_BALLAD_BELOW
    else:
        band, pos = spec.tempo_bands[-1], (position - JAZZ_BALLAD_BELOW) / (1.0 - JAZZ_BALLAD_BELOW)
    return band, min(1.0, max(0.0, pos))


def _octave_factor(rng: tuple[float, float], anchor: tuple[float, float]) -> float:
    """x0.5, x1 or x2: whichever brings this range's centre nearest the anchor's (in octaves)."""
    centre, anchor_centre = sum(rng) / 2, sum(anchor) / 2
    return min((1.0, 2.0, 0.5), key=lambda f: abs(math.log2(centre * f / anchor_centre)))


def _fold_grid(steps: tuple[float, ...] | list[float], factor: float) -> list[float]:
    """A one-bar grid played at `factor` times its genre's tempo in the blend's bar.
    x2: its first half-bar stretched over the bar (a 2-and-4 backbeat lands on 3, half-time).
    x0.5: two of its bars squeezed into one (16ths merge into 8ths)."""
    if factor == 2.0:
        return [steps[s // 2] if s % 2 == 0 else 0.0 for s in range(STEPS)]
    if factor == 0.5:
        half = [max(steps[2 * k], steps[2 * k + 1]) for k in range(STEPS // 2)]
        return half + half
    return list(steps)


# --- style ---------------------------------------------------------------------------------


def _blend_grids(grids: list[tuple[float, list[float]]]) -> list[float]:
    return [round(sum(w * g[s] for w, g in grids), 3) for s in range(STEPS)]


def _blend_style(parts: list[tuple[GenreSpec, float, float]], drums_on: bool) -> Style:
    """parts: (spec, weight, octave factor); the first is dominant."""
    drum_notes = sorted({note for spec, _, _ in parts for note in spec.drums}, key=int)
    drums = {}
    if drums_on:
        for note in drum_notes:
            rows = [(w, _fold_grid(spec.drums[note], f)) for spec, w, f in parts if note in spec.drums]
            drums[note] = _blend_grids(rows)
    programs = {role: parts[0][0].programs[role] for role in ROLES}
    # Progression families merged by weight; a genre's first choice counts most.
    votes: dict[str, float] = {}
    for spec, w, _ in parts:
        for rank, family in enumerate(spec.progressions):
            votes[family] = votes.get(family, 0.0) + w / (1 + rank)
    progressions = [fam for fam, _ in sorted(votes.items(), key=lambda kv: -kv[1])][:4]

    def mean(attr: str) -> float:
        return sum(w * getattr(spec, attr) for spec, w, _ in parts)

    return Style(
        swing=round(mean("swing"), 3),
        drums=drums,
        programs=programs,
        bass_rhythm=_blend_grids([(w, _fold_grid(spec.bass_rhythm, f)) for spec, w, f in parts]),
        chord_rhythm=_blend_grids([(w, _fold_grid(spec.chord_rhythm, f)) for spec, w, f in parts]),
        density=round(mean("density"), 3),
        progressions=progressions,
        loudness_target=round(mean("loudness_target"), 1),
    )


def _instruments(parts: list[tuple[GenreSpec, float, float]]) -> list[str]:
    dominant = parts[0][0]
    return [
        layer
        for layer in LAYERS
        if layer in dominant.layers or sum(w for spec, w, _ in parts if layer in spec.layers) >= LAYER_SHARE
    ]


def _leaned_programs(parts: list[tuple[GenreSpec, float, float]], prior: dict[str, float]) -> dict[str, int]:
    """Each role's program: the dominant genre's, unless the "programs" prior likes another one of
    the blend, or of the same General MIDI family, clearly more (PROGRAM_MARGIN)."""
    programs = {}
    for role in ROLES:
        own = parts[0][0].programs[role]
        candidates = [own, *(spec.programs[role] for spec, _, _ in parts[1:])]
        named = sorted(int(p) for p in prior if p.isdigit() and int(p) < 128)
        candidates += [p for p in named if p // GM_FAMILY == own // GM_FAMILY]
        best = max(candidates, key=lambda p: prior.get(str(p), 0.0))  # max keeps the first on ties
        keep = prior.get(str(best), 0.0) < prior.get(str(own), 0.0) + PROGRAM_MARGIN
        programs[role] = own if keep else best
    return programs


def speaks_of_tempo(prompt: str) -> bool:
    """Whether the prompt says anything of tempo: a tempo word, an Italian marking, or bpm."""
    return bool(set(normalize_text(prompt).split()) & TEMPO_WORDS) or bool(
        _SPEAKS_OF_BPM.search(prompt.lower())
    )


def prompt_tempo(prompt: str) -> float | None:
    """The tempo a prompt states as a number ("jazz at 80bpm", "90 beats per minute"), within the
    bounds an explicit tempo has; None when it states none."""
    found = _STATED_TEMPO.search(prompt.lower())
    if found is None:
        return None
    return round(min(MAX_TEMPO, max(MIN_TEMPO, float(found.group(1)))), 1)


def _explicit_tempo(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"tempo must be a number of bpm, not {raw!r}")
    try:
        tempo = float(raw)
    except ValueError:
        raise ValueError(f"tempo must be a number of bpm, not {raw!r}") from None
    if not MIN_TEMPO <= tempo <= MAX_TEMPO:
        raise ValueError(f"tempo must be between {MIN_TEMPO:g} and {MAX_TEMPO:g} bpm, not {raw}")
    return round(tempo, 1)


def reference_tempo(detected: float, blend_range: tuple[float, float]) -> float:
    """A reference's tempo for this blend: as detected, unless it lies outside the blend's range
    and an octave away lies inside it (beat trackers lock an octave off more than anything else;
    hip-hop at 90 read as 180 is hip-hop at 90). Always within the bounds an explicit tempo has."""
    lo, hi = blend_range
    tempo = float(detected)
    if not lo <= tempo <= hi:
        tempo = next((tempo * f for f in (0.5, 2.0) if lo <= tempo * f <= hi), tempo)
    while tempo > MAX_TEMPO:
        tempo /= 2.0
    while tempo < MIN_TEMPO:
        tempo *= 2.0
    return round(tempo, 1)


# --- the engine ----------------------------------------------------------------------------


def blend_genres(ctx: CompositionContext, seed: int) -> GenreResult:
    valence = ctx.mood.valence if ctx.mood is not None else 0.0
    energy = ctx.energy if ctx.energy is not None else ctx.mood.energy if ctx.mood is not None else 0.5
    energy = min(1.0, max(0.0, float(energy)))
    # Separate seeded streams, so that choosing genres never shifts the tempo's wobble.
    mood_wobble = random.Random(f"genre-choice:{seed}")
    tempo_wobble = random.Random(f"genre-tempo:{seed}").uniform(-TEMPO_JITTER, TEMPO_JITTER)

    named, cues, order = detect_genres(ctx.prompt or "")
    raw = ctx.inputs.get("genres")
    if raw:
        chosen, source = _explicit_genres(raw), SOURCE_INPUT
        scores = {name: round(w, 3) for name, w in chosen}
    elif named:
        chosen, source = _prompt_genres(named, cues, order), SOURCE_PROMPT
        scores = {name: round(s, 3) for name, s in chosen}
    else:
        genre_prior = ctx.prior_weights("genres")
        chosen, scores = _mood_genres(valence, energy, cues, mood_wobble, genre_prior)
        source = SOURCE_MOOD
        if genre_prior:
            unleaned, _ = _mood_genres(valence, energy, cues, random.Random(f"genre-choice:{seed}"))
            if _normalize(unleaned) != _normalize(chosen):
                source = SOURCE_PROFILE
    genres = _normalize(chosen)

    # Per-genre tempo range at this energy, folded by octaves towards the dominant genre.
    position = energy + tempo_wobble
    dominant_range, _ = _band(GENRES[genres[0].name], energy, position)
    parts: list[tuple[GenreSpec, float, float]] = []
    lo = hi = target = 0.0
    for gw in genres:
        spec = GENRES[gw.name]
        (g_lo, g_hi), pos = _band(spec, energy, position)
        factor = _octave_factor((g_lo, g_hi), dominant_range)
        parts.append((spec, gw.weight, factor))
        lo += gw.weight * g_lo * factor
        hi += gw.weight * g_hi * factor
        target += gw.weight * factor * (g_lo + (g_hi - g_lo) * pos)
    # The dominant genre sets the feel: where the weighted range overlaps its own range, the
    # tempo stays inside the overlap (electronic with a touch of dream-pop is still 120-130).
    d_lo, d_hi = dominant_range
    if max(lo, d_lo) <= min(hi, d_hi):
        lo, hi = max(lo, d_lo), min(hi, d_hi)
    # Reported range rounded outwards, so the rounded tempo always lies inside it.
    tempo_range = (math.floor(lo * 10 + 1e-9) / 10, math.ceil(hi * 10 - 1e-9) / 10)

    reference = ctx.inputs.get("genre_reference") or None
    stated = prompt_tempo(ctx.prompt or "")
    if ctx.inputs.get("tempo") is not None:
        tempo, tempo_source = _explicit_tempo(ctx.inputs["tempo"]), SOURCE_INPUT
    elif stated is not None:  # the prompt's own number, as the caller wrote it
        tempo, tempo_source = stated, SOURCE_PROMPT
    elif reference is not None:
        tempo, tempo_source = reference_tempo(reference["tempo"], (lo, hi)), SOURCE_REFERENCE
    else:
        # Clamping the weighted target towards the dominant range keeps it between the parents' tempos.
        tempo, tempo_source = round(float(min(hi, max(lo, target))), 1), SOURCE_GENRE
        preferred = ctx.prior_value("tempo")
        if preferred is not None and not speaks_of_tempo(ctx.prompt or ""):
            # Inside the dominant genre's whole range (both of jazz's bands), so the feel stays idiomatic.
            leaned = round(lean(tempo, *preferred, *GENRES[genres[0].name].tempo_range), 1)
            if leaned != tempo:
                tempo, tempo_source = leaned, SOURCE_PROFILE

    instruments = _instruments(parts)
    style = _blend_style(parts, drums_on="drums" in instruments)
    programs_source = SOURCE_GENRE
    program_prior = ctx.prior_weights("programs")
    if program_prior:
        leaned_programs = _leaned_programs(parts, program_prior)
        if leaned_programs != style.programs:
            style.programs, programs_source = leaned_programs, SOURCE_PROFILE
    return GenreResult(
        genres=genres,
        genres_source=source,
        style=style,
        tempo=tempo,
        tempo_source=tempo_source,
        instruments=instruments,
        loudness_target=style.loudness_target,
        tempo_range=tempo_range,
        half_time=parts[0][0].half_time,
        scores=scores,
        programs_source=programs_source,
        reference=reference,
    )
