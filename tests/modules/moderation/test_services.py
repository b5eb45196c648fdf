"""The content check as a service: the typed error, the flag rows, the configurable moderator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from modules.composition.models import Composition
from modules.composition.stages import InputError
from modules.moderation import services
from modules.moderation.engine import Moderator, RulesModerator, Verdict
from modules.moderation.models import Action, ModerationFlag, Source
from modules.moderation.services import (
    ModerationRejected,
    moderation_check,
    moderation_flag_generated,
    moderator,
    moderator_fingerprint,
)
from tests.modules.moderation.moderators import FlagsWord

pytestmark = pytest.mark.django_db

HERE = "tests.modules.moderation.moderators"


@pytest.fixture(autouse=True)
def fresh_moderators() -> Iterator[None]:
    services._load.cache_clear()
    yield
    services._load.cache_clear()


def test_a_clean_prompt_passes_and_records_nothing() -> None:
    moderation_check("sad piano ballad about losing my mother", field="prompt", caller_key="user:3")
    moderation_check("", field="lyrics")
    assert not ModerationFlag.objects.exists()


def test_a_rejected_prompt_is_a_typed_input_error_and_a_flag() -> None:
    with pytest.raises(ModerationRejected) as caught:
        moderation_check("a fucking great song", field="prompt", caller_key="user:3")
    error = caught.value
    assert isinstance(error, InputError)
    assert (error.field, error.rule, error.excerpt) == ("prompt", "profanity", "fucking")
    assert error.message.startswith("prompt was rejected by the content check (rule: profanity): ")
    assert '"fucking"' in error.message and str(error) == error.message
    flag = ModerationFlag.objects.get()
    assert (flag.field, flag.rule, flag.excerpt) == ("prompt", "profanity", "fucking")
    assert (flag.source, flag.action, flag.caller) == (Source.INPUT, Action.REJECTED, "user:3")
    assert flag.composition is None and not flag.reviewed


def test_rejected_lyrics_name_their_field_and_rule() -> None:
    composition = Composition.objects.create(prompt="a love song", seed=1)
    with pytest.raises(ModerationRejected) as caught:
        moderation_check("verse one\nI will kill you", field="lyrics", composition=composition)
    assert (caught.value.field, caught.value.rule) == ("lyrics", "violence_threat")
    assert caught.value.message.startswith(
        "lyrics were rejected by the content check (rule: violence_threat)"
    )
    flag = ModerationFlag.objects.get()
    assert (flag.composition, flag.rule, flag.caller) == (composition, "violence_threat", "")
    assert list(composition.moderation_flags.all()) == [flag]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("kill yourself", "self_harm"),
        ("the f.a.g song", "hate"),
        ("porn soundtrack", "sexual"),
        ("mail me at jane@example.com", "personal_data"),
        ("www.example.com", "links"),
        ("spam " * 30, "flooding"),
    ],
)
def test_each_rule_writes_its_flag(text: str, rule: str) -> None:
    with pytest.raises(ModerationRejected):
        moderation_check(text, field="prompt", caller_key="ip:1.2.3.4")
    assert list(ModerationFlag.objects.values_list("rule", "caller")) == [(rule, "ip:1.2.3.4")]


def test_personal_data_is_not_stored_in_the_flag() -> None:
    with pytest.raises(ModerationRejected) as caught:
        moderation_check("call 555-123-4567 or jane.doe@example.com", field="prompt")
    assert caught.value.rule == "personal_data"
    excerpt = ModerationFlag.objects.get().excerpt
    assert "555-123" not in excerpt and "jane.doe" not in excerpt


def test_generated_text_is_flagged_not_rejected() -> None:
    composition = Composition.objects.create(prompt="a love song", seed=1)
    assert moderation_flag_generated(composition, "generated_lyrics", "we rise into the light") is None
    assert not ModerationFlag.objects.exists()
    verdict = moderation_flag_generated(composition, "generated_lyrics", "we rise, motherfucker")
    assert verdict is not None and verdict.rule == "profanity"
    flag = ModerationFlag.objects.get()
    assert (flag.composition, flag.field, flag.rule, flag.excerpt) == (
        composition,
        "generated_lyrics",
        "profanity",
        "motherfucker",
    )
    assert (flag.source, flag.action) == (Source.GENERATED, Action.FLAGGED)


def test_the_default_moderator_is_the_shipped_rules_built_once() -> None:
    assert isinstance(moderator(), RulesModerator)
    assert moderator() is moderator()
    assert moderator_fingerprint().startswith("modules.moderation.engine.RulesModerator:")


def test_a_stronger_classifier_replaces_the_rules_through_settings(settings: Any) -> None:
    settings.CODA_MODERATOR = f"{HERE}.FlagsWord"
    current = moderator()
    assert isinstance(current, FlagsWord) and isinstance(current, Moderator)
    moderation_check("fucking great", field="prompt")  # the word list no longer applies
    with pytest.raises(ModerationRejected) as caught:
        moderation_check("The sea", field="prompt", caller_key="user:9")
    assert (caught.value.rule, caught.value.excerpt) == ("test_word", "The")
    assert ModerationFlag.objects.get().rule == "test_word"
    assert moderator_fingerprint() == f"{HERE}.FlagsWord:"
    settings.CODA_MODERATOR = "modules.moderation.engine.RulesModerator"
    assert isinstance(moderator(), RulesModerator)


@pytest.mark.parametrize("path", [f"{HERE}.Missing", "nowhere.at.all.Moderator", f"{HERE}.NoCheckMethod"])
def test_a_wrong_moderator_setting_is_a_configuration_error(settings: Any, path: str) -> None:
    settings.CODA_MODERATOR = path
    with pytest.raises(ImproperlyConfigured, match="CODA_MODERATOR"):
        moderator()


def test_verdicts_are_plain_values() -> None:
    verdict = Verdict("links", "contains a link", "www.x.com")
    assert verdict == Verdict("links", "contains a link", "www.x.com")
    with pytest.raises(AttributeError):
        verdict.rule = "other"  # type: ignore[misc]


def test_admin_lists_filters_and_marks_flags_reviewed(admin_client: Any) -> None:
    composition = Composition.objects.create(prompt="a love song", seed=1)
    for text in ("shit", "kys"):
        with pytest.raises(ModerationRejected):
            moderation_check(text, field="prompt", caller_key="user:3", composition=composition)
    page = admin_client.get("/admin/moderation/moderationflag/?rule=self_harm&reviewed__exact=0&q=kys")
    assert page.status_code == 200 and "kys" in page.content.decode()
    assert admin_client.get("/admin/moderation/moderationflag/?source__exact=INPUT").status_code == 200
    flag = ModerationFlag.objects.get(rule="self_harm")
    assert admin_client.get(f"/admin/moderation/moderationflag/{flag.pk}/change/").status_code == 200
    response = admin_client.post(
        "/admin/moderation/moderationflag/",
        {"action": "mark_reviewed", "_selected_action": [flag.pk]},
    )
    assert response.status_code == 302
    assert list(ModerationFlag.objects.filter(reviewed=True)) == [flag]
    assert admin_client.get("/admin/moderation/moderationflag/add/").status_code == 403
