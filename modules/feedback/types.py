"""Feedback and preferences in GraphQL.

Feedback and preferences are private to their user: `Composition.feedback`, `myFeedback` and
`me { preferences }` show the caller's own only, whoever owns the composition. Giving feedback
needs a signed-in caller (an anonymous session has no lasting identity to keep a profile for) who
may read the composition; one they may not read is NOT_FOUND.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from modules.accounts.caller import COMPOSE, READ
from modules.composition.gm import PROGRAM_NAMES
from modules.composition.models import Composition
from modules.composition.selectors import compositions_visible_to
from modules.composition.stages import InputError
from modules.composition.types import WeightedChoice
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import BadUserInput, NotFound
from schema.permissions import HasScope, IsSignedIn
from schema.relay import connection
from schema.resolvers import loaded_only
from schema.scalars import JSONObject

from . import engine, models, selectors, services

MAX_EXPLANATIONS = 100


@strawberry.enum(name="FeedbackKind", description="What the feedback says.")
class FeedbackKind(Enum):
    LIKE = strawberry.enum_value("LIKE", description="You like it: your profile leans towards what it is.")
    DISLIKE = strawberry.enum_value("DISLIKE", description="You don't: your profile leans away from it.")
    TWEAK = strawberry.enum_value(
        "TWEAK", description="Close, but change something; its rating, if any, says which way it leans."
    )
    ACCEPT = strawberry.enum_value("ACCEPT", description="You keep it: a milder like.")
    DECLINE = strawberry.enum_value("DECLINE", description="You pass on it: a milder dislike.")


@strawberry.enum(name="FeedbackElement", description="Which element of a composition feedback is about.")
class FeedbackElement(Enum):
    COMPOSITION = strawberry.enum_value("COMPOSITION", description="The whole composition as it is now.")
    MOOD = strawberry.enum_value("MOOD", description="Its mood.")
    GENRE = strawberry.enum_value("GENRE", description="Its genre blend (and the tempo it set).")
    LAYER = strawberry.enum_value("LAYER", description="One instrument layer: name it with `layer`.")
    LYRICS = strawberry.enum_value("LYRICS", description="Its lyrics.")
    VOICE = strawberry.enum_value("VOICE", description="The voice that sings it.")
    MASTER = strawberry.enum_value("MASTER", description="Its master (loudness).")
    VERSION = strawberry.enum_value("VERSION", description="One earlier version: name it with `version`.")


def _feedback_gid(pk: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64("Feedback", pk))


@strawberry_django.type(
    models.Feedback,
    name="Feedback",
    description="Your word on a composition or one of its elements; only you can see it.",
    directives=[Key(fields="id")],
)
class FeedbackType(Entity, relay.Node):
    rating: int | None = strawberry_django.field(description="1 (poor) .. 5 (great), if given.")
    text: str = strawberry_django.field(description="What you wrote.")
    context: JSONObject = strawberry_django.field(description="What your client said about the moment.")
    attributes: JSONObject = strawberry_django.field(
        description="What the element was when you gave it (what your profile learnt from)."
    )
    created_at: datetime = strawberry_django.field(description="When it was given.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        """Whatever hands out feedback (node, connections, entities) hands out the caller's own only."""
        user_id = caller(info).user_id
        return queryset.filter(user_id=user_id) if user_id is not None else queryset.none()

    @strawberry_django.field(only=["kind"], description="What it says.")
    @loaded_only
    def kind(self, root: models.Feedback) -> FeedbackKind:
        return FeedbackKind(root.kind)

    @strawberry_django.field(only=["element"], description="Which element it is about.")
    @loaded_only
    def element(self, root: models.Feedback) -> FeedbackElement:
        return FeedbackElement(root.element)

    @strawberry_django.field(only=["element", "element_key"], description="The layer's name, for LAYER.")
    @loaded_only
    def layer(self, root: models.Feedback) -> str | None:
        return root.element_key if root.element == models.FeedbackElement.LAYER else None

    @strawberry_django.field(
        only=["element", "element_key"], description="The version's number, for VERSION."
    )
    @loaded_only
    def version(self, root: models.Feedback) -> int | None:
        return int(root.element_key) if root.element == models.FeedbackElement.VERSION else None

    @strawberry_django.field(
        only=["composition_id"],
        description="The Composition's global id; null once the composition was deleted (what your "
        "profile learnt from it stays).",
    )
    @loaded_only
    def composition_id(self, root: models.Feedback) -> strawberry.ID | None:
        if root.composition_id is None:
            return None
        return strawberry.ID(relay.to_base64("Composition", root.composition_id))


@strawberry.input(name="SubmitFeedbackInput", description="Feedback on a composition or one of its elements.")
class SubmitFeedbackInput:
    composition_id: strawberry.ID = strawberry.field(description="A composition you may read.")
    kind: FeedbackKind = strawberry.field(description="What you say.")
    element: FeedbackElement = strawberry.field(
        default=FeedbackElement.COMPOSITION, description="Which element; the whole composition by default."
    )
    layer: str | None = strawberry.field(default=None, description="For LAYER: the layer's name, e.g. bass.")
    version: int | None = strawberry.field(default=None, description="For VERSION: the version's number.")
    rating: int | None = strawberry.field(default=None, description="1 (poor) .. 5 (great).")
    text: str = strawberry.field(default="", description="In your words (at most 2,000 characters).")
    context: JSONObject | None = strawberry.field(
        default=None,
        description="Anything your client wants to keep with it, e.g. {playbackSeconds: 42} (a JSON "
        "object, at most 4,000 characters).",
    )


@strawberry.type(name="NumericPreference", description="A preferred value and how firmly it is preferred.")
class NumericPreferenceType:
    preferred: float = strawberry.field(description="The preferred value (bpm for tempo, LUFS for loudness).")
    low: float = strawberry.field(description="The low end of the preferred range.")
    high: float = strawberry.field(description="The high end of the preferred range.")
    strength: float = strawberry.field(
        description="0 .. 1: how far it pulls an open choice towards `preferred`."
    )


@strawberry.type(
    name="ProgramPreference", description="A General MIDI instrument and how much it is preferred."
)
class ProgramPreferenceType:
    program: int = strawberry.field(description="General MIDI program, 0-based.")
    instrument: str = strawberry.field(description="Its General MIDI name.")
    weight: float = strawberry.field(description="-1 (avoided) .. 1 (preferred).")


@strawberry.type(
    name="PreferenceExplanation",
    description="One feedback's effect on one preference: what moved it, how much.",
)
class PreferenceExplanationType:
    attribute: str = strawberry.field(
        description="genres, moods, keys, scales, voices, programs, tempo or loudness."
    )
    value: str = strawberry.field(
        description="The value whose weight moved (jazz, alto, 33), or the tempo/loudness it was about."
    )
    delta: float = strawberry.field(
        description="How much it moved: the weight (-2 .. 2), or the preferred tempo (bpm) / loudness (LU)."
    )
    feedback_id: strawberry.ID = strawberry.field(description="The Feedback that moved it.")
    element: FeedbackElement = strawberry.field(description="Which element that feedback was about.")


@strawberry.type(
    name="Preferences",
    description="What your feedback adds up to. It leans the choices your next prompts leave open "
    "(never what a prompt or input says); compositions record them with the source `profile`.",
)
class PreferencesType:
    genres: list[WeightedChoice] = strawberry.field(description="Genres, most preferred first.")
    moods: list[WeightedChoice] = strawberry.field(description="Moods, most preferred first.")
    keys: list[WeightedChoice] = strawberry.field(description="Keys (tonics), most preferred first.")
    scales: list[WeightedChoice] = strawberry.field(description="Modes, most preferred first.")
    voices: list[WeightedChoice] = strawberry.field(description="Voices, most preferred first.")
    programs: list[ProgramPreferenceType] = strawberry.field(description="Instruments, most preferred first.")
    tempo: NumericPreferenceType | None = strawberry.field(description="Preferred tempo (bpm), if any.")
    loudness: NumericPreferenceType | None = strawberry.field(
        description="Preferred loudness (LUFS), if any."
    )
    feedback_count: int = strawberry.field(description="How much feedback it was learnt from.")
    updated_at: datetime | None = strawberry.field(description="When it last changed.")
    reset_at: datetime | None = strawberry.field(
        description="When you last reset it; earlier feedback no longer counts."
    )
    profile: strawberry.Private[engine.Profile]

    @classmethod
    def of(cls, profile: engine.Profile, row: models.PreferenceProfile | None) -> PreferencesType:
        def weighted(attribute: str) -> list[WeightedChoice]:
            return [WeightedChoice(value=v, weight=w) for v, w in profile.weights.get(attribute, {}).items()]

        def numeric(attribute: str) -> NumericPreferenceType | None:
            found = profile.numbers.get(attribute)
            if found is None:
                return None
            return NumericPreferenceType(
                preferred=found.preferred, low=found.low, high=found.high, strength=found.strength
            )

        return cls(
            genres=weighted("genres"),
            moods=weighted("moods"),
            keys=weighted("keys"),
            scales=weighted("scales"),
            voices=weighted("voices"),
            programs=[
                ProgramPreferenceType(program=int(p), instrument=PROGRAM_NAMES[int(p)], weight=w)
                for p, w in profile.weights.get("programs", {}).items()
            ],
            tempo=numeric("tempo"),
            loudness=numeric("loudness"),
            feedback_count=profile.feedback_count,
            updated_at=row.updated_at if row else None,
            reset_at=row.reset_at if row else None,
            profile=profile,
        )

    @strawberry.field(description="Which feedback moved which preference, and by how much; newest first.")
    def explanations(
        self,
        attribute: Annotated[
            str | None, strawberry.argument(description="Only this attribute, e.g. genres or tempo.")
        ] = None,
        feedback_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only what this Feedback moved.")
        ] = None,
        first: Annotated[
            int, strawberry.argument(description=f"At most this many (1 .. {MAX_EXPLANATIONS}).")
        ] = 50,
    ) -> list[PreferenceExplanationType]:
        if not 1 <= first <= MAX_EXPLANATIONS:
            raise BadUserInput(f"first must be between 1 and {MAX_EXPLANATIONS}, not {first}", field="first")
        if attribute is not None and attribute not in engine.ATTRIBUTES:
            raise BadUserInput(
                f"unknown attribute {attribute!r}; choose one of: {', '.join(engine.ATTRIBUTES)}",
                field="attribute",
            )
        wanted = global_pk(feedback_id, "Feedback", "feedbackId") if feedback_id is not None else None
        found = []
        for item in reversed(self.profile.explanations):
            if (attribute is None or item.attribute == attribute) and (
                wanted is None or item.feedback_id == wanted
            ):
                found.append(
                    PreferenceExplanationType(
                        attribute=item.attribute,
                        value=item.value,
                        delta=item.delta,
                        feedback_id=_feedback_gid(item.feedback_id),
                        element=FeedbackElement(item.element),
                    )
                )
                if len(found) == first:
                    break
        return found


def _readable(info: Info, global_id: strawberry.ID) -> Composition:
    """A composition the caller may read; any other is NOT_FOUND, exactly like one that does not exist."""
    pk = global_pk(global_id, "Composition", "compositionId")
    composition = compositions_visible_to(caller(info)).filter(pk=pk).first()
    if composition is None:
        raise NotFound(f"no composition with id {global_id}", id=str(global_id))
    return composition


def _my_feedback(info: Info) -> Prefetch:
    """The caller's own feedback on each composition of a page, in one query."""
    return Prefetch(
        "feedback",
        queryset=selectors.feedback_of(caller(info).user_id),
        to_attr="my_feedback",
    )


class CompositionFields:
    @strawberry_django.field(
        prefetch_related=[_my_feedback],
        description="Your feedback on this composition, newest first, optionally on one element only "
        "(others' feedback is theirs alone).",
    )
    def feedback(
        self,
        root: Composition,
        info: Info,
        element: Annotated[
            FeedbackElement | None,
            strawberry.argument(description="Only feedback on this element."),
        ] = None,
        layer: Annotated[str | None, strawberry.argument(description="Only on this layer (LAYER).")] = None,
        version: Annotated[
            int | None, strawberry.argument(description="Only on this version (VERSION).")
        ] = None,
    ) -> list[FeedbackType]:
        items = getattr(root, "my_feedback", None)  # set by the optimizer's prefetch
        if items is None:  # a composition loaded without it, e.g. a mutation's result
            items = list(selectors.feedback_of(caller(info).user_id).filter(composition=root))
        if element is not None:
            items = [f for f in items if f.element == element.value]
        if layer is not None:
            items = [
                f
                for f in items
                if f.element == models.FeedbackElement.LAYER and f.element_key == layer.lower()
            ]
        if version is not None:
            items = [
                f
                for f in items
                if f.element == models.FeedbackElement.VERSION and f.element_key == str(version)
            ]
        return items  # type: ignore[return-value]


class QueryFields:
    @connection(
        DjangoListConnection[FeedbackType],
        description="All your feedback, newest first, optionally on one kind of element.",
        extensions=[HasScope(READ), IsSignedIn()],
    )
    def my_feedback(
        self,
        info: Info,
        element: Annotated[
            FeedbackElement | None,
            strawberry.argument(description="Only feedback on this kind of element."),
        ] = None,
    ) -> list[FeedbackType]:
        found = selectors.feedback_of(caller(info).user_id)
        return found.filter(element=element.value) if element is not None else found  # type: ignore[return-value]


class MeFields:
    @strawberry_django.field(description="Your preference profile, learnt from your feedback.")
    def preferences(self, info: Info) -> PreferencesType:
        return PreferencesType.of(*selectors.profile_of(caller(info).user_id))


class MutationFields:
    @strawberry_django.mutation(
        description="Say what you think of a composition you may read, or of one of its elements. Your "
        "preference profile learns from it at once; anonymous callers must sign in first.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def submit_feedback(
        self,
        info: Info,
        input: Annotated[
            SubmitFeedbackInput, strawberry.argument(description="The element, what you say and how.")
        ],
    ) -> FeedbackType:
        composition = _readable(info, input.composition_id)
        try:
            return services.feedback_submit(  # type: ignore[return-value]
                caller(info).user,
                composition,
                element=input.element.value,
                kind=input.kind.value,
                rating=input.rating,
                text=input.text,
                context=input.context,
                layer=input.layer,
                version=input.version,
            )
        except InputError as error:
            raise BadUserInput(error.message, field=error.field) from None

    @strawberry_django.mutation(
        description="Delete one of your feedback; your profile forgets what it taught. Returns its id.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def delete_feedback(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Feedback's id.")]
    ) -> strawberry.ID:
        try:
            services.feedback_delete(caller(info).user, global_pk(id, "Feedback", "id"))
        except models.Feedback.DoesNotExist:
            raise NotFound(f"no feedback with id {id}", id=str(id)) from None
        return id

    @strawberry_django.mutation(
        description="Forget every preference learnt so far. Your feedback stays listed but no longer counts; "
        "new feedback starts a new profile.",
        extensions=[HasScope(COMPOSE), IsSignedIn()],
    )
    def reset_preferences(self, info: Info) -> PreferencesType:
        row = services.preferences_reset(caller(info).user)
        return PreferencesType.of(engine.Profile.from_dict(row.profile), row)
