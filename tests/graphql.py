"""Run GraphQL operations against the real schema, in-process, as a given caller."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from modules.accounts.caller import ALL_SCOPES, Caller
from schema import schema

TESTER = "tester"


def user(username: str = TESTER) -> Any:
    """A user by name, made on first use (password "pw-" + username)."""
    found, created = get_user_model().objects.get_or_create(username=username)
    if created:
        found.set_password(f"pw-{username}")
        found.save()
    return found


def caller_for(
    who: Any = None, *, scopes: frozenset[str] = ALL_SCOPES, token: Any = None, session_key: str | None = None
) -> Caller:
    """A signed-in caller for a user (or username), or an anonymous one when `who` is None."""
    if isinstance(who, str):
        who = user(who)
    return Caller(user=who, token=token, scopes=scopes, session_key=session_key, ip="127.0.0.1")


def default_caller() -> Caller:
    """The tester user; anonymous where a test has no database."""
    try:
        return caller_for(TESTER)
    except RuntimeError:  # pytest-django: database access not allowed in this test
        return Caller(ip="127.0.0.1")


def execute(
    query: str, variables: dict[str, Any] | None = None, caller: Caller | None = None, on: Any = None
) -> Any:
    """Run on the combined schema, or on `on` (a module subgraph's schema)."""
    request = RequestFactory().post("/graphql")
    request.user = AnonymousUser()
    context = {"request": request, "response": None, "caller": caller or default_caller()}
    return (on or schema).execute_sync(query, variable_values=variables, context_value=context)


def data_of(
    query: str, variables: dict[str, Any] | None = None, caller: Caller | None = None
) -> dict[str, Any]:
    result = execute(query, variables, caller)
    assert result.errors is None, result.errors
    return result.data
