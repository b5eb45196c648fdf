"""Rate limiting by query cost: the token buckets (in process and in Redis) with a fake clock and
exact numbers, then the same numbers through the HTTP endpoint."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from modules.accounts.caller import Caller
from modules.accounts.tokens import token_create
from schema import schema
from schema.security import throttle
from schema.security.limits import REFUSED_COST
from schema.security.throttle import Limit, MemoryBuckets, RedisBuckets
from tests.conftest import require_service
from tests.graphql import execute, user

LIMIT = Limit(capacity=100, restore_rate=10.0)


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
def buckets(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[throttle.Buckets]:
    if request.param == "memory":
        yield MemoryBuckets(clock)
        return
    store = RedisBuckets(require_service(django_settings.REDIS_URL, "Redis", 6379), clock)
    yield store
    store.client.delete(*store.client.keys(throttle.KEY_PREFIX + "test-*") or ["none"])


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_a_bucket_takes_whole_costs_and_refills_at_its_rate(
    buckets: throttle.Buckets, clock: FakeClock
) -> None:
    k = key()
    taken = buckets.take(k, 60, LIMIT)
    assert (taken.allowed, taken.available) == (True, 40.0)
    assert taken.status() == {"maximumAvailable": 100, "currentlyAvailable": 40, "restoreRate": 10.0}

    refused = buckets.take(k, 50, LIMIT)  # more than there is: nothing is taken
    assert (refused.allowed, refused.available) == (False, 40.0)
    assert refused.retry_after(50) == 1.0  # (50 - 40) / 10

    clock.advance(0.55)
    refused = buckets.take(k, 50, LIMIT)
    assert refused.available == pytest.approx(45.5)
    assert refused.status()["currentlyAvailable"] == 45
    assert refused.retry_after(50) == 0.5  # 0.45 s, rounded up to the next 0.1 s

    clock.advance(0.45)
    assert buckets.take(k, 50, LIMIT).allowed
    assert buckets.take(k, 0.5, LIMIT).available == pytest.approx(0.0)

    clock.advance(3600)  # refills to the capacity, never beyond
    assert buckets.take(k, 0, LIMIT).available == 100.0


def test_retry_after_is_exact_to_the_tenth(buckets: throttle.Buckets) -> None:
    k = key()
    buckets.take(k, 60, LIMIT)
    taken = buckets.take(k, 100, LIMIT)
    # (100 - 40) / 10 is 6.000000000000001 in floating point: still 6.0, not 6.1
    assert taken.retry_after(100) == 6.0
    assert taken.retry_after(41) == 0.1


def test_drain_takes_what_there_is_and_is_never_refused(buckets: throttle.Buckets) -> None:
    k = key()
    buckets.take(k, 95, LIMIT)
    drained = buckets.take(k, REFUSED_COST, LIMIT, drain=True)
    assert (drained.allowed, drained.available) == (True, 0.0)
    assert buckets.take(k, REFUSED_COST, LIMIT, drain=True).allowed


def test_an_empty_bucket_is_remembered_until_it_holds_a_point(
    buckets: throttle.Buckets, clock: FakeClock
) -> None:
    k = key()
    assert buckets.empty_for(k) == 0
    buckets.take(k, 99.5, LIMIT)
    assert buckets.empty_for(k) == pytest.approx(0.05)  # 0.5 point short, at 10 a second
    clock.advance(0.05)
    assert buckets.empty_for(k) == 0


def test_buckets_are_per_key(buckets: throttle.Buckets) -> None:
    a, b = key(), key()
    buckets.take(a, 100, LIMIT)
    assert not buckets.take(a, 1, LIMIT).allowed
    assert buckets.take(b, 1, LIMIT).allowed


def test_redis_buckets_are_atomic_and_expire() -> None:
    store = RedisBuckets(require_service(django_settings.REDIS_URL, "Redis", 6379))  # Redis's own clock
    k = key()
    limit = Limit(capacity=50, restore_rate=0.001)  # no meaningful refill during the test
    allowed = []

    def spend() -> None:
        for _ in range(10):
            allowed.append(store.take(k, 1, limit).allowed)

    threads = [threading.Thread(target=spend) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert allowed.count(True) == 50, "100 takes of 1 from 50: exactly 50 succeed"
        ttl = store.client.ttl(throttle.KEY_PREFIX + k)
        assert 0 < ttl <= 50_001  # capacity / rate + 1 s: a bucket that would be full again is dropped
    finally:
        store.client.delete(throttle.KEY_PREFIX + k)


# --- through the HTTP endpoint ---

CHEAP = "{ compositions(first: 20) { edges { node { id } } } }"  # 1 + 20 x 1 = 21


@pytest.fixture
def http_buckets(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> MemoryBuckets:
    store = MemoryBuckets(clock)
    monkeypatch.setattr(throttle, "get_buckets", lambda: store)
    return store


@pytest.fixture
def anonymous_limit(settings: Any) -> None:
    settings.CODA_ANON_RATE_LIMIT_CAPACITY = 100
    settings.CODA_ANON_RATE_LIMIT_RESTORE_RATE = 10.0


def post(client: Client, query: str) -> Any:
    return client.post("/graphql", data=json.dumps({"query": query}), content_type="application/json")


@pytest.mark.django_db
def test_every_response_carries_the_cost_and_the_budget_left(
    http_buckets: MemoryBuckets, anonymous_limit: None, clock: FakeClock
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    left = []
    for _ in range(4):
        response = post(client, CHEAP)
        assert response.status_code == 200
        assert "errors" not in response.json()
        cost = response.json()["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 21
        assert cost["throttleStatus"]["maximumAvailable"] == 100
        assert cost["throttleStatus"]["restoreRate"] == 10.0
        left.append(cost["throttleStatus"]["currentlyAvailable"])
    assert left == [79, 58, 37, 16]

    # 21 wanted, 16 there: refused, nothing taken, told exactly when 21 will be there
    response = post(client, CHEAP)
    assert response.status_code == 429
    assert response["Retry-After"] == "1"  # whole seconds for HTTP: 0.5 s rounds up
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "RATE_LIMITED",
        "retryAfterSeconds": 0.5,
        "cost": 21,
        "throttleStatus": {"maximumAvailable": 100, "currentlyAvailable": 16, "restoreRate": 10.0},
    }
    assert "retry in 0.5 s" in error["message"]
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 16

    clock.advance(0.5)  # 16 + 5 = 21: exactly enough
    response = post(client, CHEAP)
    assert response.status_code == 200
    assert response.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0

    # Empty: the next request is refused before its document is even parsed.
    response = post(client, "{ this is not even GraphQL")
    assert response.status_code == 429
    [error] = response.json()["errors"]
    assert error["extensions"]["retryAfterSeconds"] == 0.1  # one point at 10 a second
    assert error["extensions"]["cost"] is None
    assert error["extensions"]["throttleStatus"]["currentlyAvailable"] == 0

    clock.advance(2.0)  # 20 points
    response = post(client, "{ moods { name } }")  # 10
    assert response.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 10


@pytest.mark.django_db
def test_a_refused_operation_costs_the_refusal_charge(
    http_buckets: MemoryBuckets, anonymous_limit: None
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.8")
    for bad in ("{ nope }", "{ __typename", "{ compositions(first: 5000) { totalCount } }"):
        response = post(client, bad)
        assert response.status_code == 200 and response.json()["errors"]
    after = response.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    assert after == 100 - 3 * REFUSED_COST


@pytest.mark.django_db
def test_signed_in_callers_and_tokens_have_their_own_larger_buckets(
    http_buckets: MemoryBuckets, anonymous_limit: None, settings: Any
) -> None:
    settings.CODA_RATE_LIMIT_CAPACITY = 1000
    settings.CODA_RATE_LIMIT_RESTORE_RATE = 50.0
    someone = user("throttled-user")
    session = Client(REMOTE_ADDR="198.51.100.9")
    session.force_login(someone)
    _, raw = token_create(someone, name="ci", scopes=["read"])
    bearer = Client(REMOTE_ADDR="198.51.100.9", HTTP_AUTHORIZATION=f"Bearer {raw}")
    anonymous = Client(REMOTE_ADDR="198.51.100.9")

    statuses = [
        post(c, CHEAP).json()["extensions"]["cost"]["throttleStatus"] for c in (session, bearer, anonymous)
    ]
    assert statuses == [
        {"maximumAvailable": 1000, "currentlyAvailable": 979, "restoreRate": 50.0},
        {"maximumAvailable": 1000, "currentlyAvailable": 979, "restoreRate": 50.0},  # the token's own
        {"maximumAvailable": 100, "currentlyAvailable": 79, "restoreRate": 10.0},  # the address's
    ]


@pytest.mark.django_db
def test_rate_limiting_can_be_switched_off(http_buckets: MemoryBuckets, settings: Any) -> None:
    settings.CODA_RATE_LIMIT = False
    response = post(Client(), CHEAP)
    assert response.json()["extensions"]["cost"] == {"requestedQueryCost": 21, "throttleStatus": None}


@pytest.mark.django_db
def test_a_failing_store_lets_requests_through(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    class Down(MemoryBuckets):
        def _take(self, *args: Any) -> Any:
            raise ConnectionError("redis is down")

    monkeypatch.setattr(throttle, "get_buckets", lambda: Down())
    response = post(Client(), CHEAP)
    assert response.status_code == 200 and "errors" not in response.json()
    assert response.json()["extensions"]["cost"]["throttleStatus"] is None
    assert "rate limiter unavailable" in caplog.text


@pytest.mark.django_db
def test_the_configured_store_is_redis_and_limits_over_http(settings: Any) -> None:
    """No fake clock: the real store, as configured (Redis in the test run), on an address of its own."""
    require_service(settings.REDIS_URL, "Redis", 6379)
    assert isinstance(throttle.get_buckets(), RedisBuckets)
    settings.CODA_ANON_RATE_LIMIT_CAPACITY = 50
    settings.CODA_ANON_RATE_LIMIT_RESTORE_RATE = 0.01
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = Client(REMOTE_ADDR=address)
    try:
        first, second, third = (post(client, CHEAP) for _ in range(3))
        assert first.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 29
        assert second.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 8
        assert third.status_code == 429
        assert third.json()["errors"][0]["extensions"]["retryAfterSeconds"] == pytest.approx(1300, abs=1)
    finally:
        throttle.get_buckets().client.delete(f"{throttle.KEY_PREFIX}ip:{address}")  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_in_process_execution_is_not_throttled(http_buckets: MemoryBuckets, anonymous_limit: None) -> None:
    for _ in range(10):  # 10 x 21 would empty a bucket of 100 over HTTP
        result = execute(CHEAP, caller=Caller(ip="198.51.100.10"))
        assert result.errors is None
    assert result.extensions == {"cost": {"requestedQueryCost": 21, "throttleStatus": None}}


@pytest.mark.django_db(transaction=True)
def test_a_websocket_subscription_is_throttled_before_it_starts(
    http_buckets: MemoryBuckets, anonymous_limit: None
) -> None:
    caller = Caller(ip="198.51.100.11")
    http_buckets.take(caller.client_key, 100, Limit(100, 10.0))  # spent

    async def first_result() -> Any:
        stream = await schema.subscribe(
            'subscription { compositionProgress(id: "Q29tcG9zaXRpb246MQ==") { seq } }',
            context_value={"ws": object(), "caller": caller, "request": None},
        )
        async for result in stream:
            return result

    result = asyncio.run(first_result())
    assert result.errors[0].extensions["code"] == "RATE_LIMITED"
    assert result.extensions["cost"]["throttleStatus"]["currentlyAvailable"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_subscription_over_the_maximum_is_refused_before_it_starts(
    http_buckets: MemoryBuckets, settings: Any
) -> None:
    settings.CODA_MAX_QUERY_COST = 0

    async def first_result() -> Any:
        stream = await schema.subscribe(
            'subscription { compositionProgress(id: "Q29tcG9zaXRpb246MQ==") { seq } }',
            context_value={"ws": object(), "caller": Caller(ip="198.51.100.12"), "request": None},
        )
        async for result in stream:
            return result

    result = asyncio.run(first_result())
    assert result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX", "cost": 1, "maximumCost": 0}
