"""Sung vocals: the lyrics spoken by Praat's speech synthesizer, reshaped onto the melody.

Per lyric line: the line's words are synthesized (espeak voices inside Praat,
monotone, near the melody's register) with their word and phoneme intervals;
the phonemes are cut into syllables at vowels (`phonetics.syllabify`), as
many per word as the word has notes. A Praat Manipulation then resynthesizes
the line by overlap-add with
  - a PitchTier holding each syllable flat at its note's frequency (points
    ~15 ms of sung time inside its edges, so glides between notes are short);
  - a DurationTier with two points per phoneme, stretching each syllable's
    vowel so the syllable lasts as long as its note (consonants keep their
    natural length unless the note is too short for them).
Both tiers live on the original, unstretched time axis. Each resynthesized
syllable is then cut out and placed at its note's start, so rests between
notes are silent and every onset lands on its note; legato neighbours are
cross-faded over a few milliseconds.

A voice profile (profiles.py) adds a formant shift: each line's speech is
resampled before the Manipulation (played at `formant_shift` times its rate,
then resampled back), which scales its formants, its pitch and its time axis
together, as Praat's "Change gender" does internally; the pitch and duration
tiers then set the notes and lengths exactly as before, so only the formants
stay moved, with one resynthesis instead of two.

Deterministic (no randomness; Praat's synthesis and resynthesis are), no
files written; the whole song is one float32 mono buffer, peak-normalised.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import parselmouth
from parselmouth.praat import call
from parselmouth.praat import run as praat_run

from modules.composition.context import LyricLine

from .phonetics import (
    Segment,
    SyllableCut,
    classify,
    is_diphthong,
    split_words,
    syllabify,
    trim_to_voicing,
    voiced_spans,
    word_shape,
)

LANGUAGE = "English (America)"
WORDS_PER_MINUTE = 140  # a little slower than speech: longer vowels need less stretching
PEAK = 10 ** (-6.0 / 20.0)  # -6 dBFS before mixing
GLIDE = 0.015  # s of sung time between a note's edge and its flat pitch
CROSSFADE = 0.006  # s, between legato syllables cut from the same resynthesis
EDGE_FADE_IN = 0.008  # s, at the start of a sung stretch after a rest
EDGE_FADE_OUT = 0.030  # s, at the end of a line (gentle release)
REST_FADE_OUT = 0.012  # s, at a syllable followed by a rest inside a line
MIN_VOWEL_SHARE = 0.65  # of a note, so a short note still sings rather than speaks
DIPHTHONG_HOLD = 1.3  # stretch factor kept by the gliding half of a diphthong
MIN_SILENCE = 0.002  # s a pause inside the speech is squeezed to (it is never placed)
TIER_EDGE = 0.0005  # s: the two DurationTier points sit this far inside each segment

# Monotone speaking pitch (Hz) of each espeak voice variant at pitch adjustment
# 0.5, 1.0 and 2.0 (Praat's limits), measured with Praat's pitch tracker.
SPEAKER_PITCH: dict[str, tuple[float, float, float]] = {
    "Female1": (94.0, 157.5, 286.5),
    "Female2": (103.6, 168.0, 298.9),
    "Female3": (112.9, 176.3, 305.4),
    "Female4": (94.1, 158.5, 289.4),
    "Female5": (107.9, 180.9, 329.5),
    "Male1": (49.4, 81.3, 146.1),
    "Male2": (52.4, 90.6, 168.4),
    "Male3": (55.4, 89.9, 159.7),
    "Male4": (49.5, 79.1, 139.1),
    "Male5": (53.6, 87.9, 157.9),
    "Male6": (53.2, 88.4, 160.4),
    "Male7": (56.7, 88.7, 153.7),
}

# F1-F3 (Hz) of each voice's sung vocal, as `profiles.analyse` measures it: the geometric mean
# over three songs (tests/modules/voice/test_profiles.py sings them again and checks the figures).
# A voice profile's formant shift is its own formants over these.
SUNG_FORMANTS: dict[str, tuple[float, float, float]] = {
    "soprano": (604.0, 1761.0, 2978.0),
    "mezzo": (633.0, 1911.0, 3442.0),
    "alto": (621.0, 1747.0, 2992.0),
    "tenor": (522.0, 1741.0, 2881.0),
    "baritone": (562.0, 1563.0, 2885.0),
    "bass": (547.0, 1532.0, 2660.0),
}


@dataclass(frozen=True)
class SingerProfile:
    """How a voice is sung: which espeak speaker, and where its speech starts.

    base_pitch_hz is the speaking pitch the voice's speech is synthesized at
    when a line sits at the voice's centre: the speaker's reach nearest the
    centre of the voice's range, since reshaping speech far from its own
    register dulls the vowels. Lines are spoken near their own median note
    (clamped to the speaker's reach). octave_shift is the octave the voice
    sounds relative to the written notes (0: sung as written). formant_shift
    scales the speaker's formants (1: its own voice; a voice profile sets it)."""

    name: str
    speaker: str
    base_pitch_hz: float
    octave_shift: int = 0
    formant_shift: float = 1.0


SINGERS: dict[str, SingerProfile] = {
    # Voice centres: soprano A#4 466 Hz, mezzo G4 392, alto D#4/E4 311, tenor A#3 233,
    # baritone G3 196, bass E3 165; espeak speech tops out at pitch adjustment 2.0.
    "soprano": SingerProfile("soprano", "Female5", 329.5),
    "mezzo": SingerProfile("mezzo", "Female3", 305.4),
    "alto": SingerProfile("alto", "Female2", 298.9),
    "tenor": SingerProfile("tenor", "Male2", 168.4),
    "baritone": SingerProfile("baritone", "Male5", 157.9),
    "bass": SingerProfile("bass", "Male1", 146.1),
}


@dataclass
class SungSyllable:
    """Where one note's syllable came from and went (for tests and diagnostics)."""

    text: str
    pitch: float  # MIDI note sung (after octave_shift)
    start: float  # s in the song
    end: float
    phonemes: str  # the espeak phonemes it was cut from
    stretch: float  # vowel duration factor applied


@dataclass
class SungVocal:
    audio: np.ndarray  # float32 mono, (frames,)
    sample_rate: int
    note_spans: list[tuple[float, float]] = field(default_factory=list)  # s voiced per note
    syllables: list[SungSyllable] = field(default_factory=list)  # one per note
    voice: str = ""
    line_starts: list[float] = field(default_factory=list)  # s, first note of each sung line
    gain: float = 1.0  # peak normalisation factor applied


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def sing_audio(
    lines: Sequence[LyricLine],
    notes: Sequence[Sequence[float]],
    tempo_bpm: float,
    total_beats: float,
    voice: str,
    sample_rate: int = 44100,
    progress: Callable[[float, str], None] | None = None,
    formant_shift: float = 1.0,
) -> SungVocal:
    """The sung vocal track of a song: `notes` (one per syllable of `lines`, in
    order) sung with the lyrics; silence where nothing is sung. `formant_shift`
    scales the singer's formants (a voice profile's ratio, 0.5 to 2)."""
    if voice not in SINGERS:
        raise ValueError(f"unknown voice {voice!r}; choose one of: {', '.join(SINGERS)}")
    if tempo_bpm <= 0:
        raise ValueError("tempo must be positive")
    if not 0.5 <= formant_shift <= 2.0:
        raise ValueError(f"formant shift {formant_shift} is outside 0.5-2")
    singer = SINGERS[voice]
    if formant_shift != 1.0:
        singer = replace(singer, formant_shift=float(formant_shift))
    seconds_per_beat = 60.0 / float(tempo_bpm)
    frames = round(float(total_beats) * seconds_per_beat * sample_rate)
    out = np.zeros(frames, dtype=np.float64)
    expected = sum(len(line.syllables) for line in lines)
    if expected != len(notes):
        raise ValueError(f"{len(notes)} notes for {expected} syllables: one note per syllable expected")
    result = SungVocal(np.zeros(frames, dtype=np.float32), sample_rate, voice=voice)
    plans: list[_LinePlan] = []
    k = 0
    for line in lines:
        if not line.syllables:
            continue
        line_notes = [[float(v) for v in n] for n in notes[k : k + len(line.syllables)]]
        k += len(line.syllables)
        plan = _plan(line, line_notes, singer)
        if plan.spoken:
            plans.append(plan)
    words = list(dict.fromkeys(t for plan in plans for t in plan.texts if t))
    speech, shapes = _speak(singer.speaker, sample_rate, [(p.spoken, p.adjust) for p in plans], words)
    try:
        for index, (plan, (samples, phonemes)) in enumerate(zip(plans, speech, strict=True)):
            placed = _sing_line(plan, samples, phonemes, shapes, seconds_per_beat, sample_rate, out)
            result.syllables.extend(placed)
            if placed:
                result.line_starts.append(placed[0].start)
            if progress is not None:
                progress((index + 1) / len(plans), f"sung line {index + 1} of {len(plans)}")
    finally:
        # Hand Praat's random generator back as we found it: unpredictable.
        praat_run("random_initializeSafelyAndUnpredictably ()")
    result.note_spans = [(s.start, s.end) for s in result.syllables]
    peak = float(np.max(np.abs(out))) if frames else 0.0
    result.gain = PEAK / peak if peak > 0 else 1.0
    result.audio = (out * result.gain).astype(np.float32)
    return result


# --------------------------------------------------------------------------- one line


@dataclass
class _Word:
    text: str
    notes: list[int]  # indexes into the line's notes


def _words(line: LyricLine) -> list[_Word]:
    """The line's sung words rebuilt from its syllables (word_end closes a word)."""
    words: list[_Word] = []
    current: list[int] = []
    text = ""
    for k, syl in enumerate(line.syllables):
        current.append(k)
        text += syl.text
        if syl.word_end or k == len(line.syllables) - 1:
            words.append(_Word(text, current))
            current, text = [], ""
    return words


def _speech_text(word: str) -> str:
    """Letters, digits and inner apostrophes only: punctuation would add pauses or be read out."""
    cleaned = "".join(ch if ch.isalnum() or ch in "'\u2019" else " " for ch in word)
    return " ".join(cleaned.split())


@dataclass
class _LinePlan:
    line: LyricLine
    words: list[_Word]
    texts: list[str]  # speakable text per word ("" when the word is only punctuation)
    spoken: str  # the line as it is spoken
    singer: SingerProfile
    pitches: list[float]  # MIDI, as sung (octave_shift applied)
    notes: list[list[float]]
    adjust: float  # Praat's pitch adjustment for this line's speech


def _plan(line: LyricLine, notes: list[list[float]], singer: SingerProfile) -> _LinePlan:
    words = _words(line)
    texts = [_speech_text(w.text) for w in words]
    pitches = [n[0] + 12.0 * singer.octave_shift for n in notes]
    spoken = " ".join(t for t in texts if t)
    return _LinePlan(line, words, texts, spoken, singer, pitches, notes, _adjustment(singer, pitches))


def _adjustment(singer: SingerProfile, pitches: list[float]) -> float:
    """Pitch adjustment that speaks the line near its median note, within the speaker's reach
    (a formant shift scales the speech's pitch too, so it is spoken that much lower or higher)."""
    low, mid, high = SPEAKER_PITCH[singer.speaker]
    base = singer.base_pitch_hz
    target = midi_to_hz(float(np.median(pitches))) / singer.formant_shift
    target = min(max(target, base / 1.5, low), min(base * 1.5, high))
    # Interpolate the measured speaking pitches (close to linear in Hz).
    if target <= mid:
        return round(0.5 + 0.5 * (target - low) / (mid - low), 4)
    return round(1.0 + (target - mid) / (high - mid), 4)


def _sing_line(
    plan: _LinePlan,
    samples: np.ndarray,
    phonemes: list[tuple[float, float, str]],
    shapes: dict[str, list[tuple[float, float, str]]],
    seconds_per_beat: float,
    sr: int,
    out: np.ndarray,
) -> list[SungSyllable]:
    singer, notes, pitches, line = plan.singer, plan.notes, plan.pitches, plan.line
    starts = [n[1] * seconds_per_beat for n in notes]
    durations = [max(n[2] * seconds_per_beat, 0.02) for n in notes]
    velocities = [n[3] for n in notes]
    speech = parselmouth.Sound(samples, sampling_frequency=sr)
    if singer.formant_shift != 1.0:
        speech, phonemes = _shift_formants(samples, phonemes, singer.formant_shift, sr)
    cuts = _line_syllables(phonemes, plan, shapes)
    if len(cuts) != len(notes):
        return []
    manipulation = call(speech, "To Manipulation", 0.01, *_analysis_range(speech, singer, pitches))
    pulses = call(call(manipulation, "Extract pulses"), "To Matrix").values
    spans = voiced_spans([float(t) for t in pulses.ravel()])
    cuts = [trim_to_voicing(cut, spans) for cut in cuts]
    segments, targets, stretches = _durations(float(speech.xmax), cuts, durations)
    call([manipulation, _duration_tier(segments, targets, speech)], "Replace duration tier")
    new_time = _time_map(segments, targets)
    call([manipulation, _pitch_tier(cuts, pitches, new_time, speech)], "Replace pitch tier")
    # Overlap-add draws random offsets when it lengthens unvoiced stretches: seed Praat's
    # generator from the line itself (a repeated chorus line comes out identical).
    seed = zlib.crc32(f"{plan.spoken}|{plan.pitches}|{durations}".encode())
    praat_run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
    sung = call(manipulation, "Get resynthesis (overlap-add)")
    samples = np.asarray(sung.values[0], dtype=np.float64)
    placed: list[SungSyllable] = []
    last = len(notes) - 1
    for j, cut in enumerate(cuts):
        legato_in = j > 0 and starts[j] - (starts[j - 1] + durations[j - 1]) < 1.0 / sr + 1e-9
        legato_out = j < last and starts[j + 1] - (starts[j] + durations[j]) < 1.0 / sr + 1e-9
        src = new_time(cut.start)
        gain = 0.55 + 0.45 * min(max(velocities[j], 1.0), 127.0) / 127.0  # velocity shapes the level
        _place(
            samples,
            src,
            starts[j],
            durations[j],
            sr,
            out,
            gain,
            fade_in=CROSSFADE if legato_in else EDGE_FADE_IN,
            fade_out=CROSSFADE if legato_out else (EDGE_FADE_OUT if j == last else REST_FADE_OUT),
            overlap_out=legato_out,
        )
        placed.append(
            SungSyllable(
                line.syllables[j].text,
                pitches[j],
                starts[j],
                starts[j] + durations[j],
                " ".join(s.label for s in cut.segments),
                stretches[j],
            )
        )
    return placed


def _shift_formants(
    samples: np.ndarray, phonemes: Phonemes, ratio: float, sr: int
) -> tuple[parselmouth.Sound, Phonemes]:
    """The speech played `ratio` times faster and resampled back to `sr`: formants and pitch
    multiplied by `ratio`, times divided by it (the phoneme intervals follow)."""
    played = parselmouth.Sound(samples, sampling_frequency=sr * ratio)
    speech = played.resample(float(sr), 50)
    return speech, [(a / ratio, b / ratio, label) for a, b, label in phonemes]


def _analysis_range(
    speech: parselmouth.Sound, singer: SingerProfile, pitches: list[float]
) -> tuple[float, float]:
    """Pitch floor/ceiling for the Manipulation's period analysis of monotone speech."""
    low, _, high = SPEAKER_PITCH[singer.speaker]
    shift = singer.formant_shift
    return max(40.0, 0.6 * low * shift), min(900.0, 1.6 * high * shift)


def _tier(grid: parselmouth.TextGrid, name: str) -> int:
    for tier in range(1, int(call(grid, "Get number of tiers")) + 1):
        if call(grid, "Get tier name", tier) == name:
            return tier
    raise ValueError(f"the speech TextGrid has no {name!r} tier")


def _intervals(grid: parselmouth.TextGrid, tier: int) -> list[tuple[float, float, str]]:
    count = int(call(grid, "Get number of intervals", tier))
    return [
        (
            float(call(grid, "Get start time of interval", tier, i)),
            float(call(grid, "Get end time of interval", tier, i)),
            str(call(grid, "Get label of interval", tier, i)),
        )
        for i in range(1, count + 1)
    ]


def _line_syllables(
    phonemes: list[tuple[float, float, str]],
    plan: _LinePlan,
    shapes: dict[str, list[tuple[float, float, str]]],
) -> list[SyllableCut]:
    """Syllables of the whole line, one per note: the line's phonemes are shared
    among its words (`split_words`) and each word is cut into as many syllables as
    it has notes; when the words cannot be told apart, the line is cut as a whole."""
    segments = [classify(a, b, lab) for a, b, lab in phonemes]
    # Our words with text, each with its note count; wordless syllables (punctuation) join a neighbour.
    ours: list[tuple[str, int]] = []
    pending = 0  # notes of wordless syllables before the first word
    for word, text in zip(plan.words, plan.texts, strict=True):
        if text:
            ours.append((text, len(word.notes) + pending))
            pending = 0
        elif ours:
            ours[-1] = (ours[-1][0], ours[-1][1] + len(word.notes))
        else:
            pending += len(word.notes)
    word_shapes = [word_shape([classify(a, b, lab) for a, b, lab in shapes[t]]) for t, _ in ours]
    shared = split_words(segments, word_shapes)
    if shared is None:
        return syllabify(segments, len(plan.notes))
    cuts: list[SyllableCut] = []
    for segs, (_, n) in zip(shared, ours, strict=True):
        cuts.extend(syllabify(segs, n))
    return cuts


# --------------------------------------------------------------------------- speech


Phonemes = list[tuple[float, float, str]]


def _speak(
    speaker: str, sr: int, lines: list[tuple[str, float]], words: list[str]
) -> tuple[list[tuple[np.ndarray, Phonemes]], dict[str, Phonemes]]:
    """Speech and phonemes of every line, and the phonemes of every word spoken alone.

    The espeak inside Praat keeps state between utterances (its pitch-flutter
    phase runs on from one utterance into the next), so the same text spoken
    twice in one process comes out a few samples different. The whole song is
    therefore spoken in a fresh Python process, where the state always starts
    at zero: same input, identical samples, whatever the caller did before."""
    request = json.dumps({"speaker": speaker, "sr": sr, "lines": lines, "words": words}).encode()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "modules.voice.singing"],
        input=request,
        capture_output=True,
        cwd=root,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"speech synthesis failed: {done.stderr.decode(errors='replace')[-2000:]}")
    newline = done.stdout.index(b"\n")
    header = json.loads(done.stdout[:newline])
    raw = np.frombuffer(done.stdout[newline + 1 :], dtype="<f8")
    speech: list[tuple[np.ndarray, Phonemes]] = []
    offset = 0
    for count, phonemes in zip(header["counts"], header["phonemes"], strict=True):
        speech.append((raw[offset : offset + count].copy(), [(a, b, lab) for a, b, lab in phonemes]))
        offset += count
    shapes = {w: [(a, b, lab) for a, b, lab in ph] for w, ph in header["words"].items()}
    return speech, shapes


def _speak_here(request: dict[str, Any]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The synthesis itself (run in the fresh process): monotone lines and lone words."""
    sr = float(request["sr"])
    line_synth = call("Create SpeechSynthesizer", LANGUAGE, request["speaker"])
    word_synth = call("Create SpeechSynthesizer", LANGUAGE, request["speaker"])
    call(word_synth, "Speech output settings", sr, 0.0, 1.0, 0.0, WORDS_PER_MINUTE, "IPA")
    counts, phonemes, arrays = [], [], []
    for text, adjust in request["lines"]:
        call(line_synth, "Speech output settings", sr, 0.0, float(adjust), 0.0, WORDS_PER_MINUTE, "IPA")
        grid, sound = call(line_synth, "To Sound", text, "yes")
        arrays.append(np.ascontiguousarray(sound.values[0], dtype="<f8"))
        counts.append(len(arrays[-1]))
        phonemes.append(_intervals(grid, _tier(grid, "phoneme")))
    words = {}
    for word in request["words"]:
        grid, _ = call(word_synth, "To Sound", word, "yes")
        words[word] = _intervals(grid, _tier(grid, "phoneme"))
    return {"counts": counts, "phonemes": phonemes, "words": words}, arrays


def _durations(
    total: float, cuts: list[SyllableCut], durations: list[float]
) -> tuple[list[Segment], list[float], list[float]]:
    """Every segment of the speech (covering it end to end) with its target sung duration.

    A syllable lasts exactly its note: consonants keep their length (squeezed
    when the note is short), vowels take the rest. Whatever lies outside the
    syllables (pauses, the trailing silence) is squeezed and never placed."""
    targets_by_id: dict[int, float] = {}
    stretches: list[float] = []
    pieces: list[Segment] = []
    for cut, duration in zip(cuts, durations, strict=True):
        vowels, consonants = cut.vowel_length(), cut.consonant_length()
        consonant_time = min(consonants, duration * (1.0 - MIN_VOWEL_SHARE))
        vowel_time = duration - consonant_time
        c_factor = consonant_time / consonants if consonants > 0 else 1.0
        v_factor = vowel_time / vowels if vowels > 0 else 1.0
        stretches.append(v_factor)
        for piece, target in _vowel_pieces(cut.segments, v_factor, c_factor):
            pieces.append(piece)
            targets_by_id[id(piece)] = target
    # Fill the gaps (pauses, leading/trailing silence) so the segments tile [0, total].
    segments: list[Segment] = []
    targets: list[float] = []
    cursor = 0.0
    for seg in sorted(pieces, key=lambda s: s.start):
        if seg.start > cursor + 1e-6:
            segments.append(Segment(cursor, seg.start, "", "S"))
            targets.append(min(seg.start - cursor, MIN_SILENCE))
        segments.append(seg)
        targets.append(targets_by_id[id(seg)])
        cursor = seg.end
    if total > cursor + 1e-6:
        segments.append(Segment(cursor, total, "", "S"))
        targets.append(min(total - cursor, MIN_SILENCE))
    return segments, targets, stretches


def _vowel_pieces(segments: list[Segment], v_factor: float, c_factor: float) -> list[tuple[Segment, float]]:
    """Segments of a syllable with their sung durations. A long note holds a
    diphthong on its first vowel and glides to the second only at the end
    ("ni---ight", not a slow slide), as singers do: past DIPHTHONG_HOLD the
    second half of a diphthong keeps that factor and the rest of the stretch
    goes to the held parts."""
    if v_factor <= DIPHTHONG_HOLD or not any(s.kind == "V" and is_diphthong(s.label) for s in segments):
        return [(s, s.length * (v_factor if s.kind == "V" else c_factor)) for s in segments]
    vowel_time = v_factor * sum(s.length for s in segments if s.kind == "V")
    split: list[tuple[Segment, bool]] = []  # (piece, held)
    for s in segments:
        if s.kind == "V" and is_diphthong(s.label):
            mid = s.start + s.length / 2.0
            split += [(Segment(s.start, mid, s.label, "V"), True), (Segment(mid, s.end, s.label, "V"), False)]
        else:
            split.append((s, s.kind == "V"))
    glide = sum(p.length for p, held in split if p.kind == "V" and not held)
    held = sum(p.length for p, h in split if p.kind == "V" and h)
    hold_factor = (vowel_time - glide * DIPHTHONG_HOLD) / held
    out: list[tuple[Segment, float]] = []
    for piece, is_held in split:
        if piece.kind != "V":
            out.append((piece, piece.length * c_factor))
        else:
            out.append((piece, piece.length * (hold_factor if is_held else DIPHTHONG_HOLD)))
    return out


def _duration_points(segments: list[Segment], targets: list[float]) -> list[tuple[float, float]]:
    """Two DurationTier points per segment, just inside its edges, at its stretch factor."""
    points: list[tuple[float, float]] = []
    for seg, target in zip(segments, targets, strict=True):
        factor = target / seg.length if seg.length > 0 else 1.0
        edge = min(TIER_EDGE, seg.length / 4.0)
        points.append((seg.start + edge, factor))
        points.append((seg.end - edge, factor))
    return points


def _duration_tier(segments: list[Segment], targets: list[float], speech: parselmouth.Sound) -> object:
    tier = call("Create DurationTier", "sung", speech.xmin, speech.xmax)
    for t, factor in _duration_points(segments, targets):
        call(tier, "Add point", t, factor)
    return tier


def _time_map(segments: list[Segment], targets: list[float]) -> Callable[[float], float]:
    """Original time -> resynthesized time: the integral of the piecewise-linear
    DurationTier (constant before the first and after the last point)."""
    points = _duration_points(segments, targets)
    times = np.array([t for t, _ in points])
    values = np.array([v for _, v in points])
    # Cumulative integral at each point, trapezoids between points.
    cumulative = np.concatenate(([times[0] * values[0]], np.diff(times) * (values[1:] + values[:-1]) / 2.0))
    cumulative = np.cumsum(cumulative)

    def new_time(t: float) -> float:
        if t <= times[0]:
            return float(t * values[0])
        i = int(np.searchsorted(times, t, side="right")) - 1
        if i >= len(times) - 1:
            return float(cumulative[-1] + (t - times[-1]) * values[-1])
        span = times[i + 1] - times[i]
        x = (t - times[i]) / span if span > 0 else 0.0
        v = values[i] + x * (values[i + 1] - values[i])
        return float(cumulative[i] + (t - times[i]) * (values[i] + v) / 2.0)

    return new_time


def _inverse(new_time: Callable[[float], float], total: float) -> Callable[[float], float]:
    """Resynthesized time -> original time, by bisection (new_time is increasing)."""

    def old_time(u: float) -> float:
        lo, hi = 0.0, total
        for _ in range(40):
            mid = (lo + hi) / 2.0
            if new_time(mid) < u:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2.0

    return old_time


def _pitch_tier(
    cuts: list[SyllableCut],
    pitches: list[float],
    new_time: Callable[[float], float],
    speech: parselmouth.Sound,
) -> object:
    """Flat pitch per syllable, held from GLIDE of sung time after its start to GLIDE before its end.

    The points sit on the original axis: the sung times are mapped back
    through the DurationTier, so a vowel stretched 10x gets its points 1.5 ms
    (original time) inside its edges and the glide between notes stays short."""
    old_time = _inverse(new_time, float(speech.xmax))
    tier = call("Create PitchTier", "sung", speech.xmin, speech.xmax)
    last_time = -1.0
    for cut, pitch in zip(cuts, pitches, strict=True):
        hz = midi_to_hz(pitch)
        u0, u1 = new_time(cut.start), new_time(cut.end)
        glide = min(GLIDE, (u1 - u0) / 3.0)
        for t in (old_time(u0 + glide), old_time(u1 - glide)):
            if t > last_time + 1e-6:  # strictly ordered points, one syllable never bends the next
                call(tier, "Add point", t, hz)
                last_time = t
    return tier


def _place(
    samples: np.ndarray,
    src_time: float,
    start: float,
    duration: float,
    sr: int,
    out: np.ndarray,
    gain: float,
    fade_in: float,
    fade_out: float,
    overlap_out: bool,
) -> None:
    """Copy one syllable of the resynthesis to its note, with raised-cosine fades.

    A legato syllable runs CROSSFADE past its note's end and fades out while
    the next one fades in: equal-sum gains over near-identical signal."""
    src = round(src_time * sr)
    dst = round(start * sr)
    length = round(duration * sr) + (round(CROSSFADE * sr) if overlap_out else 0)
    length = min(length, len(out) - dst, len(samples) - src)
    if length <= 0 or dst < 0 or src < 0:
        return
    chunk = samples[src : src + length] * gain
    n_in = min(round(fade_in * sr), length // 2)
    n_out = min(round(fade_out * sr), length // 2)
    if n_in > 0:
        chunk[:n_in] *= np.sin(0.5 * math.pi * (np.arange(n_in) + 0.5) / n_in) ** 2
    if n_out > 0:
        chunk[length - n_out :] *= np.cos(0.5 * math.pi * (np.arange(n_out) + 0.5) / n_out) ** 2
    out[dst : dst + length] += chunk


if __name__ == "__main__":
    # Worker mode for `_speak`: a JSON request on stdin; a JSON header line, then raw samples, on stdout.
    _header, _arrays = _speak_here(json.loads(sys.stdin.buffer.read()))
    sys.stdout.buffer.write(json.dumps(_header).encode() + b"\n")
    for _array in _arrays:
        sys.stdout.buffer.write(_array.tobytes())
    sys.stdout.buffer.flush()
