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
from modules.composition.types import CreateCompositionInput
from subscriptions.stream import composition_events
from subscriptions.types import ProgressEvent

from .build import contributions, django_type, root_type
from .context import current_user
from .errors import BadUserInput, NotFound

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


class CoreMutation:
    @strawberry_django.mutation(description="Queue a new composition; returns at once in status QUEUED.")
    def create_composition(self, info: Info, input: CreateCompositionInput) -> Composition:  # type: ignore[valid-type]
        explicit = {
            "mood": input.mood,
            "genres": [{"name": g.name, "weight": g.weight} for g in input.genres] if input.genres else None,
            "key": input.key,
            "scale": input.scale,
            "tempo": input.tempo,
            "voice": input.voice,
            "lyrics": input.lyrics,
        }
        user = current_user(info)
        try:
            return services.composition_create(
                prompt=input.prompt,
                seed=input.seed,
                duration_seconds=input.duration_seconds,
                instrumental=input.instrumental,
                inputs=explicit,
                owner=user,
            )
        except InputError as error:
            raise BadUserInput(error.message, field=error.field) from None


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


Subscription = root_type("Subscription", [CoreSubscription, *contributions("SubscriptionFields")])
