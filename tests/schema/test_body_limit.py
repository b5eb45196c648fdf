"""The bound on a request's whole body: each file is bounded when it is read, the body by
schema.security.http, as ASGI middleware (before Django spools a byte) and in the view's guard."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.db import connections
from django.test import Client

from modules.mastering.models import MasteringReference
from schema.security import throttle
from schema.security.http import RequestBodyLimit
from tests.graphql import user
from tests.multipart import multipart_post

UPLOAD = "mutation($file: Upload!) { uploadMasteringReference(file: $file) { id } }"
LIMIT = 5 * 10_000 + 1024 * 1024  # CODA_MAX_UPLOAD_FILES files of CODA_MAX_UPLOAD_BYTES, and 1 MiB
TOO_LARGE = f"at most {LIMIT} are accepted (5 files of at most 10000 bytes, and 1048576 bytes more)"


@pytest.fixture(autouse=True)
def small_uploads(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CODA_MAX_UPLOAD_BYTES = 10_000
    settings.CODA_MAX_UPLOAD_FILES = 5
    buckets = throttle.MemoryBuckets()  # full buckets of this test's own
    monkeypatch.setattr(throttle, "get_buckets", lambda: buckets)


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_an_oversize_body_gets_a_clear_413_from_the_view() -> None:
    client = Client()
    client.force_login(user("ada"))
    response = multipart_post(client, UPLOAD, {}, {"file": ("huge.flac", b"\0" * (LIMIT + 1))})
    assert response.status_code == 413
    length = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert response.content.decode() == f"The request body is {length} bytes; {TOO_LARGE}"
    assert not MasteringReference.objects.exists()
    # Under the bound, a file over its own limit still gets its typed error, naming the field.
    body = multipart_post(client, UPLOAD, {}, {"file": ("big.flac", b"\0" * 20_000)}).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "file"}
    assert body["errors"][0]["message"] == "the file is 20000 bytes; at most 10000 are accepted"


def scope(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")] + [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def serve(headers: dict[str, str], chunks: list[bytes]) -> tuple[int, bytes, int]:
    """POST `chunks` through RequestBodyLimit around Django's ASGI handler: (status, body, number
    of body messages the application asked for)."""
    app = RequestBodyLimit(get_asgi_application())
    pending, reads, sent = list(chunks), 0, []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        if not pending:
            await asyncio.Event().wait()  # no disconnect: the client waits for its answer
        reads += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope(headers), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, reads


async def test_a_declared_oversize_body_is_refused_before_django_reads_it() -> None:
    headers = {"content-type": "multipart/form-data; boundary=x", "content-length": str(LIMIT + 1)}
    status, body, reads = await serve(headers, [b"x" * (LIMIT + 1)])
    assert (status, reads) == (413, 0)
    assert body.decode() == f"The request body is {LIMIT + 1} bytes; {TOO_LARGE}"


async def test_a_body_without_a_length_is_cut_off_at_the_limit() -> None:
    chunks = [b"x" * 100_000] * 20  # 2 MB, sent chunked
    status, body, reads = await serve({"content-type": "multipart/form-data; boundary=x"}, chunks)
    assert status == 413
    assert reads == LIMIT // 100_000 + 1  # the chunk that went over was the last one read
    assert body.decode() == f"The request body is longer than {LIMIT} bytes; {TOO_LARGE}"


@pytest.mark.django_db(transaction=True)  # the ORM runs in asgiref's thread, outside a test transaction
async def test_a_body_within_the_limit_reaches_the_api() -> None:
    data = json.dumps({"query": "{ __typename }"}).encode()
    try:
        status, body, _ = await serve(
            {"content-type": "application/json", "content-length": str(len(data))}, [data]
        )
    finally:
        await sync_to_async(connections.close_all)()
    assert status == 200 and json.loads(body)["data"] == {"__typename": "Query"}
