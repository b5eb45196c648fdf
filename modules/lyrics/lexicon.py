"""Words with their sound: syllable counts, stress and rhyme from the CMU
dictionary (through `pronouncing`), with the `syllables` estimator as the
back-off for words the dictionary lacks; and orthographic syllable chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pronouncing
import syllables as syllable_estimator

from .vocabulary import FAMILIES, PREPOSITIONS

_VOWELS = "aeiouy"


@dataclass(frozen=True)
class Word:
    text: str
    syllables: int
    stresses: tuple[int, ...]  # CMU stress per syllable: 1 primary, 2 secondary, 0 none
    rhyme: str  # CMU rhyming part (last stressed vowel onward); "" if unknown
    pos: str = ""  # template slot it fills ("" for literals)
    weight: float = 1.0  # sampling weight (family fit, prompt theme)
    theme: bool = False  # taken from the prompt


def phones(word: str) -> str | None:
    """First CMU pronunciation of a word, or None."""
    found = pronouncing.phones_for_word(word.lower().replace("\u2019", "'"))
    return found[0] if found else None


def in_dictionary(word: str) -> bool:
    return phones(word) is not None


def sound_of(word: str) -> tuple[int, tuple[int, ...], str]:
    """(syllable count, stresses, rhyming part) of a word."""
    ph = phones(word)
    if ph is not None:
        stresses = tuple(int(c) for c in pronouncing.stresses(ph))
        if stresses:
            return len(stresses), stresses, pronouncing.rhyming_part(ph)
    letters = re.sub(r"[^a-z]", "", word.lower())
    count = max(1, syllable_estimator.estimate(letters) if letters else 1)
    # Unknown words: English stresses the first syllable more often than not.
    return count, (1,) + (0,) * (count - 1), ""


def make_word(text: str, pos: str = "", weight: float = 1.0, theme: bool = False) -> Word:
    count, stresses, rhyme = sound_of(text)
    return Word(text, count, stresses, rhyme, pos, weight, theme)


def rhymes_with(a: str, b: str) -> bool:
    """Perfect rhyme: some pronunciations share the rhyming part."""
    parts_a = {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(a.lower())}
    parts_b = {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(b.lower())}
    return bool(parts_a & parts_b)


def third_person(verb: str) -> str | None:
    """'fly' -> 'flies', checked against the dictionary."""
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        form = verb + "es"
    elif verb.endswith("y") and len(verb) > 1 and verb[-2] not in _VOWELS:
        form = verb[:-1] + "ies"
    else:
        form = verb + "s"
    return form if in_dictionary(form) else None


def ing_form(verb: str) -> str | None:
    """'rise' -> 'rising', 'run' -> 'running'; the first spelling the dictionary knows."""
    options: list[str] = []
    if verb.endswith("ie"):
        options.append(verb[:-2] + "ying")
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        options.append(verb[:-1] + "ing")
    if len(verb) >= 3 and verb[-1] not in _VOWELS + "wx" and verb[-2] in _VOWELS and verb[-3] not in _VOWELS:
        options.append(verb + verb[-1] + "ing")
    options.append(verb + "ing")
    for form in options:
        if in_dictionary(form):
            return form
    return None


def plural(noun: str) -> str | None:
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        form = noun + "es"
    elif noun.endswith("y") and len(noun) > 1 and noun[-2] not in _VOWELS:
        form = noun[:-1] + "ies"
    else:
        form = noun + "s"
    return form if in_dictionary(form) else None


def _slot_words(words: tuple[str, ...], pos: str, weight: float) -> list[Word]:
    return [make_word(w, pos, weight) for w in words if in_dictionary(w)]


def family_words(family: str, weight: float) -> dict[str, list[Word]]:
    """Slot -> words of one family, with the derived verb forms."""
    table = FAMILIES[family]
    out: dict[str, list[Word]] = {
        pos: _slot_words(table.get(pos, ()), pos, weight) for pos in ("N", "NP", "A")
    }
    verbs = [v for v in table.get("V", ()) if in_dictionary(v)]
    out["V"] = [make_word(v, "V", weight) for v in verbs]
    out["VS"] = [make_word(f, "VS", weight) for v in verbs if (f := third_person(v))]
    out["VG"] = [make_word(f, "VG", weight) for v in verbs if (f := ing_form(v))]
    out["VT"] = _slot_words(table.get("VT", ()), "VT", weight)
    return out


def prepositions() -> list[Word]:
    return [make_word(p, "P") for p in PREPOSITIONS]


def split_word(word: str, count: int) -> list[str]:
    """Cut a word's spelling into `count` non-empty chunks at vowel groups
    ("horizon", 3 -> ho|ri|zon); the chunks concatenate back to the word."""
    count = max(1, min(count, len(word)))
    if count == 1:
        return [word]
    lower = word.lower()
    groups = [m.span() for m in re.finditer(r"[aeiouy]+", lower)]
    # 'y' opening a word is a consonant; a lone final 'e' after a consonant is silent.
    if groups and groups[0] == (0, 1) and lower[0] == "y":
        groups = groups[1:]
    if len(groups) > count and lower.endswith("e") and groups[-1] == (len(lower) - 1, len(lower)):
        groups = groups[:-1]
    cuts: list[int] = []
    if len(groups) >= 2:
        gaps = len(groups) - 1
        chosen = sorted({max(0, round((j + 1) * len(groups) / count) - 1) for j in range(count - 1)})
        for g in chosen:
            g = min(g, gaps - 1)
            end_vowel, next_vowel = groups[g][1], groups[g + 1][0]
            cluster = next_vowel - end_vowel
            # V-CV for one consonant, VC-CV for a cluster.
            cuts.append(end_vowel if cluster <= 1 else end_vowel + 1)
    cuts = sorted({c for c in cuts if 0 < c < len(word)})
    pieces = [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)], strict=True)]
    # Too few vowel groups: split the longest chunk until the count is met.
    while len(pieces) < count:
        i = max(range(len(pieces)), key=lambda k: len(pieces[k]))
        chunk = pieces[i]
        mid = len(chunk) // 2
        pieces[i : i + 1] = [chunk[:mid], chunk[mid:]]
    return pieces
