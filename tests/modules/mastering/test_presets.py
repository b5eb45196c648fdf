"""Mastering presets through GraphQL: the built-in ones, your own (create, update, delete, with
bounds), who may see and use them, and what a composition keeps of the preset it was given."""

from __future__ import annotations

from typing import Any

import pytest

from modules.composition.models import Composition
from modules.mastering.models import MasteringPreset
from modules.moderation.models import Action, ModerationFlag
from tests.graphql import caller_for, execute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

FIELDS = (
    "id name targetLufs ceilingDbtp eqTiltDbPerOctave stereoWidth compressionRatio compressionThresholdDb"
)
CREATE = f"""mutation($input: CreateMasteringPresetInput!) {{
  createMasteringPreset(input: $input) {{ {FIELDS} }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateMasteringPresetInput!) {{
  updateMasteringPreset(id: $id, input: $input) {{ {FIELDS} }}
}}"""
DELETE = "mutation($id: ID!) { deleteMasteringPreset(id: $id) }"
COMPOSE = """mutation($preset: String) {
  createComposition(input: {prompt: "calm piano", durationSeconds: 20, masteringPreset: $preset}) { id }
}"""


def made(who: str = "ada", **values: Any) -> dict[str, Any]:
    result = execute(
        CREATE, {"input": {"name": "loud and bright", "targetLufs": -10.0, **values}}, caller_for(who)
    )
    assert result.errors is None, result.errors
    return result.data["createMasteringPreset"]


def error(result: Any) -> tuple[dict[str, Any], str]:
    assert result.errors, result.data
    return result.errors[0].extensions, result.errors[0].message


def test_the_built_in_presets() -> None:
    data = execute(
        "{ builtInMasteringPresets { name description values { targetLufs ceilingDbtp compressionRatio } } }"
    ).data["builtInMasteringPresets"]
    values = {p["name"]: (p["values"]["targetLufs"], p["values"]["ceilingDbtp"]) for p in data}
    assert values == {
        "default": (None, -1.0),
        "streaming": (-14.0, -1.0),
        "club": (-9.0, -1.0),
        "podcast": (-16.0, -1.5),
        "broadcast": (-23.0, -1.0),
        "warm": (-14.0, -1.0),
        "bright": (-14.0, -1.0),
    }
    assert all(p["description"] for p in data)


def test_create_update_and_delete_your_preset() -> None:
    preset = made(eqTiltDbPerOctave=0.8, stereoWidth=1.3)
    assert preset | {"id": None} == {
        "id": None,
        "name": "loud and bright",
        "targetLufs": -10.0,
        "ceilingDbtp": -1.0,
        "eqTiltDbPerOctave": 0.8,
        "stereoWidth": 1.3,
        "compressionRatio": 2.0,
        "compressionThresholdDb": None,
    }
    changed = execute(
        UPDATE,
        {"id": preset["id"], "input": {"compressionThresholdDb": -18.0, "name": "club bright"}},
        caller_for("ada"),
    ).data["updateMasteringPreset"]
    assert (changed["name"], changed["compressionThresholdDb"], changed["eqTiltDbPerOctave"]) == (
        "club bright",
        -18.0,
        0.8,
    )
    back = execute(UPDATE, {"id": preset["id"], "input": {"compressionThresholdDb": None}}, caller_for("ada"))
    assert back.data["updateMasteringPreset"]["compressionThresholdDb"] is None
    listed = execute("{ masteringPresets { name } }", None, caller_for("ada")).data["masteringPresets"]
    assert listed == [{"name": "club bright"}]
    assert execute(DELETE, {"id": preset["id"]}, caller_for("ada")).data == {
        "deleteMasteringPreset": preset["id"]
    }
    assert not MasteringPreset.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"targetLufs": -40.0}, "targetLufs", "targetLufs must be between -30 and -7 LUFS"),
        ({"ceilingDbtp": 0.5}, "ceilingDbtp", "ceilingDbtp must be between -6 and -0.1 dBTP"),
        ({"eqTiltDbPerOctave": 4.0}, "eqTiltDbPerOctave", "between -3 and 3 dB/octave"),
        ({"stereoWidth": -0.1}, "stereoWidth", "stereoWidth must be between 0 and 2 x"),
        ({"compressionRatio": 0.5}, "compressionRatio", "compressionRatio must be between 1 and 10"),
        ({"compressionThresholdDb": 3.0}, "compressionThresholdDb", "between -40 and 0 dBFS"),
        ({"name": "Club"}, "name", "'Club' is a built-in preset's name; choose another"),
        ({"name": "   "}, "name", "give the preset a name"),
    ],
)
def test_values_out_of_bounds_are_refused_by_field(values: dict[str, Any], field: str, message: str) -> None:
    result = execute(CREATE, {"input": {"name": "mine", "targetLufs": -12.0, **values}}, caller_for("ada"))
    extensions, text = error(result)
    assert extensions == {"code": "BAD_USER_INPUT", "field": field}
    assert message in text
    assert not MasteringPreset.objects.exists()


def test_preset_names_go_through_the_content_check() -> None:
    ada = caller_for("ada")
    extensions, text = error(execute(CREATE, {"input": {"name": "Fuck This", "targetLufs": -12.0}}, ada))
    assert extensions == {"code": "CONTENT_REJECTED", "field": "name", "rule": "profanity"}
    assert text.startswith("name was rejected by the content check (rule: profanity)")
    assert not MasteringPreset.objects.exists()
    preset = made("ada")
    renamed = execute(UPDATE, {"id": preset["id"], "input": {"name": "shit loud"}}, ada)
    assert error(renamed)[0] == {"code": "CONTENT_REJECTED", "field": "name", "rule": "profanity"}
    assert MasteringPreset.objects.get().name == "loud and bright"
    flags = ModerationFlag.objects.order_by("pk")
    assert [(f.field, f.rule, f.excerpt, f.action, f.caller) for f in flags] == [
        ("name", "profanity", "Fuck", Action.REJECTED, ada.client_key),
        ("name", "profanity", "shit", Action.REJECTED, ada.client_key),
    ]


def test_names_are_unique_per_owner() -> None:
    made("ada")
    extensions, text = error(
        execute(CREATE, {"input": {"name": "loud and bright", "targetLufs": -12.0}}, caller_for("ada"))
    )
    assert (extensions["field"], text) == ("name", "you already have a preset named 'loud and bright'")
    made("bob")  # another user may use the same name
    assert MasteringPreset.objects.count() == 2


def test_another_users_preset_is_not_found_anywhere() -> None:
    theirs = made("bob")
    ada = caller_for("ada")
    assert execute("query($id: ID!) { node(id: $id) { id } }", {"id": theirs["id"]}, ada).data["node"] is None
    assert execute("{ masteringPresets { id } }", None, ada).data["masteringPresets"] == []
    for query, variables in (
        (UPDATE, {"id": theirs["id"], "input": {"stereoWidth": 0.0}}),
        (DELETE, {"id": theirs["id"]}),
    ):
        assert error(execute(query, variables, ada))[0] == {"code": "NOT_FOUND", "id": theirs["id"]}
    # Nor can it be used, by name or id: it reads as one that does not exist.
    for name in (theirs["name"], theirs["id"], "no such preset"):
        extensions, text = error(execute(COMPOSE, {"preset": name}, ada))
        assert extensions == {"code": "BAD_USER_INPUT", "field": "masteringPreset"}
        assert text.startswith(f"no mastering preset {name!r}")
    assert not Composition.objects.exists()
    assert MasteringPreset.objects.get().stereo_width == 1.0


def test_presets_need_an_account() -> None:
    anonymous = caller_for(None)
    assert error(execute("{ masteringPresets { id } }", None, anonymous))[0]["code"] == "UNAUTHENTICATED"
    assert error(execute(CREATE, {"input": {"name": "x", "targetLufs": -12.0}}, anonymous))[0]["code"] == (
        "UNAUTHENTICATED"
    )


def test_a_composition_keeps_the_values_its_preset_had(settings: Any) -> None:
    settings.CODA_MAX_CONCURRENT_COMPOSITIONS = 3  # they stay queued: nothing runs them here
    preset = made(eqTiltDbPerOctave=1.0)
    ada = caller_for("ada")
    by_name = execute(COMPOSE, {"preset": "loud and bright"}, ada)
    by_id = execute(COMPOSE, {"preset": preset["id"]}, ada)
    built_in = execute(COMPOSE, {"preset": "Podcast"}, ada)
    assert not (by_name.errors or by_id.errors or built_in.errors)
    execute(UPDATE, {"id": preset["id"], "input": {"eqTiltDbPerOctave": -2.0}}, ada)
    first, second, third = Composition.objects.order_by("id")
    assert first.inputs["mastering"] == second.inputs["mastering"]
    assert first.inputs["mastering"]["preset"] == "loud and bright"
    assert first.inputs["mastering"]["values"]["eq_tilt_db_per_octave"] == 1.0  # as it was when given
    assert first.inputs["mastering"]["reference"] is None
    assert third.inputs["mastering"]["preset"] == "podcast"
    assert third.inputs["mastering"]["values"]["target_lufs"] == -16.0
    assert "mastering_preset" not in first.inputs  # the name was resolved, not kept to resolve later


def test_a_user_keeps_at_most_max_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.mastering import services

    monkeypatch.setattr(services, "MAX_PRESETS", 2)

    def make(name: str, who: str = "ada") -> Any:
        return execute(CREATE, {"input": {"name": name, "targetLufs": -12.0}}, caller_for(who))

    assert make("one").errors is None and make("two").errors is None
    assert error(make("three")) == (
        {"code": "BAD_USER_INPUT", "field": "name"},
        "you keep 2 mastering presets, the most allowed; delete one first",
    )
    assert sorted(MasteringPreset.objects.values_list("name", flat=True)) == ["one", "two"]
    # Another user's presets are theirs to count; a deletion makes room again.
    assert make("three", who="bob").errors is None
    MasteringPreset.objects.filter(name="one").delete()
    assert make("three").errors is None
