"""Identity over the real HTTP stack (Django middleware + the GraphQL view): sessions with CSRF,
bearer tokens with scopes and expiry, anonymous sessions, and compose quotas with exact numbers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from strawberry import relay

from modules.accounts.models import ApiToken
from modules.composition.models import Composition
from tests.graphql import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

CREATE = """mutation($prompt: String!, $seconds: Int!) {
  createComposition(input: {prompt: $prompt, durationSeconds: $seconds, seed: 1}) { id status ownedByMe }
}"""
READ = "query($id: ID!) { composition(id: $id) { id prompt } }"
ME = "{ me { username scopes viaToken apiTokens { name prefix scopes revokedAt } } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }"
MAKE_TOKEN = """mutation($scopes: [TokenScope!]!, $days: Int) {
  createApiToken(name: "ci", scopes: $scopes, expiresInDays: $days) { token apiToken { id prefix scopes } }
}"""


def post(client: Client, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(
        "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **headers,
    )


def gql(
    client: Client, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> dict[str, Any]:
    response = post(client, query, variables, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def code(body: dict[str, Any]) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


def signed_in(name: str = "ada") -> Client:
    user(name)
    client = Client()
    assert gql(client, LOGIN, {"u": name, "p": f"pw-{name}"})["data"]["login"]["username"] == name
    return client


def test_register_login_and_me() -> None:
    client = Client()
    assert gql(client, ME)["data"]["me"] is None
    short = gql(client, 'mutation { register(username: "zoe", password: "short") { username } }')
    assert code(short) == "BAD_USER_INPUT" and short["errors"][0]["extensions"]["field"] == "password"
    made = gql(client, 'mutation { register(username: "zoe", password: "a long enough one") { username } }')
    assert made["data"]["register"]["username"] == "zoe"
    taken = gql(client, 'mutation { register(username: "Zoe", password: "a long enough one") { username } }')
    assert code(taken) == "BAD_USER_INPUT" and "taken" in taken["errors"][0]["message"]
    wrong = gql(client, LOGIN, {"u": "zoe", "p": "nope"})
    assert code(wrong) == "UNAUTHENTICATED" and wrong["errors"][0]["message"] == "wrong username or password"
    assert gql(client, LOGIN, {"u": "zoe", "p": "a long enough one"})["data"]["login"]["username"] == "zoe"
    me = gql(client, ME)["data"]["me"]
    assert me == {"username": "zoe", "scopes": ["compose", "read"], "viaToken": False, "apiTokens": []}


def test_a_session_needs_the_csrf_token_for_mutations() -> None:
    user("ada")
    client = Client(enforce_csrf_checks=True)
    # Signing in carries no session cookie yet, so there is nothing to forge and no token needed.
    assert gql(client, LOGIN, {"u": "ada", "p": "pw-ada"})["data"]["login"]["username"] == "ada"
    refused = post(client, CREATE, {"prompt": "calm piano", "seconds": 20})
    assert refused.status_code == 403 and b"CSRF" in refused.content
    assert Composition.objects.count() == 0
    client.get("/graphql", HTTP_ACCEPT="text/html")  # the page sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    made = gql(client, CREATE, {"prompt": "calm piano", "seconds": 20}, HTTP_X_CSRFTOKEN=csrf)
    assert made["data"]["createComposition"]["ownedByMe"] is True
    assert Composition.objects.get().owner.username == "ada"


def test_tokens_authenticate_carry_scopes_and_can_be_revoked() -> None:
    session = signed_in("ada")
    made = gql(session, MAKE_TOKEN, {"scopes": ["READ"], "days": 7})["data"]["createApiToken"]
    raw, token_id = made["token"], made["apiToken"]["id"]
    assert raw.startswith(f"coda_{made['apiToken']['prefix']}_") and made["apiToken"]["scopes"] == ["read"]
    stored = ApiToken.objects.get()
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64  # only a hash is kept

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    api = Client()
    me = gql(api, ME, **bearer)["data"]["me"]
    assert me["username"] == "ada" and me["viaToken"] is True and me["scopes"] == ["read"]
    denied = gql(api, CREATE, {"prompt": "calm piano", "seconds": 20}, **bearer)
    assert (
        code(denied) == "FORBIDDEN"
        and denied["errors"][0]["message"] == "this API token lacks the 'compose' scope"
    )
    # A token cannot mint tokens.
    minted = gql(api, MAKE_TOKEN, {"scopes": ["READ"]}, **bearer)
    assert code(minted) == "UNAUTHENTICATED"

    assert token_id == relay.to_base64("ApiToken", stored.pk)  # a relay Node's global id
    assert gql(session, f'mutation {{ revokeApiToken(id: "{token_id}") {{ revokedAt }} }}')["data"]
    revoked = post(api, ME, **bearer)
    assert revoked.status_code == 401 and revoked["WWW-Authenticate"].startswith("Bearer")
    assert revoked.json()["errors"][0] == {
        "message": "this API token was revoked",
        "extensions": {"code": "UNAUTHENTICATED"},
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nonsense", "malformed API token: expected coda_<prefix>_<secret>"),
        ("coda_00000000_guess", "unknown API token"),
    ],
)
def test_bad_tokens_are_refused_with_401(raw: str, message: str) -> None:
    response = post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and response.json()["errors"][0]["message"] == message


def test_an_expired_token_is_refused() -> None:
    session = signed_in("ada")
    raw = gql(session, MAKE_TOKEN, {"scopes": ["READ", "COMPOSE"]})["data"]["createApiToken"]["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "this API token has expired; create a new one"


def test_anonymous_callers_own_what_their_session_made_and_have_a_daily_quota(settings: Any) -> None:
    settings.CODA_ANON_DAILY_COMPOSITIONS = 3
    browser, stranger = Client(), Client()
    too_long = gql(browser, CREATE, {"prompt": "calm piano", "seconds": 31})
    assert (
        code(too_long) == "BAD_USER_INPUT"
        and too_long["errors"][0]["extensions"]["field"] == "durationSeconds"
    )
    ids = [
        gql(browser, CREATE, {"prompt": f"calm piano {i}", "seconds": 30})["data"]["createComposition"]["id"]
        for i in range(3)
    ]
    assert "sessionid" in browser.cookies
    fourth = gql(browser, CREATE, {"prompt": "calm piano 4", "seconds": 30})
    assert code(fourth) == "QUOTA_EXCEEDED", fourth
    assert fourth["errors"][0]["extensions"]["limit"] == 3
    assert 0 < fourth["errors"][0]["extensions"]["retryAfterSeconds"] <= 86_401
    # The quota is per address: a new session from the same address does not reset it.
    assert code(gql(stranger, CREATE, {"prompt": "calm piano 5", "seconds": 20})) == "QUOTA_EXCEEDED"
    assert Composition.objects.count() == 3

    assert gql(browser, READ, {"id": ids[0]})["data"]["composition"]["prompt"] == "calm piano 0"
    assert code(gql(stranger, READ, {"id": ids[0]})) == "NOT_FOUND"
    # Signing in from that browser makes its anonymous compositions the user's.
    user("ada")
    assert gql(browser, LOGIN, {"u": "ada", "p": "pw-ada"})["data"]
    assert set(Composition.objects.values_list("owner__username", flat=True)) == {"ada"}
    assert gql(browser, READ, {"id": ids[2]})["data"]["composition"]["id"] == ids[2]


def test_signed_in_users_have_concurrent_and_hourly_limits(settings: Any) -> None:
    settings.CODA_MAX_CONCURRENT_COMPOSITIONS = 2
    settings.CODA_COMPOSITIONS_PER_HOUR = 3
    client = signed_in("ada")
    results = [gql(client, CREATE, {"prompt": f"song {i}", "seconds": 60}) for i in range(3)]
    assert [code(r) for r in results] == [None, None, "QUOTA_EXCEEDED"]
    assert (
        "2 of your compositions are still being made (at most 2 at once)"
        in results[2]["errors"][0]["message"]
    )
    Composition.objects.update(status="SUCCEEDED")  # they finished
    results = [gql(client, CREATE, {"prompt": f"song {i}", "seconds": 60}) for i in range(3, 5)]
    assert [code(r) for r in results] == [None, "QUOTA_EXCEEDED"]
    assert results[1]["errors"][0]["message"].startswith("compose requests: 3 per hour used up; try again in")
    assert Composition.objects.count() == 3


def test_every_token_made_authenticates_whatever_characters_its_secret_has() -> None:
    from modules.accounts.tokens import token_authenticate, token_create

    ada = user("ada")
    made = [token_create(ada, name=f"t{i}", scopes=["read"])[1] for i in range(20)]
    assert any("_" in raw.split("_", 2)[2] or "-" in raw for raw in made)  # urlsafe secrets do vary
    assert all(token_authenticate(raw).user == ada for raw in made)
