"""The admin lists and searches every model; a composition shows its stages and elements."""

from __future__ import annotations

import pytest
from django.contrib import admin

from tests.factories import full_composition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

CODA_APPS = {"composition", "mood", "genre", "arrangement", "lyrics", "voice", "mastering", "subscriptions"}


def test_every_model_is_listed_and_searchable(admin_client) -> None:
    full_composition()
    models = [m for m in admin.site._registry if m._meta.app_label in CODA_APPS]
    assert len(models) >= 12
    for model in models:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/?q=uplifting"
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert admin.site._registry[model].search_fields, model


def test_composition_page_shows_stages_and_elements_inline(admin_client) -> None:
    composition = full_composition()
    page = admin_client.get(f"/admin/composition/composition/{composition.pk}/change/").content.decode()
    for needle in ("Stage runs", "Layers", "Sections", "uplifting", "master.wav", "alto"):
        assert needle in page, needle
