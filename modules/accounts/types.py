"""Accounts in the schema: `me`, registration and sign-in, personal API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from modules.composition.stages import InputError
from schema.build import contributions, merged_namespace
from schema.context import caller
from schema.entities import Entity, global_pk
from schema.errors import BadUserInput, Unauthenticated
from schema.permissions import IsSignedIn

from . import services, tokens
from .caller import ALL_SCOPES
from .models import ApiToken


@strawberry.enum(description="What an API token may do: READ queries and subscriptions; COMPOSE mutations.")
class TokenScope(Enum):
    READ = strawberry.enum_value("read", description="Queries and subscriptions: read what you may see.")
    COMPOSE = strawberry.enum_value(
        "compose", description="Mutations: create, change, share and delete compositions and webhooks."
    )


@strawberry_django.type(
    ApiToken,
    name="ApiToken",
    description="A personal API token (its secret is never shown again).",
    directives=[Key(fields="id")],
)
class ApiTokenType(Entity, relay.Node):
    name: str = strawberry_django.field(description="Your label for it, 1 to 100 characters.")
    prefix: str = strawberry_django.field(
        description="The public part: tokens look like coda_<prefix>_<secret>."
    )
    created_at: datetime = strawberry_django.field(description="When it was made.")
    expires_at: datetime = strawberry_django.field(description="When it stops working.")
    last_used_at: datetime | None = strawberry_django.field(
        description="When it last authenticated a request, to the minute; null if never."
    )
    revoked_at: datetime | None = strawberry_django.field(
        description="When it was revoked; null while it is not."
    )

    @strawberry_django.field(only=["scopes"], description="What it may do: read and/or compose, sorted.")
    def scopes(self, root: ApiToken) -> list[str]:
        return list(root.scopes)

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        # Only your own: `node(id)` and `_entities` of anyone else's token are null.
        user_id = caller(info).user_id
        return queryset.filter(user_id=user_id) if user_id is not None else queryset.none()


@strawberry.type(
    description="A new token: `token` is the secret, shown this once; send it as `Authorization: Bearer`."
)
class CreatedApiToken:
    token: str = strawberry.field(
        description="The whole token, coda_<prefix>_<secret>: shown this once, never again; keep it safe."
    )
    api_token: ApiTokenType = strawberry.field(
        description="The token as it will be listed in `me.apiTokens`."
    )


class MeCore:
    """Me's own fields; other modules add theirs as `types.MeFields` (feedback: `preferences`)."""

    username: str = strawberry.field(description="Your username.")
    email: str = strawberry.field(description="Your email address; empty if you gave none.")
    scopes: list[str] = strawberry.field(
        description="What this credential may do: read and/or compose, sorted (a session has both)."
    )
    via_token: bool = strawberry.field(description="True when this request came with an API token.")

    @strawberry_django.field(description="Your API tokens, newest first, revoked ones included.")
    def api_tokens(self, info: Info) -> list[ApiTokenType]:
        return list(ApiToken.objects.filter(user_id=caller(info).user_id))  # type: ignore[arg-type]


Me = strawberry.type(
    type("Me", (), merged_namespace([MeCore, *contributions("MeFields")])),
    name="Me",
    description="The signed-in caller.",
)


def _me(info: Info) -> Me:
    who = caller(info)
    return Me(
        username=who.user.get_username(),
        email=who.user.email,
        scopes=sorted(who.scopes),
        via_token=who.token is not None,
    )


def _request(info: Info) -> Any:
    request = info.context.get("request") if isinstance(info.context, dict) else None
    if request is None or not hasattr(request, "session"):
        raise BadUserInput("sign-in needs an HTTP request with a session (use the /graphql endpoint)")
    return request


class QueryFields:
    @strawberry_django.field(description="Who is calling; null for an anonymous caller.")
    def me(self, info: Info) -> Me | None:
        return _me(info) if caller(info).is_authenticated else None


class MutationFields:
    @strawberry_django.mutation(description="Create an account; then sign in with `login`.")
    def register(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="1 to 150 characters, not taken yet.")],
        password: Annotated[
            str,
            strawberry.argument(description="At least 8 characters."),
        ],
        email: Annotated[str, strawberry.argument(description="Optional email address.")] = "",
    ) -> Me:
        try:
            user = services.user_register(username=username, password=password, email=email)
        except InputError as error:
            raise BadUserInput(error.message, field=error.field) from None
        return Me(username=user.get_username(), email=user.email, scopes=sorted(ALL_SCOPES), via_token=False)

    @strawberry_django.mutation(
        description="Start a session (cookie) for the web frontend; what this session made anonymously "
        "becomes yours. Later mutations from a browser send the csrftoken cookie back as X-CSRFToken."
    )
    def login(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="Your username.")],
        password: Annotated[str, strawberry.argument(description="Your password.")],
    ) -> Me:
        request = _request(info)
        try:
            user = services.user_login(request, username=username, password=password)
        except InputError as error:
            raise Unauthenticated(error.message) from None
        return Me(username=user.get_username(), email=user.email, scopes=sorted(ALL_SCOPES), via_token=False)

    @strawberry_django.mutation(description="End the session.")
    def logout(self, info: Info) -> bool:
        services.user_logout(_request(info))
        return True

    @strawberry_django.mutation(
        description="A personal API token for integrations; needs a signed-in session (a token cannot "
        "make tokens).",
        extensions=[IsSignedIn()],
    )
    def create_api_token(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="A label for it, 1 to 100 characters.")],
        scopes: Annotated[
            list[TokenScope], strawberry.argument(description="What it may do; at least one scope.")
        ],
        expires_in_days: Annotated[
            int | None,
            strawberry.argument(
                description="Days until it expires, 1 to the server's maximum (365 unless configured); "
                "null takes the server's default (90 unless configured)."
            ),
        ] = None,
    ) -> CreatedApiToken:
        who = caller(info)
        if who.token is not None:
            raise Unauthenticated("API tokens are made from a signed-in session, not with another token")
        try:
            token, raw = tokens.token_create(
                who.user, name=name, scopes=[s.value for s in scopes], expires_in_days=expires_in_days
            )
        except InputError as error:
            raise BadUserInput(error.message, field=error.field) from None
        return CreatedApiToken(token=raw, api_token=token)  # type: ignore[arg-type]

    @strawberry_django.mutation(
        description="Revoke one of your API tokens; it stops working at once.", extensions=[IsSignedIn()]
    )
    def revoke_api_token(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The token's `id` (its global id; the bare number that tokens had as id "
                "before they became Nodes is still accepted)."
            ),
        ],
    ) -> ApiTokenType:
        pk = int(id) if str(id).isdigit() else global_pk(id, "ApiToken")
        try:
            return tokens.token_revoke(get_user_model().objects.get(pk=caller(info).user_id), pk)  # type: ignore[return-value]
        except InputError:
            raise BadUserInput(f"no API token with id {id}", field="id") from None
