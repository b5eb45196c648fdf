from django.contrib import admin
from django.urls import path, re_path

from modules.composition.views import artifact_download
from schema import schema
from schema.views import CodaGraphQLView, subgraph_view

urlpatterns = [
    path("admin/", admin.site.urls),
    # HTTP GraphQL (GraphiQL on GET from a browser); websockets on the same path are routed in asgi.py.
    re_path(r"^graphql/?$", CodaGraphQLView.as_view(schema=schema, graphql_ide="graphiql"), name="graphql"),
    # Each module alone as an Apollo Federation subgraph (schema/subgraphs.py), HTTP only.
    re_path(r"^graphql/(?P<subgraph>[a-z_]+)/?$", subgraph_view, name="graphql-subgraph"),
    # Artifacts: the URL the API hands out is signed and expires; holding it is the permission.
    path("files/<str:token>/<str:name>", artifact_download, name="artifact-download"),
]
