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

import re
from dataclasses import dataclass, field

# IPA vowel letters espeak-ng writes (ᵻ is its reduced "i/ə" vowel).
VOWEL_LETTERS = frozenset("aeiouyæɐɑɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏᵻ")
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


def classify(start: float, end: float, label: str) -> Segment:
    text = label.strip()
    if not text:
        return Segment(start, end, "", "S")
    return Segment(start, end, text, "V" if is_vowel(text) else "C")


def word_tokens(label: str) -> list[str]:
    """Words the synthesizer joined into one interval ("of the" is one interval)."""
    return re.findall(r"[^\s]+", label)


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
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
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
    "fire" (faɪ-ə) or "every" (ɛv-ɹ-i) collapse in song."""
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
