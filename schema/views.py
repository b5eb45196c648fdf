"""The GraphQL HTTP endpoint: strawberry's Django view, under Django's middleware.

Django's session, CSRF and auth middleware run first, then `CallerMiddleware`
sets `request.caller`, which every resolver and limit reads from the context.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from strawberry.django.views import AsyncGraphQLView

from .security.http import RequestGuard


class CodaGraphQLView(RequestGuard, AsyncGraphQLView):
    # GraphQL multipart requests (file uploads). A browser can send multipart/form-data cross-site
    # without a preflight, so these pass Django's CSRF check like any cookie-authenticated POST.
    multipart_uploads_enabled = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # strawberry's __init__ sets the flag from its own keyword (default False), which would
        # override the class attribute above: pass it on.
        kwargs.setdefault("multipart_uploads_enabled", self.multipart_uploads_enabled)
        super().__init__(*args, **kwargs)

    async def get_context(self, request: HttpRequest, response: HttpResponse) -> Any:
        return {"request": request, "response": response, "caller": request.caller}  # type: ignore[attr-defined]
