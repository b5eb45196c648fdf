"""Coda-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>, verified in constant time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from modules.webhooks import services
from modules.webhooks.signing import signature_header, signed_headers, verify_signature

SECRET = "s3cret-of-the-endpoint"
BODY = b'{"id":"X","type":"COMPOSITION_SUCCEEDED","data":{"seq":3}}'
TS = 1_700_000_000


def test_the_header_is_stripes_scheme() -> None:
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, TS, BODY) == f"t={TS},v1={expected}"
    headers = signed_headers(SECRET, "V2ViaG9va0RlbGl2ZXJ5OjE=", BODY, timestamp=TS)
    assert headers["Coda-Webhook-Id"] == "V2ViaG9va0RlbGl2ZXJ5OjE="
    assert headers["Coda-Webhook-Timestamp"] == str(TS)
    assert headers["Coda-Signature"] == f"t={TS},v1={expected}"


def test_verifies_only_the_right_secret_body_and_time() -> None:
    header = signature_header(SECRET, TS, BODY)
    assert verify_signature(SECRET, BODY, header, now=TS + 10)
    assert not verify_signature("another-secret", BODY, header, now=TS + 10)
    assert not verify_signature(SECRET, BODY.replace(b"3", b"4"), header, now=TS + 10)
    assert not verify_signature(SECRET, BODY, header, now=TS + 301)  # stale: a replay
    assert not verify_signature(SECRET, BODY, header, now=TS - 301)  # from the future
    assert verify_signature(SECRET, BODY, header, tolerance_seconds=600, now=TS + 301)


def test_a_forged_timestamp_breaks_the_signature() -> None:
    signature = signature_header(SECRET, TS, BODY).split(",")[1]
    assert not verify_signature(SECRET, BODY, f"t={TS + 100},{signature}", now=TS + 100)


def test_malformed_headers_do_not_verify() -> None:
    for header in ("", "garbage", f"t={TS}", "v1=abc", f"t=soon,v1={'0' * 64}", f"t={TS},v1="):
        assert not verify_signature(SECRET, BODY, header, now=TS)


def test_any_of_several_signatures_may_match_while_rotating() -> None:
    old = signature_header("old-secret", TS, BODY).split(",")[1]
    header = f"{signature_header(SECRET, TS, BODY)},{old}"
    assert verify_signature(SECRET, BODY, header, now=TS)
    assert verify_signature("old-secret", BODY, header, now=TS)


def test_backoff_doubles_from_the_base(settings: Any) -> None:
    settings.CODA_WEBHOOK_BACKOFF_SECONDS = 10
    assert [services.backoff_seconds(n) for n in range(1, 6)] == [10, 20, 40, 80, 160]
