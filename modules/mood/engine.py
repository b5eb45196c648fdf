"""Mood engine: read a mood (name, valence, energy) from the prompt.

An explicit `mood` input wins. Otherwise the prompt is read with Coda's own
music vocabulary (`lexicon.py`), with simple negation ("not sad"),
intensifiers ("very dark"), light stemming ("dreams", "darker") and
multi-word phrases ("laid back"). VADER is only a back-off for prompts in
which the vocabulary finds nothing: it reads ordinary words ("terrible",
"wonderful") but misses music words (FIELD-NOTES trap 16). A prompt that
says nothing about mood takes the caller's preferred mood (the "moods"
prior) when one leans clearly enough, else the default.

The owner's custom moods (a name, a valence, an energy, words) come in the
context's inputs (`custom_moods`, put there by the stage from the database):
each is a mood to choose, by name in the `mood` input or in the prompt, and
its name and words join the vocabulary for this reading, over the built-in
entries for the same words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from modules.composition.context import (
    SOURCE_DEFAULT,
    SOURCE_INPUT,
    SOURCE_PROFILE,
    SOURCE_PROMPT,
    CompositionContext,
    MoodInfo,
)

from .lexicon import (
    CLAUSE_BREAKS,
    DIMINISHERS,
    INTENSIFIERS,
    MODIFIER_SCOPE,
    NEGATION_SCOPE,
    NEGATORS,
    PHRASES,
    WORDS,
    Entry,
)


@dataclass(frozen=True)
class MoodSpec:
    name: str
    valence: float  # -1 .. 1
    energy: float  # 0 .. 1
    description: str
    words: tuple[str, ...]  # vocabulary words whose strongest vote is this mood


@dataclass
class MoodResult:
    mood: MoodInfo
    source: str  # SOURCE_INPUT, SOURCE_PROMPT or SOURCE_DEFAULT
    scores: dict[str, float] = field(default_factory=dict)  # mood name -> evidence found in the prompt


@dataclass(frozen=True)
class CustomMood:
    """A user's own mood, as the engine gets it (from `ctx.inputs["custom_moods"]`)."""

    name: str
    valence: float
    energy: float
    words: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """How it is matched: its tokens, as the prompt is read ("Rainy-Sunday" -> "rainy sunday")."""
        return mood_key(self.name)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "valence": self.valence, "energy": self.energy, "words": list(self.words)}


CUSTOM_NAME_WEIGHT = 2.0  # a custom mood named in the prompt speaks louder than any one word
_CUSTOM = "custom:"  # prefix of custom moods among the scores (never a built-in name)


def mood_key(text: str) -> str:
    return " ".join(t for t in tokenize(text) if t[0].isalnum())


def custom_moods(ctx: CompositionContext) -> dict[str, CustomMood]:
    """The custom moods in the context's inputs, by key."""
    out: dict[str, CustomMood] = {}
    for item in ctx.inputs.get("custom_moods") or []:
        mood = CustomMood(
            str(item["name"]),
            float(item["valence"]),
            float(item["energy"]),
            tuple(str(w) for w in item.get("words", ())),
        )
        out[mood.key] = mood
    return out


def _custom_tables(moods: dict[str, CustomMood]) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """(words, phrases) the custom moods add to the vocabulary: each one's name and words vote for it."""
    words: dict[str, Entry] = {}
    phrases: dict[str, Entry] = {}
    for key, mood in moods.items():
        for text, weight in [(key, CUSTOM_NAME_WEIGHT), *((mood_key(w), 1.0) for w in mood.words)]:
            if not text:
                continue
            entry = Entry(mood.valence, mood.energy, {_CUSTOM + key: 1.0}, weight)
            (phrases if " " in text else words)[text] = entry
    return words, phrases


def custom_mood_mentioned(prompt: str, mood: CustomMood) -> bool:
    """Does the prompt name the mood or use one of its words?"""
    words, phrases = _custom_tables({mood.key: mood})
    return any(_CUSTOM + mood.key in hit.entry.votes for hit in find_evidence(prompt, words, phrases))


# name -> (valence, energy, description); the points are spread over the
# valence/energy plane so that the nearest-mood fallback is meaningful.
_CATALOG: dict[str, tuple[float, float, str]] = {
    "uplifting": (0.7, 0.65, "bright and rising, lifts the listener"),
    "happy": (0.8, 0.6, "cheerful, sunny, carefree"),
    "energetic": (0.5, 0.9, "driving, busy, made to move to"),
    "euphoric": (0.9, 0.9, "peak-time joy, hands in the air"),
    "hopeful": (0.5, 0.5, "looking forward, quietly optimistic"),
    "playful": (0.6, 0.72, "bouncy, light-hearted, a little mischievous"),
    "calm": (0.25, 0.15, "still and unhurried"),
    "peaceful": (0.5, 0.1, "serene, soothing, restful"),
    "chill": (0.3, 0.35, "laid back, mellow, easy-going"),
    "dreamy": (0.4, 0.25, "hazy, floating, ethereal"),
    "romantic": (0.6, 0.35, "tender, warm, intimate"),
    "nostalgic": (0.05, 0.35, "bittersweet, looking back"),
    "melancholic": (-0.45, 0.3, "wistful, reflective, gently sad"),
    "sad": (-0.75, 0.2, "sorrowful, heartbroken"),
    "dark": (-0.6, 0.55, "brooding, ominous, shadowy"),
    "mysterious": (-0.15, 0.4, "enigmatic, haunting, atmospheric"),
    "tense": (-0.4, 0.75, "suspenseful, anxious, urgent"),
    "epic": (0.3, 0.85, "heroic, grand, cinematic"),
    "aggressive": (-0.5, 0.95, "angry, heavy, relentless"),
}


def _words_of(mood: str) -> tuple[str, ...]:
    found = []
    for word, entry in {**WORDS, **PHRASES}.items():
        if (
            entry.votes
            and max(entry.votes, key=lambda m: entry.votes[m]) == mood
            and entry.votes[mood] >= 0.5
        ):
            found.append(word)
    return tuple(sorted(found))


MOODS: dict[str, MoodSpec] = {
    name: MoodSpec(name, valence, energy, description, _words_of(name))
    for name, (valence, energy, description) in _CATALOG.items()
}

DEFAULT_MOOD = "hopeful"  # neutral-bright, medium energy: a safe reading of a prompt that says nothing
EVIDENCE_SHARE = 0.65  # final valence/energy = this share of the words' reading + the rest from the mood
VALENCE_PRIOR = 0.25  # assumed valence when only energy words speak: most requests lean bright
ENERGY_PRIOR = 0.4  # assumed energy when only valence words speak ("not very happy" -> melancholic)
VADER_MIN = 0.05  # VADER's own neutrality threshold on the compound score
PRIOR_MIN = 0.1  # a preferred mood leans a silent prompt only with at least this weight

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?]")


@dataclass(frozen=True)
class _Hit:
    text: str  # the evidence as a tag, e.g. "dreamy", "not sad"
    entry: Entry
    scale: float  # intensifier/diminisher factor
    negated: bool

    @property
    def weight(self) -> float:
        return self.entry.weight * self.scale

    def valence(self) -> float | None:
        v = self.entry.valence
        if v is None:
            return None
        v = _clamp(v * _stretch(self.scale), -1.0, 1.0)
        return -0.5 * v if self.negated else v  # "not sad" is mildly positive, not joyful

    def energy(self) -> float | None:
        e = self.entry.energy
        if e is None:
            return None
        e = _clamp(0.5 + (e - 0.5) * _stretch(self.scale), 0.0, 1.0)
        if not self.negated:
            return e
        if self.entry.valence is None:
            return 0.5 - 0.5 * (e - 0.5)  # "not fast" leans slower
        return None  # "not sad" says nothing about energy

    def votes(self) -> dict[str, float]:
        sign = -0.5 if self.negated else 1.0  # "not sad" counts against sad
        return {mood: sign * vote * self.weight for mood, vote in self.entry.votes.items()}


def _stretch(scale: float) -> float:
    # "very sad" is sadder than "sad"; "slightly sad" less so.
    return 1.0 + 0.4 * (scale - 1.0)


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def tokenize(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("&", " and ")
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # "lo-fi" -> "lo fi", "laid-back" -> "laid back"
    return _TOKEN.findall(text)


def _stem_candidates(token: str) -> Iterator[str]:
    """The token, then plausible base forms: dreams, darker, sadly, happily, relaxing, dreaminess."""
    yield token
    rules = (
        ("iness", "y"),
        ("ily", "y"),
        ("ier", "y"),
        ("iest", "y"),
        ("ness", ""),
        ("ly", ""),
        ("ing", ""),
        ("ed", ""),
        ("er", ""),
        ("est", ""),
        ("es", ""),
        ("s", ""),
    )
    for suffix, repl in rules:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            base = token[: -len(suffix)] + repl
            yield base
            yield base + "e"  # relaxing -> relax(e), hoping -> hope
            if len(base) >= 4 and base[-1] == base[-2]:
                yield base[:-1]  # sadder -> sad


def _lookup(token: str, words: dict[str, Entry]) -> Entry | None:
    for candidate in _stem_candidates(token):
        if candidate in words:
            return words[candidate]
    return None


def find_evidence(
    prompt: str, extra_words: dict[str, Entry] | None = None, extra_phrases: dict[str, Entry] | None = None
) -> list[_Hit]:
    """Vocabulary hits in prompt order, with negation and intensity applied. `extra_words` and
    `extra_phrases` (custom moods) join the vocabulary, over its own entries."""
    words = {**WORDS, **extra_words} if extra_words else WORDS
    phrases = {**PHRASES, **extra_phrases} if extra_phrases else PHRASES
    tokens = tokenize(prompt)
    longest = max(len(p.split()) for p in phrases)
    hits: list[_Hit] = []
    negate_left = 0  # tokens still under a negator's reach
    scale, scale_left = 1.0, 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in CLAUSE_BREAKS:
            negate_left, scale_left, i = 0, 0, i + 1
            continue
        if token in NEGATORS or token.endswith("n't"):
            negate_left, i = NEGATION_SCOPE, i + 1
            continue
        factor = INTENSIFIERS.get(token) or DIMINISHERS.get(token)
        if factor is not None:
            scale, scale_left, i = factor, MODIFIER_SCOPE, i + 1
            continue
        entry, span = None, 1
        for n in range(min(longest, len(tokens) - i), 1, -1):
            phrase = " ".join(tokens[i : i + n])
            if phrase in phrases:
                entry, span = phrases[phrase], n
                break
        text = " ".join(tokens[i : i + span])
        if entry is None:
            entry = _lookup(token, words)
        if entry is not None:
            negated = negate_left > 0
            hits.append(
                _Hit(("not " if negated else "") + text, entry, scale if scale_left else 1.0, negated)
            )
            scale_left = 0  # an intensifier modifies the first word it reaches
        negate_left = max(0, negate_left - span)
        scale_left = max(0, scale_left - span)
        i += span
    return hits


def _weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    total = sum(w for w, _ in pairs)
    return sum(w * x for w, x in pairs) / total if total > 0 else None


def _nearest(valence: float, energy: float, valence_weight: float = 1.0) -> str:
    def distance(spec: MoodSpec) -> float:
        return valence_weight * (spec.valence - valence) ** 2 + (spec.energy - energy) ** 2

    return min(MOODS.values(), key=distance).name  # min keeps catalog order on ties


def _similarity_scores(valence: float, energy: float) -> dict[str, float]:
    return {
        name: round(max(0.0, 1.0 - math.dist((spec.valence, spec.energy), (valence, energy))), 3)
        for name, spec in MOODS.items()
    }


def _read_vocabulary(
    hits: list[_Hit], custom: dict[str, MoodSpec] | None = None
) -> tuple[str, float, float, dict[str, float]]:
    """(mood, valence, energy, scores): `custom` adds moods to choose from (keyed "custom:<key>")."""
    specs = {**MOODS, **custom} if custom else MOODS
    scores = dict.fromkeys(specs, 0.0)
    for hit in hits:
        for mood, vote in hit.votes().items():
            scores[mood] += vote
    v_ev = _weighted_mean([(h.weight, v) for h in hits if (v := h.valence()) is not None])
    e_ev = _weighted_mean([(h.weight, e) for h in hits if (e := h.energy()) is not None])
    point_v = VALENCE_PRIOR if v_ev is None else v_ev
    point_e = ENERGY_PRIOR if e_ev is None else e_ev
    best = max(scores.values())
    if best > 1e-9:
        # Ties ("uplifting ... dreamy") go to the mood nearest to what the words say overall.
        tied = [m for m, s in scores.items() if s >= best - 1e-9]
        name = min(tied, key=lambda m: (specs[m].valence - point_v) ** 2 + (specs[m].energy - point_e) ** 2)
    else:
        # Only negated or energy-only words: the point they describe picks the (built-in) mood.
        name = _nearest(point_v, point_e, valence_weight=1.0 if v_ev is not None else 0.5)
    spec = specs[name]
    valence = spec.valence if v_ev is None else (1 - EVIDENCE_SHARE) * spec.valence + EVIDENCE_SHARE * v_ev
    energy = spec.energy if e_ev is None else (1 - EVIDENCE_SHARE) * spec.energy + EVIDENCE_SHARE * e_ev
    return name, valence, energy, {m: round(s, 3) for m, s in scores.items()}


def _read_vader(prompt: str) -> tuple[float, list[str]] | None:
    """General-sentiment back-off: compound valence and the words VADER rated, or None if neutral."""
    from vaderSentiment.vaderSentiment import (
        SentimentIntensityAnalyzer,
    )  # loads its lexicon: only when needed

    analyzer = SentimentIntensityAnalyzer()
    compound = float(analyzer.polarity_scores(prompt)["compound"])
    if abs(compound) < VADER_MIN:
        return None
    words = [t for t in dict.fromkeys(tokenize(prompt)) if analyzer.lexicon.get(t, 0.0) != 0.0]
    return compound, words


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _preferred_mood(ctx: CompositionContext) -> tuple[str, str]:
    """For a prompt that says nothing: the best-liked known mood of the "moods" prior (catalog order
    breaks ties), or the default."""
    liked = [(w, name) for name, w in ctx.prior_weights("moods").items() if name in MOODS and w >= PRIOR_MIN]
    if not liked:
        return DEFAULT_MOOD, SOURCE_DEFAULT
    order = list(MOODS)
    best = max(liked, key=lambda item: (item[0], -order.index(item[1])))
    return best[1], SOURCE_PROFILE


def analyse_mood(ctx: CompositionContext, seed: int) -> MoodResult:
    """The mood of the composition. Deterministic text analysis: `seed` is
    accepted for the engine contract but the reading does not depend on it."""
    del seed
    custom = custom_moods(ctx)
    specs = {_CUSTOM + key: MoodSpec(m.name, m.valence, m.energy, "", m.words) for key, m in custom.items()}
    hits = find_evidence(ctx.prompt or "", *_custom_tables(custom))
    tags = _unique([h.text for h in hits])

    explicit = ctx.inputs.get("mood")
    if explicit is not None and str(explicit).strip() != "":
        name = mood_key(str(explicit))  # spelled as the prompt is read: "Laid-Back " is "laid back"
        scores = _read_vocabulary(hits, specs)[3] if hits else dict.fromkeys({**MOODS, **specs}, 0.0)
        if name in MOODS:
            spec = MOODS[name]
            return MoodResult(MoodInfo(name, spec.valence, spec.energy, tags), SOURCE_INPUT, scores)
        mine = custom.get(name)
        if mine is None:
            raise ValueError(f"unknown mood {explicit!r}; valid moods: {', '.join(sorted(MOODS))}")
        words = _unique([*mine.words, *tags])
        return MoodResult(
            MoodInfo(mine.name, mine.valence, mine.energy, words, custom=True), SOURCE_INPUT, scores
        )

    if hits:
        key, valence, energy, scores = _read_vocabulary(hits, specs)
        if key in specs:  # one of the owner's own moods: its words describe it too
            mine = custom[key.removeprefix(_CUSTOM)]
            mood = MoodInfo(
                mine.name,
                round(_clamp(valence, -1.0, 1.0), 3),
                round(_clamp(energy, 0.0, 1.0), 3),
                _unique([*tags, *mine.words]),
                custom=True,
            )
            return MoodResult(mood, SOURCE_PROMPT, scores)
        name, source = key, SOURCE_PROMPT
    elif (vader := _read_vader(ctx.prompt or "")) is not None:
        compound, tags = vader
        valence, energy = 0.8 * compound, 0.5  # VADER knows no arousal: keep energy neutral
        name = _nearest(valence, energy)
        scores = _similarity_scores(valence, energy)
        source = SOURCE_PROMPT
    else:
        name, source = _preferred_mood(ctx)
        valence, energy = MOODS[name].valence, MOODS[name].energy
        scores = dict.fromkeys(MOODS, 0.0)
    mood = MoodInfo(name, round(_clamp(valence, -1.0, 1.0), 3), round(_clamp(energy, 0.0, 1.0), 3), tags)
    return MoodResult(mood, source, scores)
