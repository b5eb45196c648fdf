"""Coda's music-aware mood vocabulary.

General sentiment lexicons (VADER, TextBlob) read music prompts as neutral:
"uplifting", "dreamy", "haunting" or "driving" carry no weight for them
(FIELD-NOTES trap 16). Each word here carries what it says about a piece of
music: a valence (-1 dark/sad .. 1 bright/happy), an energy (0 calm .. 1
intense), votes for catalog moods, and a weight (how strongly it speaks;
genre words are weak hints, tempo words speak loudly about energy).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    valence: float | None  # None: the word says nothing about valence
    energy: float | None  # None: the word says nothing about energy
    votes: dict[str, float] = field(default_factory=dict)  # mood name -> vote
    weight: float = 1.0


def _group(
    words: str, valence: float | None, energy: float | None, votes: dict[str, float], weight: float = 1.0
):
    entry = Entry(valence, energy, votes, weight)
    return {word: entry for word in words.split()}


HINT = 0.4  # genre and scene words: a nudge, not a statement of mood
TEMPO = 1.5  # explicit tempo/intensity words dominate the energy estimate

WORDS: dict[str, Entry] = {
    # bright, positive
    **_group("uplifting uplift uplifted", 0.7, 0.65, {"uplifting": 1.0, "hopeful": 0.3}),
    **_group("inspiring inspirational inspired motivational", 0.65, 0.65, {"uplifting": 1.0, "epic": 0.3}),
    **_group("happy happiness joyful joy joyous glad", 0.85, 0.62, {"happy": 1.0, "euphoric": 0.2}),
    **_group("cheerful cheery jolly merry", 0.8, 0.6, {"happy": 1.0, "playful": 0.3}),
    **_group("bright", 0.6, 0.6, {"happy": 0.6, "uplifting": 0.5}),
    **_group("sunny sunshine sun sunlit summery", 0.75, 0.55, {"happy": 0.8, "playful": 0.3}),
    **_group("summer", 0.6, 0.6, {"happy": 0.6, "energetic": 0.3, "playful": 0.2}),
    **_group("spring springtime", 0.6, 0.5, {"hopeful": 0.6, "happy": 0.4}),
    **_group("hopeful hope optimistic optimism", 0.55, 0.5, {"hopeful": 1.0, "uplifting": 0.4}),
    **_group("sunrise dawn morning", 0.5, 0.4, {"hopeful": 0.8, "peaceful": 0.3}),
    **_group(
        "triumphant triumph victory victorious glorious glory", 0.7, 0.85, {"epic": 1.0, "uplifting": 0.4}
    ),
    **_group("heroic hero heroes legendary", 0.5, 0.85, {"epic": 1.0}),
    **_group("epic", 0.3, 0.85, {"epic": 1.0}),
    **_group("anthem anthemic", 0.5, 0.8, {"epic": 0.6, "uplifting": 0.6}),
    **_group("majestic grand soaring", 0.45, 0.7, {"epic": 0.8, "uplifting": 0.3}),
    **_group("euphoric euphoria ecstatic ecstasy blissful bliss", 0.9, 0.9, {"euphoric": 1.0}),
    **_group("party partying celebration celebrate celebratory", 0.8, 0.85, {"euphoric": 0.6, "happy": 0.5}),
    **_group("festival rave", 0.6, 0.88, {"euphoric": 0.7, "energetic": 0.5}),
    **_group("dance dancing danceable dancefloor", 0.5, 0.8, {"energetic": 0.8, "happy": 0.3}),
    **_group("groovy groove funky", 0.6, 0.7, {"playful": 0.6, "happy": 0.4, "energetic": 0.3}),
    **_group("playful bouncy quirky whimsical silly cute cheeky", 0.65, 0.65, {"playful": 1.0}),
    **_group("fun", 0.75, 0.7, {"playful": 0.8, "happy": 0.5}),
    **_group("carefree", 0.7, 0.55, {"happy": 0.7, "playful": 0.5}),
    **_group("confident swagger bold", 0.4, 0.7, {"energetic": 0.6, "uplifting": 0.3}),
    # love and warmth
    **_group("romantic romance love loving lover", 0.6, 0.38, {"romantic": 1.0}),
    **_group("tender sensual sexy intimate passionate", 0.5, 0.38, {"romantic": 1.0}),
    **_group("warm warmth cozy cosy", 0.55, 0.32, {"peaceful": 0.4, "romantic": 0.4, "chill": 0.3}),
    **_group("sweet lovely", 0.62, 0.4, {"romantic": 0.6, "happy": 0.4}),
    **_group("wedding", 0.75, 0.5, {"romantic": 0.8, "happy": 0.5}),
    **_group("smooth silky velvet velvety", 0.45, 0.35, {"romantic": 0.6, "chill": 0.5}),
    # energy
    **_group("energetic energy energized energizing", 0.45, 0.9, {"energetic": 1.0}),
    **_group("upbeat", 0.6, 0.78, {"energetic": 0.6, "happy": 0.6}),
    **_group("driving pumping propulsive", 0.2, 0.82, {"energetic": 0.8, "tense": 0.2}),
    **_group("powerful power mighty", 0.3, 0.85, {"epic": 0.6, "energetic": 0.6}),
    **_group("intense intensity", -0.1, 0.9, {"tense": 0.6, "energetic": 0.5}),
    **_group("hype hyped workout gym running sport sports", 0.45, 0.9, {"energetic": 1.0}),
    **_group("fierce wild explosive relentless", -0.1, 0.95, {"aggressive": 0.6, "energetic": 0.6}),
    # explicit tempo words: energy only, and loudly
    **_group("fast quick rapid speedy uptempo", None, 0.85, {"energetic": 0.3}, TEMPO),
    **_group("slow slower unhurried", None, 0.2, {}, TEMPO),
    **_group("downtempo", None, 0.3, {"chill": 0.3}, TEMPO),
    **_group("frantic hectic", -0.2, 0.95, {"tense": 0.6, "energetic": 0.4}),
    # calm and soft
    **_group("calm calming stillness quiet", 0.3, 0.15, {"calm": 1.0}),
    **_group("chill chilled chillout", 0.35, 0.3, {"chill": 1.0, "calm": 0.3}),
    **_group("laidback", 0.35, 0.3, {"chill": 1.0}),
    **_group("mellow", 0.3, 0.25, {"chill": 0.7, "calm": 0.6}),
    **_group("relaxed relaxing relax relaxation", 0.4, 0.2, {"calm": 0.8, "chill": 0.6}),
    **_group("gentle gently soft softly delicate", 0.35, 0.2, {"calm": 0.6, "peaceful": 0.5}),
    **_group("peaceful peace serene serenity tranquil tranquility", 0.5, 0.12, {"peaceful": 1.0}),
    **_group("soothing soothe comforting comfort", 0.45, 0.15, {"peaceful": 0.7, "calm": 0.6}),
    **_group(
        "sleep sleepy sleeping lullaby bedtime", 0.35, 0.05, {"peaceful": 0.8, "calm": 0.5, "dreamy": 0.2}
    ),
    **_group("meditation meditative zen yoga mindful", 0.4, 0.1, {"peaceful": 1.0}),
    **_group("study studying focus concentration", 0.2, 0.3, {"calm": 0.6, "chill": 0.5}),
    **_group("lazy sunday", 0.4, 0.2, {"chill": 0.8}),
    **_group("breeze breezy beach", 0.5, 0.38, {"chill": 0.6, "happy": 0.3}),
    **_group("ocean sea waves", 0.4, 0.3, {"peaceful": 0.5, "chill": 0.5}),
    # dreamy and atmospheric
    **_group("dreamy dream dreaming dreamlike", 0.4, 0.28, {"dreamy": 1.0}),
    **_group("ethereal otherworldly", 0.35, 0.25, {"dreamy": 1.0, "mysterious": 0.3}),
    **_group("floating float airy weightless", 0.4, 0.2, {"dreamy": 0.9, "peaceful": 0.3}),
    **_group("hazy haze", 0.2, 0.3, {"dreamy": 0.8, "nostalgic": 0.3}),
    **_group("lush", 0.5, 0.4, {"dreamy": 0.7, "romantic": 0.3}),
    **_group(
        "shimmering shimmer shimmery sparkling sparkly glittering", 0.55, 0.45, {"dreamy": 0.7, "happy": 0.3}
    ),
    **_group("atmospheric atmosphere", 0.0, 0.3, {"mysterious": 0.5, "dreamy": 0.5}),
    **_group(
        "cosmic space spacey spacy celestial starry stars galaxy",
        0.2,
        0.35,
        {"dreamy": 0.7, "mysterious": 0.5},
    ),
    **_group("magical magic enchanted enchanting fairy", 0.5, 0.45, {"dreamy": 0.6, "mysterious": 0.4}),
    **_group("wonder wonderful", 0.6, 0.5, {"dreamy": 0.5, "uplifting": 0.4}),
    # looking back
    **_group("nostalgic nostalgia memories memory retro vintage childhood", 0.08, 0.35, {"nostalgic": 1.0}),
    **_group("bittersweet", 0.0, 0.35, {"nostalgic": 0.8, "melancholic": 0.5}),
    **_group("wistful longing yearning", -0.15, 0.3, {"melancholic": 0.7, "nostalgic": 0.6}),
    **_group("reflective introspective pensive thoughtful", 0.0, 0.3, {"melancholic": 0.5, "calm": 0.4}),
    **_group("autumn", -0.05, 0.3, {"nostalgic": 0.6, "melancholic": 0.4}),
    **_group("winter", -0.1, 0.25, {"melancholic": 0.5, "peaceful": 0.3}),
    **_group("rain rainy raining", -0.2, 0.25, {"melancholic": 0.8, "calm": 0.3}),
    **_group("night nighttime midnight nocturnal", -0.05, 0.4, {"mysterious": 0.5, "dreamy": 0.3}),
    # sad
    **_group("melancholy melancholic", -0.45, 0.3, {"melancholic": 1.0}),
    **_group("sad sadness unhappy", -0.75, 0.25, {"sad": 1.0}),
    **_group("sorrow sorrowful grief grieving mourning funeral", -0.8, 0.2, {"sad": 1.0}),
    **_group("heartbreak heartbroken breakup", -0.7, 0.35, {"sad": 1.0, "melancholic": 0.4}),
    **_group("lonely loneliness alone lost", -0.55, 0.25, {"melancholic": 0.8, "sad": 0.6}),
    **_group("tears crying cry weeping", -0.75, 0.3, {"sad": 1.0}),
    **_group("blue", -0.35, 0.3, {"melancholic": 0.8}),
    **_group("gloomy gloom somber sombre bleak grey gray", -0.6, 0.3, {"melancholic": 0.6, "dark": 0.5}),
    **_group("tragic tragedy", -0.8, 0.4, {"sad": 0.8, "epic": 0.2}),
    **_group("depressing depressed despair hopeless", -0.85, 0.2, {"sad": 1.0}),
    # dark, mysterious, tense
    **_group("dark darkness", -0.6, 0.55, {"dark": 1.0}),
    **_group("brooding broody moody", -0.5, 0.45, {"dark": 0.8, "mysterious": 0.4}),
    **_group("haunting haunted eerie creepy spooky ghostly", -0.45, 0.4, {"mysterious": 0.7, "dark": 0.6}),
    **_group("sinister evil menacing ominous doom", -0.75, 0.6, {"dark": 1.0, "tense": 0.4}),
    **_group("gothic goth", -0.5, 0.45, {"dark": 0.8}),
    **_group("horror scary fear dread", -0.7, 0.65, {"tense": 0.8, "dark": 0.6}),
    **_group("mysterious mystery enigmatic mystic mystical", -0.1, 0.4, {"mysterious": 1.0}),
    **_group(
        "tense tension suspense suspenseful thriller anxious nervous urgent", -0.4, 0.75, {"tense": 1.0}
    ),
    **_group("chase battle war fight", -0.3, 0.9, {"epic": 0.6, "tense": 0.6, "aggressive": 0.3}),
    **_group("aggressive aggression", -0.5, 0.95, {"aggressive": 1.0}),
    **_group("angry anger rage furious fury", -0.7, 0.95, {"aggressive": 1.0}),
    **_group("heavy", -0.3, 0.85, {"aggressive": 0.6, "dark": 0.4}),
    **_group("hard hardcore brutal raw gritty grimy", -0.35, 0.85, {"aggressive": 0.7, "dark": 0.3}),
    **_group("rebellious rebel defiant", -0.2, 0.85, {"aggressive": 0.7, "energetic": 0.3}),
    # genre and instrument hints: weak, but they say something about energy
    **_group("ambient drone", 0.1, 0.15, {"calm": 0.3, "dreamy": 0.2}, HINT),
    **_group("techno industrial", -0.2, 0.85, {"energetic": 0.3, "dark": 0.2}, HINT),
    **_group("metal", -0.4, 0.92, {"aggressive": 0.5}, HINT),
    **_group("punk grunge", -0.2, 0.9, {"aggressive": 0.3, "energetic": 0.3}, HINT),
    **_group("edm electronic trance", 0.3, 0.8, {"energetic": 0.4, "euphoric": 0.2}, HINT),
    **_group("house disco", 0.5, 0.75, {"energetic": 0.3, "happy": 0.2}, HINT),
    **_group("dnb dubstep", 0.0, 0.9, {"energetic": 0.4}, HINT),
    **_group("rock", 0.1, 0.75, {"energetic": 0.3}, HINT),
    **_group("pop", 0.5, 0.65, {"happy": 0.3}, HINT),
    **_group("lofi", 0.2, 0.3, {"chill": 0.4}, HINT),
    **_group("folk acoustic", 0.25, 0.35, {"calm": 0.2, "nostalgic": 0.2}, HINT),
    **_group("cinematic orchestral soundtrack", 0.1, 0.65, {"epic": 0.4}, HINT),
    **_group("reggae", 0.5, 0.45, {"chill": 0.3, "happy": 0.3}, HINT),
    **_group("rnb soul", 0.4, 0.45, {"romantic": 0.4}, HINT),
    **_group("hiphop rap", 0.0, 0.6, {"energetic": 0.2}, HINT),
    **_group("trap drill", -0.2, 0.7, {"dark": 0.2, "energetic": 0.2}, HINT),
    **_group("ballad", 0.1, 0.25, {"romantic": 0.3, "melancholic": 0.3}, HINT),
    **_group("lounge jazz jazzy", 0.4, 0.4, {"chill": 0.3, "romantic": 0.2}, HINT),
}

# Multi-word expressions, matched before single words (tokens joined by a space).
PHRASES: dict[str, Entry] = {
    "laid back": WORDS["laidback"],
    "feel good": Entry(0.8, 0.65, {"happy": 1.0, "uplifting": 0.4}),
    "late night": Entry(0.0, 0.35, {"chill": 0.5, "mysterious": 0.4}),
    "night drive": Entry(0.1, 0.6, {"nostalgic": 0.5, "dreamy": 0.5}),
    "road trip": Entry(0.6, 0.65, {"happy": 0.6, "uplifting": 0.4}),
    "broken heart": WORDS["heartbreak"],
    "heart broken": WORDS["heartbreak"],
    "coming of age": Entry(0.3, 0.5, {"nostalgic": 0.6, "hopeful": 0.5}),
    "lo fi": WORDS["lofi"],
    "hip hop": WORDS["hiphop"],
    "drum and bass": WORDS["dnb"],
    "r and b": WORDS["rnb"],
    "dream pop": Entry(0.4, 0.35, {"dreamy": 0.7}, HINT),
    "film score": WORDS["cinematic"],
    "heavy metal": WORDS["metal"],
}

# Scale a word's weight (and stretch its values away from neutral).
INTENSIFIERS: dict[str, float] = {
    w: 1.5
    for w in [
        "very",
        "really",
        "so",
        "super",
        "extremely",
        "incredibly",
        "deeply",
        "truly",
        "ultra",
        "highly",
        "totally",
        "absolutely",
        "too",
    ]
} | {"most": 1.3, "quite": 1.2, "more": 1.2}
DIMINISHERS: dict[str, float] = {
    w: 0.5
    for w in [
        "slightly",
        "somewhat",
        "mildly",
        "faintly",
        "subtly",
        "subtle",
        "kinda",
        "bit",
        "little",
        "hint",
        "touch",
    ]
} | {"less": 0.6}
NEGATORS: frozenset[str] = frozenset(
    ["not", "no", "never", "without", "nor", "none", "hardly", "barely", "neither", "non"]
)
# Words and marks that end a negation's reach.
CLAUSE_BREAKS: frozenset[str] = frozenset(
    [".", ",", ";", ":", "!", "?", "but", "though", "although", "yet", "however"]
)
NEGATION_SCOPE = 3  # tokens after a negator that it flips
MODIFIER_SCOPE = 2  # tokens after an intensifier that it scales
