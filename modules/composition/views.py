"""Serving artifacts through signed, expiring URLs (see artifacts.artifact_url)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .artifacts import artifact_for_token


@require_GET
def artifact_download(request: HttpRequest, token: str, name: str) -> HttpResponse:
    artifact = artifact_for_token(token, name)
    if artifact is None:
        return HttpResponse(
            "This file link is invalid or has expired; query the composition again for a fresh one.",
            status=403,
            content_type="text/plain",
        )
    try:
        handle = artifact.file.open("rb")
    except FileNotFoundError:
        return HttpResponse("The file is gone from storage.", status=404, content_type="text/plain")
    response = FileResponse(handle, content_type=artifact.mime_type, filename=artifact.name)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
