"""Run GraphQL operations against the real schema, in-process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from schema import schema


def execute(query: str, variables: dict[str, Any] | None = None) -> Any:
    request = RequestFactory().post("/graphql")
    request.user = AnonymousUser()
    context = {"request": request, "response": None}
    return schema.execute_sync(query, variable_values=variables, context_value=context)


def data_of(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result = execute(query, variables)
    assert result.errors is None, result.errors
    return result.data
