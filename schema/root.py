"""Root Query, Mutation and Subscription, and the Composition type, from the modules' parts."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.composition import models, services
from modules.composition.stages import InputError
from modules.composition.types import CreateCompositionInput, UpdateCompositionInput
from subscriptions.stream import composition_events, user_events
from subscriptions.types import ProgressEvent

from .build import contributions, django_type, root_type
from .context import current_user
from .errors import BadUserInput, CodaError, Conflict, NotFound, Unauthenticated

Composition = django_type(
    "Composition",
    models.Composition,
    contributions("CompositionFields"),
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
    node: relay.Node = relay.node()

    @strawberry_django.field(description="One composition by its global id.")
    def composition(self, info: Info, id: strawberry.ID) -> Composition:  # type: ignore[valid-type]
        pk = composition_pk(id)
        queryset = models.Composition.objects.filter(pk=pk)
        composition = strawberry_django.optimizer.optimize(queryset, info).first()
        if composition is None:
            raise NotFound(f"no composition with id {id}", id=str(id))
        return composition

    @strawberry_django.connection(
        DjangoListConnection[Composition], description="Compositions, newest first."
    )
    def compositions(self) -> list[Composition]:  # type: ignore[valid-type]
        return models.Composition.objects.order_by("-created_at", "-id")  # type: ignore[return-value]


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
    }


def composition_for_change(id: strawberry.ID) -> models.Composition:
    composition = models.Composition.objects.filter(pk=composition_pk(id)).first()
    if composition is None:
        raise NotFound(f"no composition with id {id}", id=str(id))
    return composition


def as_graphql_error(error: InputError) -> CodaError:
    if isinstance(error, services.CompositionBusy):
        return Conflict(error.message, field=error.field)
    return BadUserInput(error.message, field=error.field)


class CoreMutation:
    @strawberry_django.mutation(description="Queue a new composition; returns at once in status QUEUED.")
    def create_composition(self, info: Info, input: CreateCompositionInput) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_create(
                prompt=input.prompt,
                seed=input.seed,
                duration_seconds=input.duration_seconds,
                instrumental=input.instrumental,
                inputs=explicit_inputs(input),
                owner=current_user(info),
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Rerun one stage with a new seed (random if none), then only the stages that depend "
        "on it. What the composition was is kept in `versions`."
    )
    def regenerate_stage(
        self, info: Info, composition_id: strawberry.ID, stage: str, seed: int | None = None
    ) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_regenerate(composition_for_change(composition_id), stage, seed)
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Change inputs (tempo, key, lyrics...) and rerun; stages that did not read them are "
        "reused. What the composition was is kept in `versions`."
    )
    def update_composition(self, info: Info, id: strawberry.ID, input: UpdateCompositionInput) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_update(
                composition_for_change(id),
                inputs=explicit_inputs(input),
                duration_seconds=input.duration_seconds,
                instrumental=input.instrumental,
            )
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(description="Stop a queued or running composition; it ends CANCELLED.")
    def cancel_composition(self, info: Info, id: strawberry.ID) -> Composition:  # type: ignore[valid-type]
        try:
            return services.composition_cancel(composition_for_change(id))
        except InputError as error:
            raise as_graphql_error(error) from None


Mutation = root_type("Mutation", [CoreMutation, *contributions("MutationFields")])


@sync_to_async
def _existing(pk: int) -> bool:
    return models.Composition.objects.filter(pk=pk).exists()


class CoreSubscription:
    @strawberry.subscription(
        description="Progress of one composition: the logged events after `afterSeq`, then live ones; "
        "ends after the composition's final event."
    )
    async def composition_progress(
        self, info: Info, id: strawberry.ID, after_seq: int = 0
    ) -> AsyncGenerator[ProgressEvent]:
        pk = composition_pk(id)
        if not await _existing(pk):
            raise NotFound(f"no composition with id {id}", id=str(id))
        async for payload in composition_events(info.context["ws"], pk, after_seq):
            yield ProgressEvent.from_payload(payload, str(id))

    @strawberry.subscription(
        description="Live events of every composition of the signed-in caller, for a dashboard. "
        "Each event's compositionId says which; replay one with compositionProgress(afterSeq)."
    )
    async def my_composition_events(self, info: Info) -> AsyncGenerator[ProgressEvent]:
        user = current_user(info)
        if user is None or not user.is_authenticated:
            raise Unauthenticated("sign in to follow your compositions")
        async for payload in user_events(info.context["ws"], user.pk):
            yield ProgressEvent.from_payload(
                payload, relay.to_base64("Composition", payload["composition_id"])
            )


Subscription = root_type("Subscription", [CoreSubscription, *contributions("SubscriptionFields")])
