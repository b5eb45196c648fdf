"""The shipped content check: every rule on real examples, evasions caught, innocent words and
musical prompts allowed (violent themes in songs are art; direct threats are not)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from modules.moderation.engine import (
    BLOCKLIST,
    RULES,
    Moderator,
    RulesModerator,
    Verdict,
    load_blocklist,
)

MODERATOR = RulesModerator()


def rule_of(text: str, field: str = "prompt") -> str | None:
    verdict = MODERATOR.check(text, field=field)
    return verdict.rule if verdict else None


def test_rule_ids_are_stable() -> None:
    # Clients and the admin filter on these ids: changing one is a breaking change.
    assert list(RULES) == [
        "violence_threat",
        "self_harm",
        "hate",
        "sexual",
        "profanity",
        "personal_data",
        "links",
        "flooding",
    ]
    assert {rule for rule, _ in load_blocklist()} == {
        "profanity",
        "hate",
        "sexual",
        "violence_threat",
        "self_harm",
    }


def test_rules_moderator_is_a_moderator() -> None:
    assert isinstance(MODERATOR, Moderator)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # profanity
        ("this is fucking great", "profanity"),
        ("what a load of bullshit", "profanity"),
        ("shut up you motherfucker", "profanity"),
        ("Shit happens", "profanity"),
        ("stop being such an asshole", "profanity"),
        ("you little bitch", "profanity"),
        # hate: slurs
        ("a song that says nigger", "hate"),
        ("those faggots", "hate"),
        ("go home wetback", "hate"),
        ("the kikes again", "hate"),
        ("that's retarded", "hate"),
        # sexual
        ("a song about a blowjob in the car", "sexual"),
        ("porn soundtrack", "sexual"),
        ("lyrics about masturbating", "sexual"),
        # violence_threat: direct, first person, at the person addressed
        ("I will kill you", "violence_threat"),
        ("I'm going to kill you tonight", "violence_threat"),
        ("i'll murder you", "violence_threat"),
        ("we are going to find and kill you", "violence_threat"),
        ("imma stab you", "violence_threat"),
        ("I want to hurt you", "violence_threat"),
        # self_harm: incitement aimed at someone
        ("kill yourself", "self_harm"),
        ("just go kill yourself loser", "self_harm"),
        ("you should hang yourself", "self_harm"),
        ("go slit your wrists", "self_harm"),
        ("kys", "self_harm"),
        # personal_data
        ("write to jane.doe+songs@example.co.uk about it", "personal_data"),
        ("call me on 555-123-4567", "personal_data"),
        ("call me on (555) 123 4567", "personal_data"),
        ("my number is +44 20 7946 0958", "personal_data"),
        ("ring 07700900123 after dark", "personal_data"),
        # links
        ("check out https://example.com/my-track", "links"),
        ("like http://spam.example", "links"),
        ("visit www.example.org now", "links"),
        ("HTTPS://EXAMPLE.COM", "links"),
        # flooding
        ("buy " * 20, "flooding"),
        ("a" * 40, "flooding"),
        ("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "flooding"),
        ("a song about the sea " + "o" * 80 + " and the sky", "flooding"),
    ],
)
def test_each_rule_on_real_examples(text: str, rule: str) -> None:
    assert rule_of(text) == rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("FUCK", "profanity"),  # case
        ("fück", "profanity"),  # accents
        ("\uff46\uff55\uff43\uff4b", "profanity"),  # full-width letters
        ("fu\u0441k", "profanity"),  # a Cyrillic es for the c
        ("f\u200buck", "profanity"),  # a zero-width space inside
        ("sh1t", "profanity"),  # leetspeak
        ("a$$hole", "profanity"),
        ("@sshole", "profanity"),
        ("5h!t", "profanity"),
        ("b1tch", "profanity"),
        ("f.u.c.k", "profanity"),  # spaced-out letters
        ("f-u-c-k this", "profanity"),
        ("f u c k", "profanity"),
        ("s_h_i_t", "profanity"),
        ("fuuuuuck", "profanity"),  # stretched letters
        ("shiiiiit", "profanity"),
        ("F.U.U.U.C.K", "profanity"),
        ("f.a.g", "hate"),  # dotted, so not a chord list
        ("k y s", "self_harm"),
        ("killyourself", "self_harm"),  # a phrase glued into a hashtag
        ("kill urself", "self_harm"),  # text-speak
        ("k1ll y0urs3lf", "self_harm"),
        ("I'ma kill u", "violence_threat"),
        ("I will ki11 you", "violence_threat"),  # "1" read as "l"
        ("I am gonna k i l l you", "violence_threat"),
        ("I\u2019ll kill you", "violence_threat"),  # a typographic apostrophe
        ("contact me: J.Doe@Example.COM", "personal_data"),
    ],
)
def test_trivial_evasions_are_caught(text: str, rule: str) -> None:
    assert rule_of(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe",
        "assassin",
        "class",
        "cocktail",
        "therapist",
        "grass",
        "hello",
        "shell",
        "she'll",
        "h e l l o",
        "Essex and Middlesex",
        "Penistone",
        "cockpit",
        "cocky",
        "Dick Dale",
        "pussycat",
        "Pakistan",
        "snigger",
        "fagot",  # a bundle of sticks; the slur has a double g
        "spicy cumin",
        "magna cum laude",
        "shitake mushrooms",
        "bass",
        "assessment",
        "analysis",
        "sextet",
        "butterscotch",
        "Hitchcock",
        "as",
        "F A G C",  # a chord list
        "C - G - A - F",
        "a b c d e f g",
    ],
)
def test_whole_words_only_no_scunthorpe_problem(text: str) -> None:
    assert MODERATOR.check(text, field="prompt") is None


# What people ask a music generator for. Songs may be about violence, death, drugs, grief and
# anger; only direct threats at the person addressed and incitement to self-harm are rejected.
MUSICAL_PROMPTS = [
    "dark trap beat about killing time",
    "a love song",
    "sad piano ballad about losing my mother",
    "punk song that screams about the government",
    "murder ballad in the style of old folk songs",
    "uplifting electronic music with dreamy vocals",
    "gangsta rap about surviving the streets",
    "heavy metal song about war, blood and death",
    "a breakup song, angry and bitter",
    "country song about whiskey, trucks and heartbreak",
    "drill beat with hard 808s at 140 bpm",
    "lo-fi hip hop for studying at 3am",
    "cocktail lounge jazz for a rainy evening",
    "a song about my therapist helping me through grief",
    "emo song about feeling like I want to disappear",
    "blues about selling my soul to the devil at the crossroads",
    "horrorcore track about a serial killer, cinematic and creepy",
    "synthwave track called Assassin's Dream",
    "reggae song about lying in the grass on the beach",
    "ska punk about class struggle",
    "a lullaby for my baby girl",
    "sea shanty about a shell-shocked sailor",
    "hello from the other side, a soulful ballad",
    "a birthday song for my friend in Scunthorpe",
    "gospel choir singing about the blood of the lamb",
    "cinematic battle music, swords clashing, armies slaughtered",
    "a song about a shooting star",
    "trap song: I'm killing it, stacking money",
    "an electro track that kills on the dancefloor",
    "a song titled Knives Out about betrayal",
    "grunge song, raw and dirty, about addiction and needles",
    "kpop dance track with a catchy hook about first love",
    "a protest song: no more war, no more bombs",
    "a funeral march for a fallen soldier",
    "a diss track aimed at my rival, aggressive but clean",
    "ballad: I would die for you",
    "surf rock in the style of Dick Dale",
    "pop song in the style of the Pussycat Dolls",
    "fuzzy garage rock with cocky swagger",
    "a waltz in 3/4 at 90 bpm, 2:30 long, like records from 1999-2001",
    "stadium rock: we will rock you, we will crush the stage",
    "kill me softly with your love, neo soul",
    "halloween song about ghosts that want to kill you",
    "hopeful song about recovering from self-harm",
    "don't kill yourself working so hard, a chill summer tune",
    "I will never hurt you, a tender duet",
    "a chord progression C G Am F at 120-128 bpm",
    "na na na na na na na na, hey hey hey, goodbye",
    "a song for Zoë and José at the café",
    "the 1975 style indie pop, 4 minutes, key of E minor",
]


@pytest.mark.parametrize("prompt", MUSICAL_PROMPTS)
def test_musical_prompts_pass(prompt: str) -> None:
    assert MODERATOR.check(prompt, field="prompt") is None


def test_user_lyrics_about_dark_things_pass() -> None:
    lyrics = """He took the old revolver down to the river at dawn
    and the water ran red where the willow had gone
    I will carry your name like a stone in my chest
    and the devil can keep what the preacher confessed

    Na na na na, na na na na, hey
    Na na na na, na na na na, hey
    We were young and wild, we were burning the night
    till the sirens came singing and the sky turned white
    """
    assert MODERATOR.check(lyrics, field="lyrics") is None


def test_phrases_do_not_cross_sentences() -> None:
    assert rule_of("Come with me, I will. Kill you? No, the silence will.") is None
    assert rule_of("Come with me, I will kill you") == "violence_threat"


def test_the_most_serious_rule_wins_and_the_excerpt_quotes_the_original() -> None:
    verdict = MODERATOR.check("SHIT, see www.x.com or I will KiLL You", field="prompt")
    assert verdict == Verdict("violence_threat", RULES["violence_threat"], "I will KiLL You")
    assert MODERATOR.check("Fück", field="prompt") == Verdict("profanity", RULES["profanity"], "Fück")
    # Within one rule, the first occurrence.
    assert MODERATOR.check("shit and fuck", field="prompt").excerpt == "shit"  # type: ignore[union-attr]


def test_personal_data_is_masked_in_the_excerpt() -> None:
    email = MODERATOR.check("mail jane.doe@example.com", field="prompt")
    assert email is not None and email.excerpt == "j***@example.com"
    phone = MODERATOR.check("call 555-123-4567", field="prompt")
    assert phone is not None and "123" not in phone.excerpt and phone.excerpt.endswith("67")


@pytest.mark.parametrize(
    "text",
    [
        "120 bpm",
        "tempos 120 128 140 150 160",
        "from 1985-1990",
        "released 2024-01-15",
        "in 4/4, 3:30 long",
        "one two 1 2 3 4 5 6 7 8 9 10",
        "an 808 and a 909",
        "the www era of the 90s",
        "email-style ballad at sunset.",
    ],
)
def test_numbers_and_dots_that_are_not_personal_data_or_links(text: str) -> None:
    assert MODERATOR.check(text, field="prompt") is None


def test_flooding_thresholds_leave_room_for_refrains() -> None:
    assert rule_of("na " * 12) is None  # choruses repeat
    assert rule_of("na " * 13) == "flooding"
    assert rule_of("la la la la la la la la la la") is None
    assert rule_of("hahahahahahahahahahahaha") is None  # two letters, half each
    assert rule_of("ooooh yeah") is None  # short texts are never flooded by one letter
    strict = RulesModerator(max_repeats=3)
    assert strict.check("go go go go", field="prompt") is not None


def test_a_blocklist_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("# house rules\nprofanity\tdarn\nviolence_threat\t(i|we) will (zap|zonk) you\n")
    moderator = RulesModerator(path)
    assert moderator.check("Darn it", field="prompt") == Verdict("profanity", RULES["profanity"], "Darn")
    assert moderator.check("we will zonk you", field="prompt") is not None
    assert moderator.check("fuck", field="prompt") is None
    assert moderator.version != MODERATOR.version
    path.write_text("profanity darn\n")
    with pytest.raises(ValueError, match="RULE<TAB>phrase"):
        RulesModerator(path)
    path.write_text("rude\tdarn\n")
    with pytest.raises(ValueError, match="unknown rule"):
        RulesModerator(path)


def test_shipped_list_loads_and_expands_alternatives() -> None:
    entries = load_blocklist(BLOCKLIST)
    assert ("self_harm", "kill yourself") in entries
    assert ("violence_threat", "i am going to kill you") in entries
    assert all(text == text.strip() and "  " not in text for _, text in entries)


@pytest.mark.parametrize(
    "text",
    [
        "We ride the neon highway under silver rain tonight\n" * 100,  # 5,000 characters of lyrics
        "a b " * 1250,  # single letters: each run is read once, not once per letter
        "1" * 5000,
        "12-" * 1700,
        "a." * 2500 + "@",
    ],
    ids=["lyrics", "letters", "digits", "dashed-digits", "dotted"],
)
def test_a_long_text_is_checked_quickly(text: str) -> None:
    started = time.perf_counter()
    MODERATOR.check(text, field="lyrics")
    assert time.perf_counter() - started < 1.0
