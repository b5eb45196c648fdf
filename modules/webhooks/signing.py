"""Signing webhook bodies, and verifying them (for integrators and tests).

The scheme is Stripe's: `Coda-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
The timestamp is inside the signed text, so a captured request cannot be replayed later with a
fresh timestamp; a receiver rejects timestamps outside its tolerance and deduplicates by
`Coda-Webhook-Id` (delivery is at least once: a timeout after the receiver answered is retried).
"""

from __future__ import annotations

import hashlib
import hmac
import time

ID_HEADER = "Coda-Webhook-Id"
TIMESTAMP_HEADER = "Coda-Webhook-Timestamp"
SIGNATURE_HEADER = "Coda-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>` with the endpoint's secret."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def signed_headers(
    secret: str, delivery_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one attempt: each attempt is signed afresh with the current time."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature_header(secret, ts, body),
    }


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` (the Coda-Signature value) signs exactly `body` with `secret`, recently.

    Verify the raw body bytes as received, before parsing the JSON. Several `v1=` values are
    accepted, so a sender may sign with an old and a new secret while rotating.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:  # stale (a replay) or from the future
        return False
    expected = compute_signature(secret, timestamp, body)
    # Constant-time compare over every candidate, so timing says nothing about which one matched.
    matches = [hmac.compare_digest(expected.encode(), c.encode()) for c in candidates]
    return any(matches)
