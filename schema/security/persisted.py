"""Persisted queries: Apollo's automatic persisted queries (APQ) and an optional safelist.

`CODA_PERSISTED_QUERIES` chooses:

- "apq" (default): a request may carry `extensions.persistedQuery = {"version": 1, "sha256Hash": h}`.
  Without `query`, the document stored under `h` runs; if none is stored the answer is the error
  "PersistedQueryNotFound" (code PERSISTED_QUERY_NOT_FOUND), on which Apollo clients resend with the
  full text. With `query`, `h` must be its SHA-256 (hex), and the document is stored under it once it
  has validated (so the store never holds junk). Requests without the extension work as always.
- "safelist": only documents in the manifest `CODA_SAFELIST_FILE` run, sent by hash or in full;
  anything else gets code PERSISTED_QUERY_NOT_ALLOWED. Nothing new is stored.
- "off": plain GraphQL; a persistedQuery extension gets PERSISTED_QUERY_NOT_SUPPORTED.

The APQ store is Django's cache `CODA_PERSISTED_QUERIES_CACHE` (Redis when REDIS_URL is set, so
every process shares it). The safelist manifest is Apollo's persisted-query manifest format:
`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": sha256(body),
"name": ..., "type": "query", "body": ...}]}`; `build_manifest` writes one, and
`manage.py persisted_queries FILE.graphql... --output persisted-queries.json` calls it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from graphql import GraphQLError, OperationDefinitionNode, parse

from schema.errors import BadUserInput, CodaError

logger = logging.getLogger(__name__)

APQ_VERSION = 1
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
MODES = ("off", "apq", "safelist")


class PersistedQueryNotFound(CodaError):
    """The hash is not in the APQ store: send it again with the query text."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotAllowed(CodaError):
    """Safelist mode: this document is not registered."""

    code = "PERSISTED_QUERY_NOT_ALLOWED"


class PersistedQueryNotSupported(CodaError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def mode() -> str:
    value = settings.CODA_PERSISTED_QUERIES
    if value not in MODES:
        raise ValueError(f"CODA_PERSISTED_QUERIES must be one of {MODES}, not {value!r}")
    return value


def resolve(query: str | None, extensions: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The document to run for this request, and the hash to store it under once it has validated
    (None: nothing to store). Raises a CodaError for a request the mode refuses."""
    current = mode()
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    if persisted is None:
        if current == "safelist" and query and sha256_hex(query) not in safelist():
            raise PersistedQueryNotAllowed("this server only runs registered (safelisted) operations")
        return query, None
    if current == "off":
        raise PersistedQueryNotSupported("PersistedQueryNotSupported")

    digest = _checked_hash(persisted)
    if not query:
        found = safelist().get(digest) if current == "safelist" else _store().get(_store_key(digest))
        if found is None:
            if current == "safelist":
                raise PersistedQueryNotAllowed("this server only runs registered (safelisted) operations")
            raise PersistedQueryNotFound("PersistedQueryNotFound")
        return found, None
    if sha256_hex(query) != digest:
        raise BadUserInput("provided sha does not match query", field="extensions.persistedQuery.sha256Hash")
    if current == "safelist":
        if digest not in safelist():
            raise PersistedQueryNotAllowed("this server only runs registered (safelisted) operations")
        return query, None
    return query, digest


def _checked_hash(persisted: object) -> str:
    if not isinstance(persisted, Mapping) or persisted.get("version") != APQ_VERSION:
        raise BadUserInput(
            f"unsupported persistedQuery version: only version {APQ_VERSION} is supported",
            field="extensions.persistedQuery.version",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not SHA256_HEX.match(digest):
        raise BadUserInput(
            "persistedQuery.sha256Hash must be the SHA-256 of the query, in hex",
            field="extensions.persistedQuery.sha256Hash",
        )
    return digest.lower()


def remember(digest: str, query: str) -> None:
    """Store a validated document under its hash (APQ registration)."""
    _store().set(_store_key(digest), query, timeout=settings.CODA_PERSISTED_QUERIES_TTL)


def _store() -> Any:
    return caches[settings.CODA_PERSISTED_QUERIES_CACHE]


def _store_key(digest: str) -> str:
    return f"apq:{digest}"


_manifest_lock = threading.Lock()
_manifest: tuple[tuple[str, float], dict[str, str]] | None = None


def safelist() -> dict[str, str]:
    """The safelisted documents by SHA-256, reread when the file changes. An entry whose id is not
    its body's hash is left out (and logged): the hash, not the id, is what a request is matched on."""
    global _manifest
    path = Path(settings.CODA_SAFELIST_FILE)
    try:
        stamp = (str(path), path.stat().st_mtime)
    except OSError:
        logger.error("CODA_SAFELIST_FILE %s cannot be read: no operation is allowed", path)
        return {}
    cached = _manifest
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _manifest_lock:
        operations = json.loads(path.read_text()).get("operations", [])
        by_hash: dict[str, str] = {}
        for operation in operations:
            body = operation.get("body")
            if not isinstance(body, str):
                continue
            digest = sha256_hex(body)
            if operation.get("id") not in (None, digest):
                logger.error("safelist entry %r: id is not sha256(body); left out", operation.get("name"))
                continue
            by_hash[digest] = body
        _manifest = (stamp, by_hash)
        return by_hash


def build_manifest(documents: Iterable[str]) -> dict[str, Any]:
    """An Apollo persisted-query manifest of `documents` (GraphQL source texts).

    Each document is one entry, exactly as written (its hash is of those bytes, so the client must
    send the same text), named after its first operation. Raises GraphQLError for a document that
    does not parse or has no operation.
    """
    operations = []
    seen: set[str] = set()
    for body in documents:
        document = parse(body)
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not definitions:
            raise GraphQLError("a safelisted document needs an operation")
        first = definitions[0]
        digest = sha256_hex(body)
        if digest in seen:
            continue
        seen.add(digest)
        operations.append(
            {
                "id": digest,
                "name": first.name.value if first.name else None,
                "type": first.operation.value,
                "body": body,
            }
        )
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
