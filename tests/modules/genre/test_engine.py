from __future__ import annotations

import itertools

import pytest

from modules.composition.context import (
    SOURCE_GENRE,
    SOURCE_INPUT,
    SOURCE_MOOD,
    SOURCE_PROMPT,
    CompositionContext,
    MoodInfo,
)
from modules.genre.catalog import (
    CLAP,
    CLOSED_HAT,
    KICK,
    OPEN_HAT,
    PROGRESSION_FAMILIES,
    RIDE,
    ROLES,
    SNARE,
    STEPS,
)
from modules.genre.engine import GENRES, GenreResult, GenreSpec, blend_genres, prompt_tempo, speaks_of_tempo

TABLE_GENRES = {
    "pop",
    "rock",
    "electronic",
    "house",
    "techno",
    "hip-hop",
    "trap",
    "lo-fi",
    "jazz",
    "r&b",
    "ambient",
    "cinematic",
    "folk",
    "dream-pop",
    "drum-and-bass",
    "reggae",
}


def blend(
    prompt: str = "a song",
    *,
    energy: float | None = 0.5,
    valence: float = 0.0,
    seed: int = 11,
    mood: bool = True,
    **inputs: object,
) -> GenreResult:
    ctx = CompositionContext(prompt=prompt, seed=seed, inputs=dict(inputs))
    if mood:
        ctx.mood = MoodInfo("test", valence, 0.5 if energy is None else energy)
        ctx.energy = energy
    return blend_genres(ctx, seed)


def only(name: str, **kw: object) -> GenreResult:
    return blend(genres=[{"name": name, "weight": 1}], **kw)


# --- the catalog, checked against MUSIC-NOTES ----------------------------------------------


def test_catalog_holds_the_table_genres() -> None:
    assert set(GENRES) >= TABLE_GENRES
    assert all(isinstance(spec, GenreSpec) and spec.name == name for name, spec in GENRES.items())


@pytest.mark.parametrize("name", sorted(TABLE_GENRES))
def test_genre_spec_is_well_formed(name: str) -> None:
    spec = GENRES[name]
    assert 40 <= spec.tempo_range[0] < spec.tempo_range[1] <= 220
    assert 0.0 <= spec.swing <= 0.33 and 0.0 <= spec.density <= 1.0
    for note, steps in spec.drums.items():
        assert 27 <= int(note) <= 87 and len(steps) == STEPS
        assert all(0.0 <= v <= 1.0 for v in steps) and any(steps)
    for steps in (spec.bass_rhythm, spec.chord_rhythm):
        assert len(steps) == STEPS and all(0.0 <= v <= 1.0 for v in steps) and any(steps)
    assert set(spec.programs) == set(ROLES) and all(0 <= p <= 127 for p in spec.programs.values())
    assert spec.progressions and set(spec.progressions) <= set(PROGRESSION_FAMILIES)
    assert all(-1 <= v <= 1 and 0 <= e <= 1 for v, e in spec.affinity)


def test_table_tempos_and_programs() -> None:
    tempos = {name: GENRES[name].tempo_range for name in TABLE_GENRES}
    assert tempos["electronic"] == (120, 130) and tempos["house"] == (120, 128)
    assert tempos["hip-hop"] == (80, 98) and tempos["drum-and-bass"] == (170, 176)
    assert tempos["trap"] == (130, 160) and GENRES["trap"].half_time
    assert GENRES["jazz"].tempo_bands == ((60, 80), (120, 200))
    assert GENRES["electronic"].programs == {"bass": 39, "chords": 90, "pad": 88, "lead": 81}
    assert GENRES["jazz"].programs["lead"] == 66 and GENRES["jazz"].programs["bass"] == 32
    assert GENRES["rock"].programs["chords"] == 29 and GENRES["rock"].programs["bass"] == 34
    assert GENRES["folk"].programs["chords"] == 25 and GENRES["folk"].programs["lead"] == 40
    assert GENRES["cinematic"].programs["pad"] == 52 and GENRES["cinematic"].programs["lead"] == 61


def test_loudness_targets_follow_music_notes() -> None:
    for name in ("pop", "rock", "hip-hop", "electronic", "house", "trap", "drum-and-bass"):
        assert -11 <= GENRES[name].loudness_target <= -8, name
    for name in ("jazz", "folk", "r&b"):
        assert -16 <= GENRES[name].loudness_target <= -14, name
    for name in ("ambient", "cinematic"):
        assert -18 <= GENRES[name].loudness_target <= -16, name


def test_every_genre_has_its_own_drum_grid() -> None:
    grids = {name: GENRES[name].drums for name in TABLE_GENRES}
    for a, b in itertools.combinations(sorted(grids), 2):
        assert grids[a] != grids[b], (a, b)


def test_four_on_the_floor_genres_hit_every_beat() -> None:
    for name in ("electronic", "house", "techno"):
        kick = GENRES[name].drums[KICK]
        assert [s for s in range(STEPS) if kick[s] > 0] == [0, 4, 8, 12], name
    # electronic: open hat on the off-beat eighths
    assert [s for s, v in enumerate(GENRES["electronic"].drums[OPEN_HAT]) if v] == [2, 6, 10, 14]


def test_reggae_is_one_drop() -> None:
    drums = GENRES["reggae"].drums
    assert drums[KICK][8] > 0 and drums[KICK][0] == 0
    assert [s for s, v in enumerate(drums[KICK]) if v] == [8]
    assert drums[SNARE][8] > 0


def test_feels_of_the_table() -> None:
    pop = GENRES["pop"].drums
    assert pop[KICK][0] and pop[KICK][8] and pop[SNARE][4] and pop[SNARE][12]
    trap = GENRES["trap"].drums  # half time: the backbeat lands on 3
    assert [s for s, v in enumerate(trap[SNARE]) if v] == [8]
    assert (
        GENRES["jazz"].drums[RIDE][0] and GENRES["jazz"].swing > GENRES["hip-hop"].swing > GENRES["pop"].swing
    )
    assert GENRES["ambient"].drums == {}
    assert GENRES["house"].drums[CLAP][4] and GENRES["house"].drums[CLAP][12]
    assert all(GENRES["techno"].drums[CLOSED_HAT])  # 16th hats


# --- choosing the blend --------------------------------------------------------------------


def test_the_brief_prompt_is_electronic_at_club_tempo() -> None:
    result = blend("uplifting electronic music with dreamy vocals", energy=0.6, valence=0.6)
    assert result.genres_source == SOURCE_PROMPT
    assert result.genres[0].name == "electronic"
    assert {g.name for g in result.genres} <= {"electronic", "dream-pop"}
    assert 120 <= result.tempo <= 130
    assert result.tempo_source == SOURCE_GENRE


@pytest.mark.parametrize(
    ("prompt", "genre"),
    [
        ("some EDM", "electronic"),
        ("synth anthem", "electronic"),
        ("lofi beats", "lo-fi"),
        ("lo-fi", "lo-fi"),
        ("lo fi", "lo-fi"),
        ("dnb roller", "drum-and-bass"),
        ("drum and bass", "drum-and-bass"),
        ("drum 'n' bass", "drum-and-bass"),
        ("hiphop", "hip-hop"),
        ("a rap beat", "hip-hop"),
        ("orchestral", "cinematic"),
        ("film score", "cinematic"),
        ("an epic battle", "cinematic"),
        ("R&B", "r&b"),
        ("shoegaze", "dream-pop"),
        ("dream pop", "dream-pop"),
        ("heavy metal", "rock"),
        ("deep house", "house"),
        ("bossa nova", "jazz"),
        ("dancehall", "reggae"),
    ],
)
def test_aliases_are_detected(prompt: str, genre: str) -> None:
    result = blend(prompt)
    assert result.genres_source == SOURCE_PROMPT
    assert result.genres[0].name == genre


def test_blend_weights_are_a_distribution() -> None:
    for prompt in ("jazz rock", "jazzy lo-fi house with a hint of techno", "folk pop rock reggae jazz"):
        result = blend(prompt)
        weights = [g.weight for g in result.genres]
        assert 1 <= len(weights) <= 3
        assert sum(weights) == pytest.approx(1.0, abs=1e-9)
        assert weights == sorted(weights, reverse=True)
        assert all(w > 0 for w in weights)


def test_modifiers_rank_the_genres() -> None:
    assert [g.name for g in blend("house with a hint of jazz").genres] == ["house", "jazz"]
    assert blend("trap with hip-hop drums").genres[0].name == "trap"
    assert blend("electronic jazz").genres[0].name == "jazz"  # the head of the compound comes last
    assert "rock" not in {g.name for g in blend("folk, not rock").genres}


def test_without_genre_words_the_mood_chooses() -> None:
    sad = blend("a song about the end of summer", energy=0.2, valence=-0.7)
    assert sad.genres_source == SOURCE_MOOD
    assert sad.genres[0].name in {"cinematic", "folk", "lo-fi", "ambient"}
    euphoric = blend("a song about the end of summer", energy=0.9, valence=0.9)
    assert euphoric.genres_source == SOURCE_MOOD
    assert euphoric.genres[0].name in {"electronic", "house", "drum-and-bass"}
    assert euphoric.tempo > sad.tempo


def test_works_before_any_mood_is_known() -> None:
    result = blend("a song", mood=False)
    assert result.genres and result.tempo_range[0] <= result.tempo <= result.tempo_range[1]


# --- tempo ---------------------------------------------------------------------------------


def test_tempo_always_lies_in_the_blended_range() -> None:
    names = sorted(TABLE_GENRES)
    for i, (a, b) in enumerate(itertools.combinations(names, 2)):
        for energy in (0.0, 0.3, 0.7, 1.0):
            result = blend(
                genres=[{"name": a, "weight": 0.65}, {"name": b, "weight": 0.35}], energy=energy, seed=i
            )
            lo, hi = result.tempo_range
            assert lo <= result.tempo <= hi, (a, b, energy, result.tempo, result.tempo_range)
    for name in names:
        for energy in (0.0, 0.5, 1.0):
            result = only(name, energy=energy)
            assert GENRES[name].tempo_range[0] <= result.tempo <= GENRES[name].tempo_range[1], (name, energy)


def test_higher_energy_is_faster() -> None:
    for name in ("pop", "techno", "lo-fi", "cinematic"):
        assert only(name, energy=0.1).tempo < only(name, energy=0.5).tempo < only(name, energy=0.9).tempo


def test_jazz_is_a_ballad_or_a_swing_never_in_between() -> None:
    assert 60 <= only("jazz", energy=0.2).tempo <= 80
    assert 120 <= only("jazz", energy=0.8).tempo <= 200


def test_octave_related_genres_blend_at_the_dominant_tempo() -> None:
    # Hip-hop at 89 bpm is trap's 178: the blend stays in trap's notated range, not halfway at ~120.
    result = blend(genres=[{"name": "trap", "weight": 0.7}, {"name": "hip-hop", "weight": 0.3}])
    assert 130 <= result.tempo <= 160 and result.half_time
    # Drum & bass at 173 is ambient's 86.5 felt in half time.
    result = blend(genres=[{"name": "ambient", "weight": 0.7}, {"name": "drum-and-bass", "weight": 0.3}])
    assert 60 <= result.tempo <= 90


def test_explicit_tempo_wins() -> None:
    result = blend("fast techno", tempo=99)
    assert result.tempo == 99.0 and result.tempo_source == SOURCE_INPUT
    with pytest.raises(ValueError, match="between"):
        blend("techno", tempo=400)
    with pytest.raises(ValueError):
        blend("techno", tempo="quick")


# --- the blended style ---------------------------------------------------------------------


def test_a_70_30_blend_lies_between_its_parents() -> None:
    for a, b in (
        ("pop", "rock"),
        ("hip-hop", "r&b"),
        ("house", "techno"),
        ("folk", "dream-pop"),
        ("reggae", "lo-fi"),
    ):
        mix = blend(genres=[{"name": a, "weight": 0.7}, {"name": b, "weight": 0.3}])
        pa, pb = only(a), only(b)
        for attr in ("density", "swing"):
            x, y, m = getattr(pa.style, attr), getattr(pb.style, attr), getattr(mix.style, attr)
            assert min(x, y) <= m <= max(x, y), (a, b, attr)
            assert m == pytest.approx(0.7 * x + 0.3 * y, abs=1e-3)
        assert min(pa.tempo, pb.tempo) <= mix.tempo <= max(pa.tempo, pb.tempo), (a, b)
        assert min(pa.loudness_target, pb.loudness_target) <= mix.loudness_target
        assert mix.loudness_target <= max(pa.loudness_target, pb.loudness_target)
        # the 70% parent is nearer
        assert abs(mix.style.density - pa.style.density) <= abs(mix.style.density - pb.style.density)


def test_an_octave_folded_blend_lies_between_its_parents_in_the_dominant_octave() -> None:
    # Jazz at ~126 bpm swing sits an octave above hip-hop: in hip-hop's frame it is ~63 felt.
    mix = blend(genres=[{"name": "hip-hop", "weight": 0.7}, {"name": "jazz", "weight": 0.3}], energy=0.5)
    hip_hop, jazz = only("hip-hop", energy=0.5).tempo, only("jazz", energy=0.5).tempo
    assert jazz / 2 <= mix.tempo <= hip_hop
    assert mix.style.swing == pytest.approx(0.7 * 0.18 + 0.3 * 0.33, abs=1e-3)


def test_grids_are_weighted_averages_and_programs_come_from_the_dominant_genre() -> None:
    mix = blend(genres=[{"name": "house", "weight": 0.7}, {"name": "pop", "weight": 0.3}])
    house, pop = GENRES["house"], GENRES["pop"]
    assert mix.style.programs == house.programs
    assert mix.style.drums[KICK][8] == pytest.approx(0.7 * 1.0 + 0.3 * pop.drums[KICK][8], abs=1e-3)
    assert mix.style.drums[SNARE][4] == pytest.approx(
        0.3 * pop.drums[SNARE][4], abs=1e-3
    )  # only pop has snare
    assert mix.style.bass_rhythm[2] == pytest.approx(
        0.7 * house.bass_rhythm[2] + 0.3 * pop.bass_rhythm[2], abs=1e-3
    )
    assert all(len(g) == STEPS for g in mix.style.drums.values())
    assert mix.style.progressions[0] == house.progressions[0]
    assert set(mix.style.progressions) <= set(house.progressions) | set(pop.progressions)


def test_ambient_leaves_out_the_drums() -> None:
    result = only("ambient")
    assert "drums" not in result.instruments and result.style.drums == {}
    assert result.loudness_target == GENRES["ambient"].loudness_target
    assert "drums" in only("techno").instruments


# --- input validation and determinism ------------------------------------------------------


def test_explicit_genres_win_over_the_prompt() -> None:
    result = blend("dark techno", genres=[{"name": "folk", "weight": 2}, {"name": "jazz", "weight": 1}])
    assert result.genres_source == SOURCE_INPUT
    assert [(g.name, round(g.weight, 3)) for g in result.genres] == [("folk", 0.667), ("jazz", 0.333)]


@pytest.mark.parametrize(
    ("genres", "message"),
    [
        ([{"name": "polka", "weight": 1}], "drum-and-bass"),  # lists the valid names
        ([{"name": "pop", "weight": 0}], "greater than 0"),
        ([{"name": "pop", "weight": -0.5}], "greater than 0"),
        ([{"name": n, "weight": 1} for n in ("pop", "rock", "jazz", "folk")], "at most 3"),
        ([{"name": "pop", "weight": "lots"}], "number"),
    ],
)
def test_bad_explicit_genres_are_refused(genres: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        blend(genres=genres)


def test_deterministic_and_pure() -> None:
    ctx = CompositionContext(prompt="a song about the sea", seed=5)
    ctx.mood, ctx.energy = MoodInfo("calm", 0.3, 0.2), 0.2
    before = ctx.to_dict()
    assert blend_genres(ctx, 5) == blend_genres(ctx, 5)
    assert ctx.to_dict() == before
    tempos = {blend("pop", seed=s).tempo for s in range(12)}
    assert len(tempos) > 1  # the seed gives a small, real variation
    assert all(100 <= t <= 128 for t in tempos)


@pytest.mark.parametrize(
    ("prompt", "speaks", "stated"),
    [
        ("jazz at 80bpm", True, 80.0),
        ("90 beats per minute", True, 90.0),
        ("house at 124 BPM", True, 124.0),
        ("a 120-bpm groove", True, 120.0),
        ("a 300 bpm gabber track", True, 220.0),  # within the bounds an explicit tempo has
        ("a 20 bpm drone", True, 40.0),
        ("andante jazz", True, None),  # speaks of tempo (no leaning), states no number
        ("a presto finale", True, None),
        ("slow and dreamy", True, None),
        ("a song for tonight", False, None),
        ("a grave, brooding piece", False, None),  # "grave" is a mood in English
    ],
)
def test_a_prompt_that_speaks_of_tempo_or_states_it(prompt: str, speaks: bool, stated: float | None) -> None:
    assert (speaks_of_tempo(prompt), prompt_tempo(prompt)) == (speaks, stated)


def test_a_tempo_the_prompt_states_is_the_tempo_unless_an_input_gives_one() -> None:
    ctx = CompositionContext(prompt="jazz at 80bpm", seed=1)
    ctx.mood, ctx.energy = MoodInfo("energetic", 0.6, 0.9), 0.9
    result = blend_genres(ctx, 1)
    assert (result.tempo, result.tempo_source) == (80.0, SOURCE_PROMPT)
    assert [g.name for g in result.genres] == ["jazz"]
    ctx.inputs["tempo"] = 132
    assert (blend_genres(ctx, 1).tempo, blend_genres(ctx, 1).tempo_source) == (132.0, SOURCE_INPUT)
