"""Benchmark 3, one request against the old way: a whole composition from Coda in one GraphQL
request (tests.queries.COMPOSITION) against five REST-style requests, one per module (mood,
genre, arrangement, lyrics, voice-master: bench/views.py), sent one after another as the old
platform's frontend did, on one keep-alive connection to the same Daphne, on loopback.

Aim: the one request is no slower than the five (ratio five / one >= 1). Loopback has no round
trip to speak of; the break-even round-trip time above which the one request wins anyway is
derived from the measured times (the five pay four more round trips than the one).

    .venv/bin/python -m bench.one_request [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from . import common

PARTS = ["mood", "genre", "arrangement", "lyrics", "voice-master"]


async def whole_composition(port: int, requests: list[common.Request], count: int, seconds: float,
                            other: list[common.Request]) -> tuple[list[float], list[float]]:  # fmt: skip
    """Alternately: fetch the whole composition with `requests` (in order, each awaited before the
    next), then with `other`. Returns the wall times of each way."""
    conn = common.Connection(port)
    times: tuple[list[float], list[float]] = ([], [])
    try:
        for way in (requests, other):  # warm
            for request in way:
                await conn.send(request)
        deadline = time.perf_counter() + seconds
        while len(times[0]) < count and (len(times[0]) < 5 or time.perf_counter() < deadline):
            for i, way in enumerate((requests, other)):
                t0 = time.perf_counter()
                for request in way:
                    status, _ = await conn.send(request)
                    assert status == 200, status
                times[i].append(time.perf_counter() - t0)
    finally:
        await conn.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="alternating fetches for this long")
    parser.add_argument("--count", type=int, default=200, help="at most this many fetches each way")
    args = parser.parse_args()

    with common.stack() as bench:
        common.header(
            "3. one request against the old way: a whole composition in one GraphQL request / five REST ones",
            "one Daphne (DEBUG off), one client on one keep-alive connection, the two ways alternating; "
            "a composition sized like a real 60 s song",
        )
        from strawberry.relay import to_base64

        from tests.queries import COMPOSITION

        pk = common.seed_compositions(3)[1]
        port = common.start_daphne(bench)
        graphql = [common.graphql_request(COMPOSITION, {"id": to_base64("Composition", pk)})]
        rest = [common.Request("GET", f"/bench/rest/{part}/{pk}") for part in PARTS]

        one_body = common.fetch(port, graphql[0])[1]
        one = json.loads(one_body)
        assert "errors" not in one, one["errors"]
        merged: dict = {}
        rest_bytes = 0
        for request in rest:
            body = common.fetch(port, request)[1]
            rest_bytes += len(body)
            merged.update(json.loads(body)["data"])
        whole = common.unsigned(one["data"]["composition"])
        merged = common.unsigned(merged)
        same = merged == whole
        common.report("the five REST answers merged == the one GraphQL answer", "yes" if same else "NO")
        if not same:
            differ = sorted(k for k in whole.keys() | merged.keys() if whole.get(k) != merged.get(k))
            common.note(f"fields that differ: {', '.join(differ)}")

        g_times, r_times = asyncio.run(whole_composition(port, graphql, args.count, args.seconds, rest))
        g, r = common.median(g_times), common.median(r_times)
        common.report("GraphQL: requests per composition", 1)
        common.report("REST: requests per composition", len(rest))
        common.report("GraphQL: bytes per composition", f"{len(one_body):,}")
        common.report("REST: bytes per composition (five bodies)", f"{rest_bytes:,}")
        common.report(
            f"GraphQL: wall time, median of {len(g_times)} (p95)",
            f"{common.ms(g)} ({common.ms(common.percentile(g_times, 95))})",
        )
        common.report(
            f"REST: wall time, median of {len(r_times)} (p95)",
            f"{common.ms(r)} ({common.ms(common.percentile(r_times, 95))})",
        )
        common.report("wall time, five REST / one GraphQL", f"{r / g:.2f}x", ">= 1.0", r / g >= 1.0)
        if g > r:
            common.report(
                "break-even round trip (GraphQL - REST) / 4 extra round trips", common.ms((g - r) / 4)
            )
            common.note(
                "on loopback the five REST requests are faster: one GraphQL request wins only on links "
                f"with a round trip above {common.ms((g - r) / 4)} (the cost of resolving through GraphQL, "
                "see bench.overhead)"
            )
        else:
            common.note("one GraphQL request is faster even on loopback; every round trip widens the gap")
    return common.finish()


if __name__ == "__main__":
    raise SystemExit(main())
