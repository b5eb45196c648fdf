"""HTTP and websocket on the same /graphql path, under Daphne; everything else is Django."""

import asyncio
import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import re_path  # noqa: E402

from schema import schema  # noqa: E402
from schema.security.http import RequestBodyLimit  # noqa: E402
from schema.subgraphs import subgraph_schemas  # noqa: E402
from subscriptions.consumer import CodaGraphQLWSConsumer  # noqa: E402
from subscriptions.events import bind_server_loop  # noqa: E402


class BindEventLoop:
    """Lets background pipeline threads publish on this server's loop (the in-memory layer lives there)."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        bind_server_loop(asyncio.get_running_loop())
        return await self.app(scope, receive, send)


# Every module subgraph is built now, before anything is served: building one briefly narrows the
# field lists of types it shares with the combined schema, which a request running meanwhile
# (the optimizer reads them) must never see.
SUBGRAPHS = subgraph_schemas()
# Subscriptions also on a subgraph that has them (the core's), so a split-out core serves them.
SUBGRAPH_SOCKETS = [
    re_path(rf"^graphql/{name}/?$", CodaGraphQLWSConsumer.as_asgi(schema=sub))
    for name, sub in SUBGRAPHS.items()
    if sub.subscription is not None
]

# Measured with 1,000 subscribers (bench/fanout.py): the cyclic GC took ~46 % of Daphne's busy
# time. Objects alive after start-up are frozen out of it and collections run less often:
# p99 delivery fell from 2-5 s to ~0.47 s, memory unchanged.
gc.freeze()
gc.set_threshold(50_000, 20, 100)

application = BindEventLoop(
    ProtocolTypeRouter(
        {
            # /graphql over HTTP is a Django view (backend/urls.py): session, CSRF and token auth
            # come from the middleware stack. Django spools a whole body before any of it runs:
            # its length is bounded here first.
            "http": RequestBodyLimit(ASGIStaticFilesHandler(django_asgi)),
            "websocket": AuthMiddlewareStack(
                URLRouter(
                    [re_path(r"^graphql/?$", CodaGraphQLWSConsumer.as_asgi(schema=schema)), *SUBGRAPH_SOCKETS]
                )
            ),
        }
    )
)
