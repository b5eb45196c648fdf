"""The optimizer keeps every nested field at a fixed number of SQL queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from tests.factories import full_composition
from tests.graphql import data_of
from tests.queries import COMPOSITION, COMPOSITIONS_PAGE

pytestmark = pytest.mark.django_db


def queries_for_page(first: int) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        data = data_of(COMPOSITIONS_PAGE, {"first": first})
    return len(captured.captured_queries), data


def test_page_of_1_and_20_costs_the_same_number_of_queries(media_root) -> None:
    for i in range(20):
        full_composition(seed=i)
    one, data_one = queries_for_page(1)
    twenty, data_twenty = queries_for_page(20)
    assert len(data_one["compositions"]["edges"]) == 1
    assert len(data_twenty["compositions"]["edges"]) == 20
    assert data_twenty["compositions"]["totalCount"] == 20
    node = data_twenty["compositions"]["edges"][0]["node"]
    assert node["lyrics"]["lines"][0]["syllables"][1]["text"] == "rise"
    assert node["master"]["wav"]["url"].endswith("master.wav")
    assert [layer["instrument"] for layer in node["layers"]] == ["Standard Drum Kit", "Acoustic Grand Piano"]
    assert node["versions"][0]["reason"] == "regenerate lyrics with seed 2"
    assert [a["name"] for a in node["versions"][0]["artifacts"]] == ["vocal.mid"]
    assert one == twenty, f"page of 1: {one} queries, page of 20: {twenty}"
    assert twenty <= 12


def test_newest_first(media_root) -> None:
    first = full_composition(seed=1)
    second = full_composition(seed=2)
    _, data = queries_for_page(2)
    ids = [edge["node"]["id"] for edge in data["compositions"]["edges"]]
    assert ids == [
        str(relay.to_base64("Composition", second.pk)),
        str(relay.to_base64("Composition", first.pk)),
    ]


def test_one_composition_with_every_nested_field_in_a_fixed_number_of_queries(media_root) -> None:
    composition = full_composition()
    gid = relay.to_base64("Composition", composition.pk)
    with CaptureQueriesContext(connection) as captured:
        data = data_of(COMPOSITION, {"id": gid})
    assert data["composition"]["genre"]["weights"] == [{"name": "electronic", "weight": 1.0}]
    assert [s["name"] for s in data["composition"]["sections"]] == ["intro", "chorus", "outro"]
    assert len(captured.captured_queries) <= 12
