"""The preference maths: feedback events in, a preference profile with its explanation out.

Pure and deterministic (no Django, no clock): the same events give the same profile.

Each event carries the attributes of the element it was about (a composition's genres, tempo,
mood, key, mode, voice, loudness and instrument programs; a voice's name; a layer's program...),
each with a share: how much of the element that attribute is. Its signal says which way and
how hard it pushes:

- kind: LIKE +1, ACCEPT +0.6, TWEAK 0, DECLINE -0.6, DISLIKE -1;
- a rating 1..5 maps to -1, -0.5, 0, +0.5, +1 and is averaged with the kind (a TWEAK takes the
  rating alone);
- older feedback counts less: its signal halves every HALF_LIFE_DAYS before the newest event.

Categorical attributes (genres, moods, keys, scales, voices, programs) keep a raw score per value;
every event adds RATE x signal x share to it, and the weight is tanh(score), bounded in (-1, 1).
Numeric attributes (tempo, loudness) keep a preferred value: the signal-weighted mean of the values
of positive feedback, started from a neutral value with BASELINE_WEIGHT (so one like moves it part
of the way); negative feedback pushes it away from the disliked value, most when they are near.
Its strength is positive weight / (positive weight + 1), in [0, 1).

Every change is recorded as a Contribution (which feedback moved which value of which attribute,
by how much); a categorical weight is the sum of its contributions (to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

KIND_SIGNAL = {"LIKE": 1.0, "ACCEPT": 0.6, "TWEAK": 0.0, "DECLINE": -0.6, "DISLIKE": -1.0}
CATEGORICAL = ("genres", "moods", "keys", "scales", "voices", "programs")
# attribute -> (neutral value, spread): the spread sets how near a dislike must be to push, and the
# narrowest range shown around a preferred value.
NUMERIC: dict[str, tuple[float, float]] = {"tempo": (110.0, 20.0), "loudness": (-14.0, 3.0)}
ATTRIBUTES = (*CATEGORICAL, *NUMERIC)

RATE = 0.5  # raw score per unit of signal x share: one plain like of a whole genre gives tanh(0.5) = 0.46
HALF_LIFE_DAYS = 180.0
BASELINE_WEIGHT = 0.5  # pseudo-weight of a numeric preference's neutral value
REPEL = 0.5  # a full dislike right at the preferred value pushes it by half a spread
MIN_DELTA = 1e-4  # smaller changes are not worth explaining
DAY = 86400.0


@dataclass(frozen=True)
class FeedbackEvent:
    id: int
    element: str  # COMPOSITION, MOOD, GENRE, LAYER, LYRICS, VOICE, MASTER, VERSION
    kind: str  # a key of KIND_SIGNAL
    rating: int | None
    # {"genres": {"jazz": 0.7}, ..., "tempo": {"value": 72.0, "share": 1.0}}
    attributes: dict[str, Any]
    at: float  # seconds (any epoch); only differences matter


@dataclass
class Contribution:
    attribute: str
    value: str  # the value it moved ("jazz", "alto", "33") or, for tempo/loudness, the value liked
    delta: float  # change of the weight, or of the preferred tempo/loudness
    feedback_id: int
    element: str


@dataclass
class NumericPreference:
    preferred: float
    low: float
    high: float
    strength: float  # 0 .. 1: how firmly it leans an open choice


@dataclass
class Profile:
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # attribute -> value -> -1..1
    numbers: dict[str, NumericPreference] = field(default_factory=dict)
    explanations: list[Contribution] = field(default_factory=list)  # oldest first
    feedback_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Profile:
        data = data or {}
        return cls(
            weights={a: dict(v) for a, v in (data.get("weights") or {}).items()},
            numbers={a: NumericPreference(**v) for a, v in (data.get("numbers") or {}).items()},
            explanations=[Contribution(**c) for c in data.get("explanations") or []],
            feedback_count=int(data.get("feedback_count", 0)),
        )


def signal(kind: str, rating: int | None) -> float:
    """Which way and how hard one piece of feedback pushes, -1 .. 1."""
    base = KIND_SIGNAL[kind]
    if rating is None:
        return base
    rated = (rating - 3) / 2.0
    return rated if kind == "TWEAK" else (base + rated) / 2.0


def decay(age_seconds: float) -> float:
    return 0.5 ** (max(0.0, age_seconds) / (HALF_LIFE_DAYS * DAY))


@dataclass
class _Numeric:
    neutral: float
    spread: float
    value: float = 0.0
    positive: float = 0.0  # summed positive weight
    liked: list[tuple[float, float]] = field(default_factory=list)  # (value, weight)

    def __post_init__(self) -> None:
        self.value = self.neutral

    def push(self, value: float, weight: float) -> float:
        """Apply one event (weight = signal x decay x share); returns the change of the preferred value."""
        before = self.value
        if weight > 0:
            self.positive += weight
            self.value += weight * (value - self.value) / (BASELINE_WEIGHT + self.positive)
            self.liked.append((value, weight))
        elif weight < 0 and self.positive > 0:  # a dislike moves a preference; it cannot start one
            distance = self.value - value
            if distance != 0:
                nearness = math.exp(-0.5 * (distance / self.spread) ** 2)
                self.value += -weight * REPEL * self.spread * math.copysign(nearness, distance)
        return self.value - before

    def result(self) -> NumericPreference | None:
        if self.positive <= 0:
            return None
        total = sum(w for _, w in self.liked)
        variance = sum(w * (v - self.value) ** 2 for v, w in self.liked) / total
        half = max(math.sqrt(variance), self.spread / 4)
        return NumericPreference(
            preferred=round(self.value, 2),
            low=round(self.value - half, 2),
            high=round(self.value + half, 2),
            strength=round(self.positive / (self.positive + 1.0), 4),
        )


def _explain(attribute: str, value: str, delta: float, event: FeedbackEvent) -> Contribution:
    return Contribution(attribute, value, round(delta, 4), event.id, event.element)


def build_profile(events: Iterable[FeedbackEvent]) -> Profile:
    """The profile of these events, applied oldest first (ties by id)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    latest = ordered[-1].at if ordered else 0.0
    scores: dict[str, dict[str, float]] = {a: {} for a in CATEGORICAL}
    numbers = {a: _Numeric(*spec) for a, spec in NUMERIC.items()}
    explanations: list[Contribution] = []
    for event in ordered:
        strength = signal(event.kind, event.rating) * decay(latest - event.at)
        if strength == 0:
            continue
        for attribute in CATEGORICAL:
            for value, share in sorted((event.attributes.get(attribute) or {}).items()):
                row = scores[attribute]
                before = row.get(value, 0.0)
                row[value] = before + RATE * strength * float(share)
                delta = math.tanh(row[value]) - math.tanh(before)
                if abs(delta) >= MIN_DELTA:
                    explanations.append(_explain(attribute, value, delta, event))
        for attribute, state in numbers.items():
            given = event.attributes.get(attribute)
            if not given or given.get("value") is None:
                continue
            value = float(given["value"])
            delta = state.push(value, strength * float(given.get("share", 1.0)))
            if abs(delta) >= MIN_DELTA:
                explanations.append(_explain(attribute, f"{value:g}", delta, event))
    weights = {
        attribute: {
            value: round(math.tanh(score), 4)
            for value, score in sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))
            if abs(math.tanh(score)) >= MIN_DELTA
        }
        for attribute, row in scores.items()
    }
    return Profile(
        weights={a: w for a, w in weights.items() if w},
        numbers={a: r for a, state in numbers.items() if (r := state.result()) is not None},
        explanations=explanations,
        feedback_count=len(ordered),
    )


# --- what an element is, as attributes --------------------------------------------------------

# How much of a whole song (a composition or a version) each attribute is: a song's genre, tempo and
# mood are what it is most; its key, voice, loudness and instruments, less.
SONG_SHARES = {
    "genres": 1.0,
    "moods": 1.0,
    "tempo": 1.0,
    "keys": 0.5,
    "scales": 0.5,
    "voices": 0.5,
    "loudness": 0.5,
    "programs": 0.3,
}


def song_attributes(context: dict[str, Any], master_lufs: float | None = None) -> dict[str, Any]:
    """A stored composition context (or a version's) as attributes with SONG_SHARES. Loudness is the
    master's measured integrated loudness when there is a master (`master_lufs`): what was heard,
    whatever decided the target; else the context's target."""
    found: dict[str, Any] = {}
    genres = {g["name"]: round(float(g["weight"]), 4) for g in context.get("genres") or []}
    if genres:
        found["genres"] = genres
    mood = (context.get("mood") or {}).get("name")
    if mood:
        found["moods"] = {mood: SONG_SHARES["moods"]}
    for attribute, key in (("keys", "key"), ("scales", "scale")):
        if context.get(key):
            found[attribute] = {str(context[key]): SONG_SHARES[attribute]}
    if context.get("vocal_style") and not context.get("instrumental"):
        found["voices"] = {str(context["vocal_style"]): SONG_SHARES["voices"]}
    programs = sorted({int(p) for p in ((context.get("style") or {}).get("programs") or {}).values()})
    if programs:
        found["programs"] = {str(p): SONG_SHARES["programs"] for p in programs}
    if context.get("tempo") is not None:
        found["tempo"] = {"value": float(context["tempo"]), "share": SONG_SHARES["tempo"]}
    loudness = master_lufs if master_lufs is not None else context.get("loudness_target")
    if loudness is not None:
        found["loudness"] = {"value": float(loudness), "share": SONG_SHARES["loudness"]}
    return found
