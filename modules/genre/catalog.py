"""The genre catalog: tempo, feel, drums, instruments and harmony of each genre.

Faithful to MUSIC-NOTES.md's table. Step grids are one 4/4 bar of sixteen
16ths, values 0..1 (relative velocity, 0 = no hit); drum grids are keyed by
GM drum note (channel 10) as a string. Crashes on section starts are the
arrangement's job: a genre lists a crash only if it hits one on every bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STEPS = 16

# GM drum notes (channel 10), as the Style's string keys.
KICK, RIM, SNARE, CLAP = "36", "37", "38", "39"
CLOSED_HAT, PEDAL_HAT, OPEN_HAT = "42", "44", "46"
LOW_TOM, MID_TOM, HIGH_TOM = "45", "47", "50"
CRASH, RIDE, TAMBOURINE, SHAKER = "49", "51", "54", "70"

ROLES = ("bass", "chords", "pad", "lead")
LAYERS = ("drums", "bass", "chords", "pad", "lead")  # canonical layer order

# Progression families the arrangement knows how to realise (MUSIC-NOTES "Mood to harmony").
PROGRESSION_FAMILIES = (
    "I-V-vi-IV",
    "vi-IV-I-V",
    "I-IV-V",
    "ii-V-I",
    "i-VI-III-VII",
    "Imaj7-IVmaj7",
    "i-iv-v",
    "i-VII-VI-VII",
    "I-bVII-IV",
)


def grid(hits: dict[int, float]) -> tuple[float, ...]:
    """A 16-step grid from {step: velocity}."""
    return tuple(float(hits.get(step, 0.0)) for step in range(STEPS))


def eighths(on_beat: float, off_beat: float) -> dict[int, float]:
    return {step: on_beat if step % 4 == 0 else off_beat for step in range(0, STEPS, 2)}


def sixteenths(on_beat: float, eighth: float, sixteenth: float) -> dict[int, float]:
    return {s: on_beat if s % 4 == 0 else eighth if s % 2 == 0 else sixteenth for s in range(STEPS)}


FOUR_ON_THE_FLOOR = {0: 1.0, 4: 1.0, 8: 1.0, 12: 1.0}
BACKBEAT = {4: 1.0, 12: 1.0}
OFFBEAT_8THS = {2: 1.0, 6: 1.0, 10: 1.0, 14: 1.0}


def scaled(hits: dict[int, float], factor: float) -> dict[int, float]:
    return {step: round(v * factor, 3) for step, v in hits.items()}


def normalize_text(text: str) -> str:
    """Lower-case words separated by single spaces: 'Lo-Fi', 'R&B', "drum 'n' bass" match their keywords."""
    text = text.lower().replace("\u2019", "'").replace("&", " and ")
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


@dataclass(frozen=True, eq=False)
class GenreSpec:
    name: str
    description: str
    tempo_range: tuple[float, float]  # bpm (min, max) as notated
    half_time: bool  # felt at half the notated tempo (trap)
    swing: float  # 0 straight .. 0.33 hard swing
    drums: dict[str, tuple[float, ...]]  # GM drum note -> 16 steps; empty: no drums
    programs: dict[str, int]  # role -> GM program (0-based), every role of ROLES
    bass_rhythm: tuple[float, ...]
    chord_rhythm: tuple[float, ...]
    density: float  # 0 sparse .. 1 busy
    progressions: tuple[str, ...]  # preferred families, best first
    loudness_target: float  # integrated LUFS target of the master
    affinity: tuple[tuple[float, float], ...]  # (valence, energy) points of the moods it suits
    keywords: tuple[str, ...]  # names and aliases that name this genre in a prompt (normalized)
    cues: dict[str, float] = field(default_factory=dict)  # weaker hints: instruments, scenes
    layers: tuple[str, ...] = LAYERS
    tempo_bands: tuple[tuple[float, float], ...] = ()  # distinct tempo worlds inside the range (jazz)


GENRES: dict[str, GenreSpec] = {
    spec.name: spec
    for spec in (
        GenreSpec(
            name="pop",
            description="straight 8ths, kick on 1 and 3, snare and clap on 2 and 4",
            tempo_range=(100, 128),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid({0: 1.0, 8: 0.95, 10: 0.55}),
                SNARE: grid(BACKBEAT),
                CLAP: grid(scaled(BACKBEAT, 0.7)),
                CLOSED_HAT: grid(eighths(0.75, 0.55)),
            },
            programs={"bass": 38, "chords": 0, "pad": 89, "lead": 80},
            bass_rhythm=grid(eighths(1.0, 0.65)),
            chord_rhythm=grid({0: 0.9, 3: 0.6, 6: 0.7, 8: 0.85, 11: 0.6, 14: 0.6}),
            density=0.6,
            progressions=("I-V-vi-IV", "vi-IV-I-V", "I-IV-V"),
            loudness_target=-9.0,
            affinity=((0.6, 0.62), (0.45, 0.5)),
            keywords=(
                "pop",
                "pop music",
                "pop song",
                "top 40",
                "mainstream",
                "k pop",
                "kpop",
                "synth pop",
                "synthpop",
                "electropop",
                "indie pop",
                "power pop",
                "bubblegum",
            ),
            cues={"catchy": 0.4, "radio": 0.3, "chart": 0.3},
        ),
        GenreSpec(
            name="rock",
            description="straight 8ths, backbeat snare, crash on section starts",
            tempo_range=(110, 140),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid({0: 1.0, 6: 0.6, 8: 1.0, 10: 0.75}),
                SNARE: grid(BACKBEAT),
                CLOSED_HAT: grid(eighths(0.8, 0.65)),
            },
            programs={"bass": 34, "chords": 29, "pad": 16, "lead": 29},
            bass_rhythm=grid(eighths(0.9, 0.75)),
            chord_rhythm=grid(eighths(0.9, 0.75)),
            density=0.7,
            progressions=("I-IV-V", "i-VII-VI-VII", "I-bVII-IV", "I-V-vi-IV"),
            loudness_target=-9.0,
            affinity=((0.1, 0.8), (-0.5, 0.9)),
            keywords=(
                "rock",
                "rock and roll",
                "rock n roll",
                "hard rock",
                "indie rock",
                "alt rock",
                "classic rock",
                "garage rock",
                "punk",
                "pop punk",
                "grunge",
                "metal",
                "heavy metal",
            ),
            cues={
                "guitar": 0.3,
                "guitars": 0.3,
                "electric guitar": 0.5,
                "riff": 0.5,
                "riffs": 0.5,
                "distorted": 0.4,
            },
        ),
        GenreSpec(
            name="electronic",
            description="four on the floor, open hat on the off-beats, saw leads and polysynths",
            tempo_range=(120, 130),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid(FOUR_ON_THE_FLOOR),
                SNARE: grid(scaled(BACKBEAT, 0.85)),
                OPEN_HAT: grid(scaled(OFFBEAT_8THS, 0.75)),
                CLOSED_HAT: grid({s: 0.4 for s in range(1, STEPS, 2)}),
            },
            programs={"bass": 39, "chords": 90, "pad": 88, "lead": 81},
            bass_rhythm=grid(scaled(OFFBEAT_8THS, 0.9)),
            chord_rhythm=grid({0: 0.9, 3: 0.6, 6: 0.75, 10: 0.7, 13: 0.6}),
            density=0.65,
            progressions=("vi-IV-I-V", "I-V-vi-IV", "i-VI-III-VII"),
            loudness_target=-9.0,
            affinity=((0.5, 0.72), (0.85, 0.9)),
            keywords=(
                "electronic",
                "electronica",
                "edm",
                "synth",
                "synths",
                "synthesizer",
                "synthwave",
                "electro",
                "trance",
                "dubstep",
                "idm",
                "future bass",
                "big room",
            ),
            cues={"synth pop": 0.4, "synthpop": 0.4, "electropop": 0.4, "dance": 0.3, "festival": 0.3},
        ),
        GenreSpec(
            name="house",
            description="four on the floor, clap on 2 and 4, off-beat open hat, piano stabs",
            tempo_range=(120, 128),
            half_time=False,
            swing=0.06,
            drums={
                KICK: grid(FOUR_ON_THE_FLOOR),
                CLAP: grid(BACKBEAT),
                OPEN_HAT: grid(scaled(OFFBEAT_8THS, 0.8)),
                SHAKER: grid(sixteenths(0.45, 0.35, 0.5)),
            },
            programs={"bass": 38, "chords": 4, "pad": 48, "lead": 81},
            bass_rhythm=grid({2: 0.9, 5: 0.5, 6: 0.85, 10: 0.9, 13: 0.5, 14: 0.85}),
            chord_rhythm=grid({3: 0.8, 6: 0.7, 10: 0.8, 13: 0.7}),
            density=0.65,
            progressions=("Imaj7-IVmaj7", "vi-IV-I-V", "ii-V-I"),
            loudness_target=-9.0,
            affinity=((0.65, 0.75),),
            keywords=(
                "house",
                "house music",
                "deep house",
                "tech house",
                "progressive house",
                "disco",
                "nu disco",
                "disco house",
                "french house",
            ),
            cues={"club": 0.4, "dancefloor": 0.4, "dance": 0.2},
        ),
        GenreSpec(
            name="techno",
            description="four on the floor, 16th hats, sparse harmony, rolling bass",
            tempo_range=(125, 135),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid(FOUR_ON_THE_FLOOR),
                CLOSED_HAT: grid(sixteenths(0.45, 0.75, 0.45)),
                OPEN_HAT: grid(scaled(OFFBEAT_8THS, 0.5)),
                CLAP: grid(scaled(BACKBEAT, 0.6)),
                RIM: grid({3: 0.5, 11: 0.45, 14: 0.4}),
            },
            programs={"bass": 39, "chords": 90, "pad": 95, "lead": 81},
            bass_rhythm=grid({s: 0.8 if s % 4 == 2 else 0.6 for s in range(STEPS) if s % 4}),
            chord_rhythm=grid({3: 0.6, 11: 0.5}),
            density=0.6,
            progressions=("i-iv-v", "i-VI-III-VII"),
            # MUSIC-NOTES lists techno with neither group; it is a club genre mastered like house.
            loudness_target=-9.0,
            affinity=((-0.25, 0.85), (-0.6, 0.6)),
            keywords=(
                "techno",
                "minimal techno",
                "industrial techno",
                "acid techno",
                "industrial",
                "hard techno",
            ),
            cues={"rave": 0.5, "warehouse": 0.5, "tech house": 0.5, "berlin": 0.3, "acid": 0.4},
        ),
        GenreSpec(
            name="hip-hop",
            description="boom-bap kick and snare, swung 16th hats",
            tempo_range=(80, 98),
            half_time=False,
            swing=0.18,
            drums={
                KICK: grid({0: 1.0, 7: 0.6, 10: 0.9}),
                SNARE: grid(BACKBEAT),
                CLOSED_HAT: grid(sixteenths(0.7, 0.6, 0.4)),
            },
            programs={"bass": 33, "chords": 4, "pad": 49, "lead": 73},
            bass_rhythm=grid({0: 1.0, 7: 0.6, 10: 0.85}),
            chord_rhythm=grid({0: 0.85, 8: 0.7}),
            density=0.55,
            progressions=("i-VI-III-VII", "ii-V-I", "i-iv-v"),
            loudness_target=-9.0,
            affinity=((0.0, 0.6), (-0.3, 0.55)),
            keywords=("hip hop", "hiphop", "rap", "boom bap", "boombap", "hip hop beat"),
            cues={"rapper": 0.6, "beat": 0.2, "beats": 0.3, "cypher": 0.5},
        ),
        GenreSpec(
            name="trap",
            description="half-time feel, 808 kick and bass, hi-hat rolls, snare on 3",
            tempo_range=(130, 160),
            half_time=True,
            swing=0.0,
            drums={
                KICK: grid({0: 1.0, 3: 0.7, 10: 0.85}),
                SNARE: grid({8: 1.0}),
                CLAP: grid({8: 0.9}),
                CLOSED_HAT: grid(sixteenths(0.8, 0.75, 0.55)),
                OPEN_HAT: grid({14: 0.5}),
            },
            programs={"bass": 38, "chords": 11, "pad": 89, "lead": 98},
            bass_rhythm=grid({0: 1.0, 3: 0.7, 10: 0.85}),
            chord_rhythm=grid({0: 0.8}),
            density=0.6,
            progressions=("i-VI-III-VII", "i-iv-v"),
            loudness_target=-9.0,
            affinity=((-0.4, 0.72),),
            keywords=("trap", "trap beat", "drill", "phonk"),
            cues={"808": 0.6, "808s": 0.6, "hi hat rolls": 0.5},
        ),
        GenreSpec(
            name="lo-fi",
            description="swung, soft kick and rim, vinyl-soft velocities",
            tempo_range=(70, 90),
            half_time=False,
            swing=0.22,
            drums={
                KICK: grid({0: 0.7, 7: 0.45, 10: 0.6}),
                RIM: grid(scaled(BACKBEAT, 0.6)),
                CLOSED_HAT: grid(eighths(0.45, 0.35)),
            },
            programs={"bass": 33, "chords": 4, "pad": 89, "lead": 24},
            bass_rhythm=grid({0: 0.8, 7: 0.5, 10: 0.6}),
            chord_rhythm=grid({0: 0.7, 6: 0.45, 10: 0.5}),
            density=0.4,
            progressions=("ii-V-I", "Imaj7-IVmaj7"),
            loudness_target=-14.0,
            affinity=((0.25, 0.3), (-0.25, 0.3)),
            keywords=("lo fi", "lofi", "chillhop", "lo fi hip hop", "lofi hip hop", "study beats"),
            cues={"chill": 0.3, "study": 0.4, "studying": 0.4, "vinyl": 0.5, "cassette": 0.4, "beats": 0.3},
        ),
        GenreSpec(
            name="jazz",
            description="ride-cymbal swing, brushes, walking bass; ballads 60-80, swing 120-200",
            tempo_range=(60, 200),
            tempo_bands=((60, 80), (120, 200)),
            half_time=False,
            swing=0.33,
            drums={
                RIDE: grid({0: 0.8, 4: 0.8, 6: 0.5, 8: 0.8, 12: 0.8, 14: 0.5}),
                PEDAL_HAT: grid(scaled(BACKBEAT, 0.6)),
                KICK: grid(scaled(FOUR_ON_THE_FLOOR, 0.3)),  # feathered
                SNARE: grid({6: 0.25, 14: 0.3}),  # brush ghost notes
            },
            programs={"bass": 32, "chords": 0, "pad": 49, "lead": 66},
            bass_rhythm=grid({0: 0.85, 4: 0.8, 8: 0.85, 12: 0.8}),  # walking quarters
            chord_rhythm=grid({0: 0.75, 6: 0.65}),  # Charleston comping
            density=0.55,
            progressions=("ii-V-I", "Imaj7-IVmaj7"),
            loudness_target=-15.0,
            affinity=((0.35, 0.42),),
            keywords=(
                "jazz",
                "jazzy",
                "bebop",
                "bossa nova",
                "bossa",
                "big band",
                "smooth jazz",
                "swing jazz",
            ),
            cues={
                "saxophone": 0.5,
                "sax": 0.5,
                "trumpet": 0.3,
                "lounge": 0.5,
                "cocktail": 0.4,
                "brushes": 0.4,
                "walking bass": 0.5,
                "upright bass": 0.4,
                "swing": 0.4,
            },
            layers=("drums", "bass", "chords", "lead"),
        ),
        GenreSpec(
            name="r&b",
            description="laid-back 16ths, rimshot, electric piano",
            tempo_range=(65, 95),
            half_time=False,
            swing=0.1,
            drums={
                KICK: grid({0: 0.9, 6: 0.5, 10: 0.7}),
                RIM: grid(scaled(BACKBEAT, 0.8)),
                CLOSED_HAT: grid(sixteenths(0.55, 0.5, 0.3)),
            },
            programs={"bass": 33, "chords": 4, "pad": 89, "lead": 5},
            bass_rhythm=grid({0: 0.9, 3: 0.55, 8: 0.8, 11: 0.55, 14: 0.4}),
            chord_rhythm=grid({0: 0.8, 6: 0.5, 8: 0.7}),
            density=0.5,
            progressions=("Imaj7-IVmaj7", "ii-V-I", "vi-IV-I-V"),
            loudness_target=-15.0,
            affinity=((0.55, 0.4),),
            keywords=("r and b", "rnb", "r n b", "rhythm and blues", "soul", "neo soul", "neosoul", "motown"),
            cues={"sultry": 0.4, "slow jam": 0.6, "smooth": 0.3, "sensual": 0.3},
        ),
        GenreSpec(
            name="ambient",
            description="no drums, long notes, pads and strings",
            tempo_range=(60, 90),
            half_time=False,
            swing=0.0,
            drums={},
            programs={"bass": 49, "chords": 94, "pad": 88, "lead": 0},
            bass_rhythm=grid({0: 0.7}),
            chord_rhythm=grid({0: 0.6}),
            density=0.15,
            progressions=("Imaj7-IVmaj7", "i-VI-III-VII"),
            loudness_target=-17.0,
            affinity=((0.3, 0.1), (-0.1, 0.3)),
            keywords=("ambient", "drone", "soundscape", "new age", "ambient music"),
            cues={
                "meditation": 0.5,
                "meditative": 0.5,
                "sleep": 0.4,
                "spa": 0.5,
                "yoga": 0.4,
                "atmospheric": 0.4,
                "ethereal": 0.2,
                "pads": 0.3,
            },
            layers=("bass", "chords", "pad", "lead"),
        ),
        GenreSpec(
            name="cinematic",
            description="toms and timpani, big crashes, strings, brass and choir",
            tempo_range=(60, 100),
            half_time=False,
            swing=0.0,
            drums={
                LOW_TOM: grid({0: 1.0, 3: 0.7, 6: 0.8, 10: 0.7}),
                MID_TOM: grid({8: 0.9, 11: 0.6, 14: 0.7}),
                HIGH_TOM: grid({12: 0.6, 15: 0.5}),
                KICK: grid({0: 0.9, 8: 0.7}),
                CRASH: grid({0: 0.8}),
            },
            programs={"bass": 48, "chords": 49, "pad": 52, "lead": 61},
            bass_rhythm=grid({0: 0.9, 8: 0.8}),
            chord_rhythm=grid(eighths(0.85, 0.65)),  # string ostinato
            density=0.5,
            progressions=("i-VI-III-VII", "i-iv-v", "I-V-vi-IV"),
            loudness_target=-17.0,
            affinity=((0.3, 0.85), (-0.4, 0.75), (-0.7, 0.25)),
            keywords=(
                "cinematic",
                "orchestral",
                "orchestra",
                "film score",
                "film music",
                "movie score",
                "soundtrack",
                "trailer",
                "symphonic",
                "epic",
            ),
            cues={"score": 0.5, "strings": 0.4, "choir": 0.4, "brass": 0.3, "adventure": 0.4, "heroic": 0.3},
        ),
        GenreSpec(
            name="folk",
            description="light percussion, shaker, strummed steel guitar",
            tempo_range=(80, 120),
            half_time=False,
            swing=0.04,
            drums={
                SHAKER: grid(sixteenths(0.55, 0.45, 0.3)),
                KICK: grid({0: 0.6, 8: 0.55}),
                TAMBOURINE: grid(scaled(BACKBEAT, 0.5)),
            },
            programs={"bass": 32, "chords": 25, "pad": 49, "lead": 40},
            bass_rhythm=grid({0: 0.8, 8: 0.7}),  # root-fifth
            chord_rhythm=grid({0: 0.85, 4: 0.7, 6: 0.55, 10: 0.55, 12: 0.7, 14: 0.55}),  # D-DU-UDU strum
            density=0.45,
            progressions=("I-IV-V", "I-V-vi-IV", "I-bVII-IV"),
            loudness_target=-15.0,
            affinity=((0.3, 0.38), (0.05, 0.35), (-0.45, 0.3)),
            keywords=(
                "folk",
                "folk music",
                "indie folk",
                "country",
                "bluegrass",
                "americana",
                "singer songwriter",
                "celtic",
            ),
            cues={
                "acoustic": 0.6,
                "acoustic guitar": 0.7,
                "banjo": 0.6,
                "fiddle": 0.6,
                "campfire": 0.5,
                "harmonica": 0.4,
                "ukulele": 0.5,
            },
        ),
        GenreSpec(
            name="dream-pop",
            description="soft straight 8ths, reverb-heavy guitars and pads",
            tempo_range=(70, 110),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid({0: 0.7, 8: 0.65}),
                SNARE: grid(scaled(BACKBEAT, 0.6)),
                CLOSED_HAT: grid(eighths(0.45, 0.4)),
                OPEN_HAT: grid({14: 0.35}),
            },
            programs={"bass": 38, "chords": 27, "pad": 89, "lead": 94},
            bass_rhythm=grid(eighths(0.6, 0.5)),
            chord_rhythm=grid(eighths(0.6, 0.5)),
            density=0.45,
            progressions=("Imaj7-IVmaj7", "I-V-vi-IV", "vi-IV-I-V"),
            loudness_target=-14.0,
            affinity=((0.4, 0.25),),
            keywords=("dream pop", "dreampop", "shoegaze", "chillwave"),
            cues={"dreamy": 0.35, "reverb": 0.4, "hazy": 0.3, "ethereal": 0.2, "shimmering": 0.2},
        ),
        GenreSpec(
            name="drum-and-bass",
            description="broken two-step breakbeat at 170-176, sub bass",
            tempo_range=(170, 176),
            half_time=False,
            swing=0.0,
            drums={
                KICK: grid({0: 1.0, 10: 0.9}),
                SNARE: grid({4: 1.0, 7: 0.3, 12: 1.0, 15: 0.3}),
                CLOSED_HAT: grid(sixteenths(0.6, 0.6, 0.3)),
            },
            programs={"bass": 38, "chords": 90, "pad": 88, "lead": 81},
            bass_rhythm=grid({0: 1.0, 10: 0.85}),
            chord_rhythm=grid({0: 0.7}),
            density=0.8,
            progressions=("i-VI-III-VII", "vi-IV-I-V", "i-iv-v"),
            loudness_target=-9.0,
            affinity=((0.4, 0.92),),
            keywords=(
                "drum and bass",
                "drum n bass",
                "drum and base",
                "dnb",
                "d and b",
                "jungle",
                "neurofunk",
                "liquid dnb",
            ),
            cues={"breakbeat": 0.5, "breakbeats": 0.5, "amen": 0.4},
        ),
        GenreSpec(
            name="reggae",
            description="one-drop (kick and snare on 3 only), skank on the off-beats 2 and 4",
            tempo_range=(60, 90),
            half_time=False,
            swing=0.15,
            drums={
                KICK: grid({8: 1.0}),
                SNARE: grid({8: 0.85}),
                CLOSED_HAT: grid(eighths(0.4, 0.55)),
            },
            programs={"bass": 33, "chords": 27, "pad": 16, "lead": 56},
            bass_rhythm=grid({2: 0.8, 4: 0.6, 6: 0.8, 8: 0.9, 11: 0.7}),
            chord_rhythm=grid({4: 0.85, 12: 0.85}),  # the skank
            density=0.45,
            progressions=("I-IV-V", "vi-IV-I-V"),
            loudness_target=-14.0,
            affinity=((0.6, 0.45),),
            keywords=("reggae", "roots reggae", "dub", "dancehall", "ska", "rocksteady", "one drop"),
            cues={"jamaican": 0.6, "caribbean": 0.5, "island": 0.4, "skank": 0.5},
        ),
    )
}


def _phrase_table() -> dict[str, dict[str, float]]:
    """Normalized phrase -> {genre: weight}: keywords weigh 1, cues their own weight."""
    table: dict[str, dict[str, float]] = {}
    for spec in GENRES.values():
        for phrase in (normalize_text(spec.name), *spec.keywords):
            table.setdefault(normalize_text(phrase), {})[spec.name] = 1.0
        for phrase, weight in spec.cues.items():
            table.setdefault(normalize_text(phrase), {}).setdefault(spec.name, weight)
    return table


# Prompt phrases, longest first so "dream pop" wins over "pop" and "drum and bass" over "bass".
PHRASES: dict[str, dict[str, float]] = dict(
    sorted(_phrase_table().items(), key=lambda item: (-len(item[0].split()), item[0]))
)
