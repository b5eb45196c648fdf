"""Benchmark 2, GraphQL overhead: /graphql against a hand-written Django JSON view returning the
same data (bench/views.py: values(), joins, one query per list), both served by one Daphne
process, with concurrent keep-alive clients on loopback. For one composition with every nested
field (tests.queries.COMPOSITION) and a page of 20 (COMPOSITIONS_PAGE).

Aim: time per request through /graphql / plain JSON view, page of 20, at most 1.5. When it is
missed, one GraphQL page of 20 is profiled in-process (cProfile in both threads: the event loop
running graphql-core and the thread running the ORM and the resolvers) and the top costs printed.

    .venv/bin/python -m bench.overhead [--concurrency 4] [--seconds 3] [--profile always|missed|never]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from typing import Any

from . import common

AIM_PAGE_RATIO = 1.5
PAGE = 20


def requests(ids: list[int]) -> dict[str, dict[str, common.Request]]:
    from strawberry.relay import to_base64

    from tests.queries import COMPOSITION, COMPOSITIONS_PAGE

    return {
        "one composition": {
            "graphql": common.graphql_request(COMPOSITION, {"id": to_base64("Composition", ids[0])}),
            "json view": common.Request("GET", f"/bench/json/composition/{ids[0]}"),
        },
        f"page of {PAGE}": {
            "graphql": common.graphql_request(COMPOSITIONS_PAGE, {"first": PAGE}),
            "json view": common.Request("GET", f"/bench/json/compositions?first={PAGE}"),
        },
    }


def same_data(port: int, pair: dict[str, common.Request]) -> tuple[bool, int, int]:
    """Both answer 200 with equal JSON; returns (equal, GraphQL bytes, JSON view bytes)."""
    answers = {}
    for name, request in pair.items():
        status, body = common.fetch(port, request)
        assert status == 200, (name, status, body[:500])
        answers[name] = body
    g, j = (json.loads(answers[k]) for k in ("graphql", "json view"))
    assert "errors" not in g, g["errors"]
    # The GraphQL answer also carries `extensions.cost` (what the query cost); the data must match.
    equal = common.unsigned(g["data"]) == common.unsigned(j["data"])
    return equal, len(answers["graphql"]), len(answers["json view"])


# --- profiling ---------------------------------------------------------------------------------


def profile_graphql_page(first: int = PAGE) -> pstats.Stats:
    """One GraphQL page through backend.asgi in-process, profiled in both threads it runs in."""
    from asgiref.sync import async_to_sync

    from backend.asgi import application
    from tests.queries import COMPOSITIONS_PAGE

    body = json.dumps({"query": COMPOSITIONS_PAGE, "variables": {"first": first}}).encode()
    async_to_sync(common.asgi_post)(application, "/graphql", body)  # warm

    loop_side = cProfile.Profile()

    async def profiled() -> dict:
        loop_side.enable()
        try:
            return await common.asgi_post(application, "/graphql", body)
        finally:
            loop_side.disable()

    orm_side = cProfile.Profile()  # this thread: sync_to_async (thread-sensitive) runs here
    orm_side.enable()
    try:
        async_to_sync(profiled)()
    finally:
        orm_side.disable()
    stats = pstats.Stats(orm_side)
    stats.add(loop_side)
    return stats


# Own time by where it is spent (first match wins); each function's own time counts once.
CATEGORIES = [
    ("waiting (a thread idle while the other works)",
     ("acquire' of '_thread.lock", "'poll' of 'select.epoll")),
    ("CompositionContext.from_dict (context.py, typing.get_type_hints, dataclasses)",
     ("modules/composition/context.py", "/typing.py", "/dataclasses.py", "builtins.compile",
      "builtins.eval")),
    ("sync_to_async hops (asgiref, futures, event-loop wake-ups)",
     ("asgiref/", "concurrent/futures", "asyncio/", "/threading.py", "_socket.socket", "_contextvars")),
    ("graphql-core execution", ("graphql/",)),
    ("strawberry and strawberry-django per-field code", ("strawberry/", "strawberry_django/")),
    ("JSON decoding of jsonb columns", ("json/decoder",)),
    ("JSON encoding of the response", ("json/encoder",)),
    ("Django ORM and psycopg", ("django/", "psycopg")),
    ("the project's own resolvers (modules/, schema/)", ("/work/main/modules/", "/work/main/schema/")),
]  # fmt: skip


def top_costs(stats: pstats.Stats, count: int = 10) -> list[str]:
    """Where one GraphQL page's CPU goes: own time by category, counts, and the top functions."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]

    def category(func: tuple[str, int, str]) -> str:
        text = f"{func[0]} {func[2]}"
        return next((name for name, marks in CATEGORIES if any(m in text for m in marks)), "other")

    def where(func: tuple[str, int, str]) -> str:
        path, line, name = func
        for marker in ("site-packages/", "/work/main/", "python3.11/"):
            path = path.split(marker, 1)[1] if marker in path else path
        return f"{name} ({path}:{line})" if path != "~" else name

    by_category: dict[str, float] = {}
    for func, (_, _, own, _, _) in raw.items():
        by_category[category(func)] = by_category.get(category(func), 0.0) + own
    waits = by_category.pop(CATEGORIES[0][0], 0.0)
    busy = sum(by_category.values())

    def calls(path_part: str, name: str) -> int:
        return sum(nc for f, (_, nc, _, _, _) in raw.items() if path_part in f[0] and f[2] == name)

    lines = [
        f"profile of one GraphQL page of {PAGE} in-process (cProfile in both threads; {busy:.2f} s busy, "
        f"{waits:.2f} s of one thread waiting on the other left out): "
        f"{calls('graphql/execution/executor.py', 'execute_field'):,} fields resolved, "
        f"{calls('asgiref/sync.py', 'thread_handler'):,} sync_to_async hops, "
        f"{calls('modules/composition/context.py', 'from_dict')} CompositionContext.from_dict calls",
        "own time by where it is spent:",
    ]
    for name, own in sorted(by_category.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {own:6.3f} s {100 * own / busy:5.1f}%  {name}")
    lines.append("the heaviest functions by own time (cProfile overweights many small calls, like the hops;")
    lines.append("  the CPU by query shape above is measured without it):")
    own_sorted = sorted(((own, f) for f, (_, _, own, _, _) in raw.items() if category(f) != CATEGORIES[0][0]),
                        reverse=True)  # fmt: skip
    for own, func in own_sorted[:count]:
        lines.append(f"  {own:6.3f} s {100 * own / busy:5.1f}%  {where(func)}")
    return lines


def without(query: str, field: str) -> str:
    """The query without the first selection of `field` and its sub-selection."""
    start = query.index(f" {field} {{") + 1
    depth, end = 0, start
    for end in range(query.index("{", start), len(query)):
        depth += {"{": 1, "}": -1}.get(query[end], 0)
        if depth == 0:
            break
    return query[:start] + query[end + 1 :]


def shape_costs(repeat: int = 3) -> list[str]:
    """CPU of one page of 20 in-process (both threads, median) for the full query and for the same
    query without its costliest parts, next to the JSON view: where the time goes, by query shape."""
    from asgiref.sync import async_to_sync
    from django.test import RequestFactory

    from backend.asgi import application
    from tests.queries import COMPOSITIONS_PAGE

    from . import views

    no_syllables = without(COMPOSITIONS_PAGE, "syllables")
    shapes = {
        "the full page": COMPOSITIONS_PAGE,
        "without lyrics.lines.syllables (90 objects a song)": no_syllables,
        "... and without context (Composition's and Version's)": without(
            without(no_syllables, "context"), "context"
        ),
    }

    def cpu(call: Any) -> float:
        call()
        samples = []
        for _ in range(repeat):
            t0 = time.process_time()
            call()
            samples.append(time.process_time() - t0)
        return common.median(samples)

    def graphql(query: str) -> Any:
        body = json.dumps({"query": query, "variables": {"first": PAGE}}).encode()
        answer = async_to_sync(common.asgi_post)(application, "/graphql", body)
        assert "errors" not in answer, answer["errors"]
        return lambda: async_to_sync(common.asgi_post)(application, "/graphql", body)

    request = RequestFactory().get(f"/bench/json/compositions?first={PAGE}")
    json_view = cpu(lambda: views.compositions(request))
    lines = [f"CPU of one page of {PAGE} in this process (median of {repeat}), by query shape:"]
    for name, query in shapes.items():
        spent = cpu(graphql(query))
        lines.append(f"  {spent * 1000:7.0f} ms  {spent / json_view:5.1f}x the JSON view  graphql, {name}")
    lines.append(f"  {json_view * 1000:7.0f} ms  {1:5.1f}x the JSON view  the JSON view, the full page")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive clients at once")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement (at least 6 requests)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurements of each side")
    parser.add_argument("--sequential", type=int, default=10, help="one-client requests for latency (<= 3 s)")
    parser.add_argument("--profile", choices=["always", "missed", "never"], default="missed")
    args = parser.parse_args()

    with common.stack() as bench:
        common.header(
            "2. GraphQL overhead: /graphql against a hand-written Django JSON view of the same data",
            f"one Daphne (DEBUG off); {args.concurrency} keep-alive clients on loopback, {args.rounds} "
            f"alternating rounds of {args.seconds:g} s per side; then one client; compositions sized like "
            f"a real 60 s song",
        )
        ids = common.seed_compositions(PAGE + 5)
        port = common.start_daphne(bench)
        pid = bench.pids[port]
        for case, pair in requests(ids).items():
            equal, g_bytes, j_bytes = same_data(port, pair)
            common.report(
                f"{case}: same data from both ({g_bytes:,} / {j_bytes:,} bytes)", "yes" if equal else "NO"
            )
            loads: dict[str, common.Load] = {}
            for _ in range(args.rounds):  # alternating, so a busy neighbour hits both sides alike
                for name, request in pair.items():
                    run = common.load(
                        port, request, concurrency=args.concurrency, seconds=args.seconds, pid=pid
                    )
                    loads[name] = loads[name] + run if name in loads else run
            for name, run in loads.items():
                assert run.errors == 0, f"{case} {name}: {run.errors} non-200 answers"
                common.report(f"{case}: {name}, requests/s ({run.requests} in {run.seconds:.1f} s)", run.rps)
            ratio = loads["json view"].rps / loads["graphql"].rps
            aimed = case.startswith("page")
            common.report(
                f"{case}: time per request, graphql / json view",
                f"{ratio:.2f}x",
                f"<= {AIM_PAGE_RATIO}" if aimed else None,
                (ratio <= AIM_PAGE_RATIO) if aimed else None,
            )
            g_cpu, j_cpu = loads["graphql"].cpu_per_request, loads["json view"].cpu_per_request
            if g_cpu is not None and j_cpu:
                common.report(f"{case}: Daphne CPU per request, graphql", common.ms(g_cpu))
                common.report(f"{case}: Daphne CPU per request, json view", common.ms(j_cpu))
                common.report(f"{case}: Daphne CPU per request, graphql / json view", f"{g_cpu / j_cpu:.2f}x")
            latency = {
                name: common.median(common.sequential(port, r, args.sequential)) for name, r in pair.items()
            }
            for name, value in latency.items():
                common.report(f"{case}: {name}, one client, median latency", common.ms(value))
            common.report(
                f"{case}: one-client latency, graphql / json view",
                f"{latency['graphql'] / latency['json view']:.2f}x",
            )
        page_missed = any(f.ok is False for f in common.FIGURES)
        if args.profile == "always" or (args.profile == "missed" and page_missed):
            for line in [*shape_costs(), *top_costs(profile_graphql_page())]:
                print(f"     {line}" if line.startswith("  ") else f"   - {line}")
    return common.finish()


if __name__ == "__main__":
    raise SystemExit(main())
