"""Lyrics engine: words for every vocal phrase, one syllable per onset.

Generated lyrics come from a small grammar of line templates filled with a
vocabulary built from the mood family (or two) and the prompt's theme words.
A line must have exactly as many syllables as its phrase has onsets, so each
template is filled by a seeded search over word choices that only keeps
choices that can still reach the count (syllable counts from the CMU
dictionary). Candidate lines are scored for stress on strong onsets, theme
words and freshness. Rhymes are planned per section (verse ABAB or AABB,
chorus AABB with the hook first) by choosing, for each rhyme letter, a group
of words sharing the CMU rhyming part. Choruses and other refrains repeat
their text; verses are written fresh.

User lyrics are fitted instead: lines go to phrases in order and are re-timed
when their syllable count differs from the phrase's onsets.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from modules.composition.context import CompositionContext, LyricLine, Syllable, VocalPhrase

from .lexicon import (
    Word,
    family_words,
    in_dictionary,
    ing_form,
    make_word,
    phones,
    plural,
    prepositions,
    sound_of,
    split_word,
)
from .lexicon import third_person as third_person_form
from .vocabulary import (
    FAMILIES,
    FAMILY_CUES,
    FUNCTION_WORDS,
    MASS_NOUNS,
    MUSIC_WORDS,
    OPENERS,
    PREPOSITIONS,
    STOPWORDS,
    TEMPLATES,
    Y_NOUNS,
)

SOURCE_GENERATED = "generated"
SOURCE_USER = "user"

END_SLOTS = ("N", "NP", "A", "V", "VS", "VG")
SLOTS = (*END_SLOTS, "VT", "P")
CLAUSE_STARTS = frozenset(
    {"we", "I", "you", "the", "all", "let", "watch", "my", "your", "there", "hold", "V", "VT"}
)
GRID = 0.5  # beats: the 8th-note grid user lyrics are re-timed on
MAX_THEMES = 4
CANDIDATE_TEMPLATES = 10  # feasible templates tried per line
SAMPLES_PER_TEMPLATE = 3
COMPOUND_MIN_SYLLABLES = 9  # longer phrases may take two clauses joined by "and"

_ADJECTIVES = frozenset(
    {
        "happy",
        "sad",
        "lonely",
        "angry",
        "pretty",
        "lovely",
        "crazy",
        "hazy",
        "lazy",
        "easy",
        "heavy",
        "empty",
        "sunny",
        "rainy",
        "stormy",
        "cloudy",
        "dreamy",
        "misty",
        "dusty",
        "salty",
        "bright",
        "dark",
        "warm",
        "cold",
        "blue",
        "golden",
        "silver",
        "wild",
        "free",
        "young",
        "sweet",
        "soft",
        "quiet",
        "electric",
        "neon",
        "endless",
        "broken",
        "lost",
        "hopeful",
        "nostalgic",
        "melancholic",
        "gentle",
    }
)
_ADJECTIVE_SUFFIXES = ("ful", "ous", "ive", "less", "ish", "ic", "al", "ern", "ent")


@dataclass
class LyricsResult:
    lines: list[LyricLine]
    source: str  # "generated" | "user"
    title: str
    theme_words: list[str] = field(default_factory=list)  # prompt words the lyrics are about
    mood_family: str = ""  # vocabulary family used ("" for user lyrics)


def write_lyrics(ctx: CompositionContext, seed: int) -> LyricsResult:
    themes = theme_words(ctx.prompt)
    if ctx.instrumental or not ctx.vocal_phrases:
        return LyricsResult([], SOURCE_GENERATED, _title_case(" ".join(w for w, _ in themes[:3])), [])
    if has_user_lyrics(ctx):
        return _fit_user(ctx, str(ctx.inputs["lyrics"]))
    return _Writer(ctx, seed, themes).write()


def has_user_lyrics(ctx: CompositionContext) -> bool:
    """The request gave its own lyrics (with at least one sung word): they are fitted, not written."""
    user = ctx.inputs.get("lyrics")
    return user is not None and bool(_tokens(str(user)))


# --------------------------------------------------------------------------- themes and family


def theme_words(prompt: str) -> list[tuple[str, str]]:
    """Content words of a prompt with a slot guess: [("night", "N"), ("dreamy", "A")]."""
    family_pos: dict[str, str] = {}
    for table in FAMILIES.values():
        for pos in ("N", "NP", "A"):
            for word in table.get(pos, ()):
                family_pos.setdefault(word, pos)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for compound in re.findall(r"[a-z][a-z'&-]*", prompt.lower()):
        if compound.strip("-'") in MUSIC_WORDS:
            continue  # "dream-pop", "hip-hop": a genre, not a theme
        for part in compound.split("-"):
            token = part.strip("'")
            if len(token) < 3 or token in STOPWORDS or token in MUSIC_WORDS or token in seen:
                continue
            if not in_dictionary(token):
                continue
            seen.add(token)
            out.append((token, _guess_pos(token, family_pos)))
    return out[:MAX_THEMES]


def _guess_pos(token: str, family_pos: dict[str, str]) -> str:
    if token in family_pos:
        return family_pos[token]
    if token in Y_NOUNS:
        return "N"
    if token in _ADJECTIVES or token.endswith(_ADJECTIVE_SUFFIXES):
        return "A"
    if token.endswith("ing") and len(token) > 5:
        return "VG"
    if token.endswith("y") and (in_dictionary(token[:-1]) or in_dictionary(token[:-2])):
        return "A"  # dream-y, sun-ny
    if token.endswith("s") and not token.endswith("ss") and in_dictionary(token[:-1]):
        return "NP"
    return "N"


def mood_families(ctx: CompositionContext) -> list[str]:
    """Primary (and secondary, when cued) vocabulary family for the mood."""
    scores: Counter[str] = Counter()
    words: list[tuple[str, float]] = []
    if ctx.mood is not None:
        words.append((ctx.mood.name.lower(), 3.0))
        words.extend((t.lower(), 1.5) for t in ctx.mood.tags)
    words.extend((t, 1.0) for t in re.findall(r"[a-z]+", ctx.prompt.lower()))
    for word, weight in words:
        for family, cues in FAMILY_CUES.items():
            if word in cues:
                scores[family] += weight
    ranked = [f for f, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]
    if not ranked:
        ranked = [_family_from_axes(ctx)]
    return ranked[:2]


def _family_from_axes(ctx: CompositionContext) -> str:
    valence = ctx.mood.valence if ctx.mood else 0.2
    energy = ctx.mood.energy if ctx.mood else (ctx.energy if ctx.energy is not None else 0.5)
    if valence >= 0.3:
        return "energetic" if energy >= 0.7 else "bright"
    if valence > -0.2:
        return "calm" if energy < 0.5 else "bright"
    return "dark" if energy >= 0.55 else "sad"


# --------------------------------------------------------------------------- generation


@dataclass
class _Line:
    words: list[Word]  # literals, slot words and "," tokens
    letter: str


@dataclass
class _Template:
    tokens: list[str]
    slots: list[bool]  # token is a slot (else a literal)


def _parse_template(text: str) -> _Template:
    tokens = text.replace(",", " ,").split()
    return _Template(tokens, [t in SLOTS for t in tokens])


_COMMA = Word(",", 0, (), "", ",")


class _Writer:
    def __init__(self, ctx: CompositionContext, seed: int, themes: list[tuple[str, str]]) -> None:
        self.ctx = ctx
        self.rng = random.Random(f"lyrics:{seed}")
        self.themes = themes
        self.families = mood_families(ctx)
        self.lex = self._lexicon()
        self.literals: dict[str, Word] = {}
        self.templates = [_parse_template(t) for t in TEMPLATES]
        self.openers = [_parse_template(t) for t in OPENERS]
        # Only whole clauses may follow "..., and" (not fragments like "A like the N").
        self.clauses = [t for t in self.templates if t.tokens[0] in CLAUSE_STARTS]
        self.used: Counter[str] = Counter()  # content words used so far
        self.used_rhymes: Counter[str] = Counter()
        self.refrains: dict[tuple[str, int], _Line] = {}
        self.refrain_groups: dict[tuple[str, str], str] = {}  # (section name, letter) -> rhyming part
        self.reach_cache: dict[tuple[int, int, tuple[int, ...]], bool] = {}
        self.groups = self._rhyme_groups()

    # -- vocabulary

    def _lexicon(self) -> dict[str, list[Word]]:
        merged: dict[str, dict[str, Word]] = {pos: {} for pos in SLOTS}
        layers = [("core", 0.55)] + [(f, w) for f, w in zip(self.families, (1.0, 0.7), strict=False)]
        for family, weight in layers:
            for pos, words in family_words(family, weight).items():
                for word in words:
                    old = merged[pos].get(word.text)
                    if old is None or old.weight < word.weight:
                        merged[pos][word.text] = word
        merged["P"] = {w.text: w for w in prepositions()}
        for text, pos in self.themes:
            for form, form_pos in _theme_forms(text, pos):
                merged[form_pos][form] = make_word(form, form_pos, 2.5 if form == text else 1.0, theme=True)
        return {pos: sorted(words.values(), key=lambda w: w.text) for pos, words in merged.items()}

    def _rhyme_groups(self) -> dict[str, list[Word]]:
        groups: dict[str, dict[str, Word]] = {}
        for pos in END_SLOTS:
            for word in self.lex[pos]:
                if word.rhyme:
                    groups.setdefault(word.rhyme, {})
                    groups[word.rhyme].setdefault(f"{pos}:{word.text}", word)
        out: dict[str, list[Word]] = {}
        for rhyme, words in groups.items():
            if len({w.text for w in words.values()}) >= 2:
                out[rhyme] = list(words.values())
        return out

    def _literal(self, text: str) -> Word:
        if text not in self.literals:
            self.literals[text] = make_word(text)
        return self.literals[text]

    def _weight(self, word: Word) -> float:
        if not word.pos or word.pos == "P":
            return 1.0
        return word.weight / (1.0 + 1.5 * self.used[word.text])

    # -- song

    def write(self) -> LyricsResult:
        sections = {s.index: s for s in self.ctx.sections}
        occurrences: list[tuple[str, int, list[VocalPhrase]]] = []
        for phrase in self.ctx.vocal_phrases:
            name = sections[phrase.section_index].name if phrase.section_index in sections else "verse"
            if occurrences and occurrences[-1][1] == phrase.section_index:
                occurrences[-1][2].append(phrase)
            else:
                occurrences.append((name, phrase.section_index, [phrase]))
        has_chorus = any(name == "chorus" for name, _, _ in occurrences)
        lines: list[LyricLine] = []
        hook: str | None = None
        verse_count = 0
        for name, section_index, phrases in occurrences:
            pin_theme = verse_count if name == "verse" else 0
            if name == "verse":
                verse_count += 1
            made = self._section(name, phrases, pin_theme)
            for phrase, line in zip(phrases, made, strict=True):
                lines.append(self._lyric_line(line, phrase, section_index, name))
            if hook is None and (name == "chorus" or not has_chorus) and lines:
                hook = lines[-len(made)].text
        family = self.families[0]
        return LyricsResult(lines, SOURCE_GENERATED, _title(hook or ""), [w for w, _ in self.themes], family)

    def _letters(self, name: str, count: int) -> tuple[list[str], list[int]]:
        """Rhyme letters and refrain positions for a section's lines."""
        if name == "chorus":
            # A 4-line refrain, hook first (AABB), cycled for longer choruses.
            positions = [0, 1, 0] if count == 3 else [i % 4 for i in range(count)]
            return ["AABB"[p] for p in positions], positions
        pattern = self.rng.choice(("ABAB", "AABB")) if name == "verse" else "AABB"
        letters: list[str] = []
        for block in range(0, count, 4):
            size = min(4, count - block)
            shape = (
                pattern
                if size == 4
                else {1: "A", 2: "AA", 3: pattern[:3] if pattern == "ABAB" else "AAB"}[size]
            )
            base = 2 * (block // 4)
            letters.extend(chr(ord("A") + base + "AB".index(c)) for c in shape)
        return letters, list(range(count))

    def _section(self, name: str, phrases: list[VocalPhrase], pin_theme: int) -> list[_Line]:
        refrain = name != "verse"
        letters, positions = self._letters(name, len(phrases))
        targets = [len(p.onsets) for p in phrases]
        group_of: dict[str, str] = {}
        if refrain:
            group_of.update({k[1]: g for k, g in self.refrain_groups.items() if k[0] == name})
        section_ends: set[str] = set()
        out: list[_Line | None] = [None] * len(phrases)
        # Repeat refrain lines whose phrase has the same number of onsets as before.
        for i, pos in enumerate(positions):
            cached = self.refrains.get((name, pos)) if refrain else None
            if cached is not None and _count(cached.words) == targets[i]:
                out[i] = cached
                section_ends.add(cached.words[-1].text)
        for i in range(len(phrases)):
            cached = self.refrains.get((name, positions[i])) if refrain else None
            if out[i] is None and cached is not None and _count(cached.words) == targets[i]:
                out[i] = cached  # the hook coming back inside a long chorus
            if out[i] is not None:
                continue
            letter = letters[i]
            if letter not in group_of:
                # Lines that will need their own end word (a refrain position is written once).
                firsts = {positions[j]: j for j in reversed(range(len(phrases)))}
                same = [
                    targets[j] for _, j in sorted(firsts.items()) if letters[j] == letter and out[j] is None
                ]
                taken = set(group_of.values())
                group_of[letter] = self._choose_group(same, taken)
            pin = self._pin(name, i, pin_theme)
            line = self._make_line(targets[i], _strong(phrases[i]), group_of[letter], section_ends, pin)
            line.letter = letter
            out[i] = line
            section_ends.add(line.words[-1].text)
            self.used_rhymes[line.words[-1].rhyme] += 1
            for word in line.words:
                if word.pos and word.pos != "P":
                    self.used[word.text] += 1
            if refrain:
                self.refrains.setdefault((name, positions[i]), line)
        if refrain:
            for letter, group in group_of.items():
                self.refrain_groups.setdefault((name, letter), group)
        return [line for line in out if line is not None]

    def _pin(self, name: str, index: int, pin_theme: int) -> Word | None:
        """The theme word a line should carry: the hook and each verse's opening line."""
        if not self.themes or index != 0 or name not in ("chorus", "verse"):
            return None
        text, pos = self.themes[pin_theme % len(self.themes)]
        for word in self.lex.get(pos, []):
            if word.text == text:
                return word
        return None

    def _choose_group(self, targets: list[int], taken: set[str]) -> str:
        """A rhyming part whose words can end every line of one letter."""
        names = sorted(self.groups)
        self.rng.shuffle(names)

        def appeal(rhyme: str) -> float:
            best = sorted((w.weight for w in self.groups[rhyme]), reverse=True)[:3]
            return sum(best) / (1.0 + 2.0 * self.used_rhymes[rhyme]) + self.rng.random() * 0.5

        names.sort(key=appeal, reverse=True)
        fallback = ""
        for rhyme in names:
            if rhyme in taken:
                continue
            if self._assignable(targets, self.groups[rhyme]):
                return rhyme
            fallback = fallback or rhyme
        return fallback or names[0]

    def _assignable(self, targets: list[int], words: list[Word]) -> bool:
        """Can each line end on a different word of the group? (a tiny matching problem)"""
        distinct = sorted({w.text for w in words})
        if len(distinct) < 2:
            return False
        targets = targets[: len(distinct)]
        fits = [{w.text for w in words if self._feasible_end(t, [w])} for t in targets]

        def place(k: int, taken: frozenset[str]) -> bool:
            return k == len(fits) or any(place(k + 1, taken | {x}) for x in sorted(fits[k] - taken))

        return place(0, frozenset())

    def _feasible_end(self, target: int, ends: list[Word]) -> bool:
        for index, template in enumerate(self.templates):
            end_counts = tuple(sorted({w.syllables for w in ends if w.pos == template.tokens[-1]}))
            if end_counts and self._template_reaches(index, template, target, end_counts):
                return True
        return False

    def _template_reaches(
        self, index: int, template: _Template, target: int, end_counts: tuple[int, ...]
    ) -> bool:
        key = (index, target, end_counts)
        if key not in self.reach_cache:
            counts = [
                self._counts(tok, slot)
                for tok, slot in zip(template.tokens[:-1], template.slots, strict=False)
            ]
            reach = _reach([*counts, set(end_counts)], target)
            self.reach_cache[key] = target in reach[0]
        return self.reach_cache[key]

    def _counts(self, token: str, slot: bool) -> set[int]:
        if token == ",":
            return {0}
        if slot:
            return {w.syllables for w in self.lex[token]}
        return {self._literal(token).syllables}

    def _templates_for(self, target: int) -> list[_Template]:
        templates = list(self.templates)
        if target >= COMPOUND_MIN_SYLLABLES:
            for _ in range(12):
                first, second = self.rng.choice(self.openers), self.rng.choice(self.clauses)
                tokens = [*first.tokens, ",", "and", *second.tokens]
                templates.append(_Template(tokens, [*first.slots, False, False, *second.slots]))
        self.rng.shuffle(templates)
        return templates

    def _make_line(
        self, target: int, strong: list[bool], group: str, section_ends: set[str], pin: Word | None
    ) -> _Line:
        ends = [w for w in self.groups.get(group, []) if w.text not in section_ends]
        if not ends:
            ends = list(self.groups.get(group, []))
        candidates: list[list[Word]] = []
        pinned: list[list[Word]] = []
        tried = 0
        for template in self._templates_for(target):
            domains = self._domains(template, ends)
            if domains is None:
                continue
            reach = _reach([{w.syllables for w in d} for d in domains], target)
            if target not in reach[0]:
                continue
            tried += 1
            if pin is not None:
                for k, token in enumerate(template.tokens):
                    if template.slots[k] and token == pin.pos and (k < len(domains) - 1 or pin in domains[k]):
                        forced = [*domains[:k], [pin], *domains[k + 1 :]]
                        forced_reach = _reach([{w.syllables for w in d} for d in forced], target)
                        if target in forced_reach[0]:
                            pinned.append(self._sample(forced, forced_reach, target))
                        break
            candidates.extend(self._sample(domains, reach, target) for _ in range(SAMPLES_PER_TEMPLATE))
            if tried >= CANDIDATE_TEMPLATES and (pin is None or pinned):
                break
        pool = pinned or candidates
        if not pool and section_ends:
            return self._make_line(target, strong, group, set(), pin)
        if not pool:
            # No rhyme word fits this phrase: give up the rhyme rather than the syllable count.
            return self._unrhymed(target, strong)
        return _Line(max(pool, key=lambda words: self._score(words, strong)), "")

    def _unrhymed(self, target: int, strong: list[bool]) -> _Line:
        pool: list[list[Word]] = []
        for template in self._templates_for(target):
            domains = self._domains(template, None)
            if domains is None:
                continue
            reach = _reach([{w.syllables for w in d} for d in domains], target)
            if target in reach[0]:
                pool.append(self._sample(domains, reach, target))
        if pool:
            return _Line(max(pool, key=lambda w: self._score(w, strong)), "")
        # Longer than any template: two shorter lines joined by "and".
        left = (target - 1) // 2
        first = self._unrhymed(left, strong).words
        second = self._unrhymed(target - 1 - left, strong[left + 1 :]).words
        return _Line([*first, _COMMA, self._literal("and"), *second], "")

    def _domains(self, template: _Template, ends: list[Word] | None) -> list[list[Word]] | None:
        domains: list[list[Word]] = []
        last = len(template.tokens) - 1
        for k, (token, slot) in enumerate(zip(template.tokens, template.slots, strict=True)):
            if token == ",":
                domains.append([_COMMA])
            elif not slot:
                domains.append([self._literal(token)])
            elif k == last and ends is not None:
                fitting = [w for w in ends if w.pos == token]
                if not fitting:
                    return None
                domains.append(fitting)
            else:
                domains.append(self.lex[token])
        return domains

    def _sample(self, domains: list[list[Word]], reach: list[set[int]], target: int) -> list[Word]:
        words: list[Word] = []
        remaining = target
        chosen: set[str] = set()
        for k, domain in enumerate(domains):
            options = [w for w in domain if remaining - w.syllables in reach[k + 1]]
            fresh = [w for w in options if not w.pos or w.pos in (",", "P") or w.text not in chosen]
            options = fresh or options
            pick = self.rng.choices(options, [self._weight(w) for w in options])[0]
            words.append(pick)
            chosen.add(pick.text)
            remaining -= pick.syllables
        return words

    def _score(self, words: list[Word], strong: list[bool]) -> float:
        score = 0.0
        j = 0
        for word in words:
            function = word.text.lower() in FUNCTION_WORDS
            for stress in word.stresses:
                on_strong = strong[j] if j < len(strong) else False
                if on_strong:
                    score += -0.6 if function else (1.0 if stress > 0 else -1.0)
                elif word.syllables > 1 and stress == 1:
                    score -= 0.7  # a word's main stress off the beat
                j += 1
        content = [w.text for w in words if w.pos and w.pos not in (",", "P")]
        score -= 3.0 * (len(content) - len(set(content)))
        for text in set(content):
            score -= 1.5 * self.used[text]
        score += sum(2.5 for w in words if w.theme and self.used[w.text] == 0)
        score += sum(0.8 for w in words if w.theme)
        return score + self.rng.random() * 0.8

    # -- output

    def _lyric_line(self, line: _Line, phrase: VocalPhrase, section_index: int, name: str) -> LyricLine:
        texts = _render(line.words)
        syllables: list[Syllable] = []
        j = 0
        for word, text in zip(line.words, texts, strict=True):
            if word.syllables == 0:
                continue
            chunks = split_word(text, word.syllables)
            for k, chunk in enumerate(chunks):
                start, duration = phrase.onsets[j]
                syllables.append(
                    Syllable(chunk, float(start), float(duration), word.stresses[k], k == len(chunks) - 1)
                )
                j += 1
        return LyricLine(section_index, name, _join(texts), syllables, line.letter)


def _theme_forms(text: str, pos: str) -> list[tuple[str, str]]:
    """A theme word and the forms of it the templates can use."""
    forms = [(text, pos)]
    if pos == "N" and text not in MASS_NOUNS and (many := plural(text)):
        forms.append((many, "NP"))
    elif pos == "NP" and in_dictionary(text[:-1]):
        forms.append((text[:-1], "N"))
    elif pos == "VG":
        base = next((b for b in (text[:-3], text[:-3] + "e", text[:-4]) if ing_form(b) == text), None)
        if base:
            forms.extend([(base, "V")] + ([(s, "VS")] if (s := third_person_form(base)) else []))
    return forms


def _reach(counts: list[set[int]], target: int) -> list[set[int]]:
    """reach[k]: syllable totals tokens k.. can still make (capped at target)."""
    reach: list[set[int]] = [set() for _ in range(len(counts) + 1)]
    reach[-1] = {0}
    for k in range(len(counts) - 1, -1, -1):
        reach[k] = {c + r for c in counts[k] for r in reach[k + 1] if c + r <= target}
    return reach


def _count(words: list[Word]) -> int:
    return sum(w.syllables for w in words)


def _strong(phrase: VocalPhrase) -> list[bool]:
    if len(phrase.strong) == len(phrase.onsets):
        return list(phrase.strong)
    # No flags: beats 1 and 3 of a 4/4 bar are strong.
    return [abs(start % 2.0) < 1e-6 for start, _ in phrase.onsets]


def _render(words: list[Word]) -> list[str]:
    """Spelling of each token as sung: 'a' before a vowel sound is 'an', 'I' capital."""
    out: list[str] = []
    for k, word in enumerate(words):
        text = word.text
        if text == "a":
            following = next((w for w in words[k + 1 :] if w.syllables), None)
            if following is not None and _starts_with_vowel_sound(following.text):
                text = "an"
        elif text == "i":
            text = "I"
        out.append(text)
    first = next((k for k, w in enumerate(words) if w.syllables), None)
    if first is not None:
        out[first] = out[first][:1].upper() + out[first][1:]
    return out


def _starts_with_vowel_sound(text: str) -> bool:
    ph = phones(text)
    if ph:
        return ph[0] in "AEIOU"
    return text[:1].lower() in "aeiou"


def _join(texts: list[str]) -> str:
    line = ""
    for text in texts:
        line = line + text if text == "," or not line else f"{line} {text}"
    return line


_SMALL = frozenset({"a", "an", "the", "of", "in", "and", "to", "on", "at", "like", "as", "is"})


def _title_case(text: str) -> str:
    words = text.replace(",", "").split()
    return " ".join(w if k and w.lower() in _SMALL else w[:1].upper() + w[1:] for k, w in enumerate(words))


def _title(hook: str) -> str:
    """Title from the hook: its last prepositional phrase when it has one ("Into the Golden Light")."""
    words = hook.replace(",", "").split()
    starts = [k for k, w in enumerate(words) if w.lower() in PREPOSITIONS or w.lower() == "like"]
    if starts and len(words) - starts[-1] >= 3:
        words = words[starts[-1] :]
    return _title_case(" ".join(words[:7]))


# --------------------------------------------------------------------------- user lyrics


def _tokens(text: str) -> list[str]:
    """Sung words of a line: letters, digits and inner apostrophes."""
    return re.findall(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z0-9]+)*", text)


def sung_words(text: str) -> list[str]:
    """The words of a line that are sung."""
    return _tokens(text)


def syllable_count(text: str) -> int:
    """Sung syllables of a line, counted as the fitting counts them (CMU dictionary, else estimated)."""
    return sum(make_word(token).syllables for token in _tokens(text))


def fit_lines(
    ctx: CompositionContext, texts: list[str], title: str, source: str = SOURCE_GENERATED
) -> LyricsResult:
    """Lines written elsewhere (a provider), one per vocal phrase in order, fitted as user lyrics
    are: a line whose syllable count differs from its phrase's onsets is re-timed over the phrase.
    Rhyme letters are what the words really rhyme, not what was asked."""
    if len(texts) != len(ctx.vocal_phrases):
        raise ValueError(f"{len(texts)} lines for {len(ctx.vocal_phrases)} vocal phrases")
    sections = {s.index: s for s in ctx.sections}
    lines = [
        _fit_line(
            text, phrase, sections[phrase.section_index].name if phrase.section_index in sections else "verse"
        )
        for text, phrase in zip(texts, ctx.vocal_phrases, strict=True)
    ]
    _letter_user_rhymes(lines)
    hook = next(
        (line.text for line in lines if line.section_name == "chorus"), lines[0].text if lines else ""
    )
    themes = [w for w, _ in theme_words(ctx.prompt)]
    return LyricsResult(lines, source, title.strip() or _title(hook), themes, "")


def _fit_user(ctx: CompositionContext, text: str) -> LyricsResult:
    stanzas: list[list[str]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if stanzas[-1]:
                stanzas.append([])
            continue
        if _tokens(line):
            stanzas[-1].append(line)
    flat = [line for stanza in stanzas for line in stanza]
    sections = {s.index: s for s in ctx.sections}
    lines: list[LyricLine] = []
    for i, phrase in enumerate(ctx.vocal_phrases):
        source = flat[i % len(flat)]  # cycles the stanzas when the user gave fewer lines
        name = sections[phrase.section_index].name if phrase.section_index in sections else "verse"
        lines.append(_fit_line(source, phrase, name))
    _letter_user_rhymes(lines)
    counts = Counter(line.text for line in lines)
    hook = max(counts, key=lambda t: (counts[t], -[ln.text for ln in lines].index(t))) if lines else ""
    title = _title_case(" ".join(_tokens(hook)[:6]))
    return LyricsResult(lines, SOURCE_USER, title, [], "")


def sung_pieces(text: str) -> list[tuple[str, int, bool]]:
    """The syllables of a line as sung: (chunk of spelling, CMU stress, ends a word)."""
    pieces: list[tuple[str, int, bool]] = []
    for token in _tokens(text):
        word = make_word(token)
        chunks = split_word(token, word.syllables)
        stresses = word.stresses if len(chunks) == word.syllables else (1,) + (0,) * (len(chunks) - 1)
        pieces.extend((chunk, stresses[k], k == len(chunks) - 1) for k, chunk in enumerate(chunks))
    return pieces


def _fit_line(text: str, phrase: VocalPhrase, name: str) -> LyricLine:
    pieces = sung_pieces(text)
    timings = retime(phrase.onsets, len(pieces))
    syllables = [
        Syllable(chunk, start, duration, stress, end)
        for (chunk, stress, end), (start, duration) in zip(pieces, timings, strict=True)
    ]
    return LyricLine(phrase.section_index, name, text, syllables, "")


def retime(onsets: list[list[float]], count: int) -> list[tuple[float, float]]:
    """`count` syllable timings over a phrase: its own onsets when the count
    matches, else spread over the phrase's span on an 8th-note grid, or evenly
    when the grid has too few slots."""
    if count == len(onsets):
        return [(float(s), float(d)) for s, d in onsets]
    start = float(onsets[0][0])
    end = max(float(s) + float(d) for s, d in onsets)
    span = max(end - start, GRID)
    slots = int(span / GRID + 1e-9)
    if count <= slots:
        starts = [start + (i * slots // count) * GRID for i in range(count)]
    else:
        starts = [start + i * span / count for i in range(count)]
    stops = [*starts[1:], start + span]
    return [(s, e - s) for s, e in zip(starts, stops, strict=True)]


def _letter_user_rhymes(lines: list[LyricLine]) -> None:
    """Rhyme letters of user lines: same rhyming part within a section, same letter."""
    k = 0
    while k < len(lines):
        j = k
        while j < len(lines) and lines[j].section_index == lines[k].section_index:
            j += 1
        letters: dict[str, str] = {}
        for n, line in enumerate(lines[k:j]):
            words = _tokens(line.text)
            # Stress level is not part of the rhyme here: "go" and "afterglow" share a letter.
            rhyme = sound_of(words[-1])[2].replace("2", "1") if words else ""
            key = rhyme or f"#{n}"
            if key not in letters:
                letters[key] = chr(ord("A") + len(letters) % 26)
            line.rhyme = letters[key]
        k = j


# --------------------------------------------------------------------------- line edits
#
# An edited line is sung on its phrase's notes (the melody's rhythm). With as many
# syllables as notes each syllable takes its note. With fewer, notes are merged: the
# dropped onsets' time is held by the syllable before them (one note per syllable, so a
# held note rather than a melisma: the singer sings one pitch per syllable), and the
# onsets kept are chosen so stressed syllables land on strong onsets. With more, notes
# are split: the longest note is cut in two, at the strongest point of the sixteenth grid
# nearest its middle, until there are enough. The line still starts on the phrase's first
# note and ends where the phrase ends, so it keeps its place in the song (and in the LRC).

MIN_NOTE = 0.25  # beats: a split never makes a note shorter than a sixteenth
MAX_SPLIT_FACTOR = 2  # an edited line has at most twice as many syllables as its phrase has notes
FIT_SAME, FIT_MERGED, FIT_SPLIT = "same", "merged", "split"


class LineFitError(ValueError):
    """The words cannot be sung on the line's notes (too many syllables, or none)."""


@dataclass(frozen=True)
class LineEdit:
    """A line's words replaced: applies while the line still says `base` (the words it had
    when it was first edited), so new lyrics written over it (a regeneration, the user's own
    lyrics, another form) are never patched with words meant for different ones."""

    line: int
    base: str
    text: str

    @classmethod
    def parse(cls, data: object) -> list[LineEdit]:
        """Edits as stored in the context's inputs (`lyrics_edits`), in line order."""
        if not isinstance(data, list):
            return []
        edits = [
            cls(int(e["line"]), str(e["base"]), str(e["text"]))
            for e in data
            if isinstance(e, dict) and {"line", "base", "text"} <= e.keys()
        ]
        return sorted(edits, key=lambda e: e.line)

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "base": self.base, "text": self.text}


def _split_point(start: float, duration: float) -> float | None:
    """Where to cut a note in two: on the sixteenth grid, both parts at least MIN_NOTE, at the
    metrically strongest point (beat, then eighth) nearest the middle; None if it is too short."""
    steps = round(duration / MIN_NOTE)
    first = math.ceil((start + MIN_NOTE - 1e-9) / MIN_NOTE)
    last = math.floor((start + duration - MIN_NOTE + 1e-9) / MIN_NOTE)
    if steps < 2 or last < first:
        return None
    middle = start + duration / 2.0

    def strength(k: int) -> tuple[int, float, float]:
        at = k * MIN_NOTE
        level = 2 if abs(at - round(at)) < 1e-9 else 1 if abs(at * 2 - round(at * 2)) < 1e-9 else 0
        return (-level, abs(at - middle), at)  # stronger, then nearer the middle, then earlier

    return min(range(first, last + 1), key=strength) * MIN_NOTE


def _split(notes: list[tuple[float, float, bool]], count: int) -> list[tuple[float, float, bool]]:
    """Cut notes in two until there are `count`: the longest first, spread evenly over the line
    when several are as long, and the phrase's last note (its cadence) only when no other can be cut."""
    notes = list(notes)
    while len(notes) < count:
        cuts = {i: at for i, (s, d, _) in enumerate(notes) if (at := _split_point(s, d)) is not None}
        if not cuts:
            break  # nothing left to cut
        last = len(notes) - 1
        pool = [i for i in cuts if i != last] or [last]
        longest = max(notes[i][1] for i in pool)
        tied = [i for i in pool if notes[i][1] >= longest - 1e-9]
        needed = count - len(notes)
        chosen = (
            tied
            if needed >= len(tied)
            else [tied[int((k + 0.5) * len(tied) / needed)] for k in range(needed)]
        )
        for i in sorted(chosen, reverse=True):
            start, duration, strong = notes[i]
            at = cuts[i]
            notes[i : i + 1] = [(start, at - start, strong), (at, start + duration - at, False)]
    return notes


def syllable_limit(phrase: VocalPhrase) -> int:
    """The most syllables an edited line may have on this phrase."""
    notes = [(float(s), float(d), False) for s, d in phrase.onsets]
    ceiling = MAX_SPLIT_FACTOR * len(notes)
    return min(ceiling, len(_split(notes, ceiling)))


def _merge(notes: list[tuple[float, float, bool]], stresses: list[int]) -> list[tuple[float, float, bool]]:
    """The onsets to keep for `len(stresses)` syllables: the first always (the line keeps its
    start), the rest chosen so stressed syllables fall on strong onsets and the last syllable
    on the phrase's last note when it can; each kept note lasts until the next kept one."""
    n, m = len(stresses), len(notes)

    def gain(k: int, j: int) -> float:
        strong, stressed = notes[j][2], stresses[k] > 0
        score = (1.0 if stressed else 0.4) if strong else (-0.5 if stresses[k] == 1 else 0.0)
        if k == n - 1 and j == m - 1:
            score += 0.5
        return score

    # best[k][j]: the best score with syllable k on note j; from[k][j] the note of syllable k-1.
    best = [[-math.inf] * m for _ in range(n)]
    came: list[list[int]] = [[-1] * m for _ in range(n)]
    best[0][0] = gain(0, 0)
    for k in range(1, n):
        for j in range(k, m - (n - 1 - k)):
            prev = max(range(k - 1, j), key=lambda i: (best[k - 1][i], -i))
            if best[k - 1][prev] > -math.inf:
                best[k][j] = best[k - 1][prev] + gain(k, j)
                came[k][j] = prev
    j = max(range(n - 1, m), key=lambda i: (best[n - 1][i], -i))
    kept = [j]
    for k in range(n - 1, 0, -1):
        j = came[k][j]
        kept.append(j)
    kept.reverse()
    end = notes[-1][0] + notes[-1][1]
    stops = [notes[j][0] for j in kept[1:]] + [end]
    return [(notes[j][0], stop - notes[j][0], notes[j][2]) for j, stop in zip(kept, stops, strict=True)]


def fit_to_notes(phrase: VocalPhrase, stresses: list[int]) -> tuple[list[tuple[float, float]], str]:
    """(start, duration) of each syllable on the phrase's notes, and how: FIT_SAME, FIT_MERGED
    or FIT_SPLIT. Raises LineFitError when the count cannot be sung there."""
    strong = list(phrase.strong) if len(phrase.strong) == len(phrase.onsets) else [False] * len(phrase.onsets)
    notes = [(float(s), float(d), bool(f)) for (s, d), f in zip(phrase.onsets, strong, strict=True)]
    count, limit = len(stresses), syllable_limit(phrase)
    if not notes:
        raise LineFitError("this line has no notes to sing on")
    if count == 0:
        raise LineFitError("the line has no words to sing")
    if count > limit:
        raise LineFitError(
            f"the line has {count} syllables; it is sung on {len(notes)} notes, "
            f"which take at most {limit} syllables"
        )
    if count == len(notes):
        return [(s, d) for s, d, _ in notes], FIT_SAME
    if count < len(notes):
        return [(s, d) for s, d, _ in _merge(notes, stresses)], FIT_MERGED
    return [(s, d) for s, d, _ in _split(notes, count)], FIT_SPLIT


def edited_line(line: LyricLine, phrase: VocalPhrase, text: str) -> tuple[LyricLine, str]:
    """`line` with new words fitted to its phrase's notes, and the kind of fit."""
    pieces = sung_pieces(text)
    timings, fit = fit_to_notes(phrase, [stress for _, stress, _ in pieces])
    syllables = [
        Syllable(chunk, round(start, 6), round(duration, 6), stress, end)
        for (chunk, stress, end), (start, duration) in zip(pieces, timings, strict=True)
    ]
    return LyricLine(line.section_index, line.section_name, text, syllables, line.rhyme), fit


def apply_edits(lines: list[LyricLine], phrases: list[VocalPhrase], edits: list[LineEdit]) -> list[LyricLine]:
    """The lines with every edit that still applies (see LineEdit); an edit whose words no longer
    fit its phrase (the arrangement changed it) leaves the line as written."""
    out = list(lines)
    for edit in edits:
        if not (0 <= edit.line < len(out) and edit.line < len(phrases)) or lines[edit.line].text != edit.base:
            continue
        try:
            out[edit.line] = edited_line(lines[edit.line], phrases[edit.line], edit.text)[0]
        except LineFitError:
            continue
    return out
