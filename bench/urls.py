"""The product's URLs plus the benchmark-only views (bench/views.py).

/graphql itself is routed by backend/asgi.py before Django's URLconf, as in production.
"""

from django.urls import path

from backend.urls import urlpatterns as product_urlpatterns

from . import views

urlpatterns = [
    *product_urlpatterns,
    path("bench/json/composition/<int:pk>", views.composition),
    path("bench/json/compositions", views.compositions),
    path("bench/rest/<str:part>/<int:pk>", views.rest_part),
]
