"""Rate limiting by query cost: one token bucket per client (`Caller.client_key`).

A bucket holds at most `capacity` points and refills at `restore_rate` points a second. An operation
takes its whole requested cost up front; one costing more than is available takes nothing and is
refused, with the exact wait until enough has been restored. With `REDIS_URL` set the buckets live
in Redis (one Lua script: read, refill, take, write, atomically, so every server process shares
them; keys expire once a bucket would be full again). Without it they live in this process. Both
have the same interface and take an injectable clock, so tests can state exact numbers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from modules.accounts.caller import Caller

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
KEY_PREFIX = "coda:throttle:"


@dataclass(frozen=True)
class Limit:
    capacity: int  # the most a client can spend at once
    restore_rate: float  # points restored per second


@dataclass(frozen=True)
class Taken:
    """What one `take` did: whether the cost was taken, and what is left."""

    allowed: bool
    available: float  # after the take
    limit: Limit

    def retry_after(self, cost: float) -> float:
        """Seconds until `cost` is available: exactly (cost - available) / rate, rounded up to 0.1 s."""
        missing = max(0.0, cost - self.available)
        # round() first: (100 - 40) / 50 is 1.2000000000000002 in floating point, not 1.3 s.
        return math.ceil(round(missing / self.limit.restore_rate * 10, 6)) / 10

    def status(self) -> dict[str, Any]:
        """Shopify's `throttleStatus`: currentlyAvailable is what can be spent now (whole points)."""
        return {
            "maximumAvailable": self.limit.capacity,
            "currentlyAvailable": math.floor(self.available + 1e-9),
            "restoreRate": self.limit.restore_rate,
        }


class Buckets:
    """The interface of both stores, and what they share: a per-process memo of buckets known to be
    empty, so that a client that has spent everything is refused before its next document is even
    parsed, without asking the store (a flood of junk then costs a dictionary lookup)."""

    EMPTY_BELOW = 1.0  # points: less than this and nothing can run

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._empty_until: dict[str, float] = {}

    def take(self, key: str, cost: float, limit: Limit, *, drain: bool = False) -> Taken:
        """Take `cost` from the bucket `key` if it holds that much (else nothing); with `drain`,
        take what there is up to `cost` (never refused)."""
        taken = self._take(key, cost, limit, drain)
        if taken.available < self.EMPTY_BELOW:
            wait = (self.EMPTY_BELOW - taken.available) / limit.restore_rate
            if len(self._empty_until) > 10_000:
                now = self.clock()
                self._empty_until = {k: t for k, t in self._empty_until.items() if t > now}
            self._empty_until[key] = self.clock() + wait
        else:
            self._empty_until.pop(key, None)
        return taken

    def empty_for(self, key: str) -> float:
        """Seconds until `key`'s bucket holds EMPTY_BELOW points again, as far as this process knows
        (0: not known to be empty)."""
        until = self._empty_until.get(key)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            self._empty_until.pop(key, None)
            return 0.0
        return left

    def _take(self, key: str, cost: float, limit: Limit, drain: bool) -> Taken:
        raise NotImplementedError


def _refill_and_take(
    tokens: float, stamp: float, now: float, cost: float, limit: Limit, drain: bool
) -> tuple[bool, float]:
    tokens = min(float(limit.capacity), tokens + max(0.0, now - stamp) * limit.restore_rate)
    if drain:
        return True, tokens - min(tokens, cost)
    if cost <= tokens:
        return True, tokens - cost
    return False, tokens


class MemoryBuckets(Buckets):
    """Buckets in this process (the embedded mode: one server process)."""

    PRUNE_ABOVE = 10_000  # buckets; full ones are forgotten then (a missing bucket is a full one)

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _take(self, key: str, cost: float, limit: Limit, drain: bool) -> Taken:
        with self._lock:
            now = self.clock()
            tokens, stamp = self._state.get(key, (float(limit.capacity), now))
            allowed, tokens = _refill_and_take(tokens, stamp, now, cost, limit, drain)
            self._state[key] = (tokens, now)
            if len(self._state) > self.PRUNE_ABOVE:
                self._prune(now, limit)
            return Taken(allowed, tokens, limit)

    def _prune(self, now: float, limit: Limit) -> None:
        refill = limit.capacity / limit.restore_rate
        for key in [k for k, (_, stamp) in self._state.items() if now - stamp >= refill]:
            del self._state[key]


# KEYS[1] the bucket; ARGV: capacity, rate, cost, drain (1/0), ttl seconds, now (seconds; "" = Redis TIME).
TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local drain = ARGV[4] == '1'
local now = tonumber(ARGV[6])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = capacity
  stamp = now
end
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local allowed = 0
if drain then
  tokens = tokens - math.min(tokens, cost)
  allowed = 1
elseif cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {allowed, string.format('%.6f', tokens)}
"""


class RedisBuckets(Buckets):
    """Buckets shared by every process, in Redis. Buckets run on Redis's own clock (one clock for
    every server) unless a clock is given (tests)."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        import redis

        super().__init__(clock or time.monotonic)
        # Short timeouts: the limiter must never hold a request up for long (it fails open).
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(TAKE_SCRIPT)
        self.server_clock = clock is None

    def _take(self, key: str, cost: float, limit: Limit, drain: bool) -> Taken:
        ttl = math.ceil(limit.capacity / limit.restore_rate) + 1
        now = "" if self.server_clock else f"{self.clock():.6f}"
        allowed, tokens = self.script(
            keys=[KEY_PREFIX + key],
            args=[limit.capacity, limit.restore_rate, cost, 1 if drain else 0, ttl, now],
        )
        return Taken(bool(allowed), float(tokens), limit)


def limit_for(caller: Caller) -> Limit:
    """Signed-in callers (session or token) get the larger bucket; anonymous ones share an address's."""
    if caller.is_authenticated:
        return Limit(settings.CODA_RATE_LIMIT_CAPACITY, settings.CODA_RATE_LIMIT_RESTORE_RATE)
    return Limit(settings.CODA_ANON_RATE_LIMIT_CAPACITY, settings.CODA_ANON_RATE_LIMIT_RESTORE_RATE)


_buckets: dict[str, Buckets] = {}
_buckets_lock = threading.Lock()


def get_buckets() -> Buckets:
    """The buckets for the current settings: Redis when REDIS_URL is set, this process otherwise."""
    url = settings.REDIS_URL
    found = _buckets.get(url)
    if found is None:
        with _buckets_lock:
            found = _buckets.get(url)
            if found is None:
                found = _buckets[url] = RedisBuckets(url) if url else MemoryBuckets()
    return found
