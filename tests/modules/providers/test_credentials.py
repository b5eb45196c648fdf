"""API keys are encrypted at rest (Fernet), decrypt with the configured key, rotate, and refuse a
wrong key with a clear error."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from modules.providers import crypto
from modules.providers.models import Provider
from modules.providers.services import provider_create, provider_set_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]

SECRET = "sk-live-0123456789abcdef"


def raw_column(provider: Provider) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key_encrypted FROM providers_provider WHERE id = %s", [provider.pk])
        return cursor.fetchone()[0]


def make(api_key: str = SECRET) -> Provider:
    return provider_create(
        name="local-llm",
        kind="openai_compatible",
        endpoint="http://127.0.0.1:9/v1",
        capabilities=["lyrics"],
        api_key=api_key,
    )


def test_the_key_is_stored_as_ciphertext_that_decrypts_to_it(settings: Any) -> None:
    provider = make()
    stored = raw_column(provider)
    assert stored and stored != SECRET and SECRET not in stored
    assert Fernet(crypto.derived_key(settings.SECRET_KEY)).decrypt(stored.encode()).decode() == SECRET
    assert Provider.objects.get(pk=provider.pk).api_key() == SECRET
    # Fernet tokens carry a random IV: the same key stored twice is two different ciphertexts.
    provider_set_api_key(provider, SECRET)
    assert raw_column(provider) != stored
    assert Provider.objects.get(pk=provider.pk).api_key() == SECRET


def test_no_key_stores_nothing_and_removing_a_key_empties_the_column() -> None:
    provider = make(api_key="")
    assert raw_column(provider) == "" and provider.api_key() == ""
    provider_set_api_key(provider, "sk-new")
    assert Provider.objects.get(pk=provider.pk).api_key() == "sk-new"
    provider_set_api_key(provider, None)
    assert raw_column(provider) == ""


def test_a_configured_key_encrypts_and_another_key_cannot_read(settings: Any) -> None:
    first = Fernet.generate_key().decode()
    settings.CODA_PROVIDER_KEY = first
    provider = make()
    assert Fernet(first).decrypt(raw_column(provider).encode()).decode() == SECRET
    settings.CODA_PROVIDER_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.CredentialsUnreadable, match="does not decrypt with the configured key"):
        Provider.objects.get(pk=provider.pk).api_key()


def test_keys_rotate_new_first_then_reencrypt(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CODA_PROVIDER_KEY = old
    provider = make()
    settings.CODA_PROVIDER_KEY = f"{new},{old}"
    assert Provider.objects.get(pk=provider.pk).api_key() == SECRET  # the old key still reads
    call_command("provider_key", "--reencrypt", stdout=(out := StringIO()))
    assert out.getvalue() == "re-encrypted 1 API key\n"
    settings.CODA_PROVIDER_KEY = new  # the old key can go now
    assert Provider.objects.get(pk=provider.pk).api_key() == SECRET
    assert Fernet(new).decrypt(raw_column(provider).encode()).decode() == SECRET


def test_the_command_prints_a_usable_key() -> None:
    call_command("provider_key", stdout=(out := StringIO()))
    key = out.getvalue().strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_a_malformed_key_setting_is_a_configuration_error(settings: Any) -> None:
    settings.CODA_PROVIDER_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="CODA_PROVIDER_KEY must be Fernet keys"):
        crypto.encrypt("x")
