"""The content check: a word list and a few rules, behind an interface a classifier can replace.

Pure Python (no Django). `Moderator` is the interface: `check(text, field=...)` returns
None when the text is allowed, else a `Verdict` naming the rule it broke. `RulesModerator`
is the implementation that ships with the project:

- a word and phrase list (`data/blocklist.txt`): profanity, hate (slurs), sexual,
  violence_threat, self_harm;
- rules in code: personal_data (email addresses, phone numbers), links (http(s) and www
  URLs), flooding (one word repeated many times in a row, one character making up most of
  the text).

Policy: songs may be about violence, death, drugs or grief ("murder ballad", "a dark trap
beat about killing time"); what is rejected is a direct threat at the person addressed
("I will kill you") and incitement to self-harm ("kill yourself"). Narrative third-person
violence ("I shot a man in Reno") is art and passes.

Matching is whole-word (so "Scunthorpe", "assassin", "cocktail" and "therapist" pass) over a
normalised text: case folded, accents and look-alike letters dropped, leetspeak read ("sh1t",
"a$$hole"), spaced-out letters joined ("f.u.c.k", "k y s"), stretched letters allowed
("fuuuck" matches "fuck", but "as" never matches "ass": a letter doubled in the entry must be
doubled in the text), contractions and text-speak expanded ("I'ma kill u" is "i am going to
kill you"). Known gaps, on purpose: self-censored spellings ("f*ck"), words glued to others
("fuckthis"), and runs of note names ("F A G" is a chord list, not a word; "f.a.g" is caught).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# Stable rule ids and their messages, most serious first: when a text breaks several
# rules, the verdict names the first of them in this order.
RULES: dict[str, str] = {
    "violence_threat": "contains a direct threat of violence against someone",
    "self_harm": "encourages someone to harm themselves",
    "hate": "contains a slur",
    "sexual": "contains explicit sexual language",
    "profanity": "contains profanity",
    "personal_data": "contains personal data (an email address or a phone number)",
    "links": "contains a link",
    "flooding": "is flooded with repeated text",
}

BLOCKLIST = Path(__file__).parent / "data" / "blocklist.txt"
# Bump when the code rules change what they reject (the word list is hashed on its own).
RULES_VERSION = "1"
EXCERPT_CHARS = 120


@dataclass(frozen=True)
class Verdict:
    rule: str  # a stable machine id, one of RULES for RulesModerator
    message: str  # what kind of content it is, for people
    excerpt: str  # the text that broke the rule (personal data masked)


@runtime_checkable
class Moderator(Protocol):
    """Anything with this method can be the content check (settings.CODA_MODERATOR)."""

    def check(self, text: str, *, field: str) -> Verdict | None:
        """None when `text` (the value of input `field`) is allowed, else why not."""
        ...


# --------------------------------------------------------------------------- normalisation

_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
# Cyrillic and Greek letters that look Latin: "fu\u0441k" with a Cyrillic es is still "fuck".
_CONFUSABLES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb\u03ba\u03bd\u03bf\u03b1\u03c4",
    "aeopcyxijsdhkvoat",
)
_LEET = str.maketrans("03457@$!", "oeastasi")  # "1" is read both as "i" and "l" (see _forms)
_LEET_CHARS = frozenset("013457@$!")
# A word: letters and digits (and @ $ inside or around them), with inner apostrophes and "!".
_TOKEN = re.compile(r"(?:[^\W_]|[@$])+(?:['!](?:[^\W_]|[@$])+)*")
# Between two spaced-out letters ("f.u.c.k", "k y s", "f-u-c-k").
_LETTER_GAP = re.compile(r"[ .\-_*/|+~·•]{1,3}")
# Phrases never run across these ("...and I will. Kill you all" is two sentences).
_BREAKS = frozenset(".!?;:\n")
_NOTE_NAMES = frozenset("abcdefg")
_CHORD_GAPS = frozenset(" -/|")
_NEGATIONS = frozenset({"not", "never", "dont", "wont", "cant", "didnt"})
# Rules whose phrases are cancelled by a negation just before them ("don't kill yourself").
_NEGATABLE = frozenset({"violence_threat", "self_harm"})

_TEXT_SPEAK: dict[str, tuple[str, ...]] = {
    "u": ("you",),
    "ur": ("your",),
    "urself": ("yourself",),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "imma": ("i", "am", "going", "to"),
    "ima": ("i", "am", "going", "to"),
    "im": ("i", "am"),
    "dont": ("do", "not"),
    "cant": ("can", "not"),
}
_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "won't": ("will", "not"),
    "can't": ("can", "not"),
    "i'ma": ("i", "am", "going", "to"),
}
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", "not"),
    ("'ll", "will"),
    ("'m", "am"),
    ("'re", "are"),
    ("'ve", "have"),
    ("'d", "would"),
)


def _clean(text: str) -> tuple[str, list[int]]:
    """Case folded, without accents or invisible characters, each character mapped back to its
    index in `text` (so an excerpt quotes the original)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _INVISIBLE:
            continue
        for part in unicodedata.normalize("NFKD", char.translate(_APOSTROPHES)):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold().translate(_CONFUSABLES):
                out.append(folded)
                origin.append(index)
    return "".join(out), origin


Shape = tuple[str, tuple[int, ...]]


def _shape(word: str) -> Shape:
    """Letters with runs collapsed, and the length of each run: "fuuck" is ("fuck", (1, 2, 1, 1))."""
    chars: list[str] = []
    counts: list[int] = []
    for char in word:
        if chars and chars[-1] == char:
            counts[-1] += 1
        else:
            chars.append(char)
            counts.append(1)
    return "".join(chars), tuple(counts)


def _fits(word: Shape, entry: Shape) -> bool:
    """A word matches an entry with the same letters, each run at least as long as the entry's."""
    return word[0] == entry[0] and all(w >= e for w, e in zip(word[1], entry[1], strict=True))


def _forms(token: str) -> tuple[str, ...]:
    """Readings of a token: decoded when it mixes letters with leetspeak ("sh1t" -> "shit";
    "1" may stand for "i" or "l": "k1ll" and "ki11" both mean "kill"), else as written."""
    if not any(c.isalpha() for c in token) or not _LEET_CHARS & set(token):
        return (token,)
    decoded = token.translate(_LEET)
    readings = {decoded.replace("1", "i"), decoded.replace("1", "l")}
    return tuple(sorted(readings))


def _expand(token: str) -> list[str]:
    """Contractions and text-speak as whole words, so phrases have one spelling."""
    if token in _CONTRACTIONS:
        return list(_CONTRACTIONS[token])
    if "'" in token:
        for suffix, word in _SUFFIXES:
            if token.endswith(suffix) and len(token) > len(suffix):
                return [token[: -len(suffix)], word]
        return [token.replace("'", "")]
    return list(_TEXT_SPEAK.get(token, (token,)))


@dataclass(frozen=True)
class _Word:
    shapes: tuple[Shape, ...]  # one per reading of the token
    start: int  # span in the cleaned text
    end: int
    brk: bool  # a sentence break comes before it


def _words(clean: str) -> list[_Word]:
    words: list[_Word] = []
    previous = 0  # where the previous token ended
    for group in _groups(clean, list(_TOKEN.finditer(clean))):
        brk = bool(words) and not _BREAKS.isdisjoint(clean[previous : group[0].start()])
        previous = group[-1].end()
        if len(group) > 1:  # letters spaced out: one word
            joined = "".join(t.group().translate(_LEET).replace("1", "i") for t in group)
            words.append(_Word((_shape(joined),), group[0].start(), group[-1].end(), brk))
            continue
        token = group[0]
        readings = [_expand(form) for form in _forms(token.group())]
        for k in range(max(len(r) for r in readings)):
            shapes = tuple(dict.fromkeys(_shape(r[k]) for r in readings if k < len(r)))
            words.append(_Word(shapes, token.start(), token.end(), brk and k == 0))
    return words


def _spellable(token: str) -> bool:
    return len(token) == 1 and (token.isalpha() or token in _LEET_CHARS)


def _groups(clean: str, tokens: list[re.Match[str]]) -> Iterator[list[re.Match[str]]]:
    """Tokens one at a time, except letters spaced out ("f.u.c.k"), which come as one group.
    One pass, so a long run of single letters costs no more than a sentence."""
    run: list[re.Match[str]] = []
    for token in tokens:
        if _spellable(token.group()):
            if run and not _LETTER_GAP.fullmatch(clean[run[-1].end() : token.start()]):
                yield from _spelled(clean, run)
                run = []
            run.append(token)
            continue
        yield from _spelled(clean, run)
        run = []
        yield [token]
    yield from _spelled(clean, run)


def _spelled(clean: str, run: list[re.Match[str]]) -> Iterator[list[re.Match[str]]]:
    """A run of single characters as one word when it spells one, else one by one."""
    letters = {t.group() for t in run if t.group().isalpha()}
    gaps = "".join(clean[a.end() : b.start()] for a, b in itertools.pairwise(run))
    if len(run) < 3 or not letters or (letters <= _NOTE_NAMES and set(gaps) <= _CHORD_GAPS):
        # Too short, digits only, or "F A G" / "C - G - A": a chord list, not a word spelled out.
        yield from ([t] for t in run)
    else:
        yield run


# --------------------------------------------------------------------------- the word list


@dataclass(frozen=True)
class _Entry:
    rule: str
    text: str
    shapes: tuple[Shape, ...]


def _expand_alternatives(phrase: str) -> Iterator[str]:
    """ "(i|we) will (kill|hurt) you" -> "i will kill you", "i will hurt you", ..."""
    parts = re.split(r"\(([^()]*)\)", phrase)
    options = [part.split("|") if k % 2 else [part] for k, part in enumerate(parts)]
    for combo in itertools.product(*options):
        yield " ".join("".join(combo).split())


def load_blocklist(path: Path = BLOCKLIST) -> list[tuple[str, str]]:
    """(rule, phrase) pairs of a word-list file, alternatives expanded."""
    entries: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        rule, sep, phrase = line.partition("\t")
        if not sep or not phrase.strip():
            raise ValueError(f"{path}:{number}: expected RULE<TAB>phrase, got {raw!r}")
        if rule not in RULES:
            raise ValueError(f"{path}:{number}: unknown rule {rule!r}")
        entries.extend((rule, text) for text in _expand_alternatives(phrase.strip().lower()) if text)
    return entries


# --------------------------------------------------------------------------- rules in code

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d{1,4}\)?(?:[ .\-]?\(?\d{2,5}\)?){2,5}(?!\w)")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+")


def _is_phone(match: str) -> bool:
    """10-15 digits (8 with a country code), and the shape of a number rather than a list of
    tempos ("120 128 140 150 160"): a +, a bracket, a dash or dot, or a group of 4 digits."""
    digits = sum(c.isdigit() for c in match)
    if not (8 if match.startswith("+") else 10) <= digits <= 15:
        return False
    return bool(re.search(r"[+().\-]|\d{4}", match))


def _mask_email(text: str) -> str:
    name, _, domain = text.partition("@")
    return f"{name[:1]}***@{domain}"


def _mask_phone(text: str) -> str:
    """Digits hidden but the last two: enough for a reviewer to see what it was."""
    total = sum(c.isdigit() for c in text)
    seen = 0
    out: list[str] = []
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - 2 else "•")
        else:
            out.append(char)
    return "".join(out)


# --------------------------------------------------------------------------- the moderator


@dataclass(frozen=True)
class _Finding:
    rule: str
    start: int  # in the original text, for ordering
    excerpt: str


class RulesModerator:
    """The word list and rules that ship with the project (same rules for every field)."""

    def __init__(
        self,
        blocklist: Path = BLOCKLIST,
        *,
        max_repeats: int = 12,
        char_share: float = 0.6,
        char_share_min_length: int = 20,
        max_char_run: int = 50,
    ) -> None:
        # Lyrics repeat ("na na na na na na na na, hey Jude" is 8): only more than
        # `max_repeats` of one word in a row is flooding.
        self.max_repeats = max_repeats
        self.char_share = char_share
        self.char_share_min_length = char_share_min_length
        self.char_run = re.compile(rf"(\S)\1{{{max_char_run},}}")  # one character, over and over
        self.singles: dict[str, list[tuple[Shape, _Entry]]] = {}
        self.phrases: dict[str, list[_Entry]] = {}
        for rule, text in load_blocklist(blocklist):
            entry = _Entry(rule, text, tuple(_shape(w) for w in text.split()))
            # A phrase written as one word ("killyourself", "k y s") matches as a word too.
            compact = _shape(text.replace(" ", ""))
            self.singles.setdefault(compact[0], []).append((compact, entry))
            if len(entry.shapes) > 1:
                self.phrases.setdefault(entry.shapes[0][0], []).append(entry)
        digest = hashlib.sha256(blocklist.read_bytes() + RULES_VERSION.encode()).hexdigest()
        # Changes whenever what this moderator rejects may change (part of the lyrics stage hash).
        self.version = digest[:12]

    def check(self, text: str, *, field: str) -> Verdict | None:
        findings = self.findings(text)
        if not findings:
            return None
        order = list(RULES)
        first = min(findings, key=lambda f: (order.index(f.rule), f.start))
        return Verdict(first.rule, RULES[first.rule], first.excerpt)

    def findings(self, text: str) -> list[_Finding]:
        """Every rule the text breaks, each at the place it breaks it."""
        clean, origin = _clean(text)

        def quote(start: int, end: int) -> str:
            """The original text of a span of the cleaned one."""
            excerpt = text[origin[start] : origin[end - 1] + 1]
            return excerpt if len(excerpt) <= EXCERPT_CHARS else excerpt[: EXCERPT_CHARS - 1] + "…"

        found: list[_Finding] = []
        for m in _EMAIL.finditer(clean):
            found.append(_Finding("personal_data", origin[m.start()], _mask_email(quote(*m.span()))))
        for m in _PHONE.finditer(clean):
            if _is_phone(m.group()):
                found.append(_Finding("personal_data", origin[m.start()], _mask_phone(quote(*m.span()))))
        for m in _URL.finditer(clean):
            found.append(_Finding("links", origin[m.start()], quote(*m.span())))
        words = _words(clean)
        for rule, start, end in self._listed(words):
            found.append(_Finding(rule, origin[start], quote(start, end)))
        found.extend(self._flooding(text, clean, words, origin, quote))
        return found

    def _listed(self, words: list[_Word]) -> Iterator[tuple[str, int, int]]:
        """(rule, start, end) of every word-list entry in the text."""
        for i, word in enumerate(words):
            for shape in word.shapes:
                for entry_shape, entry in self.singles.get(shape[0], ()):
                    if _fits(shape, entry_shape) and not self._negated(entry, words, i):
                        yield entry.rule, word.start, word.end
                for entry in self.phrases.get(shape[0], ()):
                    end = self._phrase_end(entry, words, i)
                    if end is not None and not self._negated(entry, words, i):
                        yield entry.rule, word.start, end

    @staticmethod
    def _phrase_end(entry: _Entry, words: list[_Word], i: int) -> int | None:
        span = words[i : i + len(entry.shapes)]
        if len(span) < len(entry.shapes) or any(w.brk for w in span[1:]):
            return None
        for word, entry_shape in zip(span, entry.shapes, strict=True):
            if not any(_fits(s, entry_shape) for s in word.shapes):
                return None
        return span[-1].end

    @staticmethod
    def _negated(entry: _Entry, words: list[_Word], i: int) -> bool:
        """ "don't kill yourself", "never hurt you": a negation within two words before."""
        if entry.rule not in _NEGATABLE:
            return False
        for k in range(i - 1, max(i - 3, -1), -1):
            if any(s[0] in _NEGATIONS for s in words[k].shapes):
                return True
            if words[k].brk:
                break
        return False

    def _flooding(
        self, text: str, clean: str, words: list[_Word], origin: list[int], quote: Callable[[int, int], str]
    ) -> list[_Finding]:
        found: list[_Finding] = []
        first = 0  # the first word of the current run of one word
        for k in range(1, len(words) + 1):
            if k < len(words) and words[k].shapes[0][0] == words[first].shapes[0][0]:
                continue
            if k - first > self.max_repeats:
                start, end = words[first].start, words[k - 1].end
                found.append(_Finding("flooding", origin[start], quote(start, end)))
                break
            first = k
        visible = [c for c in clean if not c.isspace()]
        if len(visible) >= self.char_share_min_length:
            count = Counter(visible).most_common(1)[0][1]
            if count / len(visible) > self.char_share:
                # Placed last: a finding that can point at its place comes first.
                found.append(_Finding("flooding", len(text), quote(0, len(clean))))
        for m in self.char_run.finditer(clean):
            found.append(_Finding("flooding", origin[m.start()], quote(*m.span())))
        return found
