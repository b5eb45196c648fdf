"""The one GraphQL schema, built from the modules' contributions."""

from .schema import schema

__all__ = ["schema"]
