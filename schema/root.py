"""Root Query, Mutation and Subscription, and the Composition type, from the modules' parts."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.accounts.quotas import QuotaError
from modules.accounts.sessions import caller_with_session
from modules.composition import models, services
from modules.composition.selectors import compositions_owned_by, compositions_visible_to
from modules.composition.stages import InputError
from modules.composition.types import CompositionVisibility, CreateCompositionInput, UpdateCompositionInput
from subscriptions.stream import composition_events, user_events
from subscriptions.types import ProgressEvent

from .build import contributions, django_type, root_type
from .context import caller
from .errors import (
    BadUserInput,
    CodaError,
    Conflict,
    ContentRejected,
    Forbidden,
    NotFound,
    QuotaExceeded,
    Unauthenticated,
)
from .permissions import HasScope, IsSignedIn


class VisibleOnly:
    @classmethod
    def get_queryset(cls, queryset: Any, info: Info, **kwargs: Any) -> Any:
        """Every Composition the schema hands out (node, connections) is one the caller may read."""
        return compositions_visible_to(caller(info), queryset)


Composition = django_type(
    "Composition",
    models.Composition,
    [VisibleOnly, *contributions("CompositionFields")],
    bases=(relay.Node,),
    description="A composition: the root of everything Coda makes for one prompt.",
)


def composition_pk(global_id: strawberry.ID | str) -> int:
    """The primary key behind a Composition's global id; a typed error for anything else."""
    try:
        gid = relay.GlobalID.from_id(str(global_id))
        if gid.type_name != "Composition":
            raise ValueError(gid.type_name)
        return int(gid.node_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadUserInput(f"{global_id!r} is not a Composition id", field="id") from None


class CoreQuery:
    node: relay.Node | None = relay.node(
        description="Any object by its global id; null when there is none you may read."
    )

    @strawberry_django.field(
        description="One composition by its global id: yours, shared with you, or public.",
        extensions=[HasScope(READ)],
    )
    def composition(self, info: Info, id: strawberry.ID) -> Composition:  # type: ignore[valid-type]
        pk = composition_pk(id)
        queryset = compositions_visible_to(caller(info)).filter(pk=pk)
        composition = strawberry_django.optimizer.optimize(queryset, info).first()
        if composition is None:  # another user's private composition is "not found", never "forbidden"
            raise NotFound(f"no composition with id {id}", id=str(id))
        return composition

    @strawberry_django.connection(
        DjangoListConnection[Composition],
        description="Your compositions and those shared with you, newest first.",
        extensions=[HasScope(READ)],
    )
    def compositions(self, info: Info) -> list[Composition]:  # type: ignore[valid-type]
        mine = caller(info)
        queryset = compositions_owned_by(mine)
        if mine.user_id is not None:
            queryset = queryset | models.Composition.objects.filter(shares__user_id=mine.user_id)
        return queryset.order_by("-created_at", "-id")  # type: ignore[return-value]

    @strawberry_django.connection(
        DjangoListConnection[Composition],
        description="Compositions their owners made public, newest first.",
        extensions=[HasScope(READ)],
    )
    def public_compositions(self) -> list[Composition]:  # type: ignore[valid-type]
        return models.Composition.objects.filter(visibility=models.Visibility.PUBLIC).order_by(  # type: ignore[return-value]
            "-created_at", "-id"
        )


Query = root_type("Query", [CoreQuery, *contributions("QueryFields")])


def explicit_inputs(input: CreateCompositionInput | UpdateCompositionInput) -> dict[str, object]:
    return {
        "mood": input.mood,
        "genres": [{"name": g.name, "weight": g.weight} for g in input.genres] if input.genres else None,
        "key": input.key,
        "scale": input.scale,
        "tempo": input.tempo,
        "voice": input.voice,
        "lyrics": input.lyrics,
        "genre_reference": input.genre_reference,
        "mastering_preset": input.mastering_preset,
        "mastering_reference": input.mastering_reference,
    }


def composition_for_change(info: Info, id: strawberry.ID) -> models.Composition:
    """The caller's own composition; one it may only read is refused, one it may not see is not found."""
    mine = caller(info)
    pk = composition_pk(id)
    composition = compositions_owned_by(mine).filter(pk=pk).first()
    if composition is not None:
        return composition
    if compositions_visible_to(mine).filter(pk=pk).exists():
        raise Forbidden("only the composition's owner may change it", id=str(id))
    raise NotFound(f"no composition with id {id}", id=str(id))


def as_graphql_error(error: InputError) -> CodaError:
    from modules.moderation.services import ModerationRejected

    if isinstance(error, services.CompositionBusy):
        return Conflict(error.message, field=error.field)
    if isinstance(error, ModerationRejected):
        return ContentRejected(error.message, field=error.field, rule=error.rule)
    if isinstance(error, QuotaError):
        return QuotaExceeded(error.message, retry_after_seconds=error.retry_after_seconds, limit=error.limit)
    return BadUserInput(error.message, field=error.field)


class CoreMutation:
    @strawberry_django.mutation(
        description="Queue a new composition; returns at once in status QUEUED. Anonymous callers get a "
        "few short ones a day, owned by their session.",
        extensions=[HasScope(COMPOSE)],
    )
    def create_composition(self, info: Info, input: CreateCompositionInput) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_create(
                prompt=input.prompt,
                seed=input.seed,
                duration_seconds=input.duration_seconds,
                instrumental=input.instrumental,
                inputs=explicit_inputs(input),
                caller=caller_with_session(caller(info), info.context.get("request")),
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Rerun one stage with a new seed (random if none), then only the stages that depend "
        "on it. What the composition was is kept in `versions`.",
        extensions=[HasScope(COMPOSE)],
    )
    def regenerate_stage(
        self, info: Info, composition_id: strawberry.ID, stage: str, seed: int | None = None
    ) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_regenerate(
                composition_for_change(info, composition_id), stage, seed, caller=caller(info)
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Change inputs (tempo, key, lyrics...) and rerun; stages that did not read them are "
        "reused. What the composition was is kept in `versions`.",
        extensions=[HasScope(COMPOSE)],
    )
    def update_composition(self, info: Info, id: strawberry.ID, input: UpdateCompositionInput) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_update(
                composition_for_change(info, id),
                inputs=explicit_inputs(input),
                duration_seconds=input.duration_seconds,
                instrumental=input.instrumental,
                caller=caller(info),
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Stop a queued or running composition; it ends CANCELLED.", extensions=[HasScope(COMPOSE)]
    )
    def cancel_composition(self, info: Info, id: strawberry.ID) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_cancel(composition_for_change(info, id))
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Make your composition PUBLIC (anyone may read it, nobody else may change it) or "
        "PRIVATE again.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def set_composition_visibility(
        self, info: Info, id: strawberry.ID, visibility: CompositionVisibility
    ) -> Composition:  # type: ignore[valid-type]
        return services.composition_set_visibility(composition_for_change(info, id), visibility.value)

    @strawberry_django.mutation(
        description="Let another user read your composition (read-only), by username.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def share_composition(self, info: Info, id: strawberry.ID, username: str) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_share(composition_for_change(info, id), username)
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Take back what shareComposition gave.", extensions=[HasScope(COMPOSE), IsSignedIn()]
    )
    def unshare_composition(self, info: Info, id: strawberry.ID, username: str) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_unshare(composition_for_change(info, id), username)
        except InputError as error:
            raise as_graphql_error(error) from None


Mutation = root_type("Mutation", [CoreMutation, *contributions("MutationFields")])


@sync_to_async
def _readable(info: Info, pk: int) -> bool:
    return compositions_visible_to(caller(info)).filter(pk=pk).exists()


class CoreSubscription:
    @strawberry.subscription(
        description="Progress of one composition: the logged events after `afterSeq`, then live ones; "
        "ends after the composition's final event."
    )
    async def composition_progress(
        self, info: Info, id: strawberry.ID, after_seq: int = 0
    ) -> AsyncGenerator[ProgressEvent]:
        pk = composition_pk(id)
        if not caller(info).can(READ):
            raise Forbidden(f"this API token lacks the {READ!r} scope")
        if not await _readable(info, pk):
            raise NotFound(f"no composition with id {id}", id=str(id))
        async for payload in composition_events(info.context["ws"], pk, after_seq):
            yield ProgressEvent.from_payload(payload, str(id))

    @strawberry.subscription(
        description="Live events of every composition of the signed-in caller, for a dashboard. "
        "Each event's compositionId says which; replay one with compositionProgress(afterSeq)."
    )
    async def my_composition_events(self, info: Info) -> AsyncGenerator[ProgressEvent]:
        mine = caller(info)
        if not mine.is_authenticated:
            raise Unauthenticated("sign in (session or API token) to follow your compositions")
        if not mine.can(READ):
            raise Forbidden(f"this API token lacks the {READ!r} scope")
        async for payload in user_events(info.context["ws"], mine.user_id):
            yield ProgressEvent.from_payload(
                payload, relay.to_base64("Composition", payload["composition_id"])
            )


Subscription = root_type("Subscription", [CoreSubscription, *contributions("SubscriptionFields")])
