"""Moods in GraphQL: the mood element, the catalog (built-in and your own), custom moods,
playlists of compositions by mood, and playlists of your own.

Custom moods and playlists belong to a signed-in user: another user's is NOT_FOUND by id (and a
custom mood unknown by name). Compositions are reached only through the composition selectors.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.composition.selectors import compositions_visible_to
from modules.composition.stages import InputError
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import BadUserInput, Conflict, NotFound, as_graphql_error
from schema.permissions import HasScope, IsSignedIn
from schema.relay import connection
from schema.resolvers import loaded_only

from . import models, selectors, services
from .engine import MOODS

if TYPE_CHECKING:
    from modules.composition.models import Composition

# The Composition type is assembled by the schema package from every module's parts.
CompositionRef = Annotated["Composition", strawberry.lazy("schema.root")]


@strawberry_django.type(models.Mood, name="Mood", description="The mood read from the prompt (or given).")
class MoodType:
    name: str = strawberry_django.field(description="One of the moods of the `moods` query, e.g. dreamy.")
    valence: float = strawberry_django.field(
        description="-1 (sad, dark) to 1 (happy, bright). The prompt's own reading, which may differ "
        "from the named mood's; the mood's own value when you gave `mood`."
    )
    energy: float = strawberry_django.field(description="0 (calm) to 1 (intense), read like `valence`.")
    tags: list[str] = strawberry_django.field(
        description="The words of the prompt that speak of mood, e.g. 'dreamy' or 'not sad'; may be empty."
    )
    source: str = strawberry_django.field(
        description="input (your `mood`), prompt (read from the prompt), default (the prompt said "
        "nothing about mood: hopeful) or profile (your preference profile chose it)."
    )
    custom: bool = strawberry_django.field(
        description="True when it is one of the owner's custom moods (named in the input or the prompt)."
    )


@strawberry.type(description="A mood Coda knows: built in, or one of yours.")
class MoodInfo:
    name: str = strawberry.field(description="The name to pass as the `mood` input.")
    valence: float = strawberry.field(description="-1 (sad, dark) to 1 (happy, bright).")
    energy: float = strawberry.field(description="0 (calm) to 1 (intense).")
    description: str = strawberry.field(description="What it sounds like, in a few words.")
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
    directives=[Key(fields="id")],
)
class CustomMoodType(Entity, relay.Node):
    name: str = strawberry_django.field(description="Its name: give it as `mood` or say it in a prompt.")
    valence: float = strawberry_django.field(description="-1 sad/dark .. 1 happy/bright")
    energy: float = strawberry_django.field(description="0 calm .. 1 intense")
    description: str = strawberry_django.field(description="Your note about it; may be empty.")
    created_at: datetime = strawberry_django.field(description="When it was made.")
    updated_at: datetime = strawberry_django.field(description="When it last changed.")

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


@strawberry_django.type(
    models.PlaylistEntry, name="PlaylistEntry", description="A composition in a playlist."
)
class PlaylistEntryType:
    position: int = strawberry_django.field(description="Its place in the playlist, from 0.")
    added_at: datetime = strawberry_django.field(description="When it was added.")
    composition: CompositionRef = strawberry_django.field(description="The composition.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Only compositions the caller may still read: one its owner stopped sharing drops out."""
        return queryset.filter(composition__in=compositions_visible_to(caller(info)))


@strawberry_django.type(
    models.Playlist,
    name="Playlist",
    description="Your own list of compositions, in your order: made empty, from compositions, or from "
    "a mood's playlist.",
    directives=[Key(fields="id")],
)
class PlaylistType(Entity, relay.Node):
    name: str = strawberry_django.field(description="The name you gave it.")
    created_at: datetime = strawberry_django.field(description="When it was made.")
    updated_at: datetime = strawberry_django.field(description="When it last changed (entries included).")
    entries: list[PlaylistEntryType] = strawberry_django.field(
        description="The compositions in order (only those you may still read)."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        user = caller(info).user
        return queryset.filter(owner=user) if user is not None else queryset.none()

    @strawberry_django.field(only=["mood"], description="The mood it was made from, if it was.")
    @loaded_only
    def mood(self, root: models.Playlist) -> str | None:
        return root.mood or None


@strawberry.input(name="CreatePlaylistInput", description="A playlist to make.")
class CreatePlaylistInput:
    name: str = strawberry.field(description="Up to 80 characters.")
    mood: str | None = strawberry.field(
        default=None,
        description="Fill it from this mood's playlist (moodPlaylist) as it is now, unless compositionIds "
        "are given.",
    )
    scope: MoodPlaylistScope = strawberry.field(
        default=MoodPlaylistScope.MINE, description="With `mood`: which compositions to draw from."
    )
    limit: int = strawberry.field(default=50, description="With `mood`: at most this many (1 to 200).")
    composition_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="These compositions, in this order (any you may read)."
    )


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

    @connection(
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
            raise as_graphql_error(error) from None
        return selectors.compositions_by_mood(who, point, scope.value)  # type: ignore[return-value]

    @strawberry_django.field(
        description="Your playlists, newest first.", extensions=[HasScope(READ), IsSignedIn()]
    )
    def playlists(self, info: Info) -> list[PlaylistType]:
        return selectors.playlists_of(caller(info).user)  # type: ignore[return-value]


def _composition_pks(ids: list[strawberry.ID], field: str) -> dict[int, strawberry.ID]:
    from schema.root import composition_pk  # the schema imports this module

    pks: dict[int, strawberry.ID] = {}
    for gid in ids:
        try:
            pks[composition_pk(gid)] = gid
        except BadUserInput:
            raise BadUserInput(f"{gid!r} is not a Composition id", field=field) from None
    return pks


def _playlist_change(
    playlist_id: strawberry.ID, composition_ids: dict[int, strawberry.ID], change: Any
) -> PlaylistType:
    """Run a playlist service with the schema's typed errors: another user's playlist, or a
    composition the caller may not read, is NOT_FOUND."""
    try:
        return change()
    except models.Playlist.DoesNotExist:
        raise NotFound(f"no playlist with id {playlist_id}", id=str(playlist_id)) from None
    except services.CompositionUnknown as error:
        gid = composition_ids.get(error.pk, error.pk)
        raise NotFound(f"no composition with id {gid}", id=str(gid)) from None
    except services.PlaylistConflict as error:
        raise Conflict(error.message, field=error.field) from None
    except InputError as error:
        raise as_graphql_error(error) from None


PlaylistId = Annotated[strawberry.ID, strawberry.argument(description="Your Playlist's id.")]
CompositionId = Annotated[strawberry.ID, strawberry.argument(description="A composition's id.")]


class MutationFields:
    @strawberry_django.mutation(
        description="Make a playlist: of the compositions given, in that order; else of a mood's playlist "
        "as it is now; else empty.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def create_playlist(
        self,
        info: Info,
        input: Annotated[CreatePlaylistInput, strawberry.argument(description="The playlist.")],
    ) -> PlaylistType:
        ids = _composition_pks(input.composition_ids or [], "compositionIds")
        return _playlist_change(
            strawberry.ID(""),
            ids,
            lambda: services.playlist_create(
                caller(info),
                name=input.name,
                mood=input.mood,
                composition_ids=list(ids),
                scope=input.scope.value,
                limit=input.limit,
            ),
        )

    @strawberry_django.mutation(
        description="Put a composition you may read into your playlist, at `position` (default: last).",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def add_to_playlist(
        self,
        info: Info,
        playlist_id: PlaylistId,
        composition_id: CompositionId,
        position: Annotated[int | None, strawberry.argument(description="Where, from 0.")] = None,
    ) -> PlaylistType:
        ids = _composition_pks([composition_id], "compositionId")
        pk = global_pk(playlist_id, "Playlist", "playlistId")
        return _playlist_change(
            playlist_id, ids, lambda: services.playlist_add(caller(info), pk, next(iter(ids)), position)
        )

    @strawberry_django.mutation(
        description="Move a composition of your playlist to `position`; the others close up.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def move_playlist_entry(
        self,
        info: Info,
        playlist_id: PlaylistId,
        composition_id: CompositionId,
        position: Annotated[int, strawberry.argument(description="Where to, from 0.")],
    ) -> PlaylistType:
        ids = _composition_pks([composition_id], "compositionId")
        pk = global_pk(playlist_id, "Playlist", "playlistId")
        return _playlist_change(
            playlist_id, ids, lambda: services.playlist_move(caller(info), pk, next(iter(ids)), position)
        )

    @strawberry_django.mutation(
        description="Take a composition out of your playlist.", extensions=[HasScope(COMPOSE), IsSignedIn()]
    )
    def remove_from_playlist(
        self, info: Info, playlist_id: PlaylistId, composition_id: CompositionId
    ) -> PlaylistType:
        ids = _composition_pks([composition_id], "compositionId")
        pk = global_pk(playlist_id, "Playlist", "playlistId")
        return _playlist_change(
            playlist_id, ids, lambda: services.playlist_remove(caller(info), pk, next(iter(ids)))
        )

    @strawberry_django.mutation(
        description="Rename your playlist.", extensions=[HasScope(COMPOSE), IsSignedIn()]
    )
    def rename_playlist(
        self,
        info: Info,
        id: PlaylistId,
        name: Annotated[str, strawberry.argument(description="Up to 80 characters.")],
    ) -> PlaylistType:
        pk = global_pk(id, "Playlist", "id")
        return _playlist_change(id, {}, lambda: services.playlist_rename(caller(info), pk, name))

    @strawberry_django.mutation(
        description="Delete your playlist (not its compositions); returns its id.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def delete_playlist(self, info: Info, id: PlaylistId) -> strawberry.ID:
        pk = global_pk(id, "Playlist", "id")
        _playlist_change(id, {}, lambda: services.playlist_delete(caller(info), pk))
        return id

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
            raise as_graphql_error(error) from None

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
                global_pk(id, "CustomMood", "id"),
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
            raise as_graphql_error(error) from None

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
            services.custom_mood_delete(caller(info).user, global_pk(id, "CustomMood", "id"))
        except models.CustomMood.DoesNotExist:
            raise NotFound(f"no custom mood with id {id}", id=str(id)) from None
        return id


class CreateInputFields:
    """The mood stage's part of CreateCompositionInput."""

    mood: str | None = strawberry.field(
        default=None, description="A mood from the `moods` query; null reads it from the prompt."
    )


class UpdateInputFields:
    """The mood stage's part of UpdateCompositionInput."""

    mood: str | None = strawberry.field(default=None, description="A mood from the `moods` query.")
