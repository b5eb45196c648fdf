import pytest

from tests.graphql import data_of

pytestmark = pytest.mark.django_db


def test_catalogs_list_moods_genres_and_voices() -> None:
    data = data_of(
        "{ moods { name valence energy } genres { name tempoMin tempoMax loudnessTarget } "
        "voices { name low high } }"
    )
    genres = {g["name"]: g for g in data["genres"]}
    assert len(genres) >= 12
    assert (genres["house"]["tempoMin"], genres["house"]["tempoMax"]) == (120, 128)
    assert genres["ambient"]["loudnessTarget"] < genres["pop"]["loudnessTarget"]
    voices = {v["name"]: (v["low"], v["high"]) for v in data["voices"]}
    assert voices["soprano"] == (60, 81) and voices["baritone"] == (45, 65)
    assert {"uplifting", "melancholic", "dark"} <= {m["name"] for m in data["moods"]}
