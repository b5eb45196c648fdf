"""Phonetics for singing: phoneme segments into syllables, one per sung note.

The speech synthesizer gives word and phoneme intervals but no syllables, so
syllables are cut at vowels: every vowel (or syllabic consonant) is a nucleus,
the consonants between two nuclei are shared (one consonant opens the next
syllable, a cluster gives its first half to the previous one), consonants
before the first nucleus open the first syllable and those after the last
close it. The number of notes of a word is authoritative: extra nuclei are
merged into their neighbour, missing ones come from splitting the longest
vowel (a short melisma on one vowel).

Pure functions of plain data: no Praat objects here, so they test in isolation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

# IPA vowel letters espeak-ng writes (ᵻ is its reduced "i/ə" vowel).
VOWEL_LETTERS = frozenset("aeiouyæɐɑɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏᵻ")  # noqa: RUF001
SYLLABIC_MARK = "\u0329"  # n̩, l̩: a consonant that carries a syllable


@dataclass
class Segment:
    """One phoneme (or a piece of one, or a pause) on the original speech time axis."""

    start: float  # seconds
    end: float
    label: str
    kind: str  # "V" vowel nucleus, "C" consonant, "S" silence

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass
class SyllableCut:
    """The segments of one sung syllable: onset consonants, the nucleus, coda consonants."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end

    def vowel_length(self) -> float:
        return sum(s.length for s in self.segments if s.kind == "V")

    def consonant_length(self) -> float:
        return sum(s.length for s in self.segments if s.kind != "V")


def is_vowel(label: str) -> bool:
    """A phoneme label that can carry a syllable: it holds a vowel letter or a syllabic mark."""
    return SYLLABIC_MARK in label or any(ch in VOWEL_LETTERS for ch in label)


def is_diphthong(label: str) -> bool:
    """Two vowel qualities in one phoneme (the vowels of "night", "go", "day", "fire"): it glides."""
    return sum(ch in VOWEL_LETTERS for ch in label) >= 2


def classify(start: float, end: float, label: str) -> Segment:
    text = label.strip()
    if not text:
        return Segment(start, end, "", "S")
    return Segment(start, end, text, "V" if is_vowel(text) else "C")


@dataclass(frozen=True)
class WordShape:
    """A word's phonemes spoken alone: consonants before its first vowel, vowels, consonants after."""

    lead: int
    vowels: int
    tail: int


def word_shape(segments: list[Segment]) -> WordShape:
    segs = [s for s in segments if s.kind != "S"]
    nuclei = [k for k, s in enumerate(segs) if s.kind == "V"]
    if not nuclei:
        return WordShape(len(segs), 0, 0)
    return WordShape(nuclei[0], len(nuclei), len(segs) - 1 - nuclei[-1])


def split_words(segments: list[Segment], shapes: list[WordShape]) -> list[list[Segment]] | None:
    """The phonemes of a spoken line shared out among its words.

    The synthesizer's word intervals are too loose to cut by (a word's last
    consonant often lies in the next word's interval), so the line's vowels are
    dealt out in order by each word's vowel count spoken alone (a contiguous
    best fit when connected speech gained or lost one), and the consonants
    between two words go to the next word's onset first, then the previous
    word's coda. None when some word would get no vowel at all."""
    segs = [s for s in segments if s.kind != "S" and s.length > 0]
    nuclei = [k for k, s in enumerate(segs) if s.kind == "V"]
    if not shapes:
        return None
    counts = _deal(len(nuclei), [s.vowels for s in shapes])
    if counts is None or any(c == 0 for c in counts):
        return None
    firsts: list[int] = []
    lasts: list[int] = []
    k = 0
    for c in counts:
        firsts.append(nuclei[k])
        lasts.append(nuclei[k + c - 1])
        k += c
    bounds = [0]
    for i in range(len(shapes) - 1):
        between = firsts[i + 1] - lasts[i] - 1
        onset = min(shapes[i + 1].lead, between)
        coda = min(shapes[i].tail, between - onset)
        # Leftover consonants (connected speech added some) open the next word.
        bounds.append(lasts[i] + 1 + coda)
    bounds.append(len(segs))
    return [segs[a:b] for a, b in itertools.pairwise(bounds)]


def _deal(total: int, wanted: list[int]) -> list[int] | None:
    """Contiguous counts summing to `total`, as close as possible to `wanted`
    (a word getting no vowel costs most). Small DP over (word, vowels used)."""
    n = len(wanted)
    if n == 0 or total < 0:
        return None
    if sum(wanted) == total:
        return list(wanted)
    inf = float("inf")
    cost = [[inf] * (total + 1) for _ in range(n + 1)]
    back = [[0] * (total + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n):
        for used in range(total + 1):
            if cost[i][used] == inf:
                continue
            for c in range(total - used + 1):
                step = abs(c - wanted[i]) + (10.0 if c == 0 else 0.0)
                if cost[i][used] + step < cost[i + 1][used + c]:
                    cost[i + 1][used + c] = cost[i][used] + step
                    back[i + 1][used + c] = c
    if cost[n][total] == inf:
        return None
    counts: list[int] = []
    used = total
    for i in range(n, 0, -1):
        counts.append(back[i][used])
        used -= back[i][used]
    return counts[::-1]


def syllabify(segments: list[Segment], count: int) -> list[SyllableCut]:
    """Cut the phonemes of a word (or a group of words) into exactly `count` syllables."""
    if count <= 0:
        return []
    segs = [s for s in segments if s.kind != "S" and s.length > 0]
    if not segs:
        return []
    if not any(s.kind == "V" for s in segs):
        # No vowel at all (a hum, an unknown token): the whole stretch is the nucleus.
        segs = [Segment(s.start, s.end, s.label, "V") for s in segs]
    segs = _fit_nuclei(segs, count)
    nuclei = [k for k, s in enumerate(segs) if s.kind == "V"]
    # Merged nuclei: runs of vowels inside one syllable are fine, so group by nucleus index.
    groups = _nucleus_groups(segs, nuclei, count)
    cuts: list[SyllableCut] = []
    bounds: list[int] = [0]
    for g in range(1, len(groups)):
        prev_last, next_first = groups[g - 1][-1], groups[g][0]
        between = next_first - prev_last - 1  # consonants between the two nuclei
        bounds.append(prev_last + 1 + between // 2)
    bounds.append(len(segs))
    for a, b in itertools.pairwise(bounds):
        cuts.append(SyllableCut(segs[a:b]))
    return cuts


def _fit_nuclei(segs: list[Segment], count: int) -> list[Segment]:
    """Split the longest vowels until there are at least `count` nuclei."""
    segs = list(segs)
    while sum(s.kind == "V" for s in segs) < count:
        k = max((i for i, s in enumerate(segs) if s.kind == "V"), key=lambda i: (segs[i].length, -i))
        s = segs[k]
        mid = (s.start + s.end) / 2.0
        segs[k : k + 1] = [Segment(s.start, mid, s.label, "V"), Segment(mid, s.end, s.label, "V")]
    return segs


def _nucleus_groups(segs: list[Segment], nuclei: list[int], count: int) -> list[list[int]]:
    """Nuclei grouped into `count` syllables: too many nuclei merge the closest pair first
    (adjacent vowels, then those with the fewest consonants between), the way
    "fire" (fa-i-er) or "every" (ev-r-y) collapse in song."""
    groups = [[k] for k in nuclei]
    while len(groups) > count:
        best = min(
            range(len(groups) - 1),
            key=lambda g: (
                groups[g + 1][0] - groups[g][-1],  # consonants between
                segs[groups[g][-1]].length + segs[groups[g + 1][0]].length,  # shorter vowels merge first
                -g,  # prefer merging late (word endings)
            ),
        )
        groups[best : best + 2] = [groups[best] + groups[best + 1]]
    return groups


def voiced_spans(pulses: list[float], max_gap: float = 0.02) -> list[tuple[float, float]]:
    """Voiced stretches from glottal pulse times: pulses closer than max_gap belong together."""
    spans: list[tuple[float, float]] = []
    if not pulses:
        return spans
    start = prev = pulses[0]
    period = max_gap / 2.0
    for t in pulses[1:]:
        if t - prev > max_gap:
            spans.append((start, prev + period))
            start = t
        else:
            period = t - prev
        prev = t
    spans.append((start, prev + period))
    return spans


def trim_to_voicing(
    cut: SyllableCut, spans: list[tuple[float, float]], min_piece: float = 0.008
) -> SyllableCut:
    """The syllable with each vowel narrowed to its voiced part.

    The synthesizer's phoneme times are approximate: a vowel interval often
    ends in the silent closure of the next stop ("the | pale"), and stretching
    that closure fivefold would sing silence. The unvoiced head or tail of a
    vowel is kept as a consonant-like piece (natural length) instead."""
    out: list[Segment] = []
    for seg in cut.segments:
        if seg.kind != "V":
            out.append(seg)
            continue
        inside = [(max(a, seg.start), min(b, seg.end)) for a, b in spans if b > seg.start and a < seg.end]
        if not inside:
            out.append(seg)
            continue
        va, vb = inside[0][0], inside[-1][1]
        if va - seg.start >= min_piece:
            out.append(Segment(seg.start, va, seg.label, "C"))
        else:
            va = seg.start
        tail = seg.end - vb >= min_piece
        out.append(Segment(va, vb if tail else seg.end, seg.label, "V"))
        if tail:
            out.append(Segment(vb, seg.end, seg.label, "C"))
    if not any(s.kind == "V" for s in out):
        return cut
    return SyllableCut(out)
