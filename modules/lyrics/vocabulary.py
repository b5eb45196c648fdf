"""Coda's lyric vocabulary: word lists per mood family, line templates and
the words a prompt uses that are not themes.

Plain data only. Slot names used by the templates:
  N   singular noun         NP  plural noun           A  adjective
  V   intransitive verb     VS  V, third person       VG V, -ing form
  VT  transitive verb       P   preposition
Verb forms VS/VG are derived from V in `lexicon.py` and checked against the
CMU dictionary, so only the base forms are listed here.
"""

from __future__ import annotations


def _w(text: str) -> tuple[str, ...]:
    """Space-separated words -> tuple (keeps the tables compact)."""
    return tuple(text.split())


# Mood families. Each maps slot -> words; `core` words suit every family.
FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "core": {
        "N": _w(
            "light night heart sky road time world dream fire home sun moon rain wind sea sound "
            "voice door way soul mind day morning ocean river city shadow window silence horizon "
            "paradise galaxy universe melody avenue satellite"
        ),
        "NP": _w("stars eyes hands lights streets waves years skies hearts roads"),
        "A": _w("bright blue deep wide slow new open silver golden young"),
        "V": _w("run fall rise shine wait dream breathe move stay turn"),
        "VT": _w("hold find feel follow carry keep"),
    },
    "bright": {
        "N": _w(
            "sunrise summer daylight glow spark flame skyline rainbow freedom wonder morning gold "
            "sunshine feeling celebration"
        ),
        "NP": _w("colors wings voices balloons flowers rays dreams fireworks"),
        "A": _w("shining alive free high clear endless radiant brilliant warm sunny"),
        "V": _w("soar sing dance climb bloom glow fly wake begin laugh"),
        "VT": _w("chase lift reach catch open light share"),
    },
    "calm": {
        "N": _w(
            "cloud mist haze tide glow ocean water feather twilight echo starlight breeze shore "
            "lullaby daydream moonlight meadow"
        ),
        "NP": _w("clouds waves echoes petals feathers lanterns colors dreams"),
        "A": _w("soft gentle hazy quiet distant weightless pale dreamy still faraway"),
        "V": _w("drift float fade flow sway glide wander linger rest dream"),
        "VT": _w("touch trace paint whisper follow hold"),
    },
    "sad": {
        "N": _w(
            "rain winter ghost ash dust memory goodbye letter echo ember autumn distance sorrow "
            "silence window"
        ),
        "NP": _w("tears leaves ashes shadows memories letters ghosts pieces photographs"),
        "A": _w("cold grey empty lonely broken fading hollow heavy lost tired"),
        "V": _w("fade cry break wander sink linger fall wait drown remain"),
        "VT": _w("miss remember lose forget leave carry"),
    },
    "dark": {
        "N": _w(
            "storm thunder darkness edge blade smoke wire void danger midnight pulse cage siren static fire"
        ),
        "NP": _w("flames sirens chains walls wolves secrets ruins shadows"),
        "A": _w("dark cold black wild restless burning electric silent sharp wicked"),
        "V": _w("burn crawl hunt shake scream hide tremble break rage fall"),
        "VT": _w("break chase fight face shatter hunt"),
    },
    "energetic": {
        "N": _w(
            "thunder storm mountain kingdom glory victory heartbeat rhythm anthem lightning "
            "summit engine rocket power fire"
        ),
        "NP": _w("drums giants flames heroes crowds wings mountains lights"),
        "A": _w("wild loud electric fearless mighty burning fast strong alive infinite"),
        "V": _w("roar fight ignite soar stand jump dance burn run rise"),
        "VT": _w("break chase take shake ignite conquer"),
    },
    "romantic": {
        "N": _w(
            "kiss rose love touch candle moonlight darling promise velvet honey heartbeat whisper "
            "embrace dance heart"
        ),
        "NP": _w("roses whispers kisses candles promises hands eyes hearts"),
        "A": _w("sweet tender warm gentle close true precious soft secret slow"),
        "V": _w("dance sway melt stay linger glow burn breathe fall wait"),
        "VT": _w("kiss love want need touch miss"),
    },
}

# Words of a mood description that point to a family (mood name, tags and prompt).
FAMILY_CUES: dict[str, tuple[str, ...]] = {
    "bright": _w(
        "uplifting happy joyful bright cheerful hopeful sunny optimistic euphoric upbeat positive "
        "playful fun summer"
    ),
    "calm": _w(
        "calm dreamy peaceful relaxed relaxing chill serene ethereal mellow soothing gentle "
        "floating ambient soft tranquil"
    ),
    "sad": _w(
        "sad melancholic melancholy lonely heartbroken nostalgic somber sombre bittersweet "
        "wistful gloomy longing mournful blue"
    ),
    "dark": _w(
        "dark tense ominous angry aggressive sinister eerie haunting menacing brooding mysterious "
        "anxious suspense scary"
    ),
    "energetic": _w(
        "energetic epic powerful intense driving heroic triumphant anthemic fierce exciting hype "
        "party hard aggressive"
    ),
    "romantic": _w("romantic love sensual tender intimate passionate sexy sweet affectionate"),
}

PREPOSITIONS: tuple[str, ...] = _w("in through under into beyond across above inside along over beneath")

# Line templates; the last token is always a slot so it can carry the rhyme.
# "," is punctuation: no syllable, attached to the word before it.
TEMPLATES: tuple[str, ...] = (
    "N",
    "A N",
    "A NP",
    "V P the N",
    "we V P the N",
    "I V P the N",
    "you V P the A N",
    "we V P the A N",
    "P the A N",
    "P the N of the N",
    "the N VS P the N",
    "the A N VS",
    "the NP V P the N",
    "all the NP V",
    "let the N V",
    "let the NP V",
    "watch the NP V",
    "I VT the N",
    "we VT the A N",
    "VT the N and V",
    "VG P the N",
    "VG P the A N",
    "we are VG P the N",
    "the N is A",
    "the N is VG",
    "your N is A",
    "my N is A and A",
    "there is a N in the N",
    "there's a N in the A N",
    "I can feel the N",
    "I can feel the A N",
    "in the N of the N",
    "my N VS like the N",
    "we V like the NP",
    "A as the N",
    "A like the N",
    "V with me P the N",
    "hold me P the N",
    "when the N VS",
    "I V and V",
    "NP P the N",
    "A NP P the N",
    "you are my A N",
    "we VT the N P the N",
)

# Clauses that can open a two-clause line ("..., and ...") when a phrase is long.
OPENERS: tuple[str, ...] = (
    "we V",
    "I V",
    "the N VS",
    "the NP V",
    "I VT the N",
    "we VT the N",
    "V P the N",
    "the N is A",
    "VG P the N",
    "let the N V",
)

# Monosyllables that are unstressed in running speech whatever the dictionary says.
FUNCTION_WORDS: frozenset[str] = frozenset(
    _w(
        "a an the of in to and is are my your we i you like with as there there's can let me all "
        "when on at it through for from but or so be our their his her its"
    )
)

# Prompt words that describe the music rather than what a song is about.
MUSIC_WORDS: frozenset[str] = frozenset(
    _w(
        "music song songs track tracks tune beat beats vocal vocals voice voices singer singing "
        "sung vocalist lyrics lyric instrumental melody melodies harmony chorus verse bridge hook "
        "intro outro genre style pop rock electronic house techno hip hop hip-hop trap lo-fi lofi "
        "jazz r&b rnb ambient cinematic folk dream-pop drum drums bass reggae edm dubstep "
        "classical orchestral orchestra piano guitar guitars synth synths synthwave strings brass "
        "sax saxophone violin bpm tempo key minor major mix master production produced loop "
        "sample samples female male deep high low soprano mezzo alto tenor baritone choir upbeat "
        "energetic chill chilled relaxing relaxed uplifting catchy groovy melodic acoustic "
        "atmospheric emotional heavy fast slow loud vibe vibes feel sound sounds sounding mood "
        "moody powerful intense epic minute minutes seconds long short background soundtrack "
        "score lead pad pads anthem ballad banger dance dancefloor club radio version remix "
        "beat-driven woman man girl boy guy jam study studying work working focus relax workout gym "
        "gaming coding reading meditation yoga"
    )
)

# Common words of a request that carry no theme.
STOPWORDS: frozenset[str] = frozenset(
    _w(
        "a an the and or but with without of for about in on at to from by into over under some "
        "any that this these those is are was were be been being it its my your our their his her "
        "me you we they i he she them us make makes made create write compose generate give want "
        "like very really more most lots lot kind sort type something please just so too also as "
        "than then feat featuring vs which who what where when how all bit little big good nice "
        "great cool awesome best one two three four five few many much not no can could should "
        "would will using use used via per style inspired vibe ish based"
    )
)

# Nouns that end like adjectives ("city", "party"): keep them nouns.
Y_NOUNS: frozenset[str] = frozenset(
    _w(
        "city party story memory sky body baby lady country journey melody harmony energy galaxy "
        "fantasy glory victory honey money history family mystery destiny eternity lullaby valley "
        "highway holiday birthday day way boy joy sea key tree bay ray toy army enemy ivy daisy"
    )
)

# Nouns with no sensible plural in a lyric ("rains", "loves").
MASS_NOUNS: frozenset[str] = frozenset(
    _w(
        "rain love snow water air sand gold silence smoke dust freedom peace hope time music light fire "
        "darkness glory power honey velvet thunder lightning sunshine daylight moonlight starlight mist haze"
    )
)
