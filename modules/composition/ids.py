"""Relay global ids ("TypeName:pk", base64) read by modules that take ids as inputs."""

from __future__ import annotations

from strawberry import relay


def pk_from_global_id(value: object, type_name: str) -> int | None:
    """The integer key behind a global id of `type_name`; None for anything else."""
    try:
        decoded = relay.GlobalID.from_id(str(value))
        return int(decoded.node_id) if decoded.type_name == type_name else None
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
