"""The registry in the admin: the API key is write-only (stored encrypted, never shown again, kept
when left blank, removable), capabilities are checked, the call log is read-only."""

from __future__ import annotations

from typing import Any

import pytest

from modules.providers.models import CallOutcome, Provider
from modules.providers.services import call_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]

SECRET = "sk-admin-typed-9876"


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "local-llm",
        "kind": "openai_compatible",
        "capabilities": ["lyrics"],
        "endpoint": "http://127.0.0.1:8080/v1",
        "model": "llama-3.1-8b",
        "api_key": "",
        "priority": "10",
        "enabled": "on",
        "calls-TOTAL_FORMS": "0",
        "calls-INITIAL_FORMS": "0",
        "calls-MIN_NUM_FORMS": "0",
        "calls-MAX_NUM_FORMS": "0",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_key_typed_in_the_admin_is_stored_encrypted_and_never_shown(admin_client: Any) -> None:
    response = admin_client.post("/admin/providers/provider/add/", form(api_key=SECRET))
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = Provider.objects.get(name="local-llm")
    assert provider.api_key() == SECRET and provider.capabilities == ["lyrics"]
    page = admin_client.get(f"/admin/providers/provider/{provider.pk}/change/").content.decode()
    assert SECRET not in page and provider.api_key_encrypted not in page
    assert 'type="password"' in page and "A key is stored." in page
    # Saving without typing a key keeps it; ticking "remove" removes it.
    admin_client.post(f"/admin/providers/provider/{provider.pk}/change/", form(priority="5"))
    provider.refresh_from_db()
    assert (provider.priority, provider.api_key()) == (5, SECRET)
    admin_client.post(f"/admin/providers/provider/{provider.pk}/change/", form(clear_api_key="on"))
    provider.refresh_from_db()
    assert provider.api_key_encrypted == "" and provider.api_key() == ""


def test_the_admin_refuses_what_the_kind_cannot_serve(admin_client: Any) -> None:
    response = admin_client.post("/admin/providers/provider/add/", form(capabilities=["lyrics", "voice"]))
    assert response.status_code == 200
    assert "cannot serve &#x27;voice&#x27;; it can serve: lyrics" in response.content.decode()
    response = admin_client.post("/admin/providers/provider/add/", form(name="built-in"))
    assert "names the offline engines" in response.content.decode()
    assert not Provider.objects.exists()


def test_the_list_shows_health_and_the_calls_are_read_only(admin_client: Any) -> None:
    admin_client.post("/admin/providers/provider/add/", form())
    provider = Provider.objects.get()
    for _ in range(3):
        call_record(
            provider, stage="lyrics", attempt=1, outcome=CallOutcome.TIMEOUT, duration_ms=300, error="slow"
        )
    listing = admin_client.get("/admin/providers/provider/").content.decode()
    assert "UNHEALTHY: 0% ok, 300 ms p50; its last 3 calls failed" in listing
    page = admin_client.get(f"/admin/providers/provider/{provider.pk}/change/").content.decode()
    assert "Calls (newest first)" in page and "slow" in page
    assert admin_client.get("/admin/providers/providercall/add/").status_code == 403
    for path in ("providercall", "providerpreference"):
        assert admin_client.get(f"/admin/providers/{path}/?q=x").status_code == 200
