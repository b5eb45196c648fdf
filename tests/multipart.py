"""GraphQL multipart requests (the spec strawberry implements) over Django's test client."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


def multipart_post(
    client: Client, query: str, variables: dict[str, Any], files: dict[str, tuple[str, bytes]], **headers: str
) -> Any:
    """POST `query` with each `files` entry (variable path -> (file name, bytes)) as a file part.

    The variables named in `files` are sent as null and mapped to the parts, as the spec says."""
    operations = {"query": query, "variables": dict(variables)}
    mapping: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    for number, (path, (name, content)) in enumerate(files.items()):
        operations["variables"][path] = None
        mapping[str(number)] = [f"variables.{path}"]
        data[str(number)] = SimpleUploadedFile(name, content)
    data |= {"operations": json.dumps(operations), "map": json.dumps(mapping)}
    return client.post("/graphql", data=data, **headers)
