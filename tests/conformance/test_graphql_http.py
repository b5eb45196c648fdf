"""GraphQL over HTTP: the graphql-http package's server audits (the spec's MUSTs and SHOULDs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.live import LiveStack

from .conftest import run_node

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module", params=["graphql", "graphql/composition"])
def audits(request: pytest.FixtureRequest, node: Path, stack: LiveStack) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{stack.port}/{request.param}"
    return json.loads(run_node("audit.mjs", url, f"Bearer {stack.token}"))


def test_every_must_passes(audits: list[dict[str, Any]]) -> None:
    assert len(audits) > 50  # the package's whole list ran
    failed = [f"{a['id']} {a['name']}: {a['reason']}" for a in audits if a["status"] == "error"]
    assert failed == []


def test_every_should_that_fails_is_listed_in_the_readme_with_its_reason(
    audits: list[dict[str, Any]],
) -> None:
    """A failing SHOULD must have a README line of its own naming its audit id and saying why (more
    than the id and the audit's own name)."""
    lines = README.read_text().splitlines()
    unexplained = []
    for audit in (a for a in audits if a["status"] == "warn"):
        mentions = [line for line in lines if audit["id"] in line]
        reasons = [line.replace(audit["id"], "").replace(audit["name"], "") for line in mentions]
        if not any(len(reason.strip(" |-*`:")) >= 20 for reason in reasons):
            unexplained.append(f"{audit['id']} {audit['name']}")
    assert unexplained == []
