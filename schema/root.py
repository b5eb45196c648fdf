"""The Composition entity and the core's Query, Mutation and Subscription fields."""

import dataclasses
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.accounts.sessions import caller_with_session
from modules.composition import models, services
from modules.composition.selectors import compositions_owned_by, compositions_visible_to
from modules.composition.stages import InputError
from modules.composition.types import CompositionVisibility, VersionDiffType
from subscriptions.stream import composition_events, user_events
from subscriptions.types import ProgressEvent

from .build import CORE_MODULE, contributions, django_type, field_names, input_type, module_names
from .context import caller
from .entities import Entity, global_pk
from .errors import Forbidden, NotFound, Unauthenticated, as_graphql_error
from .permissions import HasScope, IsSignedIn
from .relay import ValidNodeId, connection


class VisibleOnly:
    @classmethod
    def get_queryset(cls, queryset: Any, info: Info, **kwargs: Any) -> Any:
        """Every Composition the schema hands out (node, connections, entities) is one the caller
        may read."""
        return compositions_visible_to(caller(info), queryset)


def composition_type(modules: list[str]) -> type:
    """The Composition entity with the fields the given modules contribute, keyed by its global id."""
    return django_type(
        "Composition",
        models.Composition,
        [VisibleOnly, *contributions("CompositionFields", modules)],
        bases=(Entity, relay.Node),
        directives=[Key(fields="id")],
        description="A composition: the root of everything Coda makes for one prompt.",
    )


def composition_pk(global_id: strawberry.ID | str) -> int:
    return global_pk(global_id, "Composition")


# The composition inputs: the core's fields (prompt, seed, length...) and each stage module's own
# (`types.CreateInputFields` / `UpdateInputFields`), merged; the stages check and resolve them.
CreateCompositionInput = input_type(
    "CreateCompositionInput",
    contributions("CreateInputFields"),
    description="What to compose. Only the prompt is required.",
)
UpdateCompositionInput = input_type(
    "UpdateCompositionInput",
    contributions("UpdateInputFields"),
    description="New values for an existing composition; stages that did not read them are reused. A "
    "value left out (or null) stays as it is; each follows createComposition's rules.",
)
STAGE_INPUTS = sorted(
    {
        name
        for part in ("CreateInputFields", "UpdateInputFields")
        for fields in contributions(part, [m for m in module_names() if m != CORE_MODULE])
        for name in field_names(fields)
    }
)


def _plain(value: object) -> object:
    """An input value as the stages take it: input objects as dicts, an empty list as not given."""
    if isinstance(value, list):
        return [_plain(item) for item in value] or None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def explicit_inputs(input: Any) -> dict[str, object]:
    """The stage modules' inputs of a Create/UpdateCompositionInput, by their python names."""
    return {name: _plain(getattr(input, name, None)) for name in STAGE_INPUTS}


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


@sync_to_async
def _readable(info: Info, pk: int) -> bool:
    return compositions_visible_to(caller(info)).filter(pk=pk).exists()


# The combined Composition: every module's fields. A module's subgraph serves the same type with
# only that module's fields (CodaSchema.get_fields), so module types may refer to it lazily
# (`Annotated["Composition", strawberry.lazy("schema.root")]`).
Composition = composition_type(module_names())


class CoreQuery:
    node: relay.Node | None = relay.node(
        description="Any object by its global id; null when there is none you may read.",
        extensions=[ValidNodeId()],
    )

    @strawberry_django.field(
        description="One composition by its global id: yours, shared with you, or public.",
        extensions=[HasScope(READ)],
    )
    def composition(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Composition's global id.")],
    ) -> Composition:
        pk = composition_pk(id)
        queryset = compositions_visible_to(caller(info)).filter(pk=pk)
        composition = strawberry_django.optimizer.optimize(queryset, info).first()
        if composition is None:  # another user's private composition is "not found", never "forbidden"
            raise NotFound(f"no composition with id {id}", id=str(id))
        return composition

    @connection(
        DjangoListConnection[Composition],
        description="Your compositions and those shared with you, newest first.",
        extensions=[HasScope(READ)],
    )
    def compositions(self, info: Info) -> list[Composition]:
        mine = caller(info)
        queryset = compositions_owned_by(mine)
        if mine.user_id is not None:
            queryset = queryset | models.Composition.objects.filter(shares__user_id=mine.user_id)
        return queryset.order_by("-created_at", "-id")  # type: ignore[return-value]

    @connection(
        DjangoListConnection[Composition],
        description="Compositions their owners made public, newest first.",
        extensions=[HasScope(READ)],
    )
    def public_compositions(self) -> list[Composition]:
        return models.Composition.objects.filter(visibility=models.Visibility.PUBLIC).order_by(  # type: ignore[return-value]
            "-created_at", "-id"
        )

    @strawberry_django.field(
        description="What changed between two versions of a composition you may read: elements (and "
        "their fields), context fields and files. Leave `b` out to compare `a` with the composition now.",
        extensions=[HasScope(READ)],
    )
    def version_diff(
        self,
        info: Info,
        composition_id: Annotated[strawberry.ID, strawberry.argument(description="The composition.")],
        a: Annotated[int, strawberry.argument(description="The earlier version's number.")],
        b: Annotated[
            int | None, strawberry.argument(description="The later version's number; null: as it is now.")
        ] = None,
    ) -> VersionDiffType:
        pk = composition_pk(composition_id)
        composition = compositions_visible_to(caller(info)).filter(pk=pk).first()
        if composition is None:
            raise NotFound(f"no composition with id {composition_id}", id=str(composition_id))
        try:
            return VersionDiffType.of(services.version_diff(composition, a, b, caller=caller(info)))
        except InputError as error:
            raise as_graphql_error(error) from None


class CoreMutation:
    @strawberry_django.mutation(
        description="Queue a new composition; returns at once in status QUEUED. Anonymous callers get a "
        "few short ones a day, owned by their session.",
        extensions=[HasScope(COMPOSE)],
    )
    def create_composition(
        self,
        info: Info,
        input: Annotated[CreateCompositionInput, strawberry.argument(description="What to compose.")],
    ) -> Composition:
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
        self,
        info: Info,
        composition_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The global id of your composition; it must have finished."),
        ],
        stage: Annotated[
            str, strawberry.argument(description="mood, genre, arrangement, lyrics, voice or mastering.")
        ],
        seed: Annotated[
            int | None,
            strawberry.argument(description="The stage's new seed, 0 to 2147483647; null picks one."),
        ] = None,
    ) -> Composition:
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
    def update_composition(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The global id of your composition; it must have finished."),
        ],
        input: Annotated[
            UpdateCompositionInput, strawberry.argument(description="The values to change; at least one.")
        ],
    ) -> Composition:
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
        description="Stop a queued or running composition; it ends CANCELLED.",
        extensions=[HasScope(COMPOSE)],
    )
    def cancel_composition(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The global id of your queued or running composition."),
        ],
    ) -> Composition:
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
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The global id of your composition.")],
        visibility: Annotated[
            CompositionVisibility, strawberry.argument(description="Who may read it from now on.")
        ],
    ) -> Composition:
        return services.composition_set_visibility(composition_for_change(info, id), visibility.value)

    @strawberry_django.mutation(
        description="Let another user read your composition (read-only), by username.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def share_composition(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The global id of your composition.")],
        username: Annotated[str, strawberry.argument(description="The user to share it with.")],
    ) -> Composition:
        try:
            return services.composition_share(composition_for_change(info, id), username)
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Take back what shareComposition gave.", extensions=[HasScope(COMPOSE), IsSignedIn()]
    )
    def unshare_composition(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The global id of your composition.")],
        username: Annotated[str, strawberry.argument(description="The user who should no longer read it.")],
    ) -> Composition:
        try:
            return services.composition_unshare(composition_for_change(info, id), username)
        except InputError as error:
            raise as_graphql_error(error) from None

    @strawberry_django.mutation(
        description="Make an earlier version current again without recomputing anything: its elements, "
        "context and files come back as stored. What the composition was is kept as a new version first.",
        extensions=[HasScope(COMPOSE)],
    )
    def restore_version(
        self,
        info: Info,
        composition_id: Annotated[strawberry.ID, strawberry.argument(description="Your composition.")],
        number: Annotated[int, strawberry.argument(description="The version to restore.")],
    ) -> Composition:
        try:
            return services.version_restore(composition_for_change(info, composition_id), number)
        except InputError as error:
            raise as_graphql_error(error) from None


class CoreSubscription:
    @strawberry.subscription(
        description="Progress of one composition: the logged events after `afterSeq`, then live ones; "
        "ends after the composition's final event."
    )
    async def composition_progress(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Composition's global id.")],
        after_seq: Annotated[
            int,
            strawberry.argument(
                description="Replay the logged events after this `seq` first; 0 replays them all."
            ),
        ] = 0,
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
