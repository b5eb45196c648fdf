"""The GraphQL HTTP endpoint: strawberry's Django view, under Django's middleware.

Django's session, CSRF and auth middleware run first, then `CallerMiddleware`
sets `request.caller`, which every resolver and limit reads from the context.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from strawberry.django.views import AsyncGraphQLView

from .media_type import GraphQLResponseMediaType
from .security.http import RequestGuard


class CodaGraphQLView(RequestGuard, GraphQLResponseMediaType, AsyncGraphQLView):
    # GraphQL multipart requests (file uploads). A browser can send multipart/form-data cross-site
    # without a preflight, so these pass Django's CSRF check like any cookie-authenticated POST.
    multipart_uploads_enabled = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # strawberry's BaseView.__init__ sets the flag from its own argument (default False), which
        # hides the class attribute above: pass it on explicitly.
        kwargs.setdefault("multipart_uploads_enabled", self.multipart_uploads_enabled)
        super().__init__(*args, **kwargs)

    async def get_context(self, request: HttpRequest, response: HttpResponse) -> Any:
        self.remember_sub_response(request, response)
        return {"request": request, "response": response, "caller": request.caller}  # type: ignore[attr-defined]


_subgraph_views: dict[str, Any] = {}


async def subgraph_view(request: HttpRequest, subgraph: str) -> HttpResponse:
    """/graphql/<subgraph>: that module's subgraph, its view made on first use; 404 for no module."""
    from .subgraphs import subgraph_modules, subgraph_schema

    if subgraph not in subgraph_modules():
        raise Http404(f"no subgraph {subgraph!r}; there are {', '.join(subgraph_modules())}")
    if subgraph not in _subgraph_views:
        _subgraph_views[subgraph] = CodaGraphQLView.as_view(
            schema=subgraph_schema(subgraph), graphql_ide="graphiql"
        )
    return await _subgraph_views[subgraph](request)
