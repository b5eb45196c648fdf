"""The one GraphQL schema, built from the modules' contributions."""

# First: it marks strawberry's relay types @shareable before any module declares a connection.
from . import relay  # noqa: F401
from .schema import schema

__all__ = ["schema"]
