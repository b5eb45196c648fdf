"""Moods in GraphQL: the mood element, the catalog (built-in and your own), custom moods and
playlists of compositions by mood.

Custom moods belong to a signed-in user: another user's is NOT_FOUND by id and unknown by name.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.composition.stages import InputError
from schema.context import caller
from schema.errors import BadUserInput, Conflict, NotFound
from schema.permissions import HasScope, IsSignedIn
from schema.resolvers import loaded_only

from . import models, selectors, services
from .engine import MOODS

if TYPE_CHECKING:
    from modules.composition.models import Composition

# The Composition type is assembled by the schema package from every module's parts.
CompositionRef = Annotated["Composition", strawberry.lazy("schema.root")]


@strawberry_django.type(models.Mood, name="Mood", description="The mood read from the prompt (or given).")
class MoodType:
    name: str
    valence: float = strawberry_django.field(description="-1 sad/dark .. 1 happy/bright")
    energy: float = strawberry_django.field(description="0 calm .. 1 intense")
    tags: list[str] = strawberry_django.field(description="The words that gave the mood away.")
    source: str
    custom: bool = strawberry_django.field(
        description="True when it is one of the owner's custom moods (named in the input or the prompt)."
    )


@strawberry.type(description="A mood Coda knows: built in, or one of yours.")
class MoodInfo:
    name: str
    valence: float
    energy: float
    description: str
    custom: bool = strawberry.field(description="True for one of your own moods.")
    words: list[str] = strawberry.field(
        description="Words that call the mood up in a prompt (your own moods'; empty for built-in ones)."
    )
    id: strawberry.ID | None = strawberry.field(
        description="Your mood's CustomMood id; null for built-in ones."
    )


@strawberry_django.type(
    models.CustomMood,
    name="CustomMood",
    description="Your own mood: use its name in createComposition's `mood` input or in a prompt, "
    "like a built-in one.",
)
class CustomMoodType(relay.Node):
    name: str
    valence: float = strawberry_django.field(description="-1 sad/dark .. 1 happy/bright")
    energy: float = strawberry_django.field(description="0 calm .. 1 intense")
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out custom moods (node, lists) hands out the caller's own only."""
        user = caller(info).user
        return queryset.filter(owner=user) if user is not None else queryset.none()

    @strawberry_django.field(only=["words"], description="Words that call the mood up in a prompt.")
    @loaded_only
    def words(self, root: models.CustomMood) -> list[str]:
        return list(root.words)


@strawberry.input(name="CreateCustomMoodInput", description="A mood of your own.")
class CreateCustomMoodInput:
    name: str = strawberry.field(
        description="Up to 40 characters: letters, digits, spaces, hyphens, apostrophes; not a built-in "
        "mood's name, and one of a kind among yours (case and spacing aside)."
    )
    valence: float = strawberry.field(description="-1 sad/dark .. 1 happy/bright")
    energy: float = strawberry.field(description="0 calm .. 1 intense")
    words: list[str] = strawberry.field(
        default_factory=list,
        description="Up to 20 words or short phrases that, in a prompt, mean this mood (over what Coda "
        "reads them as); not built-in mood names.",
    )
    description: str = strawberry.field(default="", description="Up to 200 characters, for you.")


@strawberry.input(
    name="UpdateCustomMoodInput", description="New values for your mood; what is left out stays."
)
class UpdateCustomMoodInput:
    name: str | None = strawberry.field(default=None, description="A new name (same rules as on create).")
    valence: float | None = strawberry.field(default=None, description="-1 sad/dark .. 1 happy/bright")
    energy: float | None = strawberry.field(default=None, description="0 calm .. 1 intense")
    words: list[str] | None = strawberry.field(default=None, description="The new words (all of them).")
    description: str | None = strawberry.field(default=None, description="A new description.")


@strawberry.enum(name="MoodPlaylistScope", description="Which compositions a mood playlist draws from.")
class MoodPlaylistScope(Enum):
    MINE = strawberry.enum_value(selectors.SCOPE_MINE, description="Your own compositions.")
    VISIBLE = strawberry.enum_value(
        selectors.SCOPE_VISIBLE,
        description="Every composition you may read: yours, those shared with you and public ones.",
    )


def _custom_mood_pk(global_id: strawberry.ID, field: str = "id") -> int:
    try:
        gid = relay.GlobalID.from_id(str(global_id))
        if gid.type_name != "CustomMood":
            raise ValueError(gid.type_name)
        return int(gid.node_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadUserInput(f"{global_id!r} is not a CustomMood id", field=field) from None


def _typed(error: InputError) -> Exception:
    if isinstance(error, services.CustomMoodConflict):
        return Conflict(error.message, field=error.field)
    from schema.root import as_graphql_error  # the schema imports this module

    return as_graphql_error(error)


class CompositionFields:
    mood: MoodType | None = strawberry_django.field(description="The mood stage's result.")


class QueryFields:
    @strawberry_django.field(
        description="The moods you can name in createComposition's `mood` input and in prompts: the "
        "built-in ones, then yours (signed in)."
    )
    def moods(self, info: Info) -> list[MoodInfo]:
        builtin = [
            MoodInfo(
                name=m.name,
                valence=m.valence,
                energy=m.energy,
                description=m.description,
                custom=False,
                words=[],
                id=None,
            )
            for m in MOODS.values()
        ]
        who = caller(info)
        mine = selectors.custom_moods_of(who.user if who.can(READ) else None)
        return builtin + [
            MoodInfo(
                name=m.name,
                valence=m.valence,
                energy=m.energy,
                description=m.description,
                custom=True,
                words=list(m.words),
                id=strawberry.ID(relay.to_base64("CustomMood", m.pk)),
            )
            for m in mine
        ]

    @strawberry_django.connection(
        DjangoListConnection[CompositionRef],
        description="A playlist of finished compositions in a mood (built-in or yours): those made in it "
        f"and those whose mood lies within {selectors.MATCH_RADIUS} of it on the valence/energy plane, "
        "nearest first, then newest.",
        extensions=[HasScope(READ)],
    )
    def mood_playlist(
        self,
        info: Info,
        mood: Annotated[str, strawberry.argument(description="A built-in mood or one of yours, by name.")],
        scope: Annotated[
            MoodPlaylistScope, strawberry.argument(description="Which compositions to draw from.")
        ] = MoodPlaylistScope.MINE,
    ) -> list[CompositionRef]:
        who = caller(info)
        try:
            point = selectors.mood_point(who.user, mood)
        except InputError as error:
            raise _typed(error) from None
        return selectors.compositions_by_mood(who, point, scope.value)  # type: ignore[return-value]


class MutationFields:
    @strawberry_django.mutation(
        description="Make a mood of your own, usable by name in the `mood` input and in prompts.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def create_custom_mood(
        self,
        info: Info,
        input: Annotated[CreateCustomMoodInput, strawberry.argument(description="The mood to make.")],
    ) -> CustomMoodType:
        who = caller(info)
        try:
            return services.custom_mood_create(  # type: ignore[return-value]
                who.user,
                name=input.name,
                valence=input.valence,
                energy=input.energy,
                words=input.words,
                description=input.description,
                caller_key=who.client_key,
            )
        except InputError as error:
            raise _typed(error) from None

    @strawberry_django.mutation(
        description="Change one of your moods. Compositions made with it keep what it was; editing one "
        "of them (updateComposition) takes what it is now.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def update_custom_mood(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Your CustomMood's id.")],
        input: Annotated[UpdateCustomMoodInput, strawberry.argument(description="What to change.")],
    ) -> CustomMoodType:
        who = caller(info)
        try:
            return services.custom_mood_update(  # type: ignore[return-value]
                who.user,
                _custom_mood_pk(id),
                name=input.name,
                valence=input.valence,
                energy=input.energy,
                words=input.words,
                description=input.description,
                caller_key=who.client_key,
            )
        except models.CustomMood.DoesNotExist:
            raise NotFound(f"no custom mood with id {id}", id=str(id)) from None
        except InputError as error:
            raise _typed(error) from None

    @strawberry_django.mutation(
        description="Delete one of your moods; returns its id. Compositions made with it keep it.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def delete_custom_mood(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Your CustomMood's id.")],
    ) -> strawberry.ID:
        try:
            services.custom_mood_delete(caller(info).user, _custom_mood_pk(id))
        except models.CustomMood.DoesNotExist:
            raise NotFound(f"no custom mood with id {id}", id=str(id)) from None
        return id
